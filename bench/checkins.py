"""Check-ins (issue 5, DESIGN.md section 9): check-ins over HTTP for 1,000 active
travellers against the production server setup, and the lateness of the "missed
check-in" alert for expected check-ins nobody answers, to a loopback webhook.

Budget: at least 300 check-ins/s with p99 under 100 ms, every one recorded; missed
check-ins notified with p99 lateness under 1 s (deadlines spread over 60 s) and under 2 s
(200 deadlines within 3 s), none lost, none twice.

    .venv/bin/python bench/checkins.py                 # SQLite
    .venv/bin/python bench/checkins.py --postgres      # PostgreSQL on 127.0.0.1
    .venv/bin/python bench/checkins.py --pin           # every check-in sends the PIN

See bench/README.md for what is measured and how.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import time
from collections import Counter
from dataclasses import dataclass

import loadgen
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
from loadgen import LoadResult

COORDINATOR = "coordinator@bench.example"
PIN = "73190582"
DURESS = "46285517"

# Runs inside `amparo shell -c`. An organisation whose policies send the first tier, at
# once, to a loopback webhook; a coordinator; `travellers` defenders, each with an
# account, an API token, PINs and an ACTIVE deployment with one leg and its expected
# check-ins. The deployments are written straight to ACTIVE: this measures check-ins,
# not the preparation the readiness gates ask for (travel.gates, tested elsewhere).
# The PIN hashes are made once and shared: 2,000 argon2 hashes would take minutes, and
# checking a shared hash costs the same as checking one's own.
SEED = r"""
import json, os
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from amparo.alerts import actions as alerts
from amparo.alerts.models import DeliveryChannel
from amparo.people import actions as people
from amparo.travel import checkins
from amparo.travel.models import Deployment, DeploymentStatus, Leg, TravellerPins

spec = json.loads(os.environ["BENCH_SPEC"])
org = people.create_organisation(
    "bench", name="Bench", slug="bench", kind="indigenous_federation", country="PE"
)
boss = people.create_user("bench", email=spec["email"], password=None)
people.add_membership("bench", org, boss, "coordinator")
people.create_person(
    "bench", org, given_names="Rosa", family_names="Huamán", user=boss,
    phone_numbers=["+51982000001"], email="rosa@bench.example",
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
checkin_hash, duress_hash = make_password(spec["pin"]), make_password(spec["duress"])
now = timezone.now()
today = now.date()
travellers = []
with transaction.atomic():  # one commit, not 4,000
    for i in range(spec["travellers"]):
        user = people.create_user("bench", email=f"t{i}@bench.example", password=None)
        people.add_membership("bench", org, user, "defender")
        person = people.create_person(
            "bench", org, given_names=f"T{i}", family_names="Viajera", user=user,
            phone_numbers=[f"+5198300{i:04d}"],
        )
        _token, secret = people.create_api_token("bench", user, "bench")
        travellers.append((person, secret))
deployments = Deployment.objects.bulk_create([
    Deployment(
        organisation=org, traveller=person, trip_type="other", starts_on=today,
        returns_on=today + timedelta(days=3), status=DeploymentStatus.ACTIVE,
    )
    for person, _secret in travellers
])
TravellerPins.objects.bulk_create([
    TravellerPins(organisation=org, person=person, checkin_pin=checkin_hash,
                  duress_pin=duress_hash)
    for person, _secret in travellers
])
# Due every hour from now, an hour of grace: the first is being waited for during the
# load; the next deadlines are an hour away, after the benchmark.
Leg.objects.bulk_create([
    Leg(organisation=org, deployment=d, place="Hotel de prueba", country="PE",
        region="Madre de Dios", time_zone="America/Lima", starts_at=now,
        ends_at=now + timedelta(hours=12), checkin_every_hours=1, grace_minutes=60)
    for d in deployments
])
expected = sum(checkins.regenerate(d, now - timedelta(seconds=1)) for d in deployments)
print("BENCH-RESULT " + json.dumps({
    "travellers": [
        {"deployment": str(d.pk), "token": secret}
        for d, (_person, secret) in zip(deployments, travellers)
    ],
    "expected": expected,
}))
"""

# 200 expected check-ins nobody answers: deadlines from `start` (epoch seconds) over
# `spread` seconds, one per deployment, each due its grace (5 minutes) before.
MISSED = r"""
import json, os
from datetime import UTC, datetime, timedelta

from amparo.travel.models import Deployment, ExpectedCheckIn, ExpectedState

spec = json.loads(os.environ["BENCH_SPEC"])
deployments = list(Deployment.objects.order_by("pk")[: spec["count"]])
rows = []
for i, deployment in enumerate(deployments):
    deadline = datetime.fromtimestamp(spec["start"] + spec["spread"] * i / spec["count"], UTC)
    rows.append(ExpectedCheckIn(
        organisation_id=deployment.organisation_id, deployment=deployment,
        due_at=deadline - timedelta(minutes=5), deadline=deadline,
    ))
made = ExpectedCheckIn.objects.bulk_create(rows)
print("BENCH-RESULT " + json.dumps({str(e.pk): e.deadline.timestamp() for e in made}))
"""

# What the missed rows became: their state and alert, how many missed-check-in alerts
# each deployment has, and which alert each step belongs to (deliveries carry the step
# id at the start of their idempotency key).
MISSED_REPORT = r"""
import json, os
from amparo.alerts.models import Alert, AlertStep
from amparo.travel.models import ExpectedCheckIn

spec = json.loads(os.environ["BENCH_SPEC"])
rows = ExpectedCheckIn.objects.filter(pk__in=spec["ids"])
print("BENCH-RESULT " + json.dumps({
    "rows": {str(e.pk): [e.state, str(e.alert_id or "")] for e in rows},
    "alerts": Alert.objects.filter(kind="missed_checkin").count(),
    "steps": {str(s): str(a) for s, a in AlertStep.objects.values_list("id", "alert_id")},
}))
"""

COUNT = r"""
import http.client
import json
from amparo.travel.models import CheckIn, ExpectedCheckIn
print("BENCH-RESULT " + json.dumps({
    "checkins": CheckIn.objects.count(),
    "answered": ExpectedCheckIn.objects.filter(state="checked_in").count(),
}))
"""


def closed_loop(
    port: int, travellers: list[dict[str, str]], pin: bool, clients: int, seconds: float
) -> LoadResult:
    """``clients`` persistent connections, each sending one check-in after the other for
    ``seconds``, going round the travellers (each request with its traveller's token)."""

    def make(i: int) -> tuple[str, str, dict[str, str], bytes]:
        traveller = travellers[i % len(travellers)]
        body: dict[str, object] = {
            "note": f"llegué bien ({i})",
            "location": {"lat": -12.59, "lon": -69.19},
        }
        if pin:
            body["pin"] = PIN
        headers = {
            "Authorization": f"Bearer {traveller['token']}",
            "Content-Type": "application/json",
        }
        path = f"/api/v1/deployments/{traveller['deployment']}/checkins"
        return "POST", path, headers, json.dumps(body).encode()

    return loadgen.closed_loop(port, make, clients, seconds)


def wait_for_server(port: int, traveller: dict[str, str], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request(
                "GET",
                f"/api/v1/deployments/{traveller['deployment']}/checkins?limit=1",
                headers={"Authorization": f"Bearer {traveller['token']}"},
            )
            if connection.getresponse().status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


@dataclass
class Missed:
    name: str
    n: int
    lateness: list[float]
    lost: int
    duplicate_alerts: int
    repeat_deliveries: int
    not_missed: int


def missed_run(
    db: object,
    receiver: WebhookReceiver,
    name: str,
    count: int,
    spread: float,
    lead: float,
    drain: float,
) -> Missed:
    """Seed ``count`` expected check-ins with deadlines from ``lead`` seconds on, over
    ``spread`` seconds; wait for their first notifications; measure."""
    before = len(receiver.snapshot())
    alerts_before = db.shell(MISSED_REPORT, ids=[])["alerts"]  # type: ignore[attr-defined]
    start = time.time() + lead
    deadlines: dict[str, float] = db.shell(  # type: ignore[attr-defined]
        MISSED, count=count, start=start, spread=spread
    )
    wait_until = start + spread + drain
    while time.time() < wait_until:
        if receiver.unique_keys() >= before + count and time.time() > start + spread:
            break
        time.sleep(0.2)
    time.sleep(1.0)  # let a late duplicate arrive if there is one
    report = db.shell(MISSED_REPORT, ids=list(deadlines))  # type: ignore[attr-defined]
    arrivals = receiver.snapshot()[before:]
    first: dict[str, float] = {}
    keys: Counter[str] = Counter()
    for a in arrivals:
        keys[a.key] += 1
        alert_id = report["steps"].get(a.key.split(":", 1)[0])
        if alert_id is not None:
            first[alert_id] = min(first.get(alert_id, a.wall), a.wall)
    lateness = []
    lost = not_missed = 0
    for pk, deadline in deadlines.items():
        state, alert_id = report["rows"][pk]
        if state != "missed":
            not_missed += 1
        if alert_id in first:
            lateness.append(first[alert_id] - deadline)
        else:
            lost += 1
    return Missed(
        name=name,
        n=count,
        lateness=lateness,
        lost=lost,
        duplicate_alerts=report["alerts"] - alerts_before - count,
        repeat_deliveries=sum(c - 1 for c in keys.values()),
        not_missed=not_missed,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--travellers", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0, help="check-in load")
    parser.add_argument("--clients", type=int, default=16, help="concurrent connections")
    parser.add_argument("--pin", action="store_true", help="every check-in sends the PIN")
    parser.add_argument("--missed", type=int, default=200, help="expected check-ins missed")
    parser.add_argument("--spread", type=float, default=60.0, help="their deadlines over")
    parser.add_argument("--burst", type=float, default=3.0, help="then all within")
    parser.add_argument("--no-missed", action="store_true", help="only the HTTP load")
    parser.add_argument("--no-load", action="store_true", help="only the missed check-ins")
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
    parser.add_argument("--drain", type=float, default=30.0, help="max wait after a deadline")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to PATH (JSON)")
    args = parser.parse_args()

    kind = "PostgreSQL" if args.postgres else "SQLite"
    started, host = time.strftime("%Y-%m-%d %H:%M"), machine()
    print(f"check-in benchmark, {started}, {host}, {kind}")
    with WebhookReceiver() as receiver, isolated_database(args.postgres, args.pg_url) as db:
        began = time.monotonic()
        seed = db.shell(
            SEED,
            timeout=900,
            webhook=receiver.url(),
            email=COORDINATOR,
            travellers=args.travellers,
            pin=PIN,
            duress=DURESS,
        )
        travellers = seed["travellers"]
        print(
            f"  seeded {len(travellers)} travellers, {seed['expected']} expected check-ins "
            f"in {time.monotonic() - began:.0f} s"
        )
        port = free_port()
        serve = ["serve", "--port", str(port)]
        if args.web_workers:
            serve += ["--workers", str(args.web_workers)]
        if args.threads:
            serve += ["--threads", str(args.threads)]
        web = db.start("web", *serve)
        worker = db.start("worker", "worker")
        load: dict[str, object] = {}
        missed: list[Missed] = []
        try:
            if not wait_for_server(port, travellers[0], 60):
                raise RuntimeError(f"the web server did not answer; see {db.logs[0]}")
            if not wait_for_line(db.logs[1], "running", 60, worker):
                raise RuntimeError(f"the worker did not start; see {db.logs[1]}")
            if not args.no_load:
                # Warm-up (not counted): every gunicorn worker has imported and connected.
                warm = closed_loop(port, travellers, args.pin, args.clients, 2).results
                run = closed_loop(port, travellers, args.pin, args.clients, args.seconds)
                results, took = run.results, run.took
                ok = [r.elapsed for r in results if r.status == 201]
                load = {
                    "warm": sum(1 for r in warm if r.status == 201),
                    "requests": len(results),
                    "ok": len(ok),
                    "statuses": dict(Counter(str(r.status) for r in results)),
                    "rate": len(ok) / took if took else 0.0,
                    "p50": percentile(ok, 50),
                    "p99": percentile(ok, 99),
                    "max": max(ok, default=float("nan")),
                    "client_cpu": run.cpu_s / took if took else 0.0,
                }
            if not args.no_missed:
                missed.append(
                    missed_run(
                        db,
                        receiver,
                        f"deadlines over {args.spread:g} s",
                        args.missed,
                        args.spread,
                        8.0,
                        args.drain,
                    )
                )
                missed.append(
                    missed_run(
                        db,
                        receiver,
                        f"deadlines within {args.burst:g} s",
                        args.missed,
                        args.burst,
                        8.0,
                        args.drain,
                    )
                )
        finally:
            stop(worker)
            stop(web)
        counts = db.shell(COUNT)
        problems = db.log_problems()

    print(f"  process logs {dict(problems)}")
    verdicts = []
    if load:
        recorded = counts["checkins"]
        sent_ok = int(load["ok"]) + int(load["warm"])  # type: ignore[call-overload]
        print(
            f"  check-ins: {load['requests']} requests (status {load['statuses']}), "
            f"{recorded} rows for {sent_ok} answered 201 (warm-up included), "
            f"{counts['answered']} expected check-ins answered"
        )
        print()
        print(
            table(
                ["check-ins over HTTP", "clients", "per second", "p50", "p99", "max", "client CPU"],
                [
                    [
                        "with PIN" if args.pin else "without PIN",
                        str(args.clients),
                        f"{load['rate']:.0f}",
                        fmt_seconds(float(load["p50"])),  # type: ignore[arg-type]
                        fmt_seconds(float(load["p99"])),  # type: ignore[arg-type]
                        fmt_seconds(float(load["max"])),  # type: ignore[arg-type]
                        f"{float(load['client_cpu']):.0%} of a core",  # type: ignore[arg-type]
                    ]
                ],
            )
        )
        within = (
            float(load["rate"]) >= 300  # type: ignore[arg-type]
            and float(load["p99"]) < 0.1  # type: ignore[arg-type]
            and load["ok"] == load["requests"]
            and recorded == sent_ok
        )
        verdicts.append(
            f"check-ins >= 300/s, p99 < 100 ms, all recorded: {'within' if within else 'MISSES'}"
        )
    if missed:
        print()
        print(
            table(
                ["missed check-ins", "n", "p50", "p99", "max", "lost", "dup alerts", "repeats"],
                [
                    [
                        m.name,
                        str(m.n),
                        fmt_seconds(percentile(m.lateness, 50)),
                        fmt_seconds(percentile(m.lateness, 99)),
                        fmt_seconds(max(m.lateness, default=float("nan"))),
                        str(m.lost),
                        str(m.duplicate_alerts),
                        str(m.repeat_deliveries),
                    ]
                    for m in missed
                ],
            )
        )
        for m, bound in zip(missed, (1.0, 2.0), strict=False):
            within = (
                percentile(m.lateness, 99) < bound
                and m.lost == 0
                and m.duplicate_alerts == 0
                and m.not_missed == 0
            )
            verdicts.append(
                f"{m.name}: p99 < {bound:g} s, none lost or twice: "
                f"{'within' if within else 'MISSES'}"
            )
    print()
    for verdict in verdicts:
        print(verdict)
    figures: dict[str, float] = {}
    if load:
        figures.update(
            {
                "checkins_per_s": float(load["rate"]),  # type: ignore[arg-type]
                "checkins_p50_s": float(load["p50"]),  # type: ignore[arg-type]
                "checkins_p99_s": float(load["p99"]),  # type: ignore[arg-type]
                "checkins_failed": int(load["requests"]) - int(load["ok"]),  # type: ignore[call-overload]
                "checkins_unrecorded": int(load["ok"])  # type: ignore[call-overload]
                + int(load["warm"])  # type: ignore[call-overload]
                - int(counts["checkins"]),
            }
        )
    for m, run in zip(missed, ("spread", "burst"), strict=False):
        figures.update(
            {
                f"missed_{run}_p50_s": percentile(m.lateness, 50),
                f"missed_{run}_p99_s": percentile(m.lateness, 99),
                f"missed_{run}_max_s": max(m.lateness, default=float("nan")),
                f"missed_{run}_lost": m.lost,
                f"missed_{run}_duplicated": m.duplicate_alerts,
                f"missed_{run}_repeats": m.repeat_deliveries,
            }
        )
    if missed:
        figures["missed_lost"] = sum(m.lost for m in missed)
        figures["missed_duplicated"] = sum(m.duplicate_alerts for m in missed)
    write_json(
        args.json,
        {
            "bench": "checkins",
            "database": "postgresql" if args.postgres else "sqlite",
            "started": started,
            "machine": host,
            "params": {
                "travellers": args.travellers,
                "seconds": args.seconds,
                "clients": args.clients,
                "pin": args.pin,
                "missed": args.missed,
                "spread": args.spread,
                "burst": args.burst,
            },
            "figures": figures,
            "log_problems": dict(problems),
        },
    )


if __name__ == "__main__":
    main()
