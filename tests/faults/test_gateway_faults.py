"""A notification gateway that answers 500, and one that hangs, while a real ``amparo
worker`` escalates (issue 10, point 2; docs/architecture.md section 8, "The outbox").

Three loopback gateways take one alert's four steps: the SMS gateway answers 500 until
the test repairs it, the webhook gateway reads each request and never answers (it holds
the connection for longer than any client timeout), and the e-mail gateway works. The
channel URLs name no timeout, so the sender's own (``delivery.CONNECT_TIMEOUT`` and
``READ_TIMEOUT``, given to Apprise as ``cto`` and ``rto``) are what bound a hanging call.

Asserted:

- the failing SMS is retried with the backoff of ``clock.BACKOFF`` (2 s, then 5 s), each
  failure recorded on the row (attempts, ``last_error`` naming the 500, next attempt),
  never dropped, and, once the gateway answers 200, delivered once and never again;
- a hanging call ends within the read timeout and counts as a failed attempt, retried
  like the 500; the message is sent once the gateway answers. The gateway did receive the
  hung requests (it read them); it answered success once per key, and that is the one
  the outbox records;
- meanwhile the clock is not held up: every step runs within a second or so of its
  ``due_at``, and the clock, auditor and check-in loops keep beating while calls hang;
- the healthy channel goes on: every e-mail is delivered once, at worst one read timeout
  late (the sender threads are shared by the channels, so a hanging gateway can hold
  them that long; with more hanging calls than ``--senders`` the others wait their turn).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from amparo.alerts.clock import BACKOFF
from amparo.alerts.delivery import CONNECT_TIMEOUT, READ_TIMEOUT
from tests.alerts.loopback import WorkerProcess
from tests.faults.support import (
    FaultDatabase,
    Gateway,
    Hit,
    beats_of,
    messages_of,
    parse_time,
    release_steps,
    seed_escalation,
    steps_of,
    until,
)

DEADLINE = 180
STEPS = 4  # one tier, repeated three times
LATE = 1.5  # seconds a step may run after its due_at on a busy machine
SLACK = 3.0  # seconds of scheduling noise allowed around a backoff or a timeout
WORKER_ARGS = ("--no-tasks", "--interval", "0.05", "--lease-seconds", "40")


def hits_by_key(hits: list[Hit]) -> dict[str, list[Hit]]:
    out: dict[str, list[Hit]] = {}
    for hit in hits:
        out.setdefault(hit.key, []).append(hit)
    return out


class BeatWatch:
    """Reads the worker's heartbeat rows every 0.2 s, in a thread, and keeps every beat
    time seen per loop (a beat row holds only the last one)."""

    def __init__(self, database: FaultDatabase) -> None:
        self.database = database
        self._seen: dict[str, set[float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.wait(0.2):
            for loop, at in beats_of(self.database).items():
                self._seen.setdefault(loop, set()).add(at.timestamp())

    def seen(self, loop: str) -> list[float]:
        return sorted(self._seen.get(loop, ()))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)


def test_it_retries_failing_and_hanging_gateways_without_holding_up_the_clock(
    fault_db: FaultDatabase, tmp_path: Path
) -> None:
    with (
        Gateway("fail") as sms_gateway,
        Gateway("hang", hang_seconds=READ_TIMEOUT * 4) as webhook_gateway,
        Gateway("ok") as email_gateway,
    ):
        (steps,) = seed_escalation(
            fault_db,
            alerts=1,
            contacts=0,
            channels={
                "sms": sms_gateway.url("sms", "+X-To={to}"),
                "webhook": webhook_gateway.url("webhook"),
                "email": email_gateway.url("email", "+X-To={to}"),
            },
            tiers=[("local", 0, STEPS - 1)],
        )
        assert len(steps) == STEPS
        worker = WorkerProcess.start("gateways", fault_db.env, *WORKER_ARGS, log_dir=tmp_path)
        beats = BeatWatch(fault_db)
        try:
            worker.wait_running(timeout=60)
            release_steps(fault_db, steps, start=0.5, spread=6.0)
            beats.start()
            first_step = steps[0]

            def sms_of_first_step() -> str:
                rows = [r for r in messages_of(fault_db).values() if r.step == first_step]
                return next((r.key for r in rows if r.channel == "sms"), "")

            sms_key = until(sms_of_first_step, 30, "the first step's SMS row")

            # The SMS gateway fails twice: both failures are on the row, the message waits
            # for its next attempt. Then the gateway is repaired.
            def second_failure_recorded() -> bool:
                return messages_of(fault_db)[sms_key].attempts >= 2

            until(second_failure_recorded, 30, "the SMS's second failed attempt")
            row = messages_of(fault_db)[sms_key]
            sms_gateway.mode = "ok"
            assert row.state == "pending", row
            assert "500" in row.last_error, row
            last = hits_by_key(sms_gateway.requests())[sms_key][row.attempts - 1]
            wait = parse_time(row.next_attempt_at).timestamp() - last.at
            expected = BACKOFF[row.attempts - 1]
            assert expected - SLACK <= wait <= expected + SLACK, (wait, row)

            # The webhook gateway hangs: the first call hangs until the read timeout, then
            # counts as a failed attempt. (When it ended is on the row: the next attempt
            # is set BACKOFF[0] after it.)
            first_hang = until(lambda: webhook_gateway.requests(), 30, "a webhook call")[0]
            hang_key = first_hang.key
            until(lambda: messages_of(fault_db)[hang_key].attempts >= 1, 60, "the hang to end")
            row = messages_of(fault_db)[hang_key]
            assert (row.state, row.attempts) == ("pending", 1), row
            assert row.last_error, row
            hang_ended = parse_time(row.next_attempt_at).timestamp() - BACKOFF[0]
            hung_for = hang_ended - first_hang.at
            assert READ_TIMEOUT - 1 <= hung_for <= READ_TIMEOUT + CONNECT_TIMEOUT + SLACK, hung_for
            # Meanwhile every loop of the worker went on beating.
            for loop in ("clock", "outbox", "auditor", "checkins"):
                during = [at for at in beats.seen(loop) if first_hang.at + 1 < at < hang_ended]
                assert during, (loop, beats.seen(loop), first_hang.at, hang_ended)
            webhook_gateway.mode = "ok"

            def all_sent() -> bool:
                messages = messages_of(fault_db)
                return len(messages) == 3 * STEPS and all(
                    r.state == "sent" for r in messages.values()
                )

            until(all_sent, 60, f"every message sent\n{worker.output()[-3000:]}")
            # Once sent, never again: the gateways hear nothing more.
            heard = (
                len(sms_gateway.requests()),
                len(webhook_gateway.requests()),
                len(email_gateway.requests()),
            )
            time.sleep(BACKOFF[0] + 1)
            assert heard == (
                len(sms_gateway.requests()),
                len(webhook_gateway.requests()),
                len(email_gateway.requests()),
            )
            code = worker.terminate(timeout=20)
            assert code == 0, f"worker exited {code}:\n{worker.output()[-3000:]}"
        finally:
            beats.stop()
            worker.reap()
        sms_hits = hits_by_key(sms_gateway.requests())
        webhook_hits = hits_by_key(webhook_gateway.requests())
        email_hits = hits_by_key(email_gateway.requests())

    messages = messages_of(fault_db)
    states = steps_of(fault_db)
    # The clock: every step ran, on time, while the webhook hung.
    for step in steps:
        state, _by, due, done = states[step]
        assert state == "done"
        late = (parse_time(done) - parse_time(due)).total_seconds()
        assert late <= LATE, f"step {step} ran {late:.2f}s after its due time"
    for channel, hits in (("sms", sms_hits), ("webhook", webhook_hits), ("email", email_hits)):
        rows = [r for r in messages.values() if r.channel == channel]
        assert len(rows) == STEPS
        assert set(hits) == {r.key for r in rows}, channel
        for row in rows:
            calls = hits[row.key]
            # Every call the gateway saw is an attempt the outbox recorded, the last one
            # the only success: nothing lost, nothing sent after it succeeded.
            assert (row.state, row.attempts) == ("sent", len(calls)), (channel, row, calls)
            assert [c.answered_ok for c in calls] == [False] * (len(calls) - 1) + [True]
            assert row.last_error == ""
    # The failing SMS waited out its backoff between attempts.
    for calls in sms_hits.values():
        for n, (before, after) in enumerate(zip(calls, calls[1:], strict=False)):
            assert after.at - before.at >= BACKOFF[n] - 0.5, [c.at for c in calls]
    assert len(sms_hits[sms_key]) >= 3  # two failures at least, then the success
    # The e-mails were never more than a read timeout behind their step.
    for row in (r for r in messages.values() if r.channel == "email"):
        executed = parse_time(states[row.step][3]).timestamp()
        behind = email_hits[row.key][0].at - executed
        assert behind <= READ_TIMEOUT + CONNECT_TIMEOUT + SLACK, (row, behind)
