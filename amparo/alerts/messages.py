"""Alert texts in the recipient's language (es, en, pt). SMS texts are made to fit one
segment where they can (alerts.sms)."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _

from amparo.alerts.models import Alert, Channel
from amparo.alerts.sms import encoding, fit_one_segment, segment_count, unit_count

SMS_SEGMENT = 160
SMS_SEGMENT_UCS2 = 70
SMS_MIN_MESSAGE_CHARS = 20


def alert_text(alert: Alert, channel: str, language: str, ack_url: str = "") -> tuple[str, str]:
    """(title, body) for one recipient."""
    with translation.override(language):
        title = _("AMPARO %(severity)s alert: %(kind)s") % {
            "severity": alert.get_severity_display().upper(),
            "kind": alert.get_kind_display(),
        }
        parts = [
            title,
            alert.organisation.name,
        ]
        message = alert.message or ""
        if alert.person_id and alert.person is not None:
            parts.append(alert.person.display_name)
        tail = []
        if alert.unverified:
            tail.append(_("(sender not verified)"))
        tail.append(_("Reply OK %(code)s to take responsibility.") % {"code": alert.code})
        if message and channel == Channel.SMS:
            # The sender's words get what is left of one SMS segment after the fixed
            # parts, counted as the encoding counts them, and at least a few words.
            fixed = fit_one_segment(_join([*parts, *tail]))
            segment = SMS_SEGMENT if encoding(fixed) == "GSM-7" else SMS_SEGMENT_UCS2
            room = max(SMS_MIN_MESSAGE_CHARS, segment - unit_count(fixed) - 2)
            # The sender's words may themselves need transliterating: shorten until the
            # whole text fits, never below a few words.
            while room > SMS_MIN_MESSAGE_CHARS and (
                segment_count(fit_one_segment(_join([*parts, message[:room], *tail]))) > 1
            ):
                room -= 4
            parts.append(message[:room])
        elif message:
            parts.append(message[:1000])
        body = _join(parts + tail)
        if ack_url and channel != Channel.SMS:
            body += "\n" + ack_url  # on its own line: no punctuation glued to the link
    if channel == Channel.SMS:
        body = fit_one_segment(body)
    return title, body


def _join(parts: list[str]) -> str:
    return ". ".join(p.rstrip(".") for p in parts if p) + "."
