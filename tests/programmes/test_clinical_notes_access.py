"""Who reads what of a referral (programmes.access): the coordinator sees the reason,
the healing practices and the sessions' dates but never the clinical notes; the assigned
psychologist reads the notes on their own page, and each reading is audited; the person
referred sees the professional's contact and the next session, not the reason nor the
notes; the API returns none of the sealed texts."""

from __future__ import annotations

import json

import pytest

from amparo.core.models import AuditEntry
from amparo.programmes import actions
from tests.programmes.conftest import HEALING, NOTES, PROFESSIONAL, REASON, past

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_session(care):
    actions.record_session(
        care.psychologist.user,
        care.referral,
        held_on=past(3),
        duration_minutes=50,
        attended=True,
        clinical_notes=NOTES,
    )
    return care


def url(care, tail=""):
    return f"/o/org-a/referrals/{care.referral.pk}/{tail}"


def test_the_coordinator_cannot_read_clinical_notes(world, with_session, login):
    c = login(world.coordinator)
    page = c.get(url(with_session)).content.decode()
    assert REASON in page and HEALING in page
    assert past(3).isoformat() in page  # the session's date
    assert NOTES not in page
    assert "referral-notes" not in page and "/notes/" not in page
    assert c.get(url(with_session, "notes/")).status_code == 404
    assert not AuditEntry.objects.filter(action="psychosocial_referral.notes_read").exists()


def test_the_assigned_psychologist_reads_the_notes_and_it_is_audited(world, with_session, login):
    c = login(with_session.psychologist)
    page = c.get(url(with_session)).content.decode()
    assert NOTES not in page  # not on the referral's page: on their own page
    response = c.get(url(with_session, "notes/"))
    assert response.status_code == 200
    assert NOTES in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.get(action="psychosocial_referral.notes_read")
    assert entry.actor == f"user:{with_session.psychologist.user.pk}"
    assert entry.object_id == str(with_session.referral.pk)


def test_a_psychologist_not_assigned_sees_nothing(world, with_session, login):
    c = login(with_session.other_psychologist)
    assert c.get(url(with_session)).status_code == 404
    assert c.get(url(with_session, "notes/")).status_code == 404
    assert str(with_session.referral.pk) not in c.get("/o/org-a/referrals/").content.decode()


def test_the_person_referred_sees_the_contact_and_next_session_only(world, with_session, login):
    from datetime import UTC, datetime

    actions.schedule_next_session(
        "test", with_session.referral, datetime(2099, 5, 4, 14, tzinfo=UTC)
    )
    c = login(world.defender)
    assert str(with_session.referral.pk) in c.get("/o/org-a/referrals/").content.decode()
    page = c.get(url(with_session)).content.decode()
    assert PROFESSIONAL in page and "+51 82 571 444" in page
    assert "2099-05-04" in page
    assert 'data-testid="session-count">1<' in page
    for secret in (REASON, HEALING, NOTES):
        assert secret not in page
    assert 'data-testid="session-form"' not in page
    assert c.get(url(with_session, "notes/")).status_code == 404


def test_the_api_returns_no_sealed_text(world, with_session, api_client):
    for persona in (world.coordinator, with_session.psychologist, world.defender):
        c = api_client(persona)
        bodies = [
            c.get("/api/v1/referrals?organisation=org-a").content.decode(),
            c.get(f"/api/v1/referrals/{with_session.referral.pk}").content.decode(),
            c.get(f"/api/v1/referrals/{with_session.referral.pk}/sessions").content.decode(),
        ]
        text = json.dumps(bodies, ensure_ascii=False)
        for secret in (REASON, HEALING, NOTES):
            assert secret not in text


def test_the_api_makes_a_referral_and_records_a_session(world, care, api_client):
    c = api_client(world.coordinator)
    response = c.post(
        "/api/v1/referrals",
        {
            "organisation": "org-a",
            "person": str(world.defender_person.pk),
            "professional": str(care.kidnapping.pk),
            "psychologist": str(care.psychologist.user.pk),
            "reason": REASON,
            "consent": True,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    referral_id = response.json()["id"]
    refused = c.post(
        "/api/v1/referrals",
        {
            "organisation": "org-a",
            "person": str(world.defender_person.pk),
            "professional": str(care.kidnapping.pk),
            "reason": REASON,
            "consent": False,
        },
        content_type="application/json",
    )
    assert refused.status_code == 422
    p = api_client(care.psychologist)
    response = p.post(
        f"/api/v1/referrals/{referral_id}/sessions",
        {"held_on": past().isoformat(), "duration_minutes": 45, "clinical_notes": NOTES},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert c.get(f"/api/v1/referrals/{referral_id}").json()["sessions_held"] == 1
    assert c.post(f"/api/v1/referrals/{referral_id}/close").json()["status"] == "closed"
