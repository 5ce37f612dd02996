"""One report, two channels, one answer (DESIGN.md section 5): the same answers given in
the web form and in the offline form submitted over OpenRosa give the same level,
reasons, checklist and alert."""

from __future__ import annotations

import pytest

from amparo.channels.openrosa import actions
from amparo.incidents.models import Level, ThreatReport
from tests.channels.openrosa_phone import Phone, threat_xml

TEXT = "Si siguen denunciando la minería les quemamos la casa"


def checklist_codes(report: ThreatReport) -> list[str]:
    return list(report.checklist.order_by("step", "position").values_list("code", flat=True))


# (web form answers, offline form answers, level)
CASES = [
    (
        {"physical_violence": "yes"},
        {"physical_violence": "yes"},
        Level.HIGH,
    ),
    (
        {"imminent_harm_signs": ["weapons_shown", "deadline_given"]},
        {"signs": "weapons_shown deadline_given"},
        Level.HIGH,
    ),
    (
        {"source_illicit_activity": "illegal_mining", "shows_knowledge_of_work": "yes"},
        {"illicit": "illegal_mining", "knowledge": "yes"},
        Level.MEDIUM,
    ),
    (
        {
            "physical_violence": "no",
            "attempted_assault": "no",
            "imminent_harm_signs": ["none"],
            "source_illicit_activity": "none",
            "shows_knowledge_of_work": "no",
            "source_known": "no",
        },
        {
            "physical_violence": "no",
            "attempted_assault": "no",
            "signs": "none",
            "illicit": "none",
            "knowledge": "no",
            "known": "no",
        },
        Level.LOW,
    ),
    # "I do not know" everywhere: the rules cannot place it, so medium.
    (
        {"physical_violence": "unknown", "source_illicit_activity": "unknown"},
        {"physical_violence": "unknown", "illicit": "unknown"},
        Level.MEDIUM,
    ),
]


@pytest.mark.parametrize(("web", "offline", "level"), CASES)
def test_the_web_form_and_openrosa_give_the_same_answer(world, login, client, web, offline, level):
    page = login(world.defender).post(
        "/o/org-a/threats/new/",
        {
            "verbatim": TEXT,
            "channel": "in_person",
            "occurred_date": "2026-05-01",
            "occurred_time": "18:30",
            **web,
        },
        headers={"Accept-Language": "es"},
    )
    assert page.status_code == 200
    from_web = ThreatReport.objects.get()

    device, password = actions.create_device(
        "test", world.org_a, label="Rosa", person=world.defender_person
    )
    phone = Phone(client, device.username, password)
    response = phone.submit(
        "org-a",
        threat_xml(
            verbatim=TEXT,
            occurred_date="2026-05-01",
            occurred_time="18:30:00.000-05:00",
            **offline,
        ),
    )
    assert response.status_code == 201, response.content
    from_phone = ThreatReport.objects.exclude(pk=from_web.pk).get()

    assert from_web.level == from_phone.level == level
    assert from_web.rules_level == from_phone.rules_level
    assert from_web.reasons == from_phone.reasons
    assert from_web.answers == from_phone.answers
    assert checklist_codes(from_web) == checklist_codes(from_phone)
    assert checklist_codes(from_web)
    assert from_web.occurred_at == from_phone.occurred_at  # Lima time, both ways
    assert from_web.person == from_phone.person == world.defender_person
    if level == Level.LOW:
        assert from_web.alert is None and from_phone.alert is None
    else:
        assert from_web.alert.severity == from_phone.alert.severity == level
    assert (from_web.source, from_phone.source) == ("web", "openrosa")
