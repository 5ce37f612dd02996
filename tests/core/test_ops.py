"""Operations endpoints (issue 10, point 10): ``/healthz`` checks the database, the worker's
heartbeats and that the evidence store takes a file, and answers 503 naming what failed;
``/metrics`` gives Prometheus the step clock, the outbox, unacknowledged alerts and the
heartbeats, read from the database at each scrape, to a bearer token or to this machine
only, with no name, code or address in it. Real database, real heartbeat rows, real
steps and deliveries (a loopback webhook that answers 500)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import prometheus_client
import pytest
import time_machine
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from amparo.alerts import actions as alert_actions
from amparo.alerts.clock import beat, claim_messages, run_due_steps, send_message
from amparo.alerts.models import (
    Alert,
    Channel,
    DeliveryChannel,
    EscalationPolicy,
    OutboxMessage,
    OutboxState,
    WorkerHeartbeat,
)
from amparo.core import ops
from amparo.people import actions as people
from amparo.people.models import Organisation, Person, Role
from conftest import PASSWORD
from tests.alerts.loopback import WebhookReceiver, free_port

T0 = datetime(2031, 5, 6, 14, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def evidence_dir(settings: Any, tmp_path: Path) -> Path:
    folder = tmp_path / "evidence"
    folder.mkdir()
    settings.EVIDENCE_DIR = folder
    return folder


@pytest.fixture(autouse=True)
def no_metrics_token(settings: Any) -> None:
    settings.AMPARO_METRICS_TOKEN = ""


def beat_all() -> None:
    for loop in WorkerHeartbeat.WATCHED_LOOPS:
        beat(loop, worker=f"test/{loop}")


def get_json(client: Client, path: str = "/healthz") -> tuple[int, dict[str, Any]]:
    response = client.get(path)
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    return response.status_code, json.loads(response.content)


# /healthz


def test_healthz_answers_200_when_every_check_passes(db: Any, evidence_dir: Path) -> None:
    beat_all()
    status, body = get_json(Client())
    assert status == 200
    assert body == {
        "ok": True,
        "checks": {
            "database": {"ok": True},
            "worker": {"ok": True},
            "evidence_store": {"ok": True},
        },
        "failed": [],
    }
    # The probe file is gone again.
    assert list(evidence_dir.iterdir()) == []


def test_healthz_names_the_loops_that_stopped_beating(db: Any, clock: Any) -> None:
    beat_all()
    clock.move_to(T0 + timedelta(seconds=29))
    beat("outbox")
    assert get_json(Client())[0] == 200
    # 30 s (AMPARO_HEARTBEAT_STALE_SECONDS) after the last beat a loop is stale.
    clock.move_to(T0 + timedelta(seconds=30))
    status, body = get_json(Client())
    assert status == 503
    assert body["ok"] is False
    assert body["failed"] == ["worker"]
    assert body["checks"]["worker"] == {
        "ok": False,
        "stale_loops": ["clock", "auditor", "checkins"],
    }
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["evidence_store"] == {"ok": True}


def test_healthz_counts_a_loop_that_never_beat_as_stale(db: Any, settings: Any) -> None:
    settings.AMPARO_HEARTBEAT_STALE_SECONDS = 600
    for loop in ("clock", "outbox", "auditor"):
        beat(loop)
    status, body = get_json(Client())
    assert status == 503
    assert body["checks"]["worker"] == {"ok": False, "stale_loops": ["checkins"]}


def test_healthz_can_leave_the_worker_out_for_a_load_balancer(db: Any) -> None:
    status, body = get_json(Client(), "/healthz?skip=worker")
    assert status == 200
    assert set(body["checks"]) == {"database", "evidence_store"}
    status, body = get_json(Client())
    assert status == 503
    assert body["failed"] == ["worker"]


def test_healthz_fails_when_the_evidence_store_is_not_a_folder(
    db: Any, settings: Any, tmp_path: Path
) -> None:
    beat_all()
    not_a_folder = tmp_path / "evidence-file"
    not_a_folder.write_bytes(b"")
    settings.EVIDENCE_DIR = not_a_folder
    status, body = get_json(Client())
    assert status == 503
    assert body["failed"] == ["evidence_store"]
    assert body["checks"]["evidence_store"] == {"ok": False}
    settings.EVIDENCE_DIR = tmp_path / "missing"
    assert get_json(Client())[1]["failed"] == ["evidence_store"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_healthz_fails_when_the_evidence_store_is_read_only(db: Any, evidence_dir: Path) -> None:
    beat_all()
    evidence_dir.chmod(0o500)
    try:
        status, body = get_json(Client())
    finally:
        evidence_dir.chmod(0o700)
    assert status == 503
    assert body["failed"] == ["evidence_store"]


def test_healthz_reveals_nothing_but_the_names_of_its_checks(
    db: Any, settings: Any, tmp_path: Path
) -> None:
    settings.EVIDENCE_DIR = tmp_path / "secret-place" / "evidence"
    response = Client().get("/healthz")
    text = response.content.decode()
    assert response.status_code == 503
    assert "secret-place" not in text and str(tmp_path) not in text
    assert "Error" not in text  # no exception names or messages


def test_healthz_takes_only_get_and_head(db: Any) -> None:
    beat_all()
    assert Client().head("/healthz").status_code == 200
    assert Client().post("/healthz").status_code == 405


def test_a_signed_in_user_without_mfa_is_not_sent_to_the_mfa_page(world: Any) -> None:
    beat_all()
    c = Client()
    # Password only: the coordinator has a TOTP device and has not used it yet.
    response = c.post(
        "/accounts/login/", {"username": world.coordinator.user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert c.get("/o/org-a/alerts/").status_code == 302  # the rest of the site asks for MFA
    assert c.get("/healthz").status_code == 200
    assert c.get("/metrics").status_code == 200


def test_healthz_and_metrics_answer_503_when_the_database_is_down(tmp_path: Path) -> None:
    """A real Amparo process whose PostgreSQL does not answer (nothing listens on the
    port). The metrics token comes from a file, as a container would mount it."""
    token_file = tmp_path / "metrics-token"
    token_file.write_text("file-token-0123456789\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "AMPARO_"))}
    env.update(
        {
            "SECRET_KEY": os.environ["SECRET_KEY"],
            "AMPARO_MASTER_KEY": os.environ["AMPARO_MASTER_KEY"],
            "AMPARO_DATA_DIR": str(tmp_path / "data"),
            "AMPARO_CONN_MAX_AGE": "0",
            "DATABASE_URL": f"postgres://amparo@127.0.0.1:{free_port()}/amparo?connect_timeout=3",
            "AMPARO_METRICS_TOKEN_FILE": str(token_file),
            "DJANGO_SETTINGS_MODULE": "amparo.settings",
            "AMPARO_LOG_LEVEL": "CRITICAL",
        }
    )
    script = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
c = Client(HTTP_HOST="127.0.0.1")
health = c.get("/healthz")
metrics = c.get("/metrics", HTTP_AUTHORIZATION="Bearer file-token-0123456789")
print(json.dumps({
    "token": settings.AMPARO_METRICS_TOKEN,
    "health": [health.status_code, json.loads(health.content)],
    "metrics": [metrics.status_code, metrics.content.decode()],
}))
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["token"] == "file-token-0123456789"
    status, body = answer["health"]
    assert status == 503
    assert body["failed"] == ["database", "worker"]
    assert body["checks"]["evidence_store"] == {"ok": True}
    assert answer["metrics"] == [503, "Database unavailable\n"]


# /metrics: who may read it


def test_metrics_answers_a_local_scraper_when_no_token_is_set(db: Any) -> None:
    response = Client().get("/metrics")  # the test client comes from 127.0.0.1
    assert response.status_code == 200
    assert response["Content-Type"] == prometheus_client.CONTENT_TYPE_LATEST
    assert "no-store" in response["Cache-Control"]
    assert "amparo_escalation_steps_pending" in response.content.decode()
    assert Client(REMOTE_ADDR="::1").get("/metrics").status_code == 200


@pytest.mark.parametrize(
    "extra",
    [
        {"REMOTE_ADDR": "203.0.113.9"},
        {"REMOTE_ADDR": "10.0.0.5"},
        # A proxy on the same machine: every client would look local.
        {"HTTP_X_FORWARDED_FOR": "203.0.113.9"},
        {"HTTP_X_FORWARDED_PROTO": "https"},
        {"HTTP_X_REAL_IP": "203.0.113.9"},
        {"HTTP_FORWARDED": "for=203.0.113.9"},
    ],
)
def test_metrics_is_not_there_for_anyone_else_without_a_token(db: Any, extra: Any) -> None:
    assert Client(**extra).get("/metrics").status_code == 404


def test_metrics_knows_the_client_address_header_of_the_proxy(db: Any, settings: Any) -> None:
    settings.AMPARO_CLIENT_IP_HEADER = "X-Client-Address"
    assert Client(HTTP_X_CLIENT_ADDRESS="203.0.113.9").get("/metrics").status_code == 404
    assert Client().get("/metrics").status_code == 200


def test_metrics_with_a_token_answers_only_that_bearer_token(db: Any, settings: Any) -> None:
    settings.AMPARO_METRICS_TOKEN = "s3cret-scrape-token-xyz"
    local = Client()
    assert local.get("/metrics").status_code == 403  # loopback is not enough any more
    assert local.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert (
        local.get("/metrics", HTTP_AUTHORIZATION="Basic s3cret-scrape-token-xyz").status_code == 403
    )
    assert (
        local.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token-xy").status_code == 403
    )
    denied = local.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong")
    assert denied["WWW-Authenticate"].startswith("Bearer")
    assert "amparo_" not in denied.content.decode()
    remote = Client(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_PROTO="https")
    response = remote.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token-xyz")
    assert response.status_code == 200
    assert "amparo_worker_heartbeat_age_seconds" in response.content.decode()


# /metrics: the figures


@pytest.fixture
def org(db: Any, clock: Any) -> Organisation:
    return people.create_organisation(
        "test",
        name="Federación Nativa Arasaeri",
        slug="arasaeri",
        kind="indigenous_federation",
        country="PE",
        region="Madre de Dios",
    )


@pytest.fixture
def ana(org: Organisation) -> Person:
    user = people.create_user("test", email="ana.login@arasaeri.example", password=None)
    people.add_membership("test", org, user, Role.COORDINATOR)
    return people.create_person(
        "test",
        org,
        given_names="Ana",
        family_names="Quispe",
        user=user,
        phone_numbers=["+51982000001"],
        email="ana@arasaeri.example",
    )


@pytest.fixture
def john(org: Organisation) -> Person:
    return people.create_person(
        "test",
        org,
        given_names="John",
        family_names="Smith",
        phone_numbers=["+447700900123"],
        email="john@network.example",
    )


def tier(level: str, targets: list[Any], channels: list[str], delay: int) -> dict[str, Any]:
    return {
        "level": level,
        "targets": targets,
        "channels": channels,
        "delay_minutes": delay,
        "repeat_count": 0,
        "repeat_interval_minutes": 1,
    }


def policy(org: Organisation, *tiers: dict[str, Any]) -> EscalationPolicy:
    return alert_actions.save_policy(
        "test",
        org,
        policy=None,
        name=f"Metrics {EscalationPolicy.objects.count()}",
        description="",
        kinds=[],
        severities=[],
        priority=1,
        tiers=list(tiers),
    )


def raise_alert(org: Organisation, chosen: EscalationPolicy, words: str) -> Alert:
    return alert_actions.raise_alert(
        "test", org, kind="threat", severity="high", message=words, policy=chosen
    )


def scrape() -> tuple[str, dict[str, dict[tuple[tuple[str, str], ...], float]]]:
    """The text of /metrics and its samples: name -> {labels: value}."""
    response = Client().get("/metrics")
    assert response.status_code == 200
    text = response.content.decode()
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return text, samples


def by(samples: Any, name: str, label: str) -> dict[str, float]:
    return {dict(labels)[label]: value for labels, value in samples[name].items()}


def test_metrics_count_pending_and_overdue_steps_and_failed_messages_by_tier_and_channel(
    org: Organisation, ana: Person, john: Person, clock: Any
) -> None:
    with WebhookReceiver(status=500) as hook:
        DeliveryChannel.objects.create(organisation=org, channel=Channel.WEBHOOK, url=hook.url())
        # No SMS gateway at all: an SMS fails for good at its first attempt.
        chosen = policy(
            org,
            tier("local", [{"type": "role", "role": "coordinator"}], ["webhook", "sms"], 0),
            tier("regional", [{"type": "person", "id": str(john.pk)}], ["webhook"], 10),
            tier("national", [{"type": "person", "id": str(john.pk)}], ["email"], 60),
        )
        raise_alert(org, chosen, "Hombres armados en la trocha")

        _text, samples = scrape()
        assert by(samples, "amparo_escalation_steps_pending", "tier") == {
            "local": 1,
            "regional": 1,
            "national": 1,
            "international": 0,
        }
        # Due now is not overdue yet.
        assert set(by(samples, "amparo_escalation_steps_overdue", "tier").values()) == {0}

        clock.move_to(T0 + timedelta(minutes=30))
        _text, samples = scrape()
        assert by(samples, "amparo_escalation_steps_overdue", "tier") == {
            "local": 1,
            "regional": 1,
            "national": 0,
            "international": 0,
        }
        assert by(samples, "amparo_escalation_step_lateness_seconds", "tier") == {
            "local": 1800,
            "regional": 1200,
            "national": 0,
            "international": 0,
        }

        # The clock runs the two due steps; the sender tries each message once.
        assert run_due_steps("test") == 2
        results = {(m.channel, send_message(m)) for m in claim_messages("test")}
        assert results == {("webhook", False), ("sms", False)}
        assert len(hook.requests()) == 2

    states = sorted(OutboxMessage.objects.values_list("channel", "state", "attempts"))
    assert states == [
        ("sms", OutboxState.FAILED, 1),
        ("webhook", OutboxState.PENDING, 1),
        ("webhook", OutboxState.PENDING, 1),
    ]
    _text, samples = scrape()
    assert by(samples, "amparo_escalation_steps_pending", "tier") == {
        "local": 0,
        "regional": 0,
        "national": 1,
        "international": 0,
    }
    assert set(by(samples, "amparo_escalation_steps_overdue", "tier").values()) == {0}
    assert by(samples, "amparo_outbox_failed_messages", "channel") == {
        "sms": 1,
        "email": 0,
        "webhook": 0,
        "signal": 0,
        "telegram": 0,
    }
    assert by(samples, "amparo_outbox_retrying_messages", "channel") == {
        "sms": 0,
        "email": 0,
        "webhook": 2,
        "signal": 0,
        "telegram": 0,
    }


def test_metrics_bucket_unacknowledged_alerts_by_age(
    org: Organisation, ana: Person, clock: Any
) -> None:
    chosen = policy(org, tier("local", [{"type": "role", "role": "coordinator"}], ["email"], 0))
    raise_alert(org, chosen, "uno")  # T0: 3 h old at the scrape
    clock.move_to(T0 + timedelta(hours=2, minutes=50))
    raise_alert(org, chosen, "dos")  # 10 min old
    clock.move_to(T0 + timedelta(hours=2, minutes=58))
    raise_alert(org, chosen, "tres")  # 2 min old
    taken = raise_alert(org, chosen, "cuatro")
    assert alert_actions.acknowledge_alert(ana.user, taken, via="web", role="coordinator")
    clock.move_to(T0 + timedelta(hours=3))

    _text, samples = scrape()
    assert by(samples, "amparo_alerts_unacknowledged", "older_than_seconds") == {
        "0": 3,
        "300": 2,
        "900": 1,
        "3600": 1,
        "14400": 0,
        "86400": 0,
    }
    assert samples["amparo_alerts_unacknowledged_oldest_seconds"] == {(): 3 * 3600}

    for alert in Alert.objects.filter(state="raised"):
        alert_actions.acknowledge_alert(ana.user, alert, via="web", role="coordinator")
    _text, samples = scrape()
    assert set(by(samples, "amparo_alerts_unacknowledged", "older_than_seconds").values()) == {0}
    assert samples["amparo_alerts_unacknowledged_oldest_seconds"] == {(): 0}


def test_metrics_give_each_loops_heartbeat_age(db: Any, clock: Any, settings: Any) -> None:
    beat("clock", worker="host:1/clock")
    beat("outbox", worker="host:1/outbox")
    clock.move_to(T0 + timedelta(seconds=12.5))
    beat("outbox", worker="host:1/outbox")
    clock.move_to(T0 + timedelta(seconds=20))
    text, samples = scrape()
    assert by(samples, "amparo_worker_heartbeat_age_seconds", "loop") == {
        "clock": 20,
        "outbox": 7.5,
        "auditor": float("inf"),
        "checkins": float("inf"),
    }
    assert samples["amparo_worker_heartbeat_stale_after_seconds"] == {(): 30}
    assert "host:1" not in text  # the worker's host and process are not shown


def test_metrics_show_no_name_code_address_or_words(
    org: Organisation, ana: Person, john: Person, clock: Any
) -> None:
    chosen = policy(org, tier("local", [{"type": "person", "id": str(john.pk)}], ["sms"], 0))
    alert = raise_alert(org, chosen, "Amenaza de los madereros de Boca Manu")
    run_due_steps("test")
    for message in claim_messages("test"):
        send_message(message)
    beat_all()
    text, samples = scrape()
    assert samples["amparo_outbox_failed_messages"]  # there is something to leak
    for secret in (
        org.name,
        org.slug,
        str(org.pk),
        alert.code,
        str(alert.pk),
        "madereros",
        "Boca Manu",
        "John",
        "Smith",
        "Quispe",
        "447700900123",
        "john@network.example",
        "ana@arasaeri.example",
    ):
        assert secret not in text, secret
    labels = {key for values in samples.values() for labels in values for key, _v in labels}
    assert labels == {"tier", "channel", "loop", "older_than_seconds"}


def test_metrics_come_from_a_registry_of_their_own(db: Any) -> None:
    assert ops.REGISTRY is not prometheus_client.REGISTRY
    text, samples = scrape()
    assert all(name.startswith("amparo_") for name in samples)
    assert "process_" not in text and "python_gc" not in text
    # Nothing of Amparo's is on the library's global registry either.
    assert b"amparo_" not in prometheus_client.generate_latest(prometheus_client.REGISTRY)


def test_metrics_follow_the_database_at_each_scrape(org: Organisation, ana: Person) -> None:
    chosen = policy(org, tier("national", [{"type": "role", "role": "coordinator"}], ["sms"], 5))
    _text, samples = scrape()
    assert by(samples, "amparo_escalation_steps_pending", "tier")["national"] == 0
    raise_alert(org, chosen, "x")
    raise_alert(org, chosen, "y")
    _text, samples = scrape()
    assert by(samples, "amparo_escalation_steps_pending", "tier")["national"] == 2


def test_a_scrape_costs_four_queries(
    org: Organisation, ana: Person, django_assert_num_queries: Any
) -> None:
    chosen = policy(org, tier("local", [{"type": "role", "role": "coordinator"}], ["sms"], 0))
    raise_alert(org, chosen, "x")
    beat_all()
    with django_assert_num_queries(4):
        list(ops.REGISTRY.collect())
