"""Organisation isolation and need-to-know for threat reports (DESIGN.md section 7):
nothing of organisation A reaches the coordinator of B on any incidents page or post,
and a defender sees only the reports they filed or that are about them. The routes come
from the URL configuration itself, so a new route these tests do not know fails them."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from amparo.core.models import AuditEntry
from amparo.incidents import actions, vault
from amparo.incidents import urls as incident_urls
from amparo.incidents.models import (
    ChecklistItem,
    CustodyEvent,
    EvidenceFile,
    PlanMeasure,
    SecurityPlan,
    Source,
    ThreatReport,
)
from amparo.people import actions as people_actions
from conftest import PASSWORD
from tests.incidents.test_pages import MEDIUM, RECORD, jpeg_bytes
from tests.people.org_pages import random_id, without_csrf

ORG_PREFIX = "o/<slug:slug>/"
KNOWN_ORG_PAGES = {
    "threat-list",
    "threat-new",
    "threat-detail",
    "threat-level",
    "threat-status",
    "threat-item",
    "threat-evidence",
    "threat-dossier",
    "security-plan",
}
# Outside any organisation on purpose: the anonymous form is published by the
# organisation, and the receipt page reveals a status only (tested in test_pages).
KNOWN_PUBLIC = {"threat-anonymous", "threat-receipt"}
POST_ONLY = {"threat-level", "threat-status", "threat-item"}
# Downloads answer 405 to a POST whatever the id: that reveals nothing.
GET_ONLY = {"threat-evidence", "threat-dossier"}
# Valid forms, so that a refusal is the access check and not input validation.
FORMS = {
    "threat-new": {**MEDIUM, **RECORD},
    "threat-level": {"level": "high", "reason": "Intrusa cambia el nivel"},
    "threat-status": {"status": "closed"},
    "threat-item": {"status": "done", "notes": "Intrusa"},
    "security-plan": {"form": "reminders", "days": "30"},
}


def org_patterns():
    return [p for p in incident_urls.urlpatterns if str(p.pattern).startswith(ORG_PREFIX)]


def page_urls(slug, ids):
    urls = {}
    for pattern in org_patterns():
        kwargs = {"slug": slug}
        for name in pattern.pattern.converters:
            if name != "slug":
                assert name in ids, f"route {pattern.name} takes {name}: teach this test"
                kwargs[name] = ids[name]
        urls[pattern.name] = reverse(pattern.name, kwargs=kwargs)
    return urls


@pytest.fixture(autouse=True)
def evidence_store(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"


@pytest.fixture
def records(world):
    photo = vault.stage_stream(world.org_a.pk, "foto.jpg", iter([jpeg_bytes()]))
    report = actions.report_threat(
        world.focal_point.user,
        world.org_a,
        {"verbatim": "Secreto de A", "source_illicit_activity": "illegal_mining"},
        source=Source.WEB,
        person=world.defender_person,
        evidence=[photo],
    ).report
    return {
        "report_id": str(report.pk),
        "item_id": str(report.checklist.get(code="step1_police_report").pk),
        "evidence_id": str(EvidenceFile.objects.get(report=report).pk),
        "person_id": str(world.defender_person.pk),
    }


def state_of_org_a(world):
    """Everything a refused request must leave as it was."""
    return {
        "reports": sorted(
            ThreatReport.objects.filter(organisation=world.org_a).values_list(
                "id", "level", "status", "updated_at"
            )
        ),
        "items": sorted(
            (str(i.pk), i.status, i.notes)
            for i in ChecklistItem.objects.filter(organisation=world.org_a)
        ),
        "custody": CustodyEvent.objects.count(),
        "plans": sorted(
            SecurityPlan.objects.filter(organisation=world.org_a).values_list("id", "reminder_days")
        ),
        "measures": sorted(
            PlanMeasure.objects.filter(organisation=world.org_a).values_list("id", "done")
        ),
        "audit": AuditEntry.objects.count(),
    }


def test_it_knows_every_incidents_route():
    names = {p.name for p in incident_urls.urlpatterns}
    assert names == KNOWN_ORG_PAGES | KNOWN_PUBLIC, "a new route needs its access tests here"
    assert {p.name for p in org_patterns()} == KNOWN_ORG_PAGES
    ids = {"report_id": "r", "item_id": "i", "evidence_id": "e", "person_id": "p"}
    assert set(page_urls("org-a", ids)) == KNOWN_ORG_PAGES
    assert set(FORMS) <= KNOWN_ORG_PAGES


def test_it_serves_every_incidents_page_to_coordinator_a(world, login, records):
    """The control for the refusals below."""
    c = login(world.coordinator)
    for name, url in page_urls("org-a", records).items():
        expected = 405 if name in POST_ONLY else 200
        assert c.get(url).status_code == expected, (name, url)


def test_it_hides_every_org_a_incidents_page_from_coordinator_b(world, login, records):
    c = login(world.coordinator_b)
    before = state_of_org_a(world)
    for name, url in page_urls("org-a", records).items():
        assert c.get(url).status_code == 404, (name, url)
        assert c.post(url, FORMS.get(name, {})).status_code == 404, (name, url)
    assert state_of_org_a(world) == before
    assert not ThreatReport.objects.filter(organisation=world.org_b).exists()
    # The same posts from A's coordinator do work: the refusals were the access check.
    control = login(world.coordinator)
    for name in ("threat-level", "threat-status", "threat-item", "security-plan"):
        response = control.post(page_urls("org-a", records)[name], FORMS[name])
        assert response.status_code == 302, name
    assert state_of_org_a(world) != before


def test_it_hides_org_a_records_behind_org_b_pages(world, login, records):
    c = login(world.coordinator_b)
    before = state_of_org_a(world)
    for pattern in org_patterns():
        if set(pattern.pattern.converters) == {"slug"}:
            continue
        url = page_urls("org-b", records)[pattern.name]
        get_expected = 405 if pattern.name in POST_ONLY else 404
        post_expected = 405 if pattern.name in GET_ONLY else 404
        assert c.get(url).status_code == get_expected, url
        assert c.post(url, FORMS.get(pattern.name, {})).status_code == post_expected, url
    assert state_of_org_a(world) == before


def test_it_answers_missing_malformed_and_forbidden_alike(world, login, records):
    c = login(world.coordinator_b)
    responses = [
        c.get(f"/o/org-b/threats/{report_id}/")
        for report_id in (records["report_id"], random_id(), "not-a-uuid")
    ]
    assert {r.status_code for r in responses} == {404}
    assert len({without_csrf(r.content) for r in responses}) == 1


def test_it_refuses_a_person_of_another_organisation_by_id(world, login):
    """A forged person id from org B, posted to A's form by A's focal point, files nothing
    about B's person."""
    stranger = people_actions.create_person("test", world.org_b, given_names="Ajena")
    c = login(world.focal_point)
    c.post("/o/org-a/threats/new/", {**FORMS["threat-new"], "person": str(stranger.pk)})
    assert not ThreatReport.objects.filter(person=stranger).exists()


def test_it_sends_anonymous_visitors_to_sign_in(world, records):
    anonymous = Client()
    for name, url in page_urls("org-a", records).items():
        response = anonymous.post(url, FORMS.get(name, {}))
        assert response.status_code == 302, name
        assert response.url.startswith("/accounts/login/"), name
        if name not in POST_ONLY:
            assert anonymous.get(url).url.startswith("/accounts/login/"), name
    assert not ThreatReport.objects.filter(source=Source.ANONYMOUS).exists()


def test_it_sends_a_staff_member_to_verify_from_every_incidents_page(world, records):
    """Incidents pages are behind MFA like every staff page; the public ones are not."""
    c = Client()
    login = {"username": world.coordinator.user.email, "password": PASSWORD}
    assert c.post("/accounts/login/", login).status_code == 302
    before = state_of_org_a(world)
    for name, url in page_urls("org-a", records).items():
        for response in (c.get(url), c.post(url, FORMS.get(name, {}))):
            assert response.status_code == 302, name
            assert response.url.startswith("/accounts/mfa/verify/"), name
    assert state_of_org_a(world) == before
    assert c.get(reverse("threat-anonymous", args=["org-a"])).status_code == 200
    assert c.get(reverse("threat-receipt")).status_code == 200


# A defender's need to know


@pytest.fixture
def others(world):
    """A report about someone else and one about nobody, filed by the coordinator."""
    zoila = people_actions.create_person("test", world.org_a, given_names="Zoila")
    about = actions.report_threat(
        world.coordinator.user,
        world.org_a,
        {"verbatim": "Amenaza a Zoila"},
        source=Source.WEB,
        person=zoila,
    ).report
    nobody = actions.report_threat(
        world.coordinator.user, world.org_a, {"verbatim": "Amenaza general"}, source=Source.WEB
    ).report
    return [about, nobody]


def test_it_hides_other_peoples_reports_from_a_defender(world, login, others):
    c = login(world.defender)
    text = c.get("/o/org-a/threats/").content.decode()
    for report in others:
        assert report.receipt not in text
        item = report.checklist.first()
        base = f"/o/org-a/threats/{report.pk}/"
        assert c.get(base).status_code == 404
        assert c.post(base + f"items/{item.pk}/", {"status": "done"}).status_code == 404
        assert c.get(base + "dossier.pdf").status_code == 404
        assert c.post(base + "status/", {"status": "closed"}).status_code == 404
    assert "Zoila" not in text


def test_it_keeps_case_tools_from_a_defender_on_their_own_report(world, login, records):
    c = login(world.defender)
    before = state_of_org_a(world)
    urls = page_urls("org-a", records)
    assert c.get(urls["threat-detail"]).status_code == 200
    for name in ("threat-level", "threat-status"):
        assert c.post(urls[name], FORMS[name]).status_code == 404, name
    assert c.get(urls["threat-evidence"]).status_code == 404
    assert c.get(urls["threat-dossier"]).status_code == 404
    assert state_of_org_a(world) == before
