"""CPU per threat report in one process, beside the bare endpoint: where a report's cost
is, without the HTTP server, the load generator or the other processes in the way.

    .venv/bin/python bench/report_cpu.py                  # SQLite
    .venv/bin/python bench/report_cpu.py --postgres       # and the server's CPU
    .venv/bin/python bench/report_cpu.py --postgres --client-binding

It seeds the organisation of bench/intake.py, then in one ``amparo shell`` posts the same
medium threat and the same bare ping through Django's test client (the whole middleware,
django-ninja, token authentication and the action), ``--reports`` at a time, in
``--rounds`` rounds that interleave the variants, since this machine's speed drifts by a
fifth within minutes. Per request it prints the median over the rounds of the process's
CPU time and, on PostgreSQL, of the CPU time of every PostgreSQL process on the machine
(read from /proc: run it on a quiet machine). ``--client-binding`` adds the report with
prepared statements turned off (amparo/core/db/postgresql/base.py), as a variant.

The figures are for comparing changes, not for the budget: bench/intake.py measures
the budget over HTTP under load.
"""

from __future__ import annotations

import argparse
import statistics
import time

from harness import DEFAULT_POSTGRES_URL, isolated_database, machine
from intake import COORDINATOR, SEED

INNER = r"""
import json, os, sys, time

from django.db import connections
from django.test import Client

sys.path.insert(0, os.path.join(os.getcwd(), "bench"))
from intake import report_body

spec = json.loads(os.environ["BENCH_SPEC"])
TICKS = os.sysconf("SC_CLK_TCK")


def server_cpu():
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if "(postgres)" in stat:
            fields = stat.rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / TICKS


client = Client(HTTP_AUTHORIZATION="Bearer " + spec["token"], HTTP_HOST="127.0.0.1")
count = 0


def report():
    global count
    count += 1
    body = report_body(spec["organisation"], spec["person"], count)
    answer = client.post("/api/v1/threats", body, content_type="application/json")
    assert answer.status_code == 201, answer.content


def bare():
    global count
    count += 1
    body = json.dumps({"body": f"ping {count}"})
    answer = client.post("/api/v1/bench/ping", body, content_type="application/json")
    assert answer.status_code == 201, answer.content


def client_binding():
    db = connections["default"]
    db.prepares = lambda: False  # the instance's, for this request only
    try:
        report()
    finally:
        del db.prepares


variants = {"threat report": report, "bare insert": bare}
if spec["client_binding"]:
    variants["threat report, client-side binding"] = client_binding
for run in variants.values():
    for _ in range(50):  # warm-up: imports, caches, prepared statements
        run()
figures = {name: [] for name in variants}
for _ in range(spec["rounds"]):
    for name, run in variants.items():
        cpu, server, wall = time.process_time(), server_cpu(), time.perf_counter()
        for _ in range(spec["reports"]):
            run()
        n = spec["reports"]
        figures[name].append(
            [
                (time.process_time() - cpu) / n,
                (server_cpu() - server) / n,
                (time.perf_counter() - wall) / n,
            ]
        )
print("BENCH-RESULT " + json.dumps(figures))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help="a fresh PostgreSQL database")
    parser.add_argument("--pg-url", default=DEFAULT_POSTGRES_URL, help="loopback only")
    parser.add_argument("--reports", type=int, default=200, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument(
        "--client-binding", action="store_true", help="also with prepared statements off"
    )
    args = parser.parse_args()
    print(f"report CPU benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {machine()}")
    with isolated_database(args.postgres, args.pg_url, AMPARO_BENCH_ENDPOINTS="true") as db:
        seed = db.shell(SEED, email=COORDINATOR)
        token = db.amparo("token", "create", "--user", COORDINATOR).strip().splitlines()[-1]
        figures = db.shell(
            INNER,
            timeout=1800,
            token=token,
            organisation=seed["organisation"],
            person=seed["person"],
            reports=args.reports,
            rounds=args.rounds,
            client_binding=args.client_binding and args.postgres,
        )
    print(f"{args.reports} requests x {args.rounds} rounds, medians per request:")
    for name, rounds in figures.items():
        process, server, wall = (statistics.median(r[i] for r in rounds) for i in range(3))
        line = f"  {name:40s} process {process * 1e3:5.2f} ms"
        if args.postgres:
            line += f"  server {server * 1e3:5.2f} ms"
        print(f"{line}  wall {wall * 1e3:5.2f} ms")


if __name__ == "__main__":
    main()
