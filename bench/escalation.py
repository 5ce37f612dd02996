"""Escalation lateness (DESIGN.md section 9): 10,000 pending steps due over 60 seconds,
two ``amparo worker`` processes; lateness (executed_at - due_at) p50, p99 and max,
duplicates and lost steps; then again with one worker killed with SIGKILL halfway.
Budget: p99 < 1 s, zero duplicates, zero lost, also across the kill.

    .venv/bin/python bench/escalation.py                 # SQLite, both runs
    .venv/bin/python bench/escalation.py --postgres      # PostgreSQL on 127.0.0.1
    .venv/bin/python bench/escalation.py --steps 2000 --seconds 20 --kill

See bench/README.md for what is measured and how.
"""

from __future__ import annotations

import argparse
import os
import signal
import time
from collections import Counter
from typing import Any

from harness import (
    DEFAULT_POSTGRES_URL,
    WebhookReceiver,
    fmt_seconds,
    isolated_database,
    machine,
    percentile,
    stop,
    table,
    wait_for_line,
    write_json,
)

ALERTS = 100  # the steps are spread over this many alerts (<= 100 rounds each)

# Runs inside `amparo shell -c`: an organisation, a coordinator, a loopback webhook channel
# and a one-tier policy that sends on the webhook only (one outbox row per step). Alerts
# are raised the normal way; their planned steps are replaced by the benchmark's, written
# in bulk with due_at spread uniformly over the window.
SEED = r"""
import json, os
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from amparo.alerts import actions as alerts
from amparo.alerts.models import AlertStep, DeliveryChannel
from amparo.people import actions as people

spec = json.loads(os.environ["BENCH_SPEC"])
org = people.create_organisation(
    "bench", name="Bench", slug="bench", kind="indigenous_federation", country="PE"
)
user = people.create_user("bench", email="coordinator@bench.example", password=None)
people.add_membership("bench", org, user, "coordinator")
people.create_person(
    "bench", org, given_names="Ana", family_names="Quispe", user=user,
    phone_numbers=["+51982000001"], email="ana@bench.example",
)
DeliveryChannel.objects.create(organisation=org, channel="webhook", url=spec["webhook"])
policy = alerts.save_policy(
    "bench", org, policy=None, name="Bench", description="", kinds=[], severities=[],
    priority=0,
    tiers=[{
        "level": "local", "targets": [{"type": "role", "role": "coordinator"}],
        "channels": ["webhook"], "delay_minutes": 100000, "repeat_count": 0,
        "repeat_interval_minutes": 5,
    }],
)
raised = [
    alerts.raise_alert(user, org, kind="panic", severity="high", message=f"bench {i}")
    for i in range(spec["alerts"])
]
steps, seconds = spec["steps"], spec["seconds"]
with transaction.atomic():
    AlertStep.objects.all().delete()
    t0 = timezone.now() + timedelta(seconds=spec["lead"])
    AlertStep.objects.bulk_create(
        (
            AlertStep(
                alert=raised[k % len(raised)],
                tier_position=0,
                level="local",
                repeat_index=k // len(raised),
                due_at=t0 + timedelta(seconds=seconds * k / steps),
            )
            for k in range(steps)
        ),
        batch_size=1000,
    )
    # --backlog: more pending steps, due a day after the window (they never run during
    # the benchmark): how the clock's cost grows with the steps waiting in the table.
    # Tier position 1 tells them apart from the window's steps.
    later = t0 + timedelta(seconds=seconds, days=1)
    AlertStep.objects.bulk_create(
        (
            AlertStep(
                alert=raised[k % len(raised)],
                tier_position=1,
                level="regional",
                repeat_index=k // len(raised),
                due_at=later + timedelta(seconds=k / 1000),
            )
            for k in range(spec.get("backlog", 0))
        ),
        batch_size=1000,
    )
print("BENCH-RESULT " + json.dumps({"t0": t0.timestamp(), "steps": AlertStep.objects.count()}))
"""

# Runs inside `amparo shell -c` after the run: every step's lateness, and how often each
# step was executed (audit entries) and enqueued (outbox rows).
REPORT = r"""
import json, os
from collections import Counter

from amparo.alerts.models import AlertStep, OutboxMessage
from amparo.core.models import AuditEntry

spec = json.loads(os.environ["BENCH_SPEC"])
window = AlertStep.objects.all()
if spec.get("backlog"):  # leave out the backlog (tier position 1, due after the window)
    window = window.filter(tier_position=0)
steps = list(window.values_list("id", "due_at", "executed_at", "state", "claimed_by"))
executions = Counter(
    d.get("step") for d in AuditEntry.objects.filter(action="alert.step_executed")
    .values_list("details", flat=True)
)
outbox = Counter(OutboxMessage.objects.values_list("step_id", flat=True))
outbox_states = Counter(OutboxMessage.objects.values_list("state", flat=True))
print("BENCH-RESULT " + json.dumps({
    "lateness": [
        (executed - due).total_seconds() for _id, due, executed, state, _by in steps
        if state == "done" and executed is not None
    ],
    "timeline": sorted(
        (due.timestamp(), (executed - due).total_seconds())
        for _id, due, executed, state, _by in steps if state == "done" and executed is not None
    ),
    "due": {str(i): due.timestamp() for i, due, _e, _s, _b in steps},
    "states": Counter(s for _i, _d, _e, s, _b in steps),
    "loops": Counter(by.rsplit("/", 1)[-1] for _i, _d, _e, s, by in steps if s == "done"),
    "workers": Counter(by.rsplit("/", 1)[0] for _i, _d, _e, s, by in steps if s == "done"),
    "executed_span": [
        min((e.timestamp() for _i, _d, e, _s, _b in steps if e is not None), default=0),
        max((e.timestamp() for _i, _d, e, _s, _b in steps if e is not None), default=0),
    ],
    "executed_twice": sum(1 for n in executions.values() if n > 1),
    "outbox_twice": sum(1 for n in outbox.values() if n > 1),
    "outbox_states": outbox_states,
}))
"""


UNSETTLED = (
    "SELECT (SELECT count(*) FROM alerts_alertstep WHERE state IN ('pending', 'running'))"
    " + (SELECT count(*) FROM alerts_outboxmessage WHERE state IN ('pending', 'sending'))"
)


def unsettled(backlog: int) -> str:
    """The query for the work left; with a backlog, the steps due in the window only (the
    backlog's are due a day later)."""
    if not backlog:
        return UNSETTLED
    return UNSETTLED.replace(
        "state IN ('pending', 'running')", "state IN ('pending', 'running') AND tier_position = 0"
    )


def one_run(args: argparse.Namespace, kill: bool) -> dict[str, Any]:
    with WebhookReceiver() as receiver, isolated_database(args.postgres, args.pg_url) as db:
        seeded_at = time.time()
        seed = db.shell(
            SEED,
            webhook=receiver.url(),
            alerts=min(ALERTS, args.steps),
            steps=args.steps,
            seconds=args.seconds,
            lead=args.lead,
            backlog=args.backlog,
        )
        t0 = seed["t0"]
        worker_args = ["worker", "--no-tasks", "--interval", str(args.interval)]
        if args.lease_seconds is not None:
            worker_args += ["--lease-seconds", str(args.lease_seconds)]
        workers = [db.start(f"worker{i}", *worker_args) for i in range(args.workers)]
        try:
            ready = all(
                wait_for_line(log, "running", args.lead + 30, w)
                for log, w in zip(db.logs, workers, strict=True)
            )
            late_start = time.time() - t0
            if not ready:
                raise RuntimeError("a worker did not start; see " + ", ".join(map(str, db.logs)))
            killed_at = None
            if kill:
                _sleep_until(t0 + args.seconds / 2)
                os.kill(workers[0].pid, signal.SIGKILL)
                killed_at = time.time() - t0
            # Wait for the window to pass, then until every step is done and every
            # message settled (sent, or given up), or the drain time is over.
            _sleep_until(t0 + args.seconds)
            deadline = time.monotonic() + args.drain
            left = unsettled(args.backlog)
            while time.monotonic() < deadline and db.scalar(left):
                time.sleep(0.5)
            drained_after = time.time() - (t0 + args.seconds)
            timed_out = bool(db.scalar(left))
        finally:
            for worker in workers:
                stop(worker)
        report = db.shell(REPORT, backlog=args.backlog)
        arrivals = receiver.snapshot()
        problems = db.log_problems()
    keys = Counter(a.key for a in arrivals)
    first_arrival: dict[str, float] = {}
    for a in arrivals:
        step_id = a.key.split(":", 1)[0]
        first_arrival[step_id] = min(first_arrival.get(step_id, a.wall), a.wall)
    delivery = [first_arrival[s] - due for s, due in report["due"].items() if s in first_arrival]
    lateness = report["lateness"]
    states = report["states"]
    return {
        "run": "one worker SIGKILLed halfway" if kill else "2 workers",
        "steps": args.steps,
        "backlog": args.backlog,
        "seed_seconds": t0 - args.lead - seeded_at,
        "workers_ready_before_t0": late_start < 0,
        "killed_at": killed_at,
        "drained_after": drained_after,
        "timed_out": timed_out,
        "p50": percentile(lateness, 50),
        "p99": percentile(lateness, 99),
        "max": max(lateness) if lateness else float("nan"),
        "duplicates": report["executed_twice"] + report["outbox_twice"],
        "lost": args.steps - states.get("done", 0),
        "states": states,
        "loops": report["loops"],
        "workers": report["workers"],
        "outbox_states": report["outbox_states"],
        "delivered_keys": len(keys),
        "repeat_deliveries": sum(n - 1 for n in keys.values() if n > 1),
        "delivery_p50": percentile(delivery, 50),
        "delivery_p99": percentile(delivery, 99),
        "problems": dict(problems),
        "timeline": _timeline(report["timeline"], t0, args.seconds),
        # Steps per second while the clock was busy: what the workers can sustain.
        "throughput": states.get("done", 0)
        / max(1e-9, report["executed_span"][1] - max(t0, report["executed_span"][0])),
    }


def _timeline(points: list[list[float]], t0: float, seconds: float, buckets: int = 10) -> str:
    """Lateness p50/max per tenth of the window: where in the run the steps were late."""
    parts = []
    width = seconds / buckets
    for b in range(buckets):
        values = [late for due, late in points if b * width <= due - t0 < (b + 1) * width]
        worst = max(values, default=float("nan"))
        parts.append(f"{fmt_seconds(percentile(values, 50))}/{fmt_seconds(worst)}")
    return " ".join(parts)


def _sleep_until(when: float) -> None:
    while (left := when - time.time()) > 0:
        time.sleep(min(left, 0.2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=60.0, help="window the steps are due in")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--interval", type=float, default=0.05, help="worker poll interval")
    parser.add_argument("--postgres", action="store_true", help="a fresh PostgreSQL database")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="server to create the database on (loopback only)",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--kill", action="store_true", help="only the run with the SIGKILL")
    which.add_argument("--no-kill", action="store_true", help="only the run without it")
    parser.add_argument("--lead", type=float, default=10.0, help="seconds from seed to first due")
    parser.add_argument(
        "--drain", type=float, default=300.0, help="max wait for the backlog after the window"
    )
    parser.add_argument(
        "--backlog",
        type=int,
        default=0,
        help="more pending steps, due a day after the window (how cost grows with them)",
    )
    parser.add_argument(
        "--lease-seconds",
        type=float,
        default=None,
        help="the workers' outbox lease (default: the product's own)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures to PATH (JSON)")
    args = parser.parse_args()
    if args.workers < 2 and not args.no_kill:
        parser.error("the kill run needs at least 2 workers")

    started, host = time.strftime("%Y-%m-%d %H:%M"), machine()
    print(f"escalation benchmark, {started}, {host}")
    print(
        f"{args.steps} steps due over {args.seconds:.0f} s, {args.workers} workers "
        f"(--interval {args.interval}), {'PostgreSQL' if args.postgres else 'SQLite'}"
        + (f", {args.backlog} more pending steps due after the window" if args.backlog else "")
    )
    runs = [False, True]
    if args.kill:
        runs = [True]
    elif args.no_kill:
        runs = [False]
    results = []
    for kill in runs:
        result = one_run(args, kill)
        results.append(result)
        print(
            f"  {result['run']}: states {result['states']}, by loop {result['loops']}, "
            f"by worker {sorted(result['workers'].values())}, outbox {result['outbox_states']}, "
            f"seeding {result['seed_seconds']:.1f} s, drained {result['drained_after']:.1f} s "
            f"after the window, worker logs {result['problems']}"
            + (f", killed at +{result['killed_at']:.1f} s" if result["killed_at"] else "")
            + ("" if result["workers_ready_before_t0"] else ", WORKERS STARTED LATE")
            + (", DRAIN TIMED OUT (unfinished work left)" if result["timed_out"] else "")
        )
        print(f"    lateness p50/max per tenth of the window: {result['timeline']}")
        print(
            f"    executed {result['throughput']:.0f} steps/s from the first due time to the "
            f"last execution (demand: {args.steps / args.seconds:.0f} steps/s)"
        )
    rows = []
    for r in results:
        rows.append(
            [
                r["run"],
                str(r["steps"]),
                fmt_seconds(r["p50"]),
                fmt_seconds(r["p99"]),
                fmt_seconds(r["max"]),
                str(r["duplicates"]),
                str(r["lost"]),
                fmt_seconds(r["delivery_p99"]),
                str(r["repeat_deliveries"]),
            ]
        )
    print()
    print(
        table(
            [
                "run",
                "steps",
                "lateness p50",
                "p99",
                "max",
                "duplicates",
                "lost",
                "due->webhook p99",
                "repeat deliveries",
            ],
            rows,
        )
    )
    verdicts = []
    for r in results:
        ok = r["p99"] < 1.0 and r["duplicates"] == 0 and r["lost"] == 0
        verdicts.append(f"{r['run']}: {'within' if ok else 'MISSES'} budget")
    print("budget p99 < 1 s, zero duplicates, zero lost: " + "; ".join(verdicts))
    figures: dict[str, float] = {}
    for r in results:
        run = "kill" if r["killed_at"] else "clean"
        figures.update(
            {
                f"{run}_lateness_p50_s": r["p50"],
                f"{run}_lateness_p99_s": r["p99"],
                f"{run}_lateness_max_s": r["max"],
                f"{run}_duplicates": r["duplicates"],
                f"{run}_lost": r["lost"],
                f"{run}_steps_per_s": r["throughput"],
                f"{run}_delivery_p99_s": r["delivery_p99"],
                f"{run}_repeat_deliveries": r["repeat_deliveries"],
                f"{run}_seed_s": r["seed_seconds"],
                f"{run}_drain_timed_out": int(r["timed_out"]),
            }
        )
    write_json(
        args.json,
        {
            "bench": "escalation",
            "database": "postgresql" if args.postgres else "sqlite",
            "started": started,
            "machine": host,
            "params": {
                "steps": args.steps,
                "seconds": args.seconds,
                "workers": args.workers,
                "interval": args.interval,
                "backlog": args.backlog,
                "lease_seconds": args.lease_seconds,
            },
            "figures": figures,
            "runs": [{k: v for k, v in r.items() if k != "timeline"} for r in results],
        },
    )


if __name__ == "__main__":
    main()
