"""Re-assessment reminders (reference, Strategy 4, line 3: "Conduct quarterly or
semi-annual risk assessments"). A week before a subject's re-assessment falls due, every
security coordinator of its organisation gets one message through the alerts outbox.
The message names no one: it carries the due date and the page's address only."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from amparo.alerts.models import Channel, OutboxMessage
from amparo.core import audit
from amparo.people.models import Membership, Person, Role
from amparo.risk.models import RiskSubject

log = logging.getLogger("amparo.risk.reminders")

LANGUAGES = ("es", "en", "pt")
# Subjects reminded per transaction: the worker's next call takes the rest.
REMINDER_BATCH = 50


def send_due_reassessment_reminders(now: datetime | None = None) -> int:
    """Queue the reminders of every subject whose ``next_reminder_at`` has come, and
    clear it (one reminder per due date; the next assessment sets the next one). Returns
    how many messages were queued.

    Cheap when idle (one indexed query), as the worker's auditor may call it every
    second. Two workers never remind twice: PostgreSQL claims with SKIP LOCKED, SQLite
    holds the write lock, and the idempotency key (subject, due date, recipient) is the
    last guard."""
    now = now or timezone.now()
    due = RiskSubject.objects.filter(next_reminder_at__lte=now, archived_at__isnull=True)
    if not due.exists():
        return 0
    queued = 0
    pending: list[audit.Pending] = []
    with transaction.atomic():
        ordered = due.select_related("organisation").order_by("next_reminder_at")
        if connection.vendor == "postgresql":
            subjects = list(
                ordered.select_for_update(skip_locked=True, of=("self",))[:REMINDER_BATCH]
            )
        else:
            subjects = list(ordered[:REMINDER_BATCH])
        for subject in subjects:
            queued += _remind(subject, now, pending)
        audit.record_many(pending)
    return queued


def _recipients(subject: RiskSubject) -> list[tuple[str, str, str, str]]:
    """(key part, channel, address, language) for each coordinator: e-mail, the
    account's own address (every staff account has one)."""
    recipients: list[tuple[str, str, str, str]] = []
    memberships = Membership.objects.filter(
        organisation_id=subject.organisation_id, role=Role.COORDINATOR, user__is_active=True
    ).select_related("user")
    for membership in memberships:
        user = membership.user
        profile = Person.objects.filter(
            organisation_id=subject.organisation_id, user=user, archived_at__isnull=True
        ).first()
        address = (profile.email if profile is not None else "") or user.email
        language = user.language if user.language in LANGUAGES else "es"
        recipients.append((f"user:{user.pk}", Channel.EMAIL, address, language))
    return recipients


def _remind(subject: RiskSubject, now: datetime, pending: list[audit.Pending]) -> int:
    RiskSubject.objects.filter(pk=subject.pk).update(next_reminder_at=None)
    due_on = subject.next_due_on.isoformat()
    subject_url = settings.BASE_URL + reverse(
        "risk-subject", args=[subject.organisation.slug, subject.pk]
    )
    queued = 0
    for who, channel, address, language in _recipients(subject):
        key = f"risk:{subject.pk}:{due_on}:{who}"
        if OutboxMessage.objects.filter(idempotency_key=key).exists():
            continue
        with translation.override(language):
            body = _("A risk re-assessment is due on %(date)s. Open it in Amparo: %(url)s") % {
                "date": due_on,
                "url": subject_url,
            }
            label = _("Security coordinator")
        OutboxMessage.objects.create(
            organisation_id=subject.organisation_id,
            idempotency_key=key,
            channel=channel,
            recipient_label=str(label),
            address=address,
            body=body,
            language=language,
            next_attempt_at=now,
        )
        queued += 1
    if queued:
        pending.append(
            audit.Pending(
                "worker",
                "risk.reminder_queued",
                subject,
                details={"due": due_on, "messages": queued},
            )
        )
    else:
        log.info("risk subject %s: no coordinator to remind", subject.pk)
    return queued
