"""Alert texts in the recipient's language (es, en, pt). SMS texts are made to fit one
segment where they can (alerts.sms)."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _

from amparo.alerts.models import Alert, Channel

SMS_MESSAGE_CHARS = 60


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
        if message:
            limit = SMS_MESSAGE_CHARS if channel == Channel.SMS else 1000
            parts.append(message[:limit])
        if alert.unverified:
            parts.append(_("(sender not verified)"))
        parts.append(_("Reply OK %(code)s to take responsibility.") % {"code": alert.code})
        body = ". ".join(p.rstrip(".") for p in parts if p) + "."
        if ack_url and channel != Channel.SMS:
            body += "\n" + ack_url  # on its own line: no punctuation glued to the link
    if channel == Channel.SMS:
        from amparo.alerts.sms import fit_one_segment

        body = fit_one_segment(body)
    return title, body
