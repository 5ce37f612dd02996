"""Sessions counted (issue 6, point 4): the count per referral on the pages and the API,
and the monthly figures for the KPI catalogue (reference, Strategy 6, line 4: "Number of
defenders receiving psychosocial support; ... integration of cultural healing
practices")."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from amparo.people import actions as people_actions
from amparo.programmes import actions, kpis
from tests.programmes.conftest import REASON

pytestmark = pytest.mark.django_db


def session(care, held_on, attended=True, minutes=60, referral=None):
    return actions.record_session(
        care.psychologist.user,
        referral or care.referral,
        held_on=held_on,
        duration_minutes=minutes,
        attended=attended,
    )


def test_it_counts_attended_sessions_per_referral(world, care, login, api_client):
    session(care, date(2025, 1, 10))
    session(care, date(2025, 1, 17), attended=False)
    session(care, date(2025, 1, 24))
    page = login(world.coordinator).get(f"/o/org-a/referrals/{care.referral.pk}/")
    assert 'data-testid="session-count">2<' in page.content.decode()
    body = api_client(world.coordinator).get(f"/api/v1/referrals/{care.referral.pk}").json()
    assert body["sessions_held"] == 2


def test_it_gives_the_monthly_figures_of_an_organisation(world, care):
    with time_machine.travel(datetime(2025, 2, 3, 15, tzinfo=UTC)):
        other = people_actions.create_person("test", world.org_a, given_names="Eusebio")
        second = actions.refer_person(
            world.coordinator.user,
            world.org_a,
            person=other,
            professional=care.kidnapping,
            reason=REASON,
            consent=True,
            psychologist=care.psychologist.user,
        )
    session(care, date(2025, 1, 10), minutes=50)
    session(care, date(2025, 2, 7), minutes=40)
    session(care, date(2025, 2, 14), attended=False)
    session(care, date(2025, 2, 20), minutes=30, referral=second)
    figures = kpis.session_counts_by_month(
        world.org_a, since=date(2025, 1, 1), until=date(2025, 2, 28)
    )
    assert [
        (f.month, f.sessions_held, f.sessions_missed, f.minutes, f.people_supported)
        for f in figures
    ] == [
        (date(2025, 1, 1), 1, 0, 50, 1),
        (date(2025, 2, 1), 2, 1, 70, 2),
    ]
    february = figures[1]
    assert february.referrals_made == 1
    assert february.referrals_with_healing_practices == 0
    assert kpis.people_supported(world.org_a, since=date(2025, 1, 1)) == 2
    assert kpis.session_counts_by_month(world.org_b) == []


def test_the_fixture_referral_counts_its_healing_practices(world, care):
    month = care.referral.referred_at.date().replace(day=1)
    (figure,) = kpis.session_counts_by_month(world.org_a)
    assert figure.month == month
    assert figure.referrals_made == 1
    assert figure.referrals_with_healing_practices == 1
    assert figure.sessions_held == 0
