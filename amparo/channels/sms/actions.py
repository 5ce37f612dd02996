"""What an inbound SMS does. The message is stored first, in its own transaction, so it
is never lost even if acting on it fails; then the command runs and the reply is kept."""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Any

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from amparo.alerts import actions as alert_actions
from amparo.alerts.access import RESPONDERS
from amparo.alerts.models import Alert, AlertKind, AlertState, Severity
from amparo.channels.models import InboundSms, SmsGateway
from amparo.channels.sms.commands import Kind, help_text, parse
from amparo.channels.sms.commands import guess_language as language_of_keyword
from amparo.core import audit
from amparo.incidents import actions as incident_actions
from amparo.incidents.models import Level, Source
from amparo.people.actions import find_person_by_phone
from amparo.people.models import Membership, Organisation

log = logging.getLogger("amparo.channels.sms")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def set_inbound_token(actor: Any, organisation: Organisation) -> str:
    """A new token for the generic webhook (printed once; only its hash is kept)."""
    token = secrets.token_urlsafe(24)
    gateway, _created = SmsGateway.objects.get_or_create(organisation=organisation)
    gateway.token_hash = hash_token(token)
    gateway.save()
    audit.record(actor, "sms_gateway.token_set", gateway, organisation_id=organisation.pk)
    return token


@transaction.atomic
def set_twilio_auth_token(actor: Any, organisation: Organisation, auth_token: str) -> None:
    gateway, _created = SmsGateway.objects.get_or_create(organisation=organisation)
    gateway.twilio_auth_token = auth_token
    gateway.save()
    audit.record(actor, "sms_gateway.twilio_set", gateway, organisation_id=organisation.pk)


def receive_sms(organisation: Organisation, *, sender: str, body: str, via: str) -> str:
    """Store, act, answer. Returns the reply text (never empty)."""
    sender = (sender or "")[:64]
    body = (body or "")[:5000]
    with transaction.atomic():
        inbound = InboundSms.objects.create(
            organisation=organisation, via=via, sender=sender, body=body
        )
        audit.record(f"sms:{via}", "sms.received", inbound, organisation_id=organisation.pk)
    command = parse(body)
    language = language_of_keyword(command.keyword) if command.keyword else "es"
    try:
        with transaction.atomic():
            person = find_person_by_phone(organisation, sender)
            if person is not None:
                language = person.preferred_language
            with translation.override(language):
                outcome, reply, alert = _act(organisation, inbound, command, person, language)
            InboundSms.objects.filter(pk=inbound.pk).update(
                person=person,
                command=command.kind,
                outcome=outcome,
                alert_id=alert.pk if alert else None,
            )
            inbound.reply = reply
            inbound.save(update_fields=["reply"])
    except Exception:
        # The message is stored; whoever watches the logs and the inbox sees it.
        log.exception("acting on inbound SMS %s failed", inbound.pk)
        with translation.override(language):
            return _("Your message was received but could not be processed. Call your coordinator.")
    return reply


def _act(
    organisation: Organisation, inbound: InboundSms, command: Any, person: Any, language: str
) -> tuple[str, str, Alert | None]:
    actor = person.user if person is not None and person.user_id else f"sms:{inbound.pk}"
    if command.kind == Kind.PANIC:
        # An unknown number's ALERTA still raises a high alert, marked unverified.
        alert = alert_actions.raise_alert(
            actor,
            organisation,
            kind=AlertKind.PANIC,
            severity=Severity.HIGH,
            message=command.text,
            person=person,
            source="sms",
            unverified=person is None,
        )
        reply = _("Alert received (code %(code)s). Your organisation is being notified now.") % {
            "code": alert.code
        }
        return "alert_raised", reply, alert
    if command.kind == Kind.THREAT:
        # The same action as the web form and the API (DESIGN.md section 5). With no Step 1
        # answers the rules give medium; "AMENAZA ALTA" raises that, "BAJA" cannot lower it.
        # A bare "AMENAZA" is still a report: the message itself is the record.
        receipt = incident_actions.report_threat(
            actor,
            organisation,
            {
                "verbatim": command.text or inbound.body.strip(),
                "reported_level": command.level or "",
                "language": language if language in incident_actions.LANGUAGES else "es",
            },
            source=Source.SMS,
            person=person,
        )
        report = receipt.report
        says = {"receipt": receipt.code, "level": Level(report.level).label}
        if report.alert is not None:
            reply = _(
                "Threat received: receipt %(receipt)s, level %(level)s. Your organisation is "
                "being notified."
            )
        else:
            reply = _(
                "Threat recorded: receipt %(receipt)s, level %(level)s. Tell your supervisor."
            )
        reply %= says
        return "threat_reported", reply, report.alert
    if command.kind == Kind.ACKNOWLEDGE:
        if person is None:
            return "ack_refused", _("This number is not registered; it cannot take an alert."), None
        open_alert: Alert | None = (
            Alert.objects.filter(
                organisation=organisation, code=command.code, state=AlertState.RAISED
            )
            .order_by("-raised_at")
            .first()
        )
        if open_alert is None:
            return (
                "ack_unknown_code",
                _("No open alert has the code %(code)s.") % {"code": command.code},
                None,
            )
        roles = set(
            Membership.objects.filter(
                organisation=organisation, user_id=person.user_id
            ).values_list("role", flat=True)
        )
        # The same rule as the pages: only a responder takes an alert, and never the
        # person it is about (a seized phone must not stop its own escalation).
        if not roles & RESPONDERS or open_alert.person_id == person.pk:
            return "ack_refused", _("This number cannot take this alert."), None
        alert_actions.acknowledge_alert(
            actor, open_alert, via="sms", label=person.display_name, role=",".join(sorted(roles))
        )
        return (
            "acknowledged",
            _("Thank you: alert %(code)s is yours. Escalation stopped.")
            % {"code": open_alert.code},
            open_alert,
        )
    if command.kind == Kind.CHECKIN:
        return _check_in(actor, command, person)
    return "help", help_text(language), None


def _check_in(actor: Any, command: Any, person: Any) -> tuple[str, str, Alert | None]:
    """LLEGUE/CHECKIN/CHEGUEI <pin> from the traveller's registered phone. The duress PIN
    gets the same reply and outcome as the check-in PIN (DESIGN.md section 7); its alert
    is raised silently and is not linked to the stored message."""
    from amparo.travel import checkins

    deployment = checkins.active_deployment_of(person) if person is not None else None
    if deployment is None:
        return "checkin_without_trip", _("No trip with check-ins is active for this number."), None
    # Not in a transaction of its own: the count of wrong PINs must outlive the refusal
    # (check_in records the check-in itself in one).
    try:
        checkins.check_in(actor, deployment, via="sms", pin=command.pin or "")
    except checkins.PinsLocked as locked:
        return "checkin_locked", locked.messages[0], None
    except checkins.WrongPin:
        return "checkin_refused", _("Check-in not accepted: wrong PIN."), None
    return "checked_in", _("Check-in received. Thank you."), None
