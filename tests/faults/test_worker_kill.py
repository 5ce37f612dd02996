"""A worker killed with SIGKILL at random points of step execution and of outbox delivery
(issue 10, point 2; DESIGN.md section 6, "Restart safety").

One database, one loopback gateway that answers 200 to everything, and a chain of real
``amparo worker`` processes: each one is killed at a point drawn from a seeded random
generator (``AMPARO_FAULT_SEED`` replays a run), the next one starts (the restart) and
takes over what the dead one left, and a last, unharmed worker finishes. The points:

- ``step:n``      inside the n-th step it executes: the step wrote its outbox rows, ack
                  links and audit entry, the batch's transaction has not committed;
- ``send-before:n`` the n-th message is leased and about to be handed to Apprise;
- ``send-after:n``  the gateway has accepted the n-th message, the outcome is not recorded;
- ``record:n``    inside the n-th turn that records outcomes, before its commit;
- ``timer``       wherever the worker happens to be, a random time after steps fall due.

The kill is a real SIGKILL (``kill -9``), sent by the process to itself at that point
through a ``sitecustomize`` hook that wraps ``actions.execute_step``, ``clock.attempt``
and ``clock.record`` and changes nothing else (or by the test, for ``timer``).

What is asserted, and why that much and no more (docs/architecture.md section 8):

- Steps are exactly once: every step is done, each has exactly one
  ``alert.step_executed`` audit entry and the expected number of outbox rows, and each
  alert the expected number of acknowledgement links (each written in the step's
  transaction, so a step that ran twice would leave two sets).
- Outbox rows are exactly once: one row per (step, recipient, channel), each ``sent``,
  with ``attempts == 1``: the gateway accepts everything, so a second recorded attempt
  would be a send recorded twice.
- Delivery is at least once, with the key visible to the receiver: every key reached the
  gateway. A key may reach it more than once only when a killed worker had handed it to
  Apprise and died before the turn that records it committed (the hook's ``sending``
  without ``marked``): that is the design's documented repeat, which the receiver drops
  by ``X-Amparo-Idempotency-Key``. So for each key, arrivals - 1 <= the number of killed
  workers that had it in hand, and a key nobody had in hand arrived exactly once.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from pathlib import Path

from tests.alerts.loopback import WorkerProcess, read_events
from tests.faults.support import (
    REPO,
    FaultDatabase,
    Gateway,
    executions_of,
    messages_of,
    release_steps,
    seed_escalation,
    steps_of,
    until,
)

DEADLINE = 240
SEED = int(os.environ.get("AMPARO_FAULT_SEED", "20260510"))
KINDS = ["step", "send-before", "send-after", "record", "timer"]
ALERTS_PER_ROUND = 3
CONTACTS = 2
STEPS_PER_ALERT = 3  # local, its repeat, regional
RECIPIENTS = 1 + CONTACTS
MESSAGES_PER_STEP = 2 * RECIPIENTS + 1  # SMS and e-mail to each, one webhook call
ACK_LINKS_PER_STEP = RECIPIENTS  # the e-mails carry one; SMS and the webhook none
LEASE_SECONDS = 5
WORKER_ARGS = ("--no-tasks", "--interval", "0.05", "--lease-seconds", str(LEASE_SECONDS))

KILL_HOOK = """
import os

_EVENTS = os.environ.get("AMPARO_FAULT_EVENTS")
if _EVENTS:
    import django.core.management as _management

    _original_entry = _management.execute_from_command_line

    def _install():
        import signal
        import threading
        import time

        from amparo.alerts import actions, clock

        fd = os.open(_EVENTS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        kind, _, number = os.environ.get("AMPARO_FAULT_KILL", "").partition(":")
        number = int(number or 0)
        lock = threading.Lock()
        counts = {}

        def report(line):
            os.write(fd, (line + "\\n").encode())

        def point(name, detail):
            with lock:
                counts[name] = counts.get(name, 0) + 1
                reached = name == kind and counts[name] == number
            if reached:
                report(f"killed {name}:{number} {detail}")
                os.kill(os.getpid(), signal.SIGKILL)
                time.sleep(30)

        execute_step = actions.execute_step
        attempt = clock.attempt
        record = clock.record

        def hooked_execute_step(step, worker="", batch=None):
            created = execute_step(step, worker, batch)
            point("step", step.pk)
            return created

        def hooked_attempt(message, template):
            report(f"sending {message.idempotency_key}")
            point("send-before", message.idempotency_key)
            outcome = attempt(message, template)
            point("send-after", message.idempotency_key)
            return outcome

        def hooked_record(outcomes):
            from django.db import transaction

            record(outcomes)
            if not outcomes:
                return
            keys = [outcome.message.idempotency_key for outcome in outcomes]
            # Once the turn that records them commits, these are settled.
            transaction.on_commit(lambda: [report(f"marked {key}") for key in keys])
            point("record", len(keys))

        actions.execute_step = hooked_execute_step
        clock.attempt = hooked_attempt
        clock.record = hooked_record

    def _entry(argv=None):
        _install()
        return _original_entry(argv)

    _management.execute_from_command_line = _entry
"""


def kill_hook_env(tmp_path: Path, events: Path, kill_at: str) -> dict[str, str]:
    hook_dir = tmp_path / "kill-hook"
    hook_dir.mkdir(exist_ok=True)
    (hook_dir / "sitecustomize.py").write_text(KILL_HOOK, encoding="utf-8")
    return {
        "PYTHONPATH": os.pathsep.join([str(hook_dir), str(REPO)]),
        "AMPARO_FAULT_EVENTS": str(events),
        "AMPARO_FAULT_KILL": kill_at,
    }


def kill_points(rng: random.Random) -> list[str]:
    """One kill of each kind, in a random order, each at a random occurrence. A round
    brings 9 steps and 63 messages, plus what the previous worker left."""
    kinds = list(KINDS)
    rng.shuffle(kinds)
    limits = {"step": 6, "send-before": 40, "send-after": 40, "record": 3}
    return [kind if kind == "timer" else f"{kind}:{rng.randint(1, limits[kind])}" for kind in kinds]


def test_it_executes_every_step_once_and_delivers_every_message_across_sigkills(
    fault_db: FaultDatabase, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    points = kill_points(rng)
    replay = f"AMPARO_FAULT_SEED={SEED} kill points {points}"
    with Gateway() as gateway:
        groups = seed_escalation(
            fault_db,
            alerts=ALERTS_PER_ROUND * len(points),
            contacts=CONTACTS,
            channels={
                "sms": gateway.url("sms", "+X-To={to}"),
                "email": gateway.url("email", "+X-To={to}"),
                "webhook": gateway.url("webhook"),
            },
            tiers=[("local", 0, 1), ("regional", 2, 0)],
        )
        all_steps = [step for group in groups for step in group]
        assert len(all_steps) == ALERTS_PER_ROUND * len(points) * STEPS_PER_ALERT
        in_hand: Counter[str] = Counter()  # key -> killed workers that had it unsettled
        killed: list[str] = []
        workers: list[WorkerProcess] = []
        try:
            for round_number, kill_at in enumerate(points):
                events = tmp_path / f"events-{round_number}.log"
                hook = kill_hook_env(tmp_path, events, "" if kill_at == "timer" else kill_at)
                worker = WorkerProcess.start(
                    f"{round_number}-{kill_at.replace(':', '-')}",
                    {**fault_db.env, **hook},
                    *WORKER_ARGS,
                    log_dir=tmp_path,
                )
                workers.append(worker)
                worker.wait_running(timeout=60)
                first = round_number * ALERTS_PER_ROUND
                released = [s for g in groups[first : first + ALERTS_PER_ROUND] for s in g]
                release_steps(fault_db, released, start=0.2, spread=1.5)
                if kill_at == "timer":
                    time.sleep(rng.uniform(0.3, 2.5))
                    os.kill(worker.pid, signal.SIGKILL)
                died = until(
                    lambda w=worker: w.process.poll() is not None,
                    30,
                    f"worker {worker.label} to reach its kill point ({replay})",
                )
                assert died
                assert worker.process.returncode == -signal.SIGKILL, worker.output()[-3000:]
                log = read_events(events)
                sending = {v for k, v in log if k == "sending"}
                marked = {v for k, v in log if k == "marked"}
                in_hand.update(sending - marked)
                point = next((v for k, v in log if k == "killed"), "")
                # Killed where it was meant to be, not by anything else.
                assert kill_at == "timer" or point.startswith(kill_at + " "), (point, kill_at)
                killed.append(point or kill_at)

            # The last restart: a worker nobody kills finishes everything.
            survivor = WorkerProcess.start("survivor", fault_db.env, *WORKER_ARGS, log_dir=tmp_path)
            workers.append(survivor)
            survivor.wait_running(timeout=60)

            def everything_done() -> bool:
                states = steps_of(fault_db)
                if any(state != "done" for state, *_ in states.values()):
                    return False
                messages = messages_of(fault_db)
                if len(messages) != len(all_steps) * MESSAGES_PER_STEP:
                    return False
                if any(row.state != "sent" for row in messages.values()):
                    return False
                return {h.key for h in gateway.requests()} >= set(messages)

            until(everything_done, 60, f"everything ({replay})\n{survivor.output()[-3000:]}")
            code = survivor.terminate(timeout=20)
            assert code == 0, f"survivor exited {code}:\n{survivor.output()[-3000:]}"
        finally:
            for worker in workers:
                worker.reap()
        arrivals = Counter(h.key for h in gateway.requests())

    context = f"{replay}; killed at {killed}"
    # Every step ran, exactly once.
    states = steps_of(fault_db)
    assert sorted(states) == sorted(all_steps)
    assert Counter(state for state, *_ in states.values()) == {"done": len(all_steps)}, context
    assert Counter(executions_of(fault_db)) == dict.fromkeys(all_steps, 1), context
    links = fault_db.query("SELECT alert_id, COUNT(*) FROM alerts_acklink GROUP BY alert_id")
    assert sorted(n for _alert, n in links) == [STEPS_PER_ALERT * ACK_LINKS_PER_STEP] * len(
        groups
    ), context
    # Each step's messages were written once and recorded as sent once.
    messages = messages_of(fault_db)
    assert Counter(row.step for row in messages.values()) == dict.fromkeys(
        all_steps, MESSAGES_PER_STEP
    ), context
    assert {(row.state, row.attempts) for row in messages.values()} == {("sent", 1)}, context
    # Every message reached the gateway; a repeat only where a killed worker had it in hand.
    assert set(arrivals) == set(messages), context
    too_many = {k: n for k, n in arrivals.items() if n - 1 > in_hand[k]}
    assert not too_many, (too_many, dict(in_hand), context)
    # The send-after kill really left a delivered, unrecorded message behind: the case
    # the at-least-once allowance is for.
    assert in_hand, context
    # The audit chain has no hole where a batch was rolled back.
    assert "audit chain verified" in fault_db.cli("verify_audit").stdout
