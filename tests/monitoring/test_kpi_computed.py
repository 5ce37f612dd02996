"""Computed KPIs of the catalogue on fixtures with known answers (issue 8, point 7:
"average alert response time, share of women and youth trained, time to fund
disbursement, average evacuation time in drills, share of threats documented with
evidence"), through the catalogue's own registry, in the catalogue's units."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from amparo.alerts.models import Alert
from amparo.incidents import actions as incident_actions
from amparo.incidents import vault
from amparo.incidents.models import Source
from amparo.monitoring import kpis
from tests.incidents.test_api import jpeg_bytes
from tests.programmes.test_fund_kpis import history  # noqa: F401 - fixture
from tests.programmes.test_trainings_kpis import trained  # noqa: F401 - fixture
from tests.protocols.test_evacuation_plans_and_drills import drill

pytestmark = pytest.mark.django_db

YEAR_2024 = (date(2024, 1, 1), date(2024, 12, 31))


def value(kpi_id, organisation, since=None, until=None):
    kpi = kpis.kpi_by_id(kpi_id)
    assert kpi is not None and kpi.computed, kpi_id
    return kpis.compute(kpi, organisation, since, until)


def alert(organisation, raised_at, after=None):
    return Alert.objects.create(
        organisation=organisation,
        kind="panic",
        severity="high",
        code="K" + raised_at.strftime("%m%d%H%M"),
        raised_at=raised_at,
        acknowledged_at=None if after is None else raised_at + after,
    )


def test_it_averages_alert_response_time(world):
    start = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    alert(world.org_a, start, timedelta(minutes=2))
    alert(world.org_a, start + timedelta(days=1), timedelta(minutes=10))
    alert(world.org_a, start + timedelta(days=2))  # never acknowledged: not averaged
    alert(world.org_b, start, timedelta(hours=5))  # another organisation
    for kpi_id in ("s2l2-average-alert-response-time", "s1l6-average-alert-response-time"):
        assert value(kpi_id, world.org_a, *YEAR_2024) == pytest.approx(6)
    assert value("s2l2-alerts-acknowledged", world.org_a, *YEAR_2024) == 2
    assert value("s2l2-average-alert-response-time", world.org_a, date(2025, 1, 1)) is None


def test_it_shares_women_and_youth_trained(world, trained):  # noqa: F811
    # tests.programmes.test_trainings_kpis: 5 participants, 3 women, 2 under 30.
    assert value("s1l1-share-of-women-trained", world.org_a) == pytest.approx(60)
    assert value("s1l1-share-of-youth-trained", world.org_a) == pytest.approx(40)
    # They were trained in security (Strategy 1, line 3), none in line 1.
    assert value("s1l3-defenders-trained-in-security", world.org_a) == 5
    assert value("s1l1-workshop-participants", world.org_a) == 0
    assert value("s1l1-share-of-women-trained", world.org_b) is None


def test_it_times_fund_disbursement(world, history):  # noqa: F811
    # tests.programmes.test_fund_kpis: 22 h on average, satisfaction 4, two people.
    assert value("s2l5-time-to-fund-disbursement", world.org_a) == pytest.approx(22)
    assert value("s2l5-beneficiary-satisfaction", world.org_a) == pytest.approx(4)
    assert value("s2l5-defenders-assisted-by-the-fund", world.org_a) == 2
    assert value("s2l5-time-to-fund-disbursement", world.org_b) is None


def test_it_averages_evacuation_time_in_drills(world):
    drill(world, date(2025, 2, 1), 600, 15)
    drill(world, date(2025, 3, 1), 480, 18, errors=2)
    drill(world, date(2025, 3, 20), None, 20)  # not timed: not averaged
    drill(world, date(2025, 3, 21), 60, 20, organisation=world.org_b)
    q1 = (date(2025, 1, 1), date(2025, 3, 31))
    assert value("s1l4-average-evacuation-time", world.org_a, *q1) == pytest.approx(9)
    assert value("s2l3-reduction-in-evacuation-time", world.org_a, *q1) == pytest.approx(2)
    # 53 of 60 participants followed the protocol.
    assert value("s1l4-participants-following-the-protocol", world.org_a, *q1) == (
        pytest.approx(88.3)
    )
    assert value("s1l4-average-evacuation-time", world.org_a, *YEAR_2024) is None


def test_it_shares_threats_documented_with_evidence(world, settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"

    def report(organisation, evidence=()):
        incident_actions.report_threat(
            world.focal_point.user if organisation == world.org_a else world.coordinator_b.user,
            organisation,
            {"verbatim": "Te vamos a encontrar", "region": "Madre de Dios"},
            source=Source.WEB,
            evidence=list(evidence),
        )

    photo = vault.stage_stream(world.org_a.pk, "foto.jpg", iter([jpeg_bytes()]))
    report(world.org_a, [photo])
    report(world.org_a)
    report(world.org_a)
    report(world.org_a)
    report(world.org_b)
    assert value("s4l1-threats-documented-with-evidence", world.org_a) == pytest.approx(25)
    assert value("s1l6-threats-documented-with-evidence", world.org_a) == 1
    assert value("s1l3-threats-reported", world.org_a) == 4
    assert value("s4l1-threats-documented-with-evidence", world.org_a, *YEAR_2024) is None


def test_every_computed_kpi_answers_on_an_empty_organisation(world):
    """None (nothing to answer) or a number, never an error."""
    for kpi in kpis.catalogue():
        if kpi.computed:
            result = kpis.compute(kpi, world.org_a, *YEAR_2024)
            assert result is None or isinstance(result, float), kpi.id
