"""Coordinator pages (issue 3, point 8): the live board and its htmx partial, an alert's
timeline, the manual raise form, the policy list with its preview, the policy editor,
sharing with a partner organisation, and the worker heartbeat."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from amparo.alerts import actions, clock
from amparo.alerts.models import Alert, AlertShare, EscalationPolicy, PolicyTier
from amparo.core.models import AuditEntry
from tests.alerts.support import (
    T0,
    add_person,
    coordinator_person,
    fast_hashing,  # noqa: F401 - a fixture
    form_as_browser_sends,
    life_safety_policy,
    raise_high,
    run_steps,
)

pytestmark = pytest.mark.usefixtures("fast_hashing")


def template_names(response):
    return [t.name for t in response.templates]


# The board


@pytest.fixture
def three_alerts(world):
    open_high = raise_high(world, message="Hombres armados")
    open_medium = raise_high(world, severity="medium", message="Amenaza por radio")
    closed = raise_high(world, severity="low", message="Ya pasó")
    actions.resolve_alert(world.coordinator.user, closed, "Falsa alarma")
    return open_high, open_medium, closed


def test_it_lists_open_alerts_on_the_board(world, login, three_alerts):
    open_high, open_medium, closed = three_alerts
    c = login(world.coordinator)
    page = c.get("/o/org-a/alerts/")
    assert page.status_code == 200
    text = page.content.decode()
    assert open_high.code in text
    assert open_medium.code in text
    assert closed.code not in text
    assert 'hx-trigger="every' in text  # the board polls for new alerts
    assert f'href="/o/org-a/alerts/{open_high.pk}/"' in text
    everything = c.get("/o/org-a/alerts/?show=all").content.decode()
    assert closed.code in everything


def test_it_serves_only_the_rows_to_htmx(world, login, three_alerts):
    open_high, open_medium, closed = three_alerts
    c = login(world.coordinator)
    partial = c.get("/o/org-a/alerts/?show=open", headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert template_names(partial) == ["alerts/board_rows.html"]
    text = partial.content.decode()
    assert "<html" not in text
    assert "<table>" in text
    assert open_high.code in text and open_medium.code in text
    assert closed.code not in text
    # A new alert appears at the next poll.
    newer = raise_high(world)
    assert newer.code in c.get("/o/org-a/alerts/", headers={"HX-Request": "true"}).content.decode()


# The timeline


def test_it_shows_the_timeline_of_steps_and_messages(world, login):
    julia = coordinator_person(world)
    with time_machine.travel(T0, tick=False) as traveller:
        alert = raise_high(world)
        traveller.move_to(T0 + timedelta(minutes=5, seconds=1))
        assert run_steps() == 3
        c = login(world.coordinator)
        page = c.get(f"/o/org-a/alerts/{alert.pk}/")
    assert page.status_code == 200
    steps = list(page.context["steps"])
    assert len(steps) == 12
    assert [s.state for s in steps].count("done") == 3
    messages = list(page.context["messages_sent"])
    assert len(messages) == 5  # the focal point's e-mail twice; Julia's SMS, e-mail; a webhook
    text = page.content.decode()
    assert text.count("<tr><td>") == 12 + 5
    assert "focal@a.example" in text
    assert julia.display_name in text
    assert "20:00:00" in text and "21:05:00" in text  # due times of the first and last step
    assert alert.code in text
    assert "Hombres armados" in text


# Raising by hand


@pytest.mark.parametrize(
    ("field", "value"),
    [("kind", "meteorite"), ("severity", "extreme"), ("message", ""), ("person", "nobody")],
)
def test_it_validates_the_manual_raise_form(world, login, field, value):
    c = login(world.coordinator)
    data = {"kind": "threat", "severity": "high", "message": "Amenaza en el río"}
    data[field] = value
    response = c.post("/o/org-a/alerts/new/", data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert 'class="field-error"' in response.content.decode()
    assert not Alert.objects.exists()


def test_it_refuses_a_person_of_another_organisation_in_the_raise_form(world, login):
    stranger = add_person(world.org_b, "Ajena")
    c = login(world.coordinator)
    response = c.post(
        "/o/org-a/alerts/new/",
        {"kind": "threat", "severity": "high", "message": "x", "person": str(stranger.pk)},
    )
    assert response.status_code == 200
    assert "person" in response.context["form"].errors
    assert not Alert.objects.exists()


def test_it_raises_an_alert_by_hand(world, login):
    c = login(world.coordinator)
    response = c.post(
        "/o/org-a/alerts/new/",
        {
            "kind": "community",
            "severity": "medium",
            "message": "Tala ilegal cerca de la comunidad",
            "person": str(world.defender_person.pk),
        },
    )
    alert = Alert.objects.get()
    assert response.status_code == 302
    assert response.url == f"/o/org-a/alerts/{alert.pk}/"
    assert (alert.kind, alert.severity, alert.source) == ("community", "medium", "web")
    assert alert.person == world.defender_person
    assert alert.raised_by == world.coordinator.user


# Policies and their preview


def test_it_previews_who_would_be_notified_when_with_real_names(world, login):
    julia = coordinator_person(world)
    c = login(world.coordinator)
    page = c.get("/o/org-a/policies/")
    assert page.status_code == 200
    items = {item["policy"].name: item["preview"] for item in page.context["items"]}
    assert len(items) == 4
    rows = items[life_safety_policy(world.org_a).name]
    assert [r["after"] for r in rows] == [0, 5, 10, 5, 10, 15, 15, 20, 30, 35, 60, 65]
    assert rows[0]["recipients"] == ["focal@a.example"]
    assert rows[3]["recipients"] == [julia.display_name]
    assert rows[3]["channels"] == ["sms", "email", "webhook"]
    assert rows[6]["recipients"] == []  # no regional contact in the directory yet
    text = page.content.decode()
    assert julia.display_name in text
    assert "focal@a.example" in text
    assert world.defender_person.display_name not in text  # nobody is told about Rosa


def management(total, initial=0, prefix="tier"):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def tier_fields(index, **fields):
    defaults = {
        "level": "local",
        "roles": ["coordinator"],
        "channels": ["sms", "email"],
        "delay_minutes": "0",
        "repeat_count": "0",
        "repeat_interval_minutes": "5",
    }
    defaults.update(fields)
    return {f"tier-{index}-{k}": v for k, v in defaults.items() if v is not None}


def policy_post(**overrides):
    data = {
        "name": "Solo coordinación",
        "description": "Alertas comunitarias",
        "kinds": ["community"],
        "priority": "15",
        **management(2),
        **tier_fields(0, repeat_count="1", repeat_interval_minutes="10"),
        **tier_fields(
            1,
            level="regional",
            roles=None,
            directory=["ombudsman"],
            partners="org-b",
            channels=["email"],
            delay_minutes="30",
        ),
    }
    data.update(overrides)
    return data


def test_it_saves_a_policy_with_its_tiers_through_the_formset(world, login):
    julia = coordinator_person(world)
    c = login(world.coordinator)
    data = policy_post(**{"tier-0-people": [str(julia.pk)]})
    response = c.post("/o/org-a/policies/new/", data)
    assert response.status_code == 302, response.context["form"].errors
    assert response.url == "/o/org-a/policies/"
    policy = EscalationPolicy.objects.get(organisation=world.org_a, name="Solo coordinación")
    assert (policy.kinds, policy.severities, policy.priority, policy.version) == (
        ["community"],
        [],
        15,
        1,
    )
    tiers = [t.snapshot() for t in policy.tiers.all()]
    assert tiers == [
        {
            "position": 0,
            "level": "local",
            "targets": [
                {"type": "role", "role": "coordinator"},
                {"type": "person", "id": str(julia.pk)},
            ],
            "channels": ["sms", "email"],
            "delay_minutes": 0,
            "repeat_count": 1,
            "repeat_interval_minutes": 10,
        },
        {
            "position": 1,
            "level": "regional",
            "targets": [
                {"type": "directory", "category": "ombudsman"},
                {"type": "partner", "slug": "org-b"},
            ],
            "channels": ["email"],
            "delay_minutes": 30,
            "repeat_count": 0,
            "repeat_interval_minutes": 5,
        },
    ]
    assert AuditEntry.objects.filter(action="escalation_policy.saved", object_id=str(policy.pk))
    # The editor shows it again, with its preview, and saving a change makes version 2.
    edit = c.get(f"/o/org-a/policies/{policy.pk}/")
    assert edit.status_code == 200
    assert len(edit.context["tiers"].forms) == 3  # two tiers and an empty one to add
    assert julia.display_name in edit.content.decode()
    changed = policy_post(**management(2, initial=2), **{"tier-1-delay_minutes": "45"})
    assert c.post(f"/o/org-a/policies/{policy.pk}/", changed).status_code == 302
    policy.refresh_from_db()
    assert policy.version == 2
    assert [t.delay_minutes for t in policy.tiers.all()] == [0, 45]


def test_it_saves_the_editor_as_a_browser_submits_it(world, login):
    policy = life_safety_policy(world.org_a)
    before = tiers_of(policy)
    c = login(world.coordinator)
    data = form_as_browser_sends(c.get(f"/o/org-a/policies/{policy.pk}/").content.decode())
    assert data["tier-TOTAL_FORMS"] == ["6"]
    assert data["tier-5-level"] == ["local"]  # the empty tier to add, as the browser sends it
    data["tier-4-delay_minutes"] = ["90"]
    response = c.post(f"/o/org-a/policies/{policy.pk}/", data)
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.version == 2
    assert tiers_of(policy)[:4] == before[:4]
    assert tiers_of(policy)[4]["delay_minutes"] == 90


def tiers_of(policy):
    """The tiers as data; the order of targets within a tier carries no meaning."""
    tiers = [t.snapshot() for t in PolicyTier.objects.filter(policy=policy)]
    for tier in tiers:
        tier["targets"] = sorted(tier["targets"], key=lambda t: sorted(t.items()))
    return tiers


@pytest.mark.parametrize(
    ("broken", "where"),
    [
        ({"tier-1-channels": None}, "channels"),
        ({"tier-1-directory": None, "tier-1-partners": ""}, "targets"),
    ],
    ids=["no-channels", "no-targets"],
)
def test_it_refuses_a_tier_without_channels_or_targets(world, login, broken, where):
    policy = life_safety_policy(world.org_a)
    before = (policy.version, tiers_of(policy))
    c = login(world.coordinator)
    data = policy_post(name=policy.name, **management(2, initial=2))
    for key, value in broken.items():
        data.pop(key, None)
        if value is not None:
            data[key] = value
    response = c.post(f"/o/org-a/policies/{policy.pk}/", data)
    assert response.status_code == 200
    text = response.content.decode()
    assert 'role="alert"' in text
    if where == "channels":
        assert "channels" in response.context["tiers"].forms[1].errors
    else:
        assert response.context["form"].non_field_errors()
        assert "destinatario" in text or "target" in text  # es or en, whichever is active
    policy.refresh_from_db()
    assert (policy.version, tiers_of(policy)) == before


# Sharing with a partner organisation


def test_it_shares_an_alert_with_a_partner_who_sees_it_but_cannot_resolve_it(
    world, login, api_client
):
    alert = raise_high(world, person=world.defender_person, location={"lat": -12.6, "lon": -69.2})
    partner = login(world.coordinator_b)
    partner_api = api_client(world.coordinator_b)
    assert alert.code not in partner.get("/o/org-b/alerts/").content.decode()
    assert partner.get(f"/o/org-b/alerts/{alert.pk}/").status_code == 404
    assert partner_api.get(f"/api/v1/alerts/{alert.pk}").status_code == 404

    owner = login(world.coordinator)
    response = owner.post(f"/o/org-a/alerts/{alert.pk}/share/", {"partner": "org-b"})
    assert response.status_code == 302
    share = AlertShare.objects.get()
    assert (share.alert, share.partner, share.shared_by) == (
        alert,
        world.org_b,
        world.coordinator.user,
    )
    entry = AuditEntry.objects.get(action="alert.shared")
    assert entry.actor == world.coordinator.user.email or str(world.coordinator.user.pk) in (
        entry.actor
    )
    assert entry.object_id == str(alert.pk)
    assert entry.details == {"partner": str(world.org_b.pk)}
    assert "Comunidad B" in owner.get(f"/o/org-a/alerts/{alert.pk}/").content.decode()

    board = partner.get("/o/org-b/alerts/").content.decode()
    assert alert.code in board
    assert "Federación A" in board  # marked as another organisation's alert
    detail = partner.get(f"/o/org-b/alerts/{alert.pk}/")
    assert detail.status_code == 200
    text = detail.content.decode()
    assert alert.code in text
    # DESIGN.md section 7: no names, contacts or exact places in partner output.
    assert world.defender_person.display_name not in text
    assert "-12.6" not in text
    assert list(detail.context["messages_sent"]) == []
    listed = partner_api.get("/api/v1/alerts?organisation=org-b")
    assert listed.status_code == 200
    assert [a["id"] for a in listed.json()] == [str(alert.pk)]
    assert partner_api.get(f"/api/v1/alerts/{alert.pk}").json()["organisation"] == "org-a"

    # Seeing is not owning: the partner can neither resolve nor share it on.
    assert partner.post(f"/o/org-b/alerts/{alert.pk}/resolve/", {"note": "x"}).status_code == 404
    api_resolve = partner_api.post(
        f"/api/v1/alerts/{alert.pk}/resolve", {}, content_type="application/json"
    )
    assert api_resolve.status_code == 404
    assert (
        partner.post(f"/o/org-b/alerts/{alert.pk}/share/", {"partner": "org-b"}).status_code == 404
    )
    assert Alert.objects.get(pk=alert.pk).state == "raised"
    assert AlertShare.objects.count() == 1


@pytest.mark.parametrize("slug", ["org-a", "no-such-org"])
def test_it_refuses_to_share_with_itself_or_nobody(world, login, slug):
    alert = raise_high(world)
    c = login(world.coordinator)
    response = c.post(f"/o/org-a/alerts/{alert.pk}/share/", {"partner": slug}, follow=True)
    assert response.status_code == 200
    assert 'class="message error"' in response.content.decode()
    assert not AlertShare.objects.exists()
    assert not AuditEntry.objects.filter(action="alert.shared").exists()


# The heartbeat


def test_it_reports_the_worker_heartbeat(db):
    stale = settings.AMPARO_HEARTBEAT_STALE_SECONDS
    anonymous = Client()
    with time_machine.travel(T0, tick=False) as traveller:
        response = anonymous.get("/health/worker")
        assert response.status_code == 503
        assert response.json() == {
            "ok": False,
            "seconds_since_beat": {
                "clock": None,
                "auditor": None,
                "outbox": None,
                "checkins": None,
            },
        }
        clock.beat("clock")
        clock.beat("auditor")
        clock.beat("checkins")
        assert anonymous.get("/health/worker").status_code == 503  # the outbox is silent
        clock.beat("outbox", sent=3)
        response = anonymous.get("/health/worker")
        assert response.status_code == 200
        assert response.json() == {
            "ok": True,
            "seconds_since_beat": {"clock": 0.0, "auditor": 0.0, "outbox": 0.0, "checkins": 0.0},
        }
        traveller.move_to(T0 + timedelta(seconds=stale - 1))
        assert anonymous.get("/health/worker").status_code == 200
        traveller.move_to(T0 + timedelta(seconds=stale + 1))
        assert anonymous.get("/health/worker").status_code == 503
        clock.beat("clock")
        clock.beat("outbox")
        clock.beat("checkins")
        assert anonymous.get("/health/worker").status_code == 503  # the auditor stopped
        clock.beat("auditor")
        assert anonymous.get("/health/worker").status_code == 200
        traveller.move_to(T0 + timedelta(seconds=2 * stale + 2))
        for loop in ("clock", "outbox", "auditor"):
            clock.beat(loop)
        assert anonymous.get("/health/worker").status_code == 503  # check-ins unwatched
