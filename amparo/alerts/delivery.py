"""Outbound delivery through Apprise (DESIGN.md section 3): one well-kept library for
SMS gateways, e-mail, Signal, Telegram and webhooks. No hand-written gateway clients."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from urllib.parse import quote

import apprise
from django.conf import settings

from amparo.alerts.models import Channel, DeliveryChannel, OutboxMessage
from amparo.alerts.sms import segments

# Apprise's own timeouts: a hanging gateway must not hold the sender for long.
CONNECT_TIMEOUT = 4
READ_TIMEOUT = 8


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    error: str = ""
    final: bool = False  # no retry can help (nothing configured, no address)


def channel_url(message: OutboxMessage) -> str | None:
    configured = (
        DeliveryChannel.objects.filter(
            organisation_id=message.organisation_id, channel=message.channel, enabled=True
        )
        .only("id", "organisation_id", "url")
        .first()
    )
    if configured is not None:
        return configured.url
    return settings.AMPARO_CHANNEL_URLS.get(message.channel) or None


def build_url(template: str, message: OutboxMessage, part: str = "") -> str:
    """The Apprise URL for one message (``part`` "2/3" for the parts of a long SMS)."""
    url = template.replace("{to}", quote(message.address, safe="@"))
    joiner = "&" if "?" in url else "?"
    extras = []
    if "cto=" not in url:
        extras.append(f"cto={CONNECT_TIMEOUT}")
    if "rto=" not in url:
        extras.append(f"rto={READ_TIMEOUT}")
    if url.startswith(("json://", "jsons://", "form://", "forms://")):
        # The receiver sees the idempotency key and can drop a repeat after a crash.
        # Each part of a long SMS has a key of its own, so a receiver that drops repeats
        # by key keeps every part.
        key = message.idempotency_key + (f"#{part}" if part else "")
        extras.append(f"+X-Amparo-Idempotency-Key={quote(key)}")
        extras.append(f"+X-Amparo-Channel={message.channel}")
    return url + (joiner + "&".join(extras) if extras else "")


_local = threading.local()


def warm_up() -> None:
    """Load Apprise's plugins now (its first URL imports every plugin module, 0.2 s on a
    quiet machine and over a second under load), so the first alert after the worker
    starts does not wait for it. Makes the plugin object only: nothing is sent."""
    apprise.Apprise.instantiate("json://127.0.0.1/amparo-warm-up")


def _notifier() -> apprise.Apprise:
    """An empty Apprise instance of this thread's. Reused, because making one reads the
    locale catalogues from disk; sending in the calling thread (``async_mode=False``),
    because Apprise otherwise starts a thread pool for every notify(), and the outbox
    already sends from a pool of its own."""
    notifier = getattr(_local, "notifier", None)
    if notifier is None:
        notifier = apprise.Apprise(asset=apprise.AppriseAsset(async_mode=False))
        _local.notifier = notifier
    notifier.clear()
    return notifier


def deliver(
    message: OutboxMessage, title: str = "Amparo", template: str | None = ""
) -> DeliveryResult:
    """Hand one message to its channel. ``template``: the channel's URL, read by the
    caller (None: not configured); empty, it is read here."""
    if template == "":
        template = channel_url(message)
    if not template:
        return DeliveryResult(False, f"no {message.channel} channel is configured", final=True)
    if "{to}" in template and not message.address:
        return DeliveryResult(False, "the recipient has no address for this channel", final=True)
    # A long SMS goes out as parts cut where the encoding really counts (alerts.sms), so
    # a gateway that does not concatenate still delivers every word.
    parts = segments(message.body) if message.channel == Channel.SMS else [message.body]
    parts = parts or [""]
    try:
        for index, part in enumerate(parts, start=1):
            notifier = _notifier()
            label = f"{index}/{len(parts)}" if len(parts) > 1 else ""
            if not notifier.add(build_url(template, message, label)):
                return DeliveryResult(
                    False, f"the {message.channel} channel URL is not valid", final=True
                )
            result = notifier.notify(title=title, body=part)
            if not result:
                # The warnings of this call only (Apprise keeps them per call): the worker
                # sends from several threads at once, and a handler on the shared "apprise"
                # logger would also catch other messages' errors, other organisations' too.
                errors = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR")]
                return DeliveryResult(False, ("; ".join(errors) or "delivery failed")[:500])
    except Exception as exc:  # noqa: BLE001 - a plugin error must not kill the sender
        return DeliveryResult(False, f"{type(exc).__name__}: {exc}"[:500])
    return DeliveryResult(True)
