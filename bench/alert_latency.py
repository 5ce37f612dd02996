"""Alert latency (DESIGN.md section 9, "report committed to first notification handed to
the channel"): alerts raised over HTTP at 20 per second for 30 seconds against the real
web server and one worker; for each alert, the time from the API's answer (the commit)
to its first message reaching a loopback webhook. Budget: p99 < 2 s.

    .venv/bin/python bench/alert_latency.py               # SQLite
    .venv/bin/python bench/alert_latency.py --postgres    # PostgreSQL on 127.0.0.1
    .venv/bin/python bench/alert_latency.py --rate 40 --seconds 10

See bench/README.md for what is measured and how.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from harness import (
    DEFAULT_POSTGRES_URL,
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

COORDINATOR = "coordinator@bench.example"

# Runs inside `amparo shell -c`: an organisation whose only matching policy sends the
# first tier, at once, to a loopback webhook; an API user who may raise alerts.
SEED = r"""
import json, os

from amparo.alerts import actions as alerts
from amparo.alerts.models import DeliveryChannel
from amparo.people import actions as people

spec = json.loads(os.environ["BENCH_SPEC"])
org = people.create_organisation(
    "bench", name="Bench", slug="bench", kind="indigenous_federation", country="PE"
)
user = people.create_user("bench", email=spec["email"], password=None)
people.add_membership("bench", org, user, "coordinator")
people.create_person(
    "bench", org, given_names="Ana", family_names="Quispe", user=user,
    phone_numbers=["+51982000001"], email="ana@bench.example",
)
DeliveryChannel.objects.create(organisation=org, channel="webhook", url=spec["webhook"])
alerts.save_policy(
    "bench", org, policy=None, name="Bench", description="", kinds=[], severities=[],
    priority=0,
    tiers=[
        {"level": "local", "targets": [{"type": "role", "role": "coordinator"}],
         "channels": ["webhook"], "delay_minutes": 0, "repeat_count": 0,
         "repeat_interval_minutes": 5},
        {"level": "regional", "targets": [{"type": "role", "role": "coordinator"}],
         "channels": ["webhook"], "delay_minutes": 30, "repeat_count": 0,
         "repeat_interval_minutes": 5},
    ],
)
print("BENCH-RESULT " + json.dumps({"organisation": org.slug}))
"""

# Which alert each step belongs to, to match webhook deliveries (their idempotency key
# starts with the step's id) to the alerts raised.
REPORT = r"""
import json
from amparo.alerts.models import AlertStep
print("BENCH-RESULT " + json.dumps(
    {str(s): str(a) for s, a in AlertStep.objects.values_list("id", "alert_id")}
))
"""


@dataclass
class Raised:
    sent: float  # monotonic, request started
    answered: float  # monotonic, response read
    status: int
    alert_id: str


def raise_one(port: int, token: str, organisation: str, i: int) -> Raised:
    body = json.dumps(
        {
            "organisation": organisation,
            "kind": "panic",
            "severity": "high",
            "message": f"benchmark alert {i}: hombres armados en la trocha",
        }
    )
    sent = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            "POST",
            "/api/v1/alerts",
            body=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        raw = response.read()
        answered = time.monotonic()
        alert_id = ""
        if response.status == 201:
            alert_id = json.loads(raw)["id"]
        return Raised(sent, answered, response.status, alert_id)
    except OSError:
        return Raised(sent, time.monotonic(), 0, "")
    finally:
        connection.close()


def wait_for_server(port: int, token: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request(
                "GET",
                "/api/v1/alerts?organisation=bench&limit=1",
                headers={"Authorization": f"Bearer {token}"},
            )
            if connection.getresponse().status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def run_load(port: int, token: str, organisation: str, rate: float, seconds: float) -> list[Raised]:
    """Open loop: request i starts at start + i / rate whatever the earlier ones did."""
    total = int(rate * seconds)
    results: list[Raised] = []
    lock = threading.Lock()

    def task(i: int) -> None:
        result = raise_one(port, token, organisation, i)
        with lock:
            results.append(result)

    with ThreadPoolExecutor(max_workers=128) as pool:
        start = time.monotonic()
        for i in range(total):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(task, i)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=20.0, help="alerts per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--postgres", action="store_true", help="a fresh PostgreSQL database")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="server to create the database on (loopback only)",
    )
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--worker-interval",
        type=float,
        default=None,
        help="poll interval of the worker (default: the product's own default)",
    )
    parser.add_argument("--drain", type=float, default=60.0, help="max wait after the load")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to PATH (JSON)")
    args = parser.parse_args()

    started, host = time.strftime("%Y-%m-%d %H:%M"), machine()
    print(f"alert latency benchmark, {started}, {host}")
    with WebhookReceiver() as receiver, isolated_database(args.postgres, args.pg_url) as db:
        print(
            f"{args.rate:g} alerts/s for {args.seconds:g} s over HTTP, "
            f"serve --workers {args.web_workers}, 1 worker, "
            f"{'PostgreSQL' if args.postgres else 'SQLite'}"
        )
        seed = db.shell(SEED, webhook=receiver.url(), email=COORDINATOR)
        token = db.amparo("token", "create", "--user", COORDINATOR).strip().splitlines()[-1]
        port = free_port()
        web = db.start("web", "serve", "--port", str(port), "--workers", str(args.web_workers))
        worker_args = ["worker"]
        if args.worker_interval is not None:
            worker_args += ["--interval", str(args.worker_interval)]
        worker = db.start("worker", *worker_args)
        try:
            if not wait_for_server(port, token, 60):
                raise RuntimeError(f"the web server did not answer; see {db.logs[0]}")
            if not wait_for_line(db.logs[1], "running", 60, worker):
                raise RuntimeError(f"the worker did not start; see {db.logs[1]}")
            # Warm-up (not counted): every gunicorn worker and the worker's loops have
            # imported and connected before the clock starts.
            warm = run_load(port, token, seed["organisation"], 5, 2)
            deadline = time.monotonic() + 30
            while receiver.unique_keys() < len(warm) and time.monotonic() < deadline:
                time.sleep(0.1)
            warm_keys = {a.key for a in receiver.snapshot()}

            results = run_load(port, token, seed["organisation"], args.rate, args.seconds)
            load_end = time.monotonic()
            wanted = sum(1 for r in results if r.status == 201)
            deadline = time.monotonic() + args.drain
            while receiver.unique_keys() - len(warm_keys) < wanted and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            stop(worker)
            stop(web)
        step_alert = db.shell(REPORT)
        problems = db.log_problems()
        arrivals = receiver.snapshot()

    first: dict[str, float] = {}
    for a in arrivals:
        alert_id = step_alert.get(a.key.split(":", 1)[0])
        if alert_id is not None:
            first[alert_id] = min(first.get(alert_id, a.mono), a.mono)
    ok = [r for r in results if r.status == 201]
    latencies = [first[r.alert_id] - r.answered for r in ok if r.alert_id in first]
    http_times = [r.answered - r.sent for r in ok]
    sent_span = max(r.sent for r in results) - min(r.sent for r in results) if results else 0
    missing = len(ok) - len(latencies)
    statuses: dict[str, int] = {}
    for r in results:
        statuses[str(r.status)] = statuses.get(str(r.status), 0) + 1

    print(
        f"  requests {len(results)} (status {statuses}), sent over {sent_span:.1f} s, "
        f"deliveries drained {time.monotonic() - load_end:.1f} s after the load; "
        f"process logs {dict(problems)}"
    )
    print()
    print(
        table(
            ["what", "n", "p50", "p99", "max"],
            [
                [
                    "commit (HTTP answer) -> first webhook message",
                    str(len(latencies)),
                    fmt_seconds(percentile(latencies, 50)),
                    fmt_seconds(percentile(latencies, 99)),
                    fmt_seconds(max(latencies, default=float("nan"))),
                ],
                [
                    "POST /api/v1/alerts response time",
                    str(len(http_times)),
                    fmt_seconds(percentile(http_times, 50)),
                    fmt_seconds(percentile(http_times, 99)),
                    fmt_seconds(max(http_times, default=float("nan"))),
                ],
            ],
        )
    )
    p99 = percentile(latencies, 99)
    verdict = "within" if p99 < 2.0 and missing == 0 and len(ok) == len(results) else "MISSES"
    print(
        f"budget p99 < 2 s: {verdict} budget"
        f" (alerts without a delivery: {missing}, failed requests: {len(results) - len(ok)})"
    )
    write_json(
        args.json,
        {
            "bench": "alert_latency",
            "database": "postgresql" if args.postgres else "sqlite",
            "started": started,
            "machine": host,
            "params": {
                "rate": args.rate,
                "seconds": args.seconds,
                "web_workers": args.web_workers,
                "worker_interval": args.worker_interval,
            },
            "figures": {
                "alerts": len(results),
                "first_message_p50_s": percentile(latencies, 50),
                "first_message_p99_s": p99,
                "first_message_max_s": max(latencies, default=float("nan")),
                "without_delivery": missing,
                "failed_requests": len(results) - len(ok),
                "api_p50_s": percentile(http_times, 50),
                "api_p99_s": percentile(http_times, 99),
            },
            "log_problems": dict(problems),
        },
    )


if __name__ == "__main__":
    main()
