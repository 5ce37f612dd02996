"""Training KPIs on a fixture with known answers (reference, Strategy 1, line 1 KPIs:
"percentage of women and youth trained"; "Pre- and post-workshop surveys ... to measure
knowledge acquired")."""

from __future__ import annotations

from datetime import date

import pytest

from amparo.programmes import kpis, trainings

pytestmark = pytest.mark.django_db


def workshop(world, held_on):
    return trainings.record_workshop(
        world.coordinator.user,
        world.org_a,
        line="s1_l3",
        topic="Seguridad digital",
        held_on=held_on,
        duration_hours="6",
        language="Español",
        community="Boca Pariamanu",
        facilitator="Facilitador",
    )


@pytest.fixture
def trained(world):
    march = workshop(world, date(2025, 3, 4))
    # Four participants in March: two women, one youth under 18 and one of 18-29.
    for gender, band, pre, post in (
        ("woman", "under_18", 20, 60),
        ("woman", "45_59", 50, 70),
        ("man", "18_29", 30, None),
        ("man", "60_plus", 10, 40),
    ):
        trainings.add_participant(
            world.coordinator.user,
            march,
            gender=gender,
            age_band=band,
            indigenous="yes",
            role="community_member",
            pre_score=pre,
            post_score=post,
        )
    june = workshop(world, date(2025, 6, 10))
    trainings.add_participant(
        world.coordinator.user,
        june,
        gender="woman",
        age_band="30_44",
        indigenous="no",
        role="park_ranger",
        pre_score=80,
        post_score=70,
    )


def test_share_of_women_trained(world, trained):
    assert kpis.share_of_women_trained(world.org_a) == pytest.approx(3 / 5)
    march = (date(2025, 3, 1), date(2025, 3, 31))
    assert kpis.share_of_women_trained(world.org_a, *march) == pytest.approx(2 / 4)


def test_share_of_youth_trained(world, trained):
    assert kpis.share_of_youth_trained(world.org_a) == pytest.approx(2 / 5)
    assert kpis.share_of_youth_trained(world.org_a, date(2025, 6, 1), None) == 0


def test_average_score_gain(world, trained):
    # (40 + 20 + 30 - 10) / 4: the participant without a post score is left out.
    assert kpis.average_score_gain(world.org_a) == pytest.approx(20)
    assert kpis.average_score_gain(world.org_a, None, date(2025, 3, 31)) == pytest.approx(30)


def test_nothing_in_the_period_is_none(world, trained):
    period = (date(2024, 1, 1), date(2024, 12, 31))
    assert kpis.share_of_women_trained(world.org_a, *period) is None
    assert kpis.share_of_youth_trained(world.org_a, *period) is None
    assert kpis.average_score_gain(world.org_a, *period) is None
    assert kpis.share_of_women_trained(world.org_b) is None
