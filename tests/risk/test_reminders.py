"""Re-assessment reminders: a week before the due date, one message per coordinator
through the outbox, queued once however often the worker calls; a new assessment sets
the next one."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from amparo.alerts.models import OutboxMessage
from amparo.core.models import AuditEntry
from amparo.people.models import Role
from amparo.risk.reminders import send_due_reassessment_reminders
from conftest import make_persona
from tests.risk.conftest import assess


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_it_reminds_each_coordinator_once_a_week_before_the_due_date(world, subject):
    second = make_persona(world.org_a, Role.COORDINATOR, "second@a.example")
    assess(world, subject, assessed_on=date(2025, 1, 15))  # due 2025-04-15
    assert send_due_reassessment_reminders(at(date(2025, 4, 7), 11)) == 0
    assert send_due_reassessment_reminders(at(date(2025, 4, 8))) == 2
    assert send_due_reassessment_reminders(at(date(2025, 4, 8))) == 0
    assert send_due_reassessment_reminders(at(date(2025, 4, 20))) == 0
    messages = OutboxMessage.objects.filter(idempotency_key__startswith=f"risk:{subject.pk}:")
    assert sorted(m.address for m in messages) == sorted(
        [world.coordinator.user.email, second.user.email]
    )
    body = messages[0].body
    assert "2025-04-15" in body and f"/o/org-a/risk/subjects/{subject.pk}/" in body
    assert "Rosa" not in body  # the message names no one
    # Nobody of organisation B is told.
    assert world.coordinator_b.user.email not in [m.address for m in messages]
    assert AuditEntry.objects.filter(action="risk.reminder_queued").count() == 1


def test_a_new_assessment_sets_the_next_reminder(world, subject):
    assess(world, subject, assessed_on=date(2025, 1, 15))
    assert send_due_reassessment_reminders(at(date(2025, 4, 8))) == 1
    assess(world, subject, assessed_on=date(2025, 4, 10))  # due 2025-07-10
    subject.refresh_from_db()
    assert subject.next_reminder_at == at(date(2025, 7, 3))
    assert send_due_reassessment_reminders(at(date(2025, 7, 3))) == 1
    assert OutboxMessage.objects.filter(idempotency_key__startswith="risk:").count() == 2


def test_it_waits_a_day_before_reminding_of_a_new_subject(world, subject):
    from django.utils import timezone

    now = timezone.now()
    assert send_due_reassessment_reminders(now) == 0
    assert send_due_reassessment_reminders(now + timedelta(days=1, minutes=1)) == 1
