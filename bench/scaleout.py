"""Scale-out on one PostgreSQL database (issue 10, point 7): two web processes (`amparo
serve`, gunicorn) and three `amparo worker` processes, under the intake load (threat
reports over HTTP, shared between the web processes as a load balancer would) and an
escalation load (steps falling due) at the same time. Then exactly once is checked:
every report answered 201 is stored once, with one alert; every step that fell due ran
once and none was lost; every executed step wrote its messages to the outbox once; every
message was sent and reached the loopback receiver once.

    .venv/bin/python bench/scaleout.py                        # 30 s of load
    .venv/bin/python bench/scaleout.py --seconds 10 --steps 500 --clients 8

PostgreSQL only: several web and worker processes on several machines is the PostgreSQL
deployment (docs/operations.md, "Multi-node deployment"); SQLite serialises every write
through one lock on one machine. tests/scaleout/test_scaleout.py runs a small version.
See bench/README.md for what is measured and how.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from harness import (
    DEFAULT_POSTGRES_URL,
    Database,
    WebhookReceiver,
    fmt_seconds,
    free_port,
    isolated_database,
    machine,
    percentile,
    stop,
    table,
    wait_for_line,
    write_json,
)
from intake import report_body, wait_for_server

# Where the escalation load's steps wait until every process is up: the driver then moves
# them into the window (one UPDATE), so a slow start does not make them late.
PARKED = datetime(2100, 1, 1, tzinfo=UTC)

# Runs inside `amparo shell -c`.
# Intake: an organisation with the reference's default policies, every channel pointed at
# the loopback receiver; a coordinator who reports about herself, her supervisor (the
# report's Step 2 message) and a focal point (the medium policy's first tier, at once:
# an SMS and an e-mail per report).
# Escalation: another organisation with a one-tier policy on the webhook only; alerts
# raised the normal way, their planned steps replaced by `steps` rows parked in 2100.
SEED = r"""
import json, os
from datetime import UTC, datetime, timedelta

from django.db import transaction

from amparo.alerts import actions as alerts
from amparo.alerts.models import AlertStep, DeliveryChannel
from amparo.people import actions as people

spec = json.loads(os.environ["BENCH_SPEC"])
org = people.create_organisation(
    "bench", name="Bench", slug="bench", kind="indigenous_federation", country="PE"
)
for channel in ("sms", "email", "webhook"):
    DeliveryChannel.objects.create(organisation=org, channel=channel, url=spec["webhook"])
boss_user = people.create_user("bench", email="boss@bench.example", password=None)
people.add_membership("bench", org, boss_user, "supervisor")
boss = people.create_person(
    "bench", org, given_names="Rosa", family_names="Huamán", user=boss_user,
    phone_numbers=["+51982000002"], email="rosa@bench.example",
)
focal_user = people.create_user("bench", email="focal@bench.example", password=None)
people.add_membership("bench", org, focal_user, "focal_point")
people.create_person(
    "bench", org, given_names="Luz", family_names="Mamani", user=focal_user,
    phone_numbers=["+51982000003"], email="luz@bench.example",
)
user = people.create_user("bench", email="coordinator@bench.example", password=None)
people.add_membership("bench", org, user, "coordinator")
person = people.create_person(
    "bench", org, given_names="Ana", family_names="Quispe", user=user,
    phone_numbers=["+51982000001"], email="ana@bench.example",
)
person.supervisor = boss
person.save()
_token, secret = people.create_api_token("bench", user, "bench")

esc = people.create_organisation(
    "bench", name="Escalation", slug="escalation", kind="indigenous_federation", country="PE"
)
esc_user = people.create_user("bench", email="escalation@bench.example", password=None)
people.add_membership("bench", esc, esc_user, "coordinator")
people.create_person(
    "bench", esc, given_names="Eva", family_names="Condori", user=esc_user,
    phone_numbers=["+51982000004"], email="eva@bench.example",
)
DeliveryChannel.objects.create(organisation=esc, channel="webhook", url=spec["webhook"])
alerts.save_policy(
    "bench", esc, policy=None, name="Bench", description="", kinds=[], severities=[],
    priority=0,
    tiers=[{
        "level": "local", "targets": [{"type": "role", "role": "coordinator"}],
        "channels": ["webhook"], "delay_minutes": 100000, "repeat_count": 0,
        "repeat_interval_minutes": 5,
    }],
)
raised = [
    alerts.raise_alert(esc_user, esc, kind="panic", severity="high", message=f"bench {i}")
    for i in range(spec["alerts"])
]
parked = datetime.fromtimestamp(spec["parked"], UTC)
with transaction.atomic():
    AlertStep.objects.filter(alert__organisation=esc).delete()
    AlertStep.objects.bulk_create(
        (
            AlertStep(
                alert=raised[k % len(raised)],
                tier_position=0,
                level="local",
                repeat_index=k // len(raised),
                due_at=parked + timedelta(seconds=spec["seconds"] * k / spec["steps"]),
            )
            for k in range(spec["steps"])
        ),
        batch_size=1000,
    )
print("BENCH-RESULT " + json.dumps({
    "organisation": org.slug, "person": str(person.pk), "token": secret,
}))
"""


@dataclass
class Answer:
    port: int
    started: float
    elapsed: float
    status: int
    report: str = ""
    alert: str = ""


@dataclass
class Options:
    """The size of a run (the command line's options)."""

    web: int = 2
    web_workers: int = 2
    threads: int = 4
    workers: int = 3
    clients: int = 16
    seconds: float = 30.0
    reports: int = 0  # at most this many reports (0: as many as the clients manage)
    steps: int = 3000
    interval: float = 0.05
    lease_seconds: float | None = None
    drain: float = 120.0
    startup: float = 120.0  # the longest wait for a process to be up
    escalation_alerts: int = 100  # the escalation load's steps belong to this many alerts


def post_report(port: int, token: str, body: bytes) -> Answer:
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            "POST",
            "/api/v1/threats",
            body=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        raw = response.read()
        answer = Answer(port, started, time.monotonic() - started, response.status)
        if response.status == 201:
            data = json.loads(raw)
            answer.report, answer.alert = str(data["id"]), str(data.get("alert") or "")
        return answer
    except OSError:
        return Answer(port, started, time.monotonic() - started, 0)
    finally:
        connection.close()


def intake_load(
    ports: list[int], token: str, seed: dict[str, str], opts: Options, until: float
) -> list[Answer]:
    """``clients`` threads post reports one after the other (a new connection each),
    alternating between the web processes, until ``until`` (monotonic) or ``reports``."""
    answers: list[Answer] = []
    lock = threading.Lock()
    counter = iter(range(10**9))

    def client() -> None:
        while time.monotonic() < until:
            with lock:
                i = next(counter)
            if opts.reports and i >= opts.reports:
                return
            body = report_body(seed["organisation"], seed["person"], i)
            answer = post_report(ports[i % len(ports)], token, body)
            with lock:
                answers.append(answer)

    threads = [threading.Thread(target=client) for _ in range(opts.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _execute(db: Database, sql: str, params: tuple[Any, ...]) -> int:
    import psycopg

    with psycopg.connect(db.env["DATABASE_URL"], autocommit=True) as conn:
        return conn.execute(sql, params).rowcount  # type: ignore[arg-type]


def _unsettled(db: Database, cutoff: datetime) -> int:
    import psycopg

    with psycopg.connect(db.env["DATABASE_URL"], autocommit=True) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM alerts_alertstep"
            "        WHERE state IN ('pending', 'running') AND due_at <= %s)"
            " + (SELECT count(*) FROM alerts_outboxmessage"
            "    WHERE state IN ('pending', 'sending'))",
            (cutoff,),
        ).fetchone()
    return int(row[0]) if row else 0


def read_outcome(db: Database, cutoff: datetime) -> dict[str, Any]:
    """What the database holds once every process has stopped (plain SQL: none of it is
    sealed): the reports and their alerts, every step due by ``cutoff`` with how often
    the audit log says it ran and how many messages it wrote, and the outbox."""
    import psycopg

    with psycopg.connect(db.env["DATABASE_URL"], autocommit=True) as conn:
        audit = conn.execute(
            "SELECT details->>'step', details->>'messages' FROM core_auditentry"
            " WHERE action = 'alert.step_executed'"
        ).fetchall()
        steps = conn.execute(
            "SELECT s.id, o.slug, s.state, s.due_at, s.executed_at, s.claimed_by"
            " FROM alerts_alertstep s JOIN alerts_alert a ON a.id = s.alert_id"
            " JOIN people_organisation o ON o.id = a.organisation_id WHERE s.due_at <= %s",
            (cutoff,),
        ).fetchall()
        reports = conn.execute(
            "SELECT r.id, r.alert_id FROM incidents_threatreport r"
            " JOIN people_organisation o ON o.id = r.organisation_id WHERE o.slug = 'bench'"
        ).fetchall()
        row = conn.execute(
            "SELECT count(*) FROM alerts_alert a JOIN people_organisation o"
            " ON o.id = a.organisation_id WHERE o.slug = 'bench'"
        ).fetchone()
        outbox = conn.execute(
            "SELECT idempotency_key, step_id, state FROM alerts_outboxmessage"
        ).fetchall()
    executions: Counter[str] = Counter()
    written: dict[str, int | None] = {}
    for step, messages in audit:
        executions[str(step)] += 1
        written[str(step)] = int(messages) if messages is not None else None
    return {
        "reports": [[str(pk), str(alert or "")] for pk, alert in reports],
        "bench_alerts": int(row[0]) if row else 0,
        "steps": [
            {
                "id": str(pk),
                "org": slug,
                "state": state,
                "due": due.timestamp(),
                "executed": executed.timestamp() if executed else None,
                "by": by,
                "executions": executions.get(str(pk), 0),
                "written": written.get(str(pk)),
            }
            for pk, slug, state, due, executed, by in steps
        ],
        "outbox": [[key, str(step or ""), state] for key, step, state in outbox],
    }


def run(db: Database, receiver: WebhookReceiver, opts: Options) -> dict[str, Any]:
    """One scale-out run on ``db`` (a migrated, empty PostgreSQL database); the figures
    and the exactly-once checks. Every process it starts is stopped before it returns."""
    if db.kind != "postgresql":
        raise SystemExit("the scale-out benchmark runs on PostgreSQL only")
    began = time.monotonic()
    seed = db.shell(
        SEED,
        webhook=receiver.url(),
        alerts=max(1, min(opts.escalation_alerts, opts.steps)),
        steps=opts.steps,
        seconds=opts.seconds,
        parked=PARKED.timestamp(),
    )
    seeded = time.monotonic() - began
    token = seed["token"]
    ports = [free_port() for _ in range(opts.web)]
    webs = [
        db.start(
            f"web{i}",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(opts.web_workers),
            "--threads",
            str(opts.threads),
        )
        for i, port in enumerate(ports)
    ]
    worker_args = ["worker", "--no-tasks", "--interval", str(opts.interval)]
    if opts.lease_seconds is not None:
        worker_args += ["--lease-seconds", str(opts.lease_seconds)]
    workers = [db.start(f"worker{i}", *worker_args) for i in range(opts.workers)]
    processes = webs + workers
    answers: list[Answer] = []
    try:
        for i, (port, web) in enumerate(zip(ports, webs, strict=True)):
            if not wait_for_server(port, token, opts.startup) or web.poll() is not None:
                raise RuntimeError(f"web process {i} did not answer; see {db.workdir}/web{i}.log")
        for i, worker in enumerate(workers):
            log = db.workdir / f"worker{i}.log"
            if not wait_for_line(log, "running", opts.startup, worker):
                raise RuntimeError(f"worker {i} did not start; see {log}")
        started = time.monotonic() - began
        # The window opens in a second: the parked steps move into it, the load starts.
        t0 = datetime.now(UTC) + timedelta(seconds=1)
        moved = _execute(
            db,
            "UPDATE alerts_alertstep SET due_at = %s + (due_at - %s) WHERE due_at >= %s",
            (t0, PARKED, PARKED),
        )
        while datetime.now(UTC) < t0:
            time.sleep(0.01)
        load_from = time.monotonic()
        answers = intake_load(ports, token, seed, opts, load_from + opts.seconds)
        load_took = time.monotonic() - load_from
        while datetime.now(UTC) < t0 + timedelta(seconds=opts.seconds):
            time.sleep(0.1)
        # Every step due by now (the window's, and the reports' first tiers) must run,
        # every message be settled.
        cutoff = datetime.now(UTC)
        deadline = time.monotonic() + opts.drain
        while time.monotonic() < deadline and _unsettled(db, cutoff):
            time.sleep(0.25)
        drained_after = (datetime.now(UTC) - cutoff).total_seconds()
        left = _unsettled(db, cutoff)
        alive = [p.poll() is None for p in processes]
    finally:
        for process in workers + webs:
            stop(process)
    time.sleep(0.5)  # a delivery in flight when the workers stopped reaches the receiver
    report = read_outcome(db, cutoff)
    arrivals = receiver.snapshot()
    problems = db.log_problems()
    return _judge(
        opts,
        answers,
        report,
        arrivals,
        workers,
        {
            "seed_s": seeded,
            "startup_s": started - seeded,
            "moved_steps": moved,
            "load_s": load_took,
            "drained_after_s": drained_after,
            "unsettled_at_end": left,
            "all_processes_alive": all(alive),
            "log_problems": dict(problems),
            "t0": t0.timestamp(),
        },
    )


def _judge(
    opts: Options,
    answers: list[Answer],
    report: dict[str, Any],
    arrivals: list[Any],
    workers: list[Any],
    run: dict[str, Any],
) -> dict[str, Any]:
    ok = [a for a in answers if a.status == 201]
    answered = {a.report for a in ok}
    stored = {pk: alert for pk, alert in report["reports"]}
    report_alerts = [alert for alert in stored.values() if alert]
    steps = report["steps"]
    done = [s for s in steps if s["state"] == "done"]
    outbox_by_step = Counter(step for _key, step, _state in report["outbox"] if step)
    sent = [key for key, _step, state in report["outbox"] if state == "sent"]
    received = Counter(a.key.split("#", 1)[0] for a in arrivals)  # an SMS's parts: "#1/2"
    repeats = Counter(a.key for a in arrivals)
    pid_index = {str(w.pid): i for i, w in enumerate(workers)}
    by_worker = Counter(
        pid_index.get(s["by"].rsplit("/", 1)[0].rsplit(":", 1)[-1], -1) for s in done
    )
    escalation = [s for s in done if s["org"] == "escalation" and s["executed"] is not None]
    lateness = [s["executed"] - s["due"] for s in escalation]
    report_steps = [s for s in steps if s["org"] == "bench"]
    report_lateness = [s["executed"] - s["due"] for s in report_steps if s["executed"] is not None]
    checks = {
        # Reports: every 201 stored, stored once (one row, one alert), nothing stored
        # beyond the requests that got no answer.
        "reports_answered_not_stored": len(answered - set(stored)),
        "reports_stored_unanswered": len(set(stored) - answered),
        "reports_without_alert": sum(1 for alert in stored.values() if not alert),
        "alerts_shared_by_reports": len(report_alerts) - len(set(report_alerts)),
        "bench_alerts_beyond_reports": report["bench_alerts"] - len(report_alerts),
        # Steps: each one due ran exactly once.
        "steps_executed_twice": sum(1 for s in steps if s["executions"] > 1),
        "steps_lost": sum(1 for s in steps if s["state"] != "done"),
        "steps_done_without_record": sum(1 for s in done if s["executions"] == 0),
        "escalation_steps_lost": opts.steps
        - sum(1 for s in steps if s["org"] == "escalation" and s["state"] == "done"),
        # Outbox: each executed step's messages written once (as many rows as its audit
        # entry says it wrote), the supervisor's message once per report, all sent.
        "steps_outbox_mismatch": sum(
            1 for s in done if s["written"] is not None and outbox_by_step[s["id"]] != s["written"]
        ),
        "supervisor_messages_mismatch": abs(
            sum(1 for key, _s, _st in report["outbox"] if key.startswith("report:")) - len(stored)
        ),
        "messages_unsent": sum(1 for _k, _s, state in report["outbox"] if state != "sent"),
        # Deliveries: every sent message reached the receiver, once.
        "messages_not_received": sum(1 for key in sent if not received[key]),
        "repeat_deliveries": sum(n - 1 for n in repeats.values() if n > 1),
    }
    # A report stored without its 201 is not a duplicate: its request failed on the way
    # back (a timeout); exactly once only needs it not to be more than those failures.
    failed = len(answers) - len(ok)
    unanswered_ok = checks["reports_stored_unanswered"] <= failed
    must_be_zero = {k: v for k, v in checks.items() if k != "reports_stored_unanswered"}
    exactly_once = unanswered_ok and not any(must_be_zero.values())
    load_s = run["load_s"] or float("nan")
    return {
        "options": dict(opts.__dict__),
        "run": run,
        "requests": len(answers),
        "requests_failed": failed,
        "requests_by_web": dict(Counter(str(a.port) for a in ok)),
        "reports_per_s": len(ok) / load_s,
        "reports_p50_s": percentile([a.elapsed for a in ok], 50),
        "reports_p99_s": percentile([a.elapsed for a in ok], 99),
        "steps_due": len(steps),
        "steps_by_worker": {str(k): v for k, v in sorted(by_worker.items())},
        "escalation_lateness_p50_s": percentile(lateness, 50),
        "escalation_lateness_p99_s": percentile(lateness, 99),
        "escalation_lateness_max_s": max(lateness, default=float("nan")),
        "report_step_lateness_p99_s": percentile(report_lateness, 99),
        "outbox_rows": len(report["outbox"]),
        "deliveries": len(arrivals),
        "checks": checks,
        "exactly_once": exactly_once,
    }


def print_result(result: dict[str, Any]) -> None:
    run, checks = result["run"], result["checks"]
    print(
        f"  seeding {run['seed_s']:.1f} s, processes up in {run['startup_s']:.1f} s, "
        f"{run['moved_steps']} steps moved into the window, load {run['load_s']:.1f} s, "
        f"drained {run['drained_after_s']:.1f} s after the window"
        + ("" if run["all_processes_alive"] else ", A PROCESS DIED DURING THE RUN")
        + (f", {run['unsettled_at_end']} UNSETTLED AT THE END" if run["unsettled_at_end"] else "")
    )
    print(
        f"  reports per web process {result['requests_by_web']}, steps per worker "
        f"{result['steps_by_worker']}, {result['outbox_rows']} outbox rows, "
        f"{result['deliveries']} deliveries; process logs {run['log_problems']}"
    )
    answered = result["requests"] - result["requests_failed"]
    response = [fmt_seconds(result[f"reports_{q}_s"]) for q in ("p50", "p99")]
    lateness = [fmt_seconds(result[f"escalation_lateness_{q}_s"]) for q in ("p50", "p99", "max")]
    rows = [
        ["reports answered 201 / requests", f"{answered} / {result['requests']}"],
        ["reports per second (both web processes)", f"{result['reports_per_s']:.0f}"],
        ["report response p50 / p99", " / ".join(response)],
        ["steps due (window + reports' first tiers)", str(result["steps_due"])],
        ["escalation lateness p50 / p99 / max", " / ".join(lateness)],
        ["report step lateness p99", fmt_seconds(result["report_step_lateness_p99_s"])],
    ]
    print()
    print(table(["figure", "value"], rows))
    print()
    print(table(["exactly-once check", "count"], [[k, str(v)] for k, v in checks.items()]))
    print(
        "exactly once (every report once, every step once, every message once, none lost): "
        + ("HOLDS" if result["exactly_once"] else "BROKEN")
    )


def main() -> None:
    defaults = Options()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--web", type=int, default=defaults.web, help="web processes")
    parser.add_argument(
        "--web-workers", type=int, default=defaults.web_workers, help="gunicorn workers each"
    )
    parser.add_argument("--threads", type=int, default=defaults.threads, help="threads each")
    parser.add_argument("--workers", type=int, default=defaults.workers, help="amparo workers")
    parser.add_argument("--clients", type=int, default=defaults.clients, help="report clients")
    parser.add_argument("--seconds", type=float, default=defaults.seconds, help="load window")
    parser.add_argument("--reports", type=int, default=0, help="at most this many reports")
    parser.add_argument(
        "--steps", type=int, default=defaults.steps, help="steps due over the window"
    )
    parser.add_argument("--interval", type=float, default=defaults.interval)
    parser.add_argument("--lease-seconds", type=float, default=None)
    parser.add_argument("--drain", type=float, default=defaults.drain)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="server to create the database on (loopback only)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures to PATH (JSON)")
    args = parser.parse_args()
    opts = Options(
        web=args.web,
        web_workers=args.web_workers,
        threads=args.threads,
        workers=args.workers,
        clients=args.clients,
        seconds=args.seconds,
        reports=args.reports,
        steps=args.steps,
        interval=args.interval,
        lease_seconds=args.lease_seconds,
        drain=args.drain,
    )
    started, host = time.strftime("%Y-%m-%d %H:%M"), machine()
    print(f"scale-out benchmark, {started}, {host}, PostgreSQL")
    print(
        f"{opts.web} web processes (`amparo serve --workers {opts.web_workers} --threads "
        f"{opts.threads}`), {opts.workers} `amparo worker --interval {opts.interval}`; "
        f"{opts.clients} report clients for {opts.seconds:g} s"
        + (f" (at most {opts.reports} reports)" if opts.reports else "")
        + f" and {opts.steps} steps due over the same {opts.seconds:g} s"
    )
    with WebhookReceiver() as receiver, isolated_database(True, args.pg_url) as db:
        result = run(db, receiver, opts)
    print_result(result)
    write_json(
        args.json,
        {
            "bench": "scaleout",
            "database": "postgresql",
            "started": started,
            "machine": host,
            "params": result["options"],
            "figures": {
                "reports_per_s": result["reports_per_s"],
                "reports_p99_s": result["reports_p99_s"],
                "escalation_lateness_p99_s": result["escalation_lateness_p99_s"],
                "report_step_lateness_p99_s": result["report_step_lateness_p99_s"],
                "duplicates": result["checks"]["steps_executed_twice"]
                + result["checks"]["steps_outbox_mismatch"]
                + result["checks"]["alerts_shared_by_reports"]
                + result["checks"]["bench_alerts_beyond_reports"]
                + result["checks"]["supervisor_messages_mismatch"],
                "lost": result["checks"]["steps_lost"]
                + result["checks"]["reports_answered_not_stored"]
                + result["checks"]["messages_unsent"]
                + result["checks"]["messages_not_received"],
                "repeat_deliveries": result["checks"]["repeat_deliveries"],
                "exactly_once": int(result["exactly_once"]),
            },
            "result": result,
        },
    )
    if not result["exactly_once"]:
        raise SystemExit(1)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # clean up on SIGTERM too
    main()
