"""Exactly once with real worker processes (DESIGN.md section 6; issue 3, "Must be shown by
tests"): two ``amparo worker`` processes run the same escalation clock and outbox against a
database of their own, one is killed with SIGKILL, and still every step runs once, none is
lost, and no message reaches the receiver twice.

Each test runs on the database the suite runs on: a fresh SQLite file, or a fresh
PostgreSQL database on the server of ``DATABASE_URL``. The pytest-django test database is
not used: the workers are separate processes, and so is everything they write to.

Every message goes to one loopback JSON receiver, which records the
``X-Amparo-Idempotency-Key`` of each delivery. The outbox is at least once by design: a
worker killed after a gateway accepted a message but before it marked the message sent
leaves a lease that expires, and another worker sends it again with the same key. So a key
may arrive twice only for a message the killed worker had in hand (sent, maybe, and not yet
marked); every other repeat is a bug. A kill inside a step must cause no repeat at all.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.alerts.loopback import (
    IsolatedDatabase,
    WebhookReceiver,
    WorkerProcess,
    fault_hook_env,
    isolated_database,
    read_events,
    wait_until,
)

ALERTS = 8
CONTACTS = 4  # directory contacts of the tier, besides the coordinator
STEPS_PER_ALERT = 3  # local, local repeat, regional
# Per step: SMS and e-mail to each of 1 + CONTACTS recipients, and one webhook call.
MESSAGES_PER_STEP = 2 * (1 + CONTACTS) + 1
LEASE_SECONDS = 8  # loopback deliveries take milliseconds; a dead worker's lease ends soon
WORKER_ARGS = ("--no-tasks", "--interval", "0.05", "--lease-seconds", str(LEASE_SECONDS))
DONE_WITHIN = 60  # seconds, from the workers' start to every step done and message sent

SEED = r"""
import json, os
from datetime import timedelta

from django.utils import timezone

from amparo.alerts import actions as alerts
from amparo.alerts.models import AlertStep, DeliveryChannel
from amparo.people import actions as people

spec = json.loads(os.environ["AMPARO_TEST_SEED"])
org = people.create_organisation(
    "seed", name="Federación Loopback", slug="loopback", kind="indigenous_federation",
    country="PE",
)
user = people.create_user("seed", email="ana.login@loopback.example", password=None)
people.add_membership("seed", org, user, "coordinator")
people.create_person(
    "seed", org, given_names="Ana", family_names="Quispe", user=user,
    phone_numbers=["+51982000001"], email="ana@loopback.example",
)
for i in range(spec["contacts"]):
    people.create_directory_entry(
        "seed", org, category="watch_group", region="Madre de Dios",
        name=f"Vigilancia {i}", phone=f"+5198210{i:04d}", email=f"vigilancia{i}@loopback.example",
    )
for name, url in spec["channels"].items():
    DeliveryChannel.objects.create(organisation=org, channel=name, url=url)
targets = [
    {"type": "role", "role": "coordinator"},
    {"type": "directory", "category": "watch_group"},
]
channels = ["sms", "email", "webhook"]
policy = alerts.save_policy(
    "seed", org, policy=None, name="Loopback", description="", kinds=[], severities=[],
    priority=1,
    tiers=[
        {"level": "local", "targets": targets, "channels": channels, "delay_minutes": 0,
         "repeat_count": 1, "repeat_interval_minutes": 1},
        {"level": "regional", "targets": targets, "channels": channels, "delay_minutes": 2,
         "repeat_count": 0, "repeat_interval_minutes": 1},
    ],
)
for i in range(spec["alerts"]):
    alerts.raise_alert(
        "seed", org, kind="threat", severity="high", message=f"Amenaza {i}", policy=policy
    )
# Parked until both workers are up (RELEASE).
AlertStep.objects.update(due_at=timezone.now() + timedelta(days=1))
print(json.dumps({"steps": AlertStep.objects.count()}))
"""

# Bring every step forward to the next few seconds, spread out, once both workers are up:
# they compete for each step as it falls due, with no backlog for one of them to take alone.
RELEASE = r"""
import json, os
from datetime import timedelta

from django.utils import timezone

from amparo.alerts.models import AlertStep

spec = json.loads(os.environ["AMPARO_TEST_SEED"])
steps = list(AlertStep.objects.order_by("alert__raised_at", "tier_position", "repeat_index"))
start = timezone.now() + timedelta(seconds=spec["first_due"])
for n, step in enumerate(steps):
    due = start + timedelta(seconds=spec["spread"] * n / len(steps))
    AlertStep.objects.filter(pk=step.pk).update(due_at=due)
"""


def seed(database: IsolatedDatabase, receiver: WebhookReceiver) -> int:
    spec = {
        "alerts": ALERTS,
        "contacts": CONTACTS,
        "channels": {
            "sms": receiver.url("sms", "+X-To={to}"),
            "email": receiver.url("email", "+X-To={to}"),
            "webhook": receiver.url("webhook"),
        },
    }
    result = database.cli("shell", "-c", SEED, env={"AMPARO_TEST_SEED": json.dumps(spec)})
    steps = int(json.loads(result.stdout.strip().splitlines()[-1])["steps"])
    assert steps == ALERTS * STEPS_PER_ALERT
    return steps


def release(database: IsolatedDatabase) -> None:
    """Make the parked steps fall due over the next seconds (the workers are running)."""
    spec = {"first_due": 0.5, "spread": 6.0}
    database.cli("shell", "-c", RELEASE, env={"AMPARO_TEST_SEED": json.dumps(spec)})


def steps_of(database: IsolatedDatabase) -> dict[int, tuple[str, str]]:
    rows = database.query("SELECT id, state, claimed_by FROM alerts_alertstep")
    return {int(pk): (state, claimed_by) for pk, state, claimed_by in rows}


def messages_of(database: IsolatedDatabase) -> dict[str, tuple[str, int, int]]:
    rows = database.query(
        "SELECT idempotency_key, state, attempts, step_id FROM alerts_outboxmessage"
    )
    return {key: (state, int(attempts), int(step)) for key, state, attempts, step in rows}


def executions_of(database: IsolatedDatabase) -> list[tuple[int, str]]:
    """(step id, actor) of every 'alert.step_executed' audit entry."""
    rows = database.query(
        "SELECT details, actor FROM core_auditentry WHERE action = %s", ("alert.step_executed",)
    )
    out = []
    for details, actor in rows:
        parsed = json.loads(details) if isinstance(details, str) else details
        out.append((int(parsed["step"]), actor))
    return out


def everything_done(database: IsolatedDatabase, receiver: WebhookReceiver, steps: int) -> bool:
    states = steps_of(database)
    if len(states) != steps or any(state != "done" for state, _ in states.values()):
        return False
    messages = messages_of(database)
    if len(messages) != steps * MESSAGES_PER_STEP:
        return False
    if any(state != "sent" for state, _attempts, _step in messages.values()):
        return False
    return set(receiver.key_counts()) >= set(messages)


def not_done(database: IsolatedDatabase, survivor: WorkerProcess, elapsed: float) -> str:
    steps = Counter(state for state, _by in steps_of(database).values())
    messages = Counter(state for state, _attempts, _step in messages_of(database).values())
    return f"not done after {elapsed:.0f}s: {steps} {messages}\n{survivor.output()[-3000:]}"


def check_exactly_once(
    database: IsolatedDatabase,
    receiver: WebhookReceiver,
    steps: int,
    survivor: WorkerProcess,
    may_repeat: set[str],
) -> dict[str, Any]:
    """The guarantees, once everything is done; returns figures for the failure report."""
    states = steps_of(database)
    # Every step ran, and is done: none pending, none left running, none lost.
    assert len(states) == steps
    assert Counter(state for state, _ in states.values()) == {"done": steps}
    # Each ran once: one audit entry per step, written in the step's own transaction.
    executions = executions_of(database)
    assert Counter(step for step, _actor in executions) == dict.fromkeys(states, 1)
    # And wrote its messages once: the expected number per step, each key unique.
    messages = messages_of(database)
    per_step = Counter(step for _state, _attempts, step in messages.values())
    assert per_step == dict.fromkeys(states, MESSAGES_PER_STEP)
    assert all(state == "sent" for state, _attempts, _step in messages.values())
    # Every message reached the receiver.
    counts = receiver.key_counts()
    assert set(counts) == set(messages), set(messages) ^ set(counts)
    # None twice, except one the killed worker had in hand when it died (see the module
    # docstring): sent by it, perhaps, but not marked, and sent again after its lease.
    repeated = {key: n for key, n in counts.items() if n > 1}
    assert set(repeated) <= may_repeat, (repeated, may_repeat)
    assert all(n == 2 for n in repeated.values()), repeated
    # The survivor stops cleanly on SIGTERM.
    code = survivor.terminate(timeout=20)
    assert code == 0, f"worker exited {code}:\n{survivor.output()[-3000:]}"
    assert "stopped" in survivor.output()
    return {"steps": steps, "messages": len(messages), "repeated": repeated}


def test_it_runs_every_step_once_when_a_worker_is_killed_in_the_middle_of_a_step(
    tmp_path: Path,
) -> None:
    with isolated_database(tmp_path) as database, WebhookReceiver() as receiver:
        database.cli("migrate", "--no-input", "-v0", env={"AMPARO_SQLITE_SYNCHRONOUS": "NORMAL"})
        steps = seed(database, receiver)
        # Worker A claims at most two steps per transaction and pauses inside its third
        # step, after the step wrote all its rows and before its batch commits
        # (tests.alerts.loopback.FAULT_HOOK); so at least one batch of A's committed
        # before. B is untouched.
        events = tmp_path / "events-a.log"
        hooked = {**database.env, **fault_hook_env(tmp_path, events, pause_at_step=3)}
        a = WorkerProcess.start("a", hooked, *WORKER_ARGS, "--batch", "2", log_dir=tmp_path)
        b = WorkerProcess.start("b", database.env, *WORKER_ARGS, log_dir=tmp_path)
        try:
            a.wait_running()
            b.wait_running()
            started = time.monotonic()
            release(database)

            def paused_step() -> int | None:
                return next((int(v) for k, v in read_events(events) if k == "paused"), None)

            killed_step = wait_until(paused_step, timeout=30, step=0.01)
            assert killed_step, f"worker A never reached its third step:\n{a.output()[-3000:]}"
            a.kill()  # SIGKILL, in the middle of the step
            assert a.process.returncode == -9
            events_at_kill = read_events(events)
            sending = {v for k, v in events_at_kill if k == "sending"}
            marked = {v for k, v in events_at_kill if k == "marked"}
            in_hand = sending - marked

            done = wait_until(
                lambda: everything_done(database, receiver, steps), DONE_WITHIN, step=0.1
            )
            assert done, not_done(database, b, time.monotonic() - started)

            states = steps_of(database)
            # A had run steps of its own before it died...
            assert any(by.startswith(a.name_prefix) for _state, by in states.values())
            # ...and the step it died in was rolled back whole (with the rest of its batch)
            # and then run by B, once.
            assert states[killed_step][1].startswith(b.name_prefix), states[killed_step]
            figures = check_exactly_once(database, receiver, steps, b, may_repeat=in_hand)
            # The step A died in produced no repeat: its messages were never committed by A.
            killed_keys = {k for k, m in messages_of(database).items() if m[2] == killed_step}
            assert len(killed_keys) == MESSAGES_PER_STEP
            assert all(receiver.key_counts()[k] == 1 for k in killed_keys)
            assert not killed_keys & in_hand
        finally:
            a.reap()
            b.reap()
        # The audit chain has no hole where A's step was rolled back.
        assert "audit chain verified" in database.cli("verify_audit").stdout
    assert figures["messages"] == steps * MESSAGES_PER_STEP


def test_it_loses_and_repeats_nothing_when_a_worker_is_killed_at_a_random_moment(
    tmp_path: Path,
) -> None:
    with isolated_database(tmp_path) as database, WebhookReceiver() as receiver:
        database.cli("migrate", "--no-input", "-v0", env={"AMPARO_SQLITE_SYNCHRONOUS": "NORMAL"})
        steps = seed(database, receiver)
        a = WorkerProcess.start("a", database.env, *WORKER_ARGS, log_dir=tmp_path)
        b = WorkerProcess.start("b", database.env, *WORKER_ARGS, log_dir=tmp_path)
        try:
            a.wait_running()
            b.wait_running()
            started = time.monotonic()
            release(database)

            def a_has_run_steps() -> bool:
                done = [by for state, by in steps_of(database).values() if state == "done"]
                by_a = [by for by in done if by.startswith(a.name_prefix)]
                return len(done) >= 3 and len(by_a) >= 1 and len(receiver.requests()) > 0

            assert wait_until(a_has_run_steps, timeout=30, step=0.01), a.output()[-3000:]
            time.sleep(random.uniform(0, 0.2))  # wherever A happens to be: a step, a send...
            a.kill()
            killed_at = time.monotonic()
            # What a dead worker may have sent without marking is still 'sending' now.
            leased = {k for k, m in messages_of(database).items() if m[0] == "sending"}

            done = wait_until(
                lambda: everything_done(database, receiver, steps), DONE_WITHIN, step=0.1
            )
            assert done, not_done(database, b, time.monotonic() - started)
            # A key may repeat only if it was leased when A died AND first arrived before.
            first_seen: dict[str, float] = {}
            for request in receiver.delivered():
                first_seen.setdefault(request.key, request.at)
            may_repeat = {k for k in leased if first_seen.get(k, killed_at) < killed_at}
            check_exactly_once(database, receiver, steps, b, may_repeat=may_repeat)
        finally:
            a.reap()
            b.reap()
        assert "audit chain verified" in database.cli("verify_audit").stdout
