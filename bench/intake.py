"""Threat intake over HTTP (DESIGN.md section 9): threat reports through the full path
(classification, encryption, checklist, alert and its steps) against the production
server setup, beside a bare one-insert endpoint on the same server. Budget: at least 200
reports/s, p99 under 250 ms, and at least a quarter of the bare endpoint's rate.

    .venv/bin/python bench/intake.py                 # SQLite
    .venv/bin/python bench/intake.py --postgres      # PostgreSQL on 127.0.0.1
    .venv/bin/python bench/intake.py --seconds 10 --clients 16

See bench/README.md for what is measured and how.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import time
from collections.abc import Callable

import loadgen
from harness import (
    DEFAULT_POSTGRES_URL,
    fmt_seconds,
    free_port,
    isolated_database,
    machine,
    percentile,
    stop,
    table,
    write_json,
)
from loadgen import LoadResult

COORDINATOR = "coordinator@bench.example"

# Runs inside `amparo shell -c`: an organisation with the reference's default policies,
# a coordinator with a profile (the person the reports are about) and a supervisor, so
# every report also queues the supervisor's message.
SEED = r"""
import json, os

from amparo.people import actions as people

spec = json.loads(os.environ["BENCH_SPEC"])
org = people.create_organisation(
    "bench", name="Bench", slug="bench", kind="indigenous_federation", country="PE"
)
boss_user = people.create_user("bench", email="boss@bench.example", password=None)
people.add_membership("bench", org, boss_user, "supervisor")
boss = people.create_person(
    "bench", org, given_names="Rosa", family_names="Huamán", user=boss_user,
    phone_numbers=["+51982000002"], email="rosa@bench.example",
)
user = people.create_user("bench", email=spec["email"], password=None)
people.add_membership("bench", org, user, "coordinator")
person = people.create_person(
    "bench", org, given_names="Ana", family_names="Quispe", user=user,
    phone_numbers=["+51982000001"], email="ana@bench.example",
)
person.supervisor = boss
person.save()
print("BENCH-RESULT " + json.dumps({"organisation": org.slug, "person": str(person.pk)}))
"""

COUNT = r"""
import json
from amparo.incidents.models import ChecklistItem, ThreatReport
from amparo.alerts.models import Alert, AlertStep, OutboxMessage
from amparo.core.models import BenchPing
print("BENCH-RESULT " + json.dumps({
    "reports": ThreatReport.objects.count(),
    "checklist": ChecklistItem.objects.count(),
    "alerts": Alert.objects.count(),
    "steps": AlertStep.objects.count(),
    "outbox": OutboxMessage.objects.count(),
    "pings": BenchPing.objects.count(),
}))
"""


def report_body(organisation: str, person: str, i: int) -> bytes:
    """A medium threat (Step 1: linked to illegal mining, shows knowledge of the work)."""
    return json.dumps(
        {
            "organisation": organisation,
            "person": person,
            "occurred_at": "2026-11-20T18:30:00-05:00",
            "place": "Trocha a la comunidad, km 12, Tambopata",
            "region": "Madre de Dios",
            "community": "Comunidad nativa de prueba",
            "channel": "in_person",
            "verbatim": (
                f"Informe {i}: 'Sabemos dónde trabajas y a qué hora sales del local. "
                "Deja de denunciar las dragas o te vamos a encontrar.'"
            ),
            "perpetrator_description": "Dos hombres en moto, uno con gorra roja",
            "physical_violence": False,
            "attempted_assault": False,
            "imminent_harm_signs": [],
            "source_illicit_activity": "illegal_mining",
            "shows_knowledge_of_work": True,
            "source_known": False,
            "language": "es",
        }
    ).encode()


def closed_loop(
    port: int,
    path: str,
    token: str,
    make_body: Callable[[int], bytes],
    clients: int,
    seconds: float,
) -> LoadResult:
    """``clients`` persistent connections, each posting one request after the other."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return loadgen.closed_loop(
        port, lambda i: ("POST", path, headers, make_body(i)), clients, seconds
    )


def wait_for_server(port: int, token: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request(
                "GET",
                "/api/v1/threats?organisation=bench&limit=1",
                headers={"Authorization": f"Bearer {token}"},
            )
            if connection.getresponse().status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def summarise(name: str, load: LoadResult, expect: int) -> dict[str, object]:
    results, took = load.results, load.took
    ok = [r.elapsed for r in results if r.status == expect]
    return {
        "name": name,
        "requests": len(results),
        "ok": len(ok),
        "failed": len(results) - len(ok),
        "rate": len(ok) / took if took else 0.0,
        "p50": percentile(ok, 50),
        "p99": percentile(ok, 99),
        "max": max(ok, default=float("nan")),
        "client_cpu": load.cpu_s / took if took else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="load per endpoint")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients")
    parser.add_argument(
        "--rounds", type=int, default=4, help="turns the two loads take (seconds split among them)"
    )
    parser.add_argument("--postgres", action="store_true", help="a fresh PostgreSQL database")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="server to create the database on (loopback only)",
    )
    parser.add_argument(
        "--web-workers", type=int, default=0, help="gunicorn workers (default: the product's)"
    )
    parser.add_argument("--threads", type=int, default=0, help="threads per gunicorn worker")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to PATH (JSON)")
    args = parser.parse_args()

    started, host = time.strftime("%Y-%m-%d %H:%M"), machine()
    print(f"intake benchmark, {started}, {host}")
    with isolated_database(args.postgres, args.pg_url, AMPARO_BENCH_ENDPOINTS="true") as db:
        seed = db.shell(SEED, email=COORDINATOR)
        token = db.amparo("token", "create", "--user", COORDINATOR).strip().splitlines()[-1]
        port = free_port()
        serve = ["serve", "--port", str(port)]
        if args.web_workers:
            serve += ["--workers", str(args.web_workers)]
        if args.threads:
            serve += ["--threads", str(args.threads)]
        web = db.start("web", *serve)
        try:
            if not wait_for_server(port, token, 60):
                raise RuntimeError(f"the web server did not answer; see {db.logs[0]}")
            print(
                f"{args.clients} clients, {args.seconds:g} s per endpoint in {args.rounds} turns, "
                f"`amparo {' '.join(serve[:1] + serve[3:])}` (gunicorn), no worker running, "
                f"{'PostgreSQL' if args.postgres else 'SQLite'}"
            )

            def bare(i: int) -> bytes:
                return json.dumps({"body": f"ping {i}"}).encode()

            def report(i: int) -> bytes:
                return report_body(seed["organisation"], seed["person"], i)

            # Warm-up (not counted): every gunicorn worker has imported and connected.
            closed_loop(port, "/api/v1/bench/ping", token, bare, args.clients, 2)
            closed_loop(port, "/api/v1/threats", token, report, args.clients, 2)
            # The two loads take turns, ``--rounds`` times each: this machine's speed
            # drifts by a fifth within minutes, and one long run of each would put that
            # drift into the ratio between them.
            loads = {"bare": LoadResult(), "report": LoadResult()}
            share = args.seconds / args.rounds
            for _ in range(args.rounds):
                for name, path, body in (
                    ("bare", "/api/v1/bench/ping", bare),
                    ("report", "/api/v1/threats", report),
                ):
                    part = closed_loop(port, path, token, body, args.clients, share)
                    loads[name].results += part.results
                    loads[name].took += part.took
                    loads[name].cpu_s += part.cpu_s
            runs = [
                summarise("bare one-insert endpoint (POST /api/v1/bench/ping)", loads["bare"], 201),
                summarise("threat report, full path (POST /api/v1/threats)", loads["report"], 201),
            ]
        finally:
            stop(web)
        counts = db.shell(COUNT)
        problems = db.log_problems()

    print(f"  rows written: {counts}; server log {dict(problems)}")
    print()
    print(
        table(
            ["endpoint", "requests", "failed", "per second", "p50", "p99", "max", "client CPU"],
            [
                [
                    str(r["name"]),
                    str(r["requests"]),
                    str(r["failed"]),
                    f"{r['rate']:.0f}",
                    fmt_seconds(float(r["p50"])),  # type: ignore[arg-type]
                    fmt_seconds(float(r["p99"])),  # type: ignore[arg-type]
                    fmt_seconds(float(r["max"])),  # type: ignore[arg-type]
                    f"{float(r['client_cpu']):.0%} of a core",  # type: ignore[arg-type]
                ]
                for r in runs
            ],
        )
    )
    bare_rate, report_rate = float(runs[0]["rate"]), float(runs[1]["rate"])  # type: ignore[arg-type]
    ratio = report_rate / bare_rate if bare_rate else 0.0
    p99 = float(runs[1]["p99"])  # type: ignore[arg-type]
    ok = report_rate >= 200 and p99 < 0.25 and ratio >= 0.25 and runs[1]["failed"] == 0
    print(
        f"reports/bare = {ratio:.2f}; budget >= 200 reports/s, p99 < 250 ms, ratio >= 0.25: "
        f"{'within' if ok else 'MISSES'} budget"
    )
    bare, reports = runs
    write_json(
        args.json,
        {
            "bench": "intake",
            "database": "postgresql" if args.postgres else "sqlite",
            "started": started,
            "machine": host,
            "params": {
                "seconds": args.seconds,
                "clients": args.clients,
                "rounds": args.rounds,
                "web_workers": args.web_workers or "default",
                "threads": args.threads or "default",
            },
            "figures": {
                "bare_per_s": bare["rate"],
                "bare_p99_s": bare["p99"],
                "bare_failed": bare["failed"],
                "reports_per_s": reports["rate"],
                "reports_p50_s": reports["p50"],
                "reports_p99_s": reports["p99"],
                "reports_max_s": reports["max"],
                "reports_failed": reports["failed"],
                "reports_to_bare": ratio,
            },
            "rows": counts,
            "log_problems": dict(problems),
        },
    )


if __name__ == "__main__":
    main()
