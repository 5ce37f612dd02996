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
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.db.utils import OperationalError
from django.utils import timezone, translation

from amparo.alerts import actions
from amparo.alerts.delivery import DeliveryResult, channel_url, deliver
from amparo.alerts.models import (
    AlertStep,
    OutboxMessage,
    OutboxState,
    StepState,
    WorkerHeartbeat,
)
from amparo.core import audit
from amparo.core.logs import redact

log = logging.getLogger("amparo.alerts.clock")

LEASE_SECONDS = 60
MAX_ATTEMPTS = 8
# Seconds to wait before attempt n+1 (n = attempts made so far).
BACKOFF = [2, 5, 15, 30, 60, 120, 300, 600]
STEP_RETRY_SECONDS = 10
# Steps claimed and committed together: one commit (one fsync on SQLite) and one lock of
# the audit chain per batch instead of per step.
BATCH = 50
MARK_RETRIES = 20
MARK_RETRY_SECONDS = 0.25


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def run_due_steps(
    worker: str, limit: int = 500, overdue_by: float = 0.0, batch: int = BATCH
) -> int:
    """Claim and execute due steps, ``batch`` per transaction, until none is due or
    ``limit`` ran; returns how many ran. With ``overdue_by`` only steps late by more than
    that many seconds (the auditor)."""
    ran = 0
    while ran < limit:
        size = min(batch, limit - ran)
        done = _run_batch(worker, overdue_by, size)
        ran += done
        if done < size:
            break
    return ran


def _due(overdue_by: float) -> Any:
    cutoff = timezone.now() - timedelta(seconds=overdue_by)
    return AlertStep.objects.filter(state=StepState.PENDING, due_at__lte=cutoff).order_by(
        "due_at", "id"
    )


def _run_batch(worker: str, overdue_by: float, size: int) -> int:
    # Look before taking a lock: on SQLite every transaction takes the database's one
    # write lock at BEGIN, and an idle clock polling several times a second would keep
    # the other workers and the web server waiting for it.
    if not _due(overdue_by).exists():
        return 0
    with transaction.atomic():
        return _execute_due(worker, overdue_by, size)


def _execute_due(worker: str, overdue_by: float, size: int) -> int:
    """Claim and execute up to ``size`` due steps inside the caller's transaction.

    On PostgreSQL the steps run under one savepoint for the batch; if one fails, that
    savepoint takes back every step's writes and they run again, each under a savepoint
    of its own, so that only the failing one is retried later (a savepoint per step cost
    two round trips per step: in a burst of 200 missed check-ins, p99 1.98 s against
    1.20-1.26 s, bench/checkins.py). On SQLite, where a savepoint is no round trip but
    one that spans many writes keeps a growing statement journal, each step has its own
    from the start (the same burst: 0.52 s against 1.05-1.29 s)."""
    due = _due(overdue_by).select_related("alert", "alert__organisation")
    if _postgres():
        steps = list(due.select_for_update(skip_locked=True, of=("self",))[:size])
    else:
        # The IMMEDIATE transaction holds SQLite's write lock: no other worker can claim
        # or change these rows until it commits.
        steps = list(due[:size])
    if not steps:
        return 0
    if _postgres():
        batch = actions.StepBatch(steps)
        try:
            with transaction.atomic():
                for step in steps:
                    actions.execute_step(step, worker, batch)
        except Exception:
            batch = _each_in_its_savepoint(worker, steps)
    else:
        batch = _each_in_its_savepoint(worker, steps)
    audit.record_many(batch.audit)
    return len(steps)


def _each_in_its_savepoint(worker: str, steps: list[AlertStep]) -> actions.StepBatch:
    batch = actions.StepBatch(steps)
    for step in steps:
        entries = len(batch.audit)
        try:
            with transaction.atomic():
                actions.execute_step(step, worker, batch)
        except Exception:
            del batch.audit[entries:]  # its audit entry goes with its rolled-back writes
            # A step that fails is retried shortly, never dropped; the others of the
            # batch go on (its savepoint rolled back only its own writes).
            log.exception("step %s failed; retrying in %ss", step.pk, STEP_RETRY_SECONDS)
            AlertStep.objects.filter(pk=step.pk).update(
                state=StepState.PENDING,
                due_at=timezone.now() + timedelta(seconds=STEP_RETRY_SECONDS),
            )
    return batch


def _ready(now: datetime) -> Any:
    return OutboxMessage.objects.filter(
        Q(state=OutboxState.PENDING, next_attempt_at__lte=now)
        | Q(state=OutboxState.SENDING, lease_until__lt=now)
    ).order_by("next_attempt_at")


def claim_messages(
    worker: str, limit: int = 20, lease_seconds: float = LEASE_SECONDS
) -> list[OutboxMessage]:
    """Lease up to ``limit`` messages that are due, or whose sender's lease ran out (a
    sender that died). The lease must outlast the slowest delivery, or a live sender's
    message would be sent twice."""
    now = timezone.now()
    ready = _ready(now)
    lease_until = now + timedelta(seconds=lease_seconds)
    claimed: list[OutboxMessage] = []
    if not ready.exists():
        return claimed  # look before locking, as the clock does
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
    """Deliver one claimed message and record the outcome; True when it went out."""
    (ok,) = send_messages([message])
    return ok


def send_messages(
    messages: list[OutboxMessage], pool: ThreadPoolExecutor | None = None
) -> list[bool]:
    """Deliver claimed messages (in parallel on ``pool``) and record every outcome in one
    transaction: one write to the database per group, not one per message, so that the
    senders do not queue for SQLite's single write lock behind the clock."""
    templates = _templates(messages)
    jobs = []
    for message in messages:
        # Opened here, so the sending threads touch no database (keys are read from it).
        _opened = (message.address, message.body)
        jobs.append((message, templates.get((message.organisation_id, message.channel))))
    if pool is None:
        outcomes = [attempt(message, template) for message, template in jobs]
    else:
        outcomes = list(pool.map(lambda job: attempt(*job), jobs))
    record(outcomes)
    return [outcome.result.ok for outcome in outcomes]


@dataclass(frozen=True)
class Outcome:
    message: OutboxMessage
    result: DeliveryResult
    at: datetime


def attempt(message: OutboxMessage, template: str | None) -> Outcome:
    """Hand one message to its channel; no database access, so it runs in any thread."""
    title = "Amparo"
    if message.alert is not None:
        # The subject is part of the message: in the recipient's language, like the body.
        with translation.override(message.language):
            title = f"Amparo {message.alert.get_severity_display()}: {message.alert.code}"
    result = deliver(message, title=title, template=template)
    if not result.ok:
        # Apprise's reasons can name the recipient ('Sending email to "..." failed').
        log.warning(
            "message %s (%s) not delivered: %s", message.pk, message.channel, redact(result.error)
        )
    return Outcome(message, result, timezone.now())


def record(outcomes: list[Outcome]) -> None:
    """Record delivery outcomes. This must not fail on a busy database: a delivered
    message left in "sending" would go out a second time when its lease ran out.

    A lost connection (the server restarted) is not retried inside a caller's
    transaction (the worker's turn): that transaction went with it, no retry can
    succeed, and the caller keeps the outcomes for its next turn; retrying only held
    the clock loop for the ~50 s of retries. (Outside a transaction, the failed
    ``atomic`` drops the connection and the retry opens a new one.)"""
    for retry in range(MARK_RETRIES):
        try:
            with transaction.atomic():
                _record_now(outcomes)
            return
        except OperationalError:
            lost = connection.in_atomic_block and (
                connection.connection is None or not connection.is_usable()
            )
            if lost or retry == MARK_RETRIES - 1:
                raise
            time.sleep(MARK_RETRY_SECONDS * (retry + 1))


def _record_now(outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        _mark(outcome.message, outcome.result, outcome.message.attempts + 1, outcome.at)


def _templates(messages: list[OutboxMessage]) -> dict[tuple[Any, str], str | None]:
    """The channel URL of each (organisation, channel) in the group, read once."""
    return {
        key: channel_url(message)
        for message in messages
        if (key := (message.organisation_id, message.channel))
    }


# The worker's cycle: one write transaction per turn


class Sender:
    """The outbox's delivery threads. Deliveries run outside any transaction; their
    outcomes wait here until the next cycle records them."""

    def __init__(self, threads: int, lease_seconds: float = LEASE_SECONDS) -> None:
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="send")
        self.capacity = threads * 2
        self.lease_seconds = lease_seconds
        self.wake = threading.Event()  # set when a delivery finishes
        self._lock = threading.Lock()
        self._unsettled = 0  # claimed and not yet recorded
        self._done: list[Outcome] = []

    def free(self) -> int:
        with self._lock:
            return max(0, self.capacity - self._unsettled)

    def unsettled(self) -> int:
        with self._lock:
            return self._unsettled

    def submit(self, messages: list[OutboxMessage]) -> None:
        templates = _templates(messages)
        for message in messages:
            # Opened here, so the sending threads touch no database (keys are read from it).
            _opened = (message.address, message.body)
            with self._lock:
                self._unsettled += 1
            self.pool.submit(
                self._attempt, message, templates.get((message.organisation_id, message.channel))
            )

    def _attempt(self, message: OutboxMessage, template: str | None) -> None:
        try:
            outcome = attempt(message, template)
        except Exception as exc:  # noqa: BLE001 - recorded as a failed attempt, retried
            log.exception("delivering message %s failed", message.pk)
            outcome = Outcome(
                message, DeliveryResult(False, f"{type(exc).__name__}: {exc}"[:500]), timezone.now()
            )
        with self._lock:
            self._done.append(outcome)
        self.wake.set()

    def take(self) -> list[Outcome]:
        with self._lock:
            done, self._done = self._done, []
        return done

    def put_back(self, outcomes: list[Outcome]) -> None:
        with self._lock:
            self._done[:0] = outcomes

    def settled(self, count: int) -> None:
        with self._lock:
            self._unsettled -= count

    def shutdown(self) -> None:
        """Finish the deliveries in hand and record them."""
        self.pool.shutdown(wait=True)
        outcomes = self.take()
        record(outcomes)
        self.settled(len(outcomes))


def cycle(worker: str, sender: Sender, batch: int = BATCH) -> int:
    """One turn of the worker: record the deliveries that finished, execute the steps that
    are due, and claim messages for the free senders (those just written included), all
    in one transaction; the claimed messages go to the senders once it commits. One write
    transaction per turn keeps the worker's threads from queueing for SQLite's single
    write lock one behind the other. Returns how much work it did (0: idle)."""
    outcomes = sender.take()
    try:
        free = sender.free()
        due = _due(0.0).exists()
        if not (outcomes or due or (free and _ready(timezone.now()).exists())):
            return 0  # nothing to write: no lock taken
        with transaction.atomic():
            record(outcomes)
            ran = _execute_due(worker, 0.0, batch) if due else 0
            claimed = (
                claim_messages(worker, limit=free, lease_seconds=sender.lease_seconds)
                if free
                else []
            )
    except Exception:
        sender.put_back(outcomes)  # recorded next turn: a delivered message stays delivered
        raise
    sender.settled(len(outcomes))
    sender.submit(claimed)
    return ran + len(claimed) + len(outcomes)


def beat(name: str, **details: Any) -> None:
    WorkerHeartbeat.objects.update_or_create(
        name=name, defaults={"beat_at": timezone.now(), "details": details}
    )


def _mark(message: OutboxMessage, result: Any, attempts: int, now: Any) -> None:
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
