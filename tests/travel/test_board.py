"""The coordinator's board (issue 5, point 8): gate status while a trip is prepared, the
next expected check-in once it is under way, a missed check-in with its open alert, and
the trips that are over hidden until asked for."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from amparo.alerts import actions as alert_actions
from amparo.travel import actions, checkins
from amparo.travel.models import Deployment, DeploymentStatus
from tests.people.wording import set_language

BEFORE = datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
LIMA_START = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)  # 08:00 in Lima


@pytest.fixture
def login(login: Any) -> Any:
    def _login(persona: Any, c: Any = None) -> Any:
        set_language(persona, "en")
        return login(persona, c)

    return _login


def trip(world: Any, status: str, starts: date = date(2026, 3, 1)) -> Deployment:
    return Deployment.objects.create(
        organisation=world.org_a,
        traveller=world.defender_person,
        trip_type="other",
        starts_on=starts,
        returns_on=starts + timedelta(days=30),
        status=status,
    )


def leg(world: Any, deployment: Deployment) -> None:
    checkins.add_leg(
        world.coordinator.user,
        deployment,
        place="Puerto Maldonado",
        country="PE",
        time_zone="America/Lima",
        starts_at=LIMA_START,
        ends_at=LIMA_START + timedelta(days=3),
        checkin_every_hours=24,
        grace_minutes=60,
    )


def board(client: Any, world: Any, query: str = "") -> str:
    url = reverse("deployment-list", args=[world.org_a.slug]) + query
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def row_of(html: str, deployment: Deployment) -> str:
    start = html.index(f'data-deployment="{deployment.pk}"')
    return html[start : html.index("</tr>", start)]


def test_an_active_trip_shows_its_next_expected_checkin(client, world, login):
    active = trip(world, DeploymentStatus.ACTIVE)
    with time_machine.travel(BEFORE, tick=False):
        leg(world, active)
        login(world.coordinator, client)
        row = row_of(board(client, world), active)
    assert "2026-03-01 13:00 UTC" in row
    assert "missed after 14:00" in row
    assert 'data-testid="missed-checkin"' not in row


def test_a_missed_checkin_shows_on_the_board_until_its_alert_is_resolved(client, world, login):
    active = trip(world, DeploymentStatus.ACTIVE)
    with time_machine.travel(BEFORE, tick=False):
        leg(world, active)
    late = LIMA_START + timedelta(minutes=61)
    with time_machine.travel(late, tick=False):
        assert checkins.sweep_missed(late) == 1
        login(world.coordinator, client)
        row = row_of(board(client, world), active)
        assert "Missed check-in" in row
        # The next one is the following day's.
        assert "2026-03-02 13:00 UTC" in row
        alert = active.expected_checkins.get(state="missed").alert
        assert reverse("alert-detail", args=[world.org_a.slug, alert.pk]) in row
        alert_actions.resolve_alert(world.coordinator.user, alert, note="Reached her by phone.")
        row = row_of(board(client, world), active)
    assert "Missed check-in" not in row


def test_the_traveller_sees_the_missed_checkin_without_the_alert_link(client, world, login):
    active = trip(world, DeploymentStatus.ACTIVE)
    with time_machine.travel(BEFORE, tick=False):
        leg(world, active)
    late = LIMA_START + timedelta(minutes=61)
    with time_machine.travel(late, tick=False):
        checkins.sweep_missed(late)
        login(world.defender, client)
        row = row_of(board(client, world), active)
    assert "Missed check-in" in row
    assert "/alerts/" not in row


def test_a_trip_being_prepared_shows_its_failing_gates_and_no_checkin(client, world, login):
    draft = trip(world, DeploymentStatus.DRAFT)
    login(world.coordinator, client)
    row = row_of(board(client, world), draft)
    failing = len(actions.blocking(draft))
    assert failing > 1
    assert f"{failing} gates failing" in row


def test_returned_and_cancelled_trips_only_when_asked(client, world, login):
    over = trip(world, DeploymentStatus.RETURNED)
    cancelled = trip(world, DeploymentStatus.CANCELLED)
    current = trip(world, DeploymentStatus.READY)
    login(world.coordinator, client)
    html = board(client, world)
    assert str(current.pk) in html
    assert str(over.pk) not in html
    assert str(cancelled.pk) not in html
    html = board(client, world, "?all=1")
    assert str(over.pk) in html
    assert str(cancelled.pk) in html


@pytest.mark.django_db(transaction=True)
def test_trips_under_way_cost_no_gate_reads(client, world, login):
    """The gates read about ten rows per trip; trips under way show check-ins instead,
    and those come in the board's one query whatever their number. (Committed, so the
    data keys are cached as in production: a key made by an open transaction is not.)"""
    login(world.coordinator, client)
    for _ in range(2):
        trip(world, DeploymentStatus.ACTIVE)
    with CaptureQueriesContext(connection) as few:
        board(client, world)
    for _ in range(8):
        trip(world, DeploymentStatus.ACTIVE)
    with CaptureQueriesContext(connection) as many:
        board(client, world)
    assert len(many.captured_queries) == len(few.captured_queries)
