"""Writes of the personal security plan: the reference's "Recommendations to safeguard
security" (thirteen measures) as a per-person checklist, linked to the organisation's
directory (police, health services, a safe meeting point) and the person's supervisor,
with periodic reminders through the alerts outbox. Every change is audited.

The plan itself is made by ``incidents.actions.plan_for`` on first use.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from amparo.alerts.models import Channel, OutboxMessage
from amparo.core import audit
from amparo.incidents.models import Measure, PlanMeasure, SecurityPlan
from amparo.people.models import DirectoryCategory, DirectoryEntry, Person

log = logging.getLogger("amparo.incidents.plan")

LANGUAGES = ("es", "en", "pt")
REMINDER_DAYS = (30, 90, 180)
MAX_NOTES = 4000
# Plans reminded per transaction: the worker's auditor calls again when a batch was full.
REMINDER_BATCH = 50

# Which directory entries fit each link of the plan. Reference, "Recommendations": keep
# the contacts of the police (measure 2), of nearby health services (hospitals, clinics,
# health centres; measure 4), and a safe meeting point agreed in advance (measure 9).
LINK_CATEGORIES: dict[str, frozenset[str]] = {
    "police": frozenset({DirectoryCategory.POLICE}),
    "health_service": frozenset(
        {DirectoryCategory.HOSPITAL, DirectoryCategory.CLINIC, DirectoryCategory.HEALTH_CENTRE}
    ),
    "meeting_point": frozenset({DirectoryCategory.SAFE_MEETING_POINT}),
}


def link_choices(plan: SecurityPlan, link: str) -> Any:
    """The organisation's current directory entries that may fill ``link``."""
    return DirectoryEntry.objects.filter(
        organisation_id=plan.organisation_id,
        category__in=LINK_CATEGORIES[link],
        archived_at__isnull=True,
    )


def _check_link(plan: SecurityPlan, link: str, entry: DirectoryEntry | None) -> None:
    if entry is None:
        return
    if entry.organisation_id != plan.organisation_id:
        raise ValidationError({link: _("That directory entry is not in this organisation.")})
    if entry.archived_at is not None:
        raise ValidationError({link: _("That directory entry was removed.")})
    if entry.category not in LINK_CATEGORIES[link]:
        raise ValidationError({link: _("That directory entry does not fit here.")})


def done_count(plan: SecurityPlan) -> int:
    return PlanMeasure.objects.filter(plan=plan, done=True).count()


@transaction.atomic
def update_measure(actor: Any, measure: PlanMeasure, done: bool, notes: str) -> None:
    """Record that someone checked one measure: done or not, with notes. Saving a
    measure is checking it, so the date moves even when nothing else changed (the
    reminders ask people to review, and a review that confirms counts)."""
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTES:
        raise ValidationError(
            {"notes": _("Keep the notes under %(n)s characters.") % {"n": MAX_NOTES}}
        )
    changed: dict[str, Any] = {}
    if bool(done) != measure.done:
        changed["done"] = bool(done)
    if notes != measure.notes:
        changed["notes"] = True  # never the sealed text itself (core.audit)
    measure.done = bool(done)
    measure.notes = notes
    measure.checked_at = timezone.now()
    measure.save(update_fields=["done", "notes", "checked_at"])
    SecurityPlan.objects.filter(pk=measure.plan_id).update(updated_at=measure.checked_at)
    audit.record(
        actor,
        "security_plan.measure_checked",
        measure.plan,
        details={"measure": measure.code, **changed},
    )


@transaction.atomic
def set_links(
    actor: Any,
    plan: SecurityPlan,
    police: DirectoryEntry | None,
    health_service: DirectoryEntry | None,
    meeting_point: DirectoryEntry | None,
) -> list[str]:
    """Link the plan to directory entries of the person's organisation, each of a
    fitting category (LINK_CATEGORIES). Returns the links that changed."""
    wanted = {"police": police, "health_service": health_service, "meeting_point": meeting_point}
    for link, entry in wanted.items():
        _check_link(plan, link, entry)
    changed = [
        link
        for link, entry in wanted.items()
        if getattr(plan, f"{link}_id") != (entry.pk if entry else None)
    ]
    if not changed:
        return []
    for link in changed:
        setattr(plan, link, wanted[link])
    plan.save(update_fields=[*changed, "updated_at"])
    details: dict[str, str | None] = {}
    for link in changed:
        entry = wanted[link]
        details[link] = str(entry.pk) if entry is not None else None
    audit.record(actor, "security_plan.links_set", plan, details=details)
    return changed


@transaction.atomic
def set_reminders(actor: Any, plan: SecurityPlan, days: int) -> None:
    """How often the person is asked to review the plan: every 30, 90 or 180 days, the
    next time counted from now."""
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = 0
    if days not in REMINDER_DAYS:
        raise ValidationError({"days": _("Choose 30, 90 or 180 days.")})
    before = plan.reminder_days
    plan.reminder_days = days
    plan.next_reminder_at = timezone.now() + timedelta(days=days)
    plan.save(update_fields=["reminder_days", "next_reminder_at", "updated_at"])
    audit.record(
        actor,
        "security_plan.reminders_set",
        plan,
        details={"from": before, "to": days},
    )


def plan_url(plan: SecurityPlan) -> str:
    return settings.BASE_URL + reverse(
        "security-plan", args=[plan.organisation.slug, plan.person_id]
    )


def _address(person: Person) -> tuple[str, str]:
    """SMS to the first phone number, else e-mail: ("", "") when there is neither."""
    phones = person.phone_numbers or []
    if phones:
        return Channel.SMS, phones[0]
    email = person.email or (person.user.email if person.user_id and person.user else "")
    if email:
        return Channel.EMAIL, email
    return "", ""


def _reminder_body(plan: SecurityPlan, channel: str, language: str) -> str:
    total = len(Measure.values)
    with translation.override(language):
        body = _("Review your security plan in Amparo: %(done)s of %(total)s measures done.") % {
            "done": done_count(plan),
            "total": total,
        }
        if channel == Channel.EMAIL:
            body = f"{body} {plan_url(plan)}"
    return body


def send_due_reminders(now: datetime | None = None) -> int:
    """Queue one reminder per plan whose ``next_reminder_at`` has come, and move it
    forward by the plan's period, in one transaction; returns how many were queued.

    The worker's auditor calls this every second, so it looks before it locks. Two
    workers never queue the same reminder: on PostgreSQL the plans are claimed with
    SKIP LOCKED, on SQLite the IMMEDIATE transaction holds the write lock; the
    idempotency key (plan and due date) is the last guard."""
    now = now or timezone.now()
    due = SecurityPlan.objects.filter(next_reminder_at__lte=now)
    if not due.exists():
        return 0
    queued = 0
    pending: list[audit.Pending] = []
    with transaction.atomic():
        ordered = due.order_by("next_reminder_at")
        if connection.vendor == "postgresql":
            plans = list(ordered.select_for_update(skip_locked=True, of=("self",))[:REMINDER_BATCH])
        else:
            plans = list(ordered[:REMINDER_BATCH])
        for plan in plans:
            if _remind(plan, now, pending):
                queued += 1
        audit.record_many(pending)
    return queued


def _remind(plan: SecurityPlan, now: datetime, pending: list[audit.Pending]) -> bool:
    assert plan.next_reminder_at is not None
    due_on = plan.next_reminder_at.date().isoformat()
    person = Person.objects.select_related("user", "organisation").get(pk=plan.person_id)
    if person.archived_at is not None:
        # Nobody to remind: stop until someone sets the reminders again.
        SecurityPlan.objects.filter(pk=plan.pk).update(next_reminder_at=None)
        return False
    following = plan.next_reminder_at + timedelta(days=plan.reminder_days)
    if following <= now:
        # The worker was down for longer than a period: one reminder, not a backlog.
        following = now + timedelta(days=plan.reminder_days)
    SecurityPlan.objects.filter(pk=plan.pk).update(next_reminder_at=following)
    channel, address = _address(person)
    if not address:
        log.info("security plan %s: no phone or e-mail to remind", plan.pk)
        pending.append(
            audit.Pending("worker", "security_plan.reminder_skipped", plan, details={"due": due_on})
        )
        return False
    key = f"plan:{plan.pk}:{due_on}"
    if OutboxMessage.objects.filter(idempotency_key=key).exists():
        return False
    plan.organisation = person.organisation
    language = person.preferred_language if person.preferred_language in LANGUAGES else "es"
    OutboxMessage.objects.create(
        organisation_id=plan.organisation_id,
        idempotency_key=key,
        channel=channel,
        recipient_label=person.display_name[:80],
        address=address,
        body=_reminder_body(plan, channel, language),
        language=language,
        next_attempt_at=now,
    )
    pending.append(
        audit.Pending(
            "worker",
            "security_plan.reminder_queued",
            plan,
            details={"due": due_on, "channel": channel},
        )
    )
    return True
