"""Operations endpoints (issue 10, point 10; docs/operations.md 4.7): ``/healthz`` for a
load balancer or a monitor, ``/metrics`` for Prometheus.

Both read the alerts app's tables (the step clock, the outbox, the worker's heartbeats);
they import it inside the functions that need it, as ``core`` knows no domain at import
time (DESIGN.md section 4). Neither shows anything about a person or an organisation:
``/healthz`` names its checks, ``/metrics`` gives counts by channel, tier and loop.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

log = logging.getLogger("amparo.core.ops")


# A pending step due longer ago than this is overdue: the clock runs a step within a
# second of its time and the auditor catches any step late by more than 5 seconds.
OVERDUE_SECONDS = 5
# Ages at which unacknowledged alerts are counted (at least this old, in seconds).
ALERT_AGES = (0, 300, 900, 3600, 4 * 3600, 24 * 3600)
# Headers a proxy adds: a request with any of them is not taken as a local one.
PROXY_HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_FORWARDED",
    "HTTP_X_REAL_IP",
)


# /healthz


def _check_database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure is "unhealthy", never a 500
        log.warning("healthz: the database check failed (%s)", type(exc).__name__)
        return {"ok": False}
    return {"ok": True}


def heartbeat_ages(now: datetime) -> dict[str, float | None]:
    """Seconds since each loop's last beat (None: never beat); the expected loops and any
    other that has beaten."""
    from amparo.alerts.models import WorkerHeartbeat

    beats = dict(WorkerHeartbeat.objects.values_list("name", "beat_at"))
    loops = WorkerHeartbeat.WATCHED_LOOPS
    names = list(loops) + sorted(set(beats) - set(loops))
    return {
        name: max(0.0, (now - beats[name]).total_seconds()) if name in beats else None
        for name in names
    }


def _check_worker() -> dict[str, Any]:
    stale_after = settings.AMPARO_HEARTBEAT_STALE_SECONDS
    try:
        ages = heartbeat_ages(timezone.now())
    except Exception as exc:  # noqa: BLE001
        log.warning("healthz: the worker check failed (%s)", type(exc).__name__)
        return {"ok": False}
    from amparo.alerts.models import WorkerHeartbeat

    stale = [
        name
        for name in WorkerHeartbeat.WATCHED_LOOPS
        if (age := ages[name]) is None or age >= stale_after
    ]
    if stale:
        return {"ok": False, "stale_loops": stale}
    return {"ok": True}


def _check_evidence_store() -> dict[str, Any]:
    """A file can be created, written and deleted in the evidence store."""
    try:
        with tempfile.NamedTemporaryFile(
            dir=Path(settings.EVIDENCE_DIR), prefix=".healthz-", suffix=".tmp"
        ) as probe:
            probe.write(b"ok")
            probe.flush()
    except OSError as exc:
        log.warning("healthz: the evidence store is not writable (%s)", type(exc).__name__)
        return {"ok": False}
    return {"ok": True}


CHECKS = {
    "database": _check_database,
    "worker": _check_worker,
    "evidence_store": _check_evidence_store,
}


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when every check passes, 503 naming the ones that failed. ``?skip=worker``
    leaves checks out (a comma-separated list of names)."""
    skip = {name.strip() for name in request.GET.get("skip", "").split(",")}
    checks = {name: check() for name, check in CHECKS.items() if name not in skip}
    failed = [name for name, result in checks.items() if not result["ok"]]
    return JsonResponse(
        {"ok": not failed, "checks": checks, "failed": failed}, status=503 if failed else 200
    )


# /metrics


def _family(name: str, documentation: str, labels: Iterable[str] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=list(labels))


def _families() -> dict[str, GaugeMetricFamily]:
    return {
        "pending": _family(
            "amparo_escalation_steps_pending",
            "Escalation steps not yet run (due now or later), by tier.",
            ["tier"],
        ),
        "overdue": _family(
            "amparo_escalation_steps_overdue",
            f"Escalation steps still pending more than {OVERDUE_SECONDS} s after they were "
            "due, by tier.",
            ["tier"],
        ),
        "lateness": _family(
            "amparo_escalation_step_lateness_seconds",
            "How long ago the earliest pending step that is due was due (0: none is due), by tier.",
            ["tier"],
        ),
        "failed": _family(
            "amparo_outbox_failed_messages",
            "Messages given up on (every attempt failed, or nothing to send them by), by channel.",
            ["channel"],
        ),
        "retrying": _family(
            "amparo_outbox_retrying_messages",
            "Messages waiting for another attempt after a failed one, by channel.",
            ["channel"],
        ),
        "unacknowledged": _family(
            "amparo_alerts_unacknowledged",
            "Alerts nobody has taken responsibility for, raised at least older_than_seconds "
            "ago (cumulative: 0 counts them all).",
            ["older_than_seconds"],
        ),
        "oldest_alert": _family(
            "amparo_alerts_unacknowledged_oldest_seconds",
            "Age of the oldest unacknowledged alert (0: none).",
        ),
        "heartbeat": _family(
            "amparo_worker_heartbeat_age_seconds",
            "Seconds since each worker loop last beat (+Inf: never).",
            ["loop"],
        ),
        "stale_after": _family(
            "amparo_worker_heartbeat_stale_after_seconds",
            "AMPARO_HEARTBEAT_STALE_SECONDS: a loop this late is reported unhealthy.",
        ),
    }


def _seconds(now: datetime, then: datetime | None) -> float:
    return max(0.0, (now - then).total_seconds()) if then is not None else 0.0


class AmparoCollector(Collector):
    """Every value is read from the database when Prometheus scrapes, in four aggregate
    queries; a tier, channel or loop without rows is reported as 0."""

    def describe(self) -> Iterator[GaugeMetricFamily]:
        # Registering calls this instead of collect(): no database access at import.
        yield from _families().values()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django.db.models import Count, Min, Q

        from amparo.alerts.models import (
            Alert,
            AlertState,
            AlertStep,
            Channel,
            Level,
            OutboxMessage,
            OutboxState,
            StepState,
        )

        now = timezone.now()
        families = _families()

        steps = {
            row["level"]: row
            for row in AlertStep.objects.filter(state=StepState.PENDING)
            .values("level")
            .annotate(
                pending=Count("id"),
                overdue=Count("id", filter=Q(due_at__lt=now - timedelta(seconds=OVERDUE_SECONDS))),
                earliest_due=Min("due_at", filter=Q(due_at__lte=now)),
            )
            .order_by()
        }
        for tier in [*Level.values, *sorted(set(steps) - set(Level.values))]:
            row = steps.get(tier, {})
            families["pending"].add_metric([tier], row.get("pending", 0))
            families["overdue"].add_metric([tier], row.get("overdue", 0))
            families["lateness"].add_metric([tier], _seconds(now, row.get("earliest_due")))

        outbox = {
            row["channel"]: row
            for row in OutboxMessage.objects.filter(
                Q(state=OutboxState.FAILED)
                | Q(state__in=[OutboxState.PENDING, OutboxState.SENDING], attempts__gt=0)
            )
            .values("channel")
            .annotate(
                failed=Count("id", filter=Q(state=OutboxState.FAILED)),
                retrying=Count("id", filter=~Q(state=OutboxState.FAILED)),
            )
            .order_by()
        }
        for channel in [*Channel.values, *sorted(set(outbox) - set(Channel.values))]:
            row = outbox.get(channel, {})
            families["failed"].add_metric([channel], row.get("failed", 0))
            families["retrying"].add_metric([channel], row.get("retrying", 0))

        counts = Alert.objects.filter(state=AlertState.RAISED).aggregate(
            oldest=Min("raised_at"),
            **{
                f"age_{age}": Count("id", filter=Q(raised_at__lte=now - timedelta(seconds=age)))
                for age in ALERT_AGES
            },
        )
        for age in ALERT_AGES:
            families["unacknowledged"].add_metric([str(age)], counts[f"age_{age}"])
        families["oldest_alert"].add_metric([], _seconds(now, counts["oldest"]))

        for loop, beat_age in heartbeat_ages(now).items():
            value = float("inf") if beat_age is None else beat_age
            families["heartbeat"].add_metric([loop], value)
        families["stale_after"].add_metric([], settings.AMPARO_HEARTBEAT_STALE_SECONDS)

        yield from families.values()


# A registry of Amparo's own, not prometheus_client's global one: no process or platform
# collectors (one web process's memory says nothing of the installation), nothing that
# another library might register.
REGISTRY = CollectorRegistry(auto_describe=True)
REGISTRY.register(AmparoCollector())


def _from_this_machine(request: HttpRequest) -> bool:
    """A request from loopback that no proxy passed on (a proxy on the same machine would
    make every client look local)."""
    headers = list(PROXY_HEADERS)
    if custom := getattr(settings, "AMPARO_CLIENT_IP_HEADER", ""):
        headers.append("HTTP_" + custom.strip().upper().replace("-", "_"))
    if any(request.META.get(header) for header in headers):
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def _bearer_token(request: HttpRequest) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format. With ``AMPARO_METRICS_TOKEN`` set, only for a request that
    carries it as a bearer token (else 403); unset, only for a local request (else 404)."""
    expected = settings.AMPARO_METRICS_TOKEN
    if expected:
        given = _bearer_token(request)
        if not hmac.compare_digest(given.encode(), expected.encode()):
            response = HttpResponse("Forbidden\n", status=403, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    elif not _from_this_machine(request):
        raise Http404
    try:
        body = generate_latest(REGISTRY)
    except DatabaseError as exc:
        log.warning("metrics: the database could not be read (%s)", type(exc).__name__)
        return HttpResponse("Database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
