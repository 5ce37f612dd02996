"""Acknowledgement (DESIGN.md sections 5 and 6): the web page, the API, the signed link
and an SMS "OK <code>" each stop the escalation and record who took responsibility, in
which role, by which route and how long after raising. The first acknowledgement counts;
a used, expired or tampered link does nothing. Resolving is a separate step."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client

from amparo.alerts import actions
from amparo.alerts.models import AckLink, Alert, AlertState, AlertStep, StepState
from amparo.channels.sms.actions import set_inbound_token
from amparo.core.models import AuditEntry
from amparo.people import actions as people_actions
from tests.alerts.support import (
    T0,
    ack_link_of,
    ack_path_for,
    after,
    coordinator_person,
    fast_hashing,  # noqa: F401 - a fixture
    pending_steps,
    raise_high,
    run_steps,
)

pytestmark = pytest.mark.usefixtures("fast_hashing")

RESPONSE_SECONDS = 7 * 60


@pytest.fixture
def traveller(world):
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def julia(world):
    return coordinator_person(world)


@pytest.fixture
def alert(world, julia, traveller):
    """A high alert whose first three steps ran (the focal point got an e-mail with a
    link), now seven minutes old."""
    alert = raise_high(world)
    traveller.move_to(after(7))
    assert run_steps() == 3
    assert pending_steps(alert) == 9
    return alert


def state_of(alert):
    a = Alert.objects.get(pk=alert.pk)
    return (
        a.state,
        a.acknowledged_at,
        a.acknowledged_by_id,
        a.acknowledged_by_label,
        a.acknowledged_role,
        a.acknowledged_via,
        a.acknowledged_level,
        pending_steps(alert),
    )


def assert_escalation_stopped(alert, traveller, *, via, label, role, user):
    a = Alert.objects.get(pk=alert.pk)
    assert a.state == AlertState.ACKNOWLEDGED
    assert a.acknowledged_via == via
    assert a.acknowledged_by_label == label
    assert a.acknowledged_role == role
    assert a.acknowledged_by_id == (user.pk if user else None)
    assert a.acknowledged_level == "local"
    assert a.acknowledged_at - a.raised_at == timedelta(seconds=RESPONSE_SECONDS)
    assert a.response_seconds == RESPONSE_SECONDS
    assert a.resolved_at is None  # acknowledging is not resolving
    steps = AlertStep.objects.filter(alert=alert)
    assert steps.filter(state=StepState.DONE).count() == 3
    assert steps.filter(state=StepState.CANCELLED).count() == 9
    entry = AuditEntry.objects.filter(action="alert.acknowledged", object_id=str(alert.pk)).get()
    assert entry.details["via"] == via
    assert entry.details["steps_cancelled"] == 9
    assert entry.details["response_seconds"] == RESPONSE_SECONDS
    # Nothing more goes out, however long we wait.
    traveller.move_to(after(48 * 60))
    assert run_steps() == 0
    assert steps.filter(state=StepState.DONE).count() == 3


def test_it_acknowledges_on_the_web_page(world, login, alert, traveller):
    c = login(world.coordinator)
    response = c.post(f"/o/org-a/alerts/{alert.pk}/acknowledge/")
    assert response.status_code == 302
    assert response.url == f"/o/org-a/alerts/{alert.pk}/"
    page = c.get(f"/o/org-a/alerts/{alert.pk}/").content.decode()
    assert "coordinator@a.example" in page
    assert 'data-testid="acknowledge"' not in page
    assert_escalation_stopped(
        alert,
        traveller,
        via="web",
        label="coordinator@a.example",
        role="coordinator",
        user=world.coordinator.user,
    )


def test_it_acknowledges_through_the_api(world, api_client, alert, traveller):
    c = api_client(world.coordinator)
    response = c.post(f"/api/v1/alerts/{alert.pk}/acknowledge")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "acknowledged"
    assert body["acknowledged_via"] == "api"
    assert body["response_seconds"] == RESPONSE_SECONDS
    assert_escalation_stopped(
        alert,
        traveller,
        via="api",
        label="coordinator@a.example",
        role="coordinator",
        user=world.coordinator.user,
    )


def test_it_acknowledges_by_the_signed_link_only_on_post(world, alert, traveller):
    path = ack_path_for(alert, "focal@a.example")
    anonymous = Client()
    before = state_of(alert)
    # A link preview (or a curious proxy) fetches the page: nothing happens.
    page = anonymous.get(path)
    assert page.status_code == 200
    assert b'data-testid="ack-link-confirm"' in page.content
    assert alert.code.encode() in page.content
    assert anonymous.head(path).status_code == 200
    assert state_of(alert) == before
    assert AckLink.objects.filter(used_at__isnull=False).count() == 0

    done = anonymous.post(path)
    assert done.status_code == 200
    assert alert.code.encode() in done.content
    assert_escalation_stopped(
        alert,
        traveller,
        via="link",
        label="focal@a.example",
        role="focal_point",
        user=world.focal_point.user,
    )


def test_it_acknowledges_by_sms(world, julia, alert, traveller):
    token = set_inbound_token("test", world.org_a)
    response = Client().post(
        f"/channels/sms/generic/org-a/?token={token}",
        {"From": "+51 984 700 100", "Body": f"ok {alert.code.lower()}"},
    )
    assert response.status_code == 200
    assert alert.code in response.content.decode()
    assert_escalation_stopped(
        alert,
        traveller,
        via="sms",
        label="Julia Mamani Condori",
        role="coordinator",
        user=world.coordinator.user,
    )


def test_it_keeps_the_first_acknowledgement(world, login, api_client, julia, alert, traveller):
    path = ack_path_for(alert, "focal@a.example")
    c = api_client(world.coordinator)
    assert c.post(f"/api/v1/alerts/{alert.pk}/acknowledge").status_code == 200
    first = state_of(alert)
    traveller.move_to(after(9))

    again = c.post(f"/api/v1/alerts/{alert.pk}/acknowledge")
    assert again.status_code == 409
    assert again.json() == {"detail": "already acknowledged"}
    other = api_client(world.focal_point).post(f"/api/v1/alerts/{alert.pk}/acknowledge")
    assert other.status_code == 409
    web = login(world.supervisor).post(f"/o/org-a/alerts/{alert.pk}/acknowledge/")
    assert web.status_code == 302
    token = set_inbound_token("test", world.org_a)
    Client().post(
        f"/channels/sms/generic/org-a/?token={token}",
        {"From": "+51 984 700 100", "Body": f"OK {alert.code}"},
    )
    # The focal point's link still opens, says so, and takes nothing over.
    page = Client().get(path)
    assert page.status_code == 200
    assert b'data-testid="ack-link-confirm"' not in page.content
    late = Client().post(path)
    assert late.status_code == 409
    assert b'data-testid="ack-link-confirm"' not in late.content
    assert state_of(alert) == first
    assert AuditEntry.objects.filter(action="alert.acknowledged").count() == 1


def test_it_refuses_a_used_link(world, alert):
    path = ack_path_for(alert, "focal@a.example")
    assert Client().post(path).status_code == 200
    after_first = state_of(alert)
    for method in ("get", "post"):
        response = getattr(Client(), method)(path)
        assert response.status_code == 404, method
        assert b"does not work" in response.content or b"no funciona" in response.content
    assert state_of(alert) == after_first


def test_it_refuses_an_expired_link(world, alert, traveller):
    path = ack_path_for(alert, "focal@a.example")
    link = ack_link_of(path)
    assert link.expires_at == T0 + timedelta(minutes=7, hours=72)
    before = state_of(alert)
    traveller.move_to(link.expires_at - timedelta(seconds=1))
    assert Client().get(path).status_code == 200  # the control: still valid just before
    traveller.move_to(link.expires_at + timedelta(seconds=1))
    assert Client().get(path).status_code == 404
    assert Client().post(path).status_code == 404
    assert state_of(alert) == before
    assert AckLink.objects.get(pk=link.pk).used_at is None


def test_it_refuses_a_tampered_link(world, alert):
    path = ack_path_for(alert, "focal@a.example")
    token = path.split("/")[2]
    value, _sep, signature = token.rpartition(":")
    swapped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    link = ack_link_of(path)
    other_link = AckLink.objects.exclude(pk=link.pk).first()
    forged = [
        f"{value}:{swapped}",
        f"{value[:-1]}x:{signature}",
        f'"{other_link.pk}":{signature}' if other_link else "x:y",
        str(link.pk),
        "not-a-token",
    ]
    before = state_of(alert)
    for bad in forged:
        assert Client().get(f"/a/{bad}/").status_code == 404, bad
        assert Client().post(f"/a/{bad}/").status_code == 404, bad
    assert state_of(alert) == before


def test_it_does_not_let_the_person_at_risk_stop_their_own_alert(world, login, traveller):
    """A seized phone or account must not stop its own escalation; nor may a defender
    take anybody's alert by SMS."""
    people_actions.add_membership("test", world.org_a, world.defender.user, "focal_point")
    alert = actions.raise_alert(
        world.defender.user,
        world.org_a,
        kind="panic",
        severity="high",
        person=world.defender_person,
    )
    token = set_inbound_token("test", world.org_a)
    reply = Client().post(
        f"/channels/sms/generic/org-a/?token={token}",
        {"From": "+51 982 111 222", "Body": f"OK {alert.code}"},
    )
    assert reply.status_code == 200
    assert reply.content  # answered, never silence
    with pytest.raises(ValidationError):
        actions.acknowledge_alert(world.defender.user, alert, via="api")
    response = login(world.defender).post(f"/o/org-a/alerts/{alert.pk}/acknowledge/")
    assert response.status_code == 302
    assert Alert.objects.get(pk=alert.pk).state == AlertState.RAISED
    assert pending_steps(alert) == 12


def test_it_resolves_separately_on_the_web(world, login, alert):
    c = login(world.coordinator)
    c.post(f"/o/org-a/alerts/{alert.pk}/acknowledge/")
    acknowledged = state_of(alert)
    response = c.post(f"/o/org-a/alerts/{alert.pk}/resolve/", {"note": "Trasladada a Lima"})
    assert response.status_code == 302
    a = Alert.objects.get(pk=alert.pk)
    assert a.state == AlertState.RESOLVED
    assert a.resolved_by_id == world.coordinator.user.pk
    assert a.resolution_note == "Trasladada a Lima"
    assert a.resolved_at is not None
    # Resolving keeps who took responsibility, and when.
    assert state_of(alert)[1:] == acknowledged[1:]
    page = c.get(f"/o/org-a/alerts/{alert.pk}/", follow=True).content.decode()
    assert "Trasladada a Lima" in page
    # A second resolution is refused with a message, and changes nothing.
    c.post(f"/o/org-a/alerts/{alert.pk}/resolve/", {"note": "otra vez"})
    assert Alert.objects.get(pk=alert.pk).resolution_note == "Trasladada a Lima"


def test_it_resolves_separately_through_the_api(world, api_client, alert):
    c = api_client(world.coordinator)
    assert c.post(f"/api/v1/alerts/{alert.pk}/acknowledge").json()["state"] == "acknowledged"
    response = c.post(
        f"/api/v1/alerts/{alert.pk}/resolve", {"note": "ok"}, content_type="application/json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "resolved"
    assert body["acknowledged_via"] == "api"
    assert body["resolved_at"] is not None
    again = c.post(f"/api/v1/alerts/{alert.pk}/resolve", {}, content_type="application/json")
    assert again.status_code == 422


def test_it_acknowledges_an_alert_resolved_without_acknowledgement(world, api_client, alert):
    """Resolving straight away still names who took it, and stops the escalation."""
    c = api_client(world.coordinator)
    response = c.post(f"/api/v1/alerts/{alert.pk}/resolve", {}, content_type="application/json")
    assert response.status_code == 200
    a = Alert.objects.get(pk=alert.pk)
    assert a.state == AlertState.RESOLVED
    assert a.acknowledged_via == "resolve"
    assert a.acknowledged_by_id == world.coordinator.user.pk
    assert pending_steps(alert) == 0
