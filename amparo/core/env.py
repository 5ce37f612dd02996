"""Typed readers for settings that come from the environment (DESIGN.md section 10).

A secret ``X`` may also be given as ``X_FILE``, a path whose contents are the value; the
file wins, so that a container can mount secrets without putting them in the environment.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


class MissingSetting(ImproperlyConfigured):
    """A required setting is absent. Its message is one line naming the variable."""


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_secret(name: str) -> str:
    """The secret from ``NAME_FILE`` if set, else from ``NAME``; empty if neither."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise MissingSetting(f"{name}_FILE={path} cannot be read: {exc.strerror}") from None
    return os.environ.get(name, "").strip()


def require_secret(name: str, value: str) -> str:
    if not value:
        raise MissingSetting(f"{name} is not set (give {name} or {name}_FILE)")
    return value
