"""Checks a master key's form at start-up, before any module needs it."""

from __future__ import annotations

import base64
import binascii

from amparo.core.env import MissingSetting

KEY_BYTES = 32


def decode_master_key(text: str) -> bytes | None:
    text = text.strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == KEY_BYTES else None


def check_master_key_format(text: str) -> None:
    if decode_master_key(text) is None:
        raise MissingSetting(
            "AMPARO_MASTER_KEY must be 32 random bytes in urlsafe base64 "
            "(make one with `amparo keygen`)"
        )
