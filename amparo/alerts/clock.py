"""The escalation clock and the outbox sender (DESIGN.md section 6).

Steps are claimed and executed in one transaction: ``SELECT ... FOR UPDATE SKIP LOCKED``
on PostgreSQL, a conditional ``UPDATE ... WHERE state='pending'`` on SQLite (whose write
transactions are serialised). A worker killed mid-step rolls back, and the step is still
pending for the next worker: run once, never lost.

Outbox rows are leased (``sending`` until ``lease_until``) in a short transaction, sent
outside any transaction, then marked. A worker killed between sending and marking leaves
a lease that expires; the message is sent again with the same idempotency key, which the
receiver sees.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.db.utils import OperationalError
from django.utils import timezone, translation

from amparo.alerts import actions
from amparo.alerts.delivery import deliver
from amparo.alerts.models import (
    AlertStep,
    OutboxMessage,
    OutboxState,
    StepState,
    WorkerHeartbeat,
)

log = logging.getLogger("amparo.alerts.clock")

LEASE_SECONDS = 60
MAX_ATTEMPTS = 8
# Seconds to wait before attempt n+1 (n = attempts made so far).
BACKOFF = [2, 5, 15, 30, 60, 120, 300, 600]
STEP_RETRY_SECONDS = 10
MARK_RETRIES = 20
MARK_RETRY_SECONDS = 0.25


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def run_due_steps(worker: str, limit: int = 20, overdue_by: float = 0.0) -> int:
    """Claim and execute up to ``limit`` due steps; returns how many ran. With
    ``overdue_by`` only steps late by more than that many seconds (the auditor)."""
    ran = 0
    for _ in range(limit):
        if not _run_one_step(worker, overdue_by):
            break
        ran += 1
    return ran


def _run_one_step(worker: str, overdue_by: float) -> bool:
    now = timezone.now()
    due = AlertStep.objects.filter(
        state=StepState.PENDING, due_at__lte=now - timedelta(seconds=overdue_by)
    ).order_by("due_at", "id")
    with transaction.atomic():
        if _postgres():
            step = due.select_for_update(skip_locked=True, of=("self",)).first()
            if step is None:
                return False
        else:
            candidate = due.values_list("pk", flat=True).first()
            if candidate is None:
                return False
            claimed = AlertStep.objects.filter(pk=candidate, state=StepState.PENDING).update(
                state=StepState.RUNNING, claimed_by=worker[:64]
            )
            if not claimed:
                return True  # another worker took it; look again
            step = AlertStep.objects.get(pk=candidate)
        step = AlertStep.objects.select_related("alert", "alert__organisation").get(pk=step.pk)
        try:
            with transaction.atomic():
                actions.execute_step(step, worker)
        except Exception:
            # A step that fails is retried shortly, never dropped.
            log.exception("step %s failed; retrying in %ss", step.pk, STEP_RETRY_SECONDS)
            AlertStep.objects.filter(pk=step.pk).update(
                state=StepState.PENDING,
                due_at=timezone.now() + timedelta(seconds=STEP_RETRY_SECONDS),
            )
    return True


def claim_messages(
    worker: str, limit: int = 20, lease_seconds: float = LEASE_SECONDS
) -> list[OutboxMessage]:
    """Lease up to ``limit`` messages that are due, or whose sender's lease ran out (a
    sender that died). The lease must outlast the slowest delivery, or a live sender's
    message would be sent twice."""
    now = timezone.now()
    ready = OutboxMessage.objects.filter(
        Q(state=OutboxState.PENDING, next_attempt_at__lte=now)
        | Q(state=OutboxState.SENDING, lease_until__lt=now)
    ).order_by("next_attempt_at")
    lease_until = now + timedelta(seconds=lease_seconds)
    claimed: list[OutboxMessage] = []
    with transaction.atomic():
        if _postgres():
            rows = list(ready.select_for_update(skip_locked=True)[:limit])
            ids = [row.pk for row in rows]
            OutboxMessage.objects.filter(pk__in=ids).update(
                state=OutboxState.SENDING, lease_until=lease_until
            )
        else:
            ids = []
            for pk in ready.values_list("pk", flat=True)[:limit]:
                took = OutboxMessage.objects.filter(
                    Q(pk=pk)
                    & (
                        Q(state=OutboxState.PENDING)
                        | Q(state=OutboxState.SENDING, lease_until__lt=now)
                    )
                ).update(state=OutboxState.SENDING, lease_until=lease_until)
                if took:
                    ids.append(pk)
        claimed = list(OutboxMessage.objects.filter(pk__in=ids).select_related("alert"))
    return claimed


def send_message(message: OutboxMessage) -> bool:
    title = "Amparo"
    if message.alert is not None:
        # The subject is part of the message: in the recipient's language, like the body.
        with translation.override(message.language):
            title = f"Amparo {message.alert.get_severity_display()}: {message.alert.code}"
    result = deliver(message, title=title)
    attempts = message.attempts + 1
    now = timezone.now()
    # Recording the outcome must not fail on a busy database: a delivered message left in
    # "sending" would go out a second time when its lease ran out.
    for retry in range(MARK_RETRIES):
        try:
            _mark(message, result, attempts, now)
            break
        except OperationalError:
            if retry == MARK_RETRIES - 1:
                raise
            time.sleep(MARK_RETRY_SECONDS * (retry + 1))
    if not result.ok:
        log.warning("message %s (%s) not delivered: %s", message.pk, message.channel, result.error)
    return result.ok


def beat(name: str, **details: Any) -> None:
    WorkerHeartbeat.objects.update_or_create(
        name=name, defaults={"beat_at": timezone.now(), "details": details}
    )


def _mark(message: OutboxMessage, result: Any, attempts: int, now: Any) -> None:
    with transaction.atomic():
        if result.ok:
            OutboxMessage.objects.filter(pk=message.pk).update(
                state=OutboxState.SENT,
                sent_at=now,
                attempts=attempts,
                last_error="",
                lease_until=None,
            )
        elif result.final or attempts >= MAX_ATTEMPTS:
            OutboxMessage.objects.filter(pk=message.pk, state=OutboxState.SENDING).update(
                state=OutboxState.FAILED,
                attempts=attempts,
                last_error=result.error,
                lease_until=None,
            )
        else:
            delay = BACKOFF[min(attempts - 1, len(BACKOFF) - 1)]
            OutboxMessage.objects.filter(pk=message.pk, state=OutboxState.SENDING).update(
                state=OutboxState.PENDING,
                attempts=attempts,
                last_error=result.error,
                next_attempt_at=now + timedelta(seconds=delay),
                lease_until=None,
            )
