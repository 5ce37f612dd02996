"""Organisation isolation and need to know for every page and endpoint of trainings, the
emergency fund and legal accompaniment (issue 8, points 4 to 6; DESIGN.md sections 1 and
7). Nothing of organisation A reaches the coordinator of B; in A, the roles without a
part in these programmes get the same 404 as for a missing record, and change nothing;
a lawyer reaches only the case assigned to them; a partner reads only the anonymised
fund summary. Routes come from the URL module and the routers themselves, so a new one
these tests do not know fails them."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from amparo.alerts.models import OutboxMessage
from amparo.people.models import Role
from amparo.programmes import fund, legal, programme_urls, trainings
from amparo.programmes.fund_api import router as fund_router
from amparo.programmes.legal_api import router as legal_router
from amparo.programmes.models import (
    Complaint,
    FundApproval,
    FundRequest,
    LegalCase,
    Workshop,
    WorkshopFollowUp,
    WorkshopParticipant,
)
from amparo.programmes.training_api import router as training_router
from conftest import make_persona

pytestmark = pytest.mark.django_db

SEALED = ["Fondo-Secreto", "Caso-Secreto", "Facilitador-Secreto", "Nota-Secreta"]

KNOWN_PAGES = {
    "fund-list",
    "fund-new",
    "fund-ledger",
    "fund-summary",
    "fund-detail",
    "fund-approve",
    "fund-refuse",
    "fund-disburse",
    "fund-satisfaction",
    "legal-case-list",
    "legal-case-new",
    "legal-case-detail",
    "legal-complaint-new",
    "legal-complaint-status",
    "legal-case-lawyer",
    "legal-case-close",
    "workshop-list",
    "workshop-new",
    "workshop-detail",
    "workshop-participant-new",
    "workshop-participant-scores",
    "workshop-follow-up",
}
POST_ONLY = {
    "fund-approve",
    "fund-refuse",
    "fund-disburse",
    "fund-satisfaction",
    "legal-complaint-new",
    "legal-complaint-status",
    "legal-case-lawyer",
    "legal-case-close",
    "workshop-participant-new",
    "workshop-participant-scores",
    "workshop-follow-up",
}
# What the assigned lawyer may reach; the partner reads the anonymised summary.
LAWYER_PAGES = {
    "legal-case-list",
    "legal-case-detail",
    "legal-complaint-new",
    "legal-complaint-status",
}
LIST_PAGES = {"legal-case-list"}


@dataclass
class Records:
    fund_request: FundRequest
    case: LegalCase
    complaint: Complaint
    workshop: Workshop
    participant: WorkshopParticipant
    lawyer: Any
    other_lawyer: Any

    def ids(self) -> dict[str, str]:
        return {
            "request_id": str(self.fund_request.pk),
            "case_id": str(self.case.pk),
            "complaint_id": str(self.complaint.pk),
            "workshop_id": str(self.workshop.pk),
            "participant_id": str(self.participant.pk),
        }


@pytest.fixture
def records(world) -> Records:
    coordinator = world.coordinator.user
    admin = make_persona(world.org_a, Role.ADMIN, "admin@a.example")
    lawyer = make_persona(world.org_a, Role.LAWYER, "abogada@a.example")
    other_lawyer = make_persona(world.org_a, Role.LAWYER, "otro.abogado@a.example")
    fund_request = fund.request_funds(
        coordinator,
        world.org_a,
        category="shelter",
        amount="200",
        currency="PEN",
        justification="Fondo-Secreto",
        beneficiary=world.defender_person,
    )
    fund.approve_fund_request(admin.user, fund_request)
    case = legal.open_legal_case(
        coordinator,
        world.org_a,
        matter="threat",
        summary="Caso-Secreto",
        person=world.defender_person,
        lawyer=lawyer.user,
    )
    complaint = legal.file_complaint(
        coordinator,
        case,
        body="police",
        filed_on=timezone.localdate() - timedelta(days=2),
        notes="Nota-Secreta",
    )
    workshop = trainings.record_workshop(
        coordinator,
        world.org_a,
        line="s1_l1",
        topic="Derechos",
        held_on=timezone.localdate() - timedelta(days=1),
        duration_hours="6",
        language="Español",
        community="Puerto Arturo",
        facilitator="Facilitador-Secreto",
    )
    participant = trainings.add_participant(
        coordinator,
        workshop,
        gender="woman",
        age_band="18_29",
        indigenous="yes",
        role="community_member",
        phone="+51 982 222 333",
        follow_up_consent=True,
    )
    return Records(fund_request, case, complaint, workshop, participant, lawyer, other_lawyer)


def page_forms(records: Records) -> dict[str, dict[str, str]]:
    """Valid posts, so that a refusal is the access check and not the form."""
    today = timezone.localdate().isoformat()
    c, p = str(records.complaint.pk), str(records.participant.pk)
    return {
        "fund-new": {
            "category": "transport",
            "amount": "10",
            "currency": "PEN",
            "beneficiary_name": "Intrusa",
            "justification": "Intrusa",
        },
        "fund-refuse": {"note": "Intrusa"},
        "fund-disburse": {"reference": "X"},
        "fund-satisfaction": {"satisfaction": "1"},
        "legal-case-new": {"matter": "threat", "summary": "Intrusa"},
        "legal-complaint-new": {"body": "court", "filed_on": today},
        "legal-complaint-status": {
            f"{c}-status": "archived",
            f"{c}-status_on": today,
            f"{c}-outcome": "dismissed",
            f"{c}-sanctions": "0",
        },
        "legal-case-lawyer": {"lawyer": ""},
        "legal-case-close": {"resolved": "no"},
        "workshop-new": {
            "line": "s1_l2",
            "topic": "Intrusa",
            "held_on": today,
            "duration_hours": "2",
            "language": "es",
            "community": "X",
            "facilitator": "Intrusa",
        },
        "workshop-participant-new": {
            "gender": "man",
            "age_band": "30_44",
            "indigenous": "no",
            "role": "other",
        },
        "workshop-participant-scores": {f"{p}-pre_score": "1", f"{p}-post_score": "2"},
        "workshop-follow-up": {"message": "Intrusa", "request_key": str(uuid.uuid4())},
    }


def page_urls(slug: str, ids: dict[str, str]) -> dict[str, str]:
    urls = {}
    for pattern in programme_urls.urlpatterns:
        assert pattern.name in KNOWN_PAGES, f"route {pattern.name} is new: teach this test"
        kwargs = {"slug": slug}
        for name in pattern.pattern.converters:
            if name == "slug":
                continue
            assert name in ids, f"route {pattern.name} takes {name}: teach this test"
            kwargs[name] = ids[name]
        urls[pattern.name] = reverse(pattern.name, kwargs=kwargs)
    assert set(urls) == KNOWN_PAGES
    return urls


def state() -> Any:
    return (
        sorted(FundRequest.objects.values_list("id", "status", "updated_at")),
        FundApproval.objects.count(),
        sorted(LegalCase.objects.values_list("id", "status", "lawyer_id", "updated_at")),
        sorted(Complaint.objects.values_list("id", "status", "updated_at")),
        Workshop.objects.count(),
        sorted(WorkshopParticipant.objects.values_list("id", "pre_score", "post_score")),
        WorkshopFollowUp.objects.count(),
        OutboxMessage.objects.count(),
    )


def assert_no_secret(content: bytes, *where: Any) -> None:
    text = content.decode(errors="replace")
    assert [s for s in SEALED if s in text] == [], where


def assert_pages(c, urls, records, who, allowed: set[str], lists: set[str]) -> None:
    """Every page outside ``allowed`` is 404 on GET and POST; pages in ``lists`` answer
    200 without A's records."""
    data = page_forms(records)
    for name, url in urls.items():
        if name in allowed:
            continue
        if name in lists:
            response = c.get(url)
            assert response.status_code == 200, (who, name)
            assert str(records.case.pk) not in response.content.decode(), (who, name)
            continue
        if name not in POST_ONLY:
            response = c.get(url)
            assert response.status_code == 404, (who, name, "GET", response.status_code)
            assert_no_secret(response.content, who, name)
        response = c.post(url, data.get(name, {}))
        assert response.status_code == 404, (who, name, "POST", response.status_code)
        assert_no_secret(response.content, who, name)


def outsiders(world) -> dict[str, Any]:
    """Members of A with no part in these programmes."""
    return {
        "defender": world.defender,
        "focal point": world.focal_point,
        "supervisor": world.supervisor,
        "signatory": make_persona(world.org_a, Role.SIGNATORY, "firma@a.example"),
        "psychologist": make_persona(world.org_a, Role.PSYCHOLOGIST, "psico@a.example"),
    }


def test_the_coordinator_of_b_gets_404_on_every_page(world, records, login):
    before = state()
    c = login(world.coordinator_b)
    assert_pages(c, page_urls("org-a", records.ids()), records, "B", set(), set())
    # On B's own pages, A's ids are missing records.
    urls = page_urls("org-b", records.ids())
    own = {"fund-list", "fund-ledger", "fund-summary", "legal-case-list", "workshop-list"}
    for name in own:
        response = c.get(urls[name])
        assert response.status_code == 200, name
        assert_no_secret(response.content, "B", name)
        assert str(records.fund_request.reference_code) not in response.content.decode()
    creating = {"fund-new", "legal-case-new", "workshop-new"}
    assert_pages(c, urls, records, "B on org-b", own | creating, set())
    assert state() == before


def test_members_of_a_without_a_part_get_404_on_every_page(world, records, login):
    before = state()
    urls = page_urls("org-a", records.ids())
    for who, persona in outsiders(world).items():
        assert_pages(login(persona), urls, records, who, set(), set())
    partner = make_persona(world.org_a, Role.PARTNER, "socio@a.example")
    c = login(partner)
    assert c.get(urls["fund-summary"]).status_code == 200
    assert_pages(c, urls, records, "partner", {"fund-summary"}, set())
    assert state() == before


def test_a_lawyer_reaches_only_the_assigned_case(world, records, login):
    urls = page_urls("org-a", records.ids())
    before = state()
    assert_pages(login(records.other_lawyer), urls, records, "other lawyer", set(), LIST_PAGES)
    c = login(records.lawyer)
    assert_pages(c, urls, records, "lawyer", LAWYER_PAGES, set())
    assert state() == before
    assert c.get(urls["legal-case-detail"]).status_code == 200
    assert "Caso-Secreto" in c.get(urls["legal-case-detail"]).content.decode()


def test_a_missing_record_is_the_same_404(world, records, login):
    c = login(world.coordinator)
    ids = {name: str(uuid.uuid4()) for name in records.ids()}
    urls = page_urls("org-a", ids)
    takes_an_id = {
        p.name for p in programme_urls.urlpatterns if set(p.pattern.converters) - {"slug"}
    }
    assert takes_an_id
    for name in takes_an_id:
        if name not in POST_ONLY:
            assert c.get(urls[name]).status_code == 404, name
        assert c.post(urls[name], page_forms(records).get(name, {})).status_code == 404, name


# The API

ROUTERS = (
    ("/api/v1/fund", fund_router),
    ("/api/v1/legal-cases", legal_router),
    ("/api/v1/workshops", training_router),
)
KNOWN_API = {
    ("GET", "/api/v1/fund"),
    ("POST", "/api/v1/fund"),
    ("GET", "/api/v1/fund/ledger"),
    ("GET", "/api/v1/fund/summary"),
    ("GET", "/api/v1/fund/{request_id}"),
    ("POST", "/api/v1/fund/{request_id}/approvals"),
    ("POST", "/api/v1/fund/{request_id}/refusal"),
    ("POST", "/api/v1/fund/{request_id}/disbursement"),
    ("POST", "/api/v1/fund/{request_id}/satisfaction"),
    ("GET", "/api/v1/legal-cases"),
    ("POST", "/api/v1/legal-cases"),
    ("GET", "/api/v1/legal-cases/{case_id}"),
    ("POST", "/api/v1/legal-cases/{case_id}/complaints"),
    ("POST", "/api/v1/legal-cases/{case_id}/complaints/{complaint_id}"),
    ("POST", "/api/v1/legal-cases/{case_id}/lawyer"),
    ("POST", "/api/v1/legal-cases/{case_id}/close"),
    ("GET", "/api/v1/workshops"),
    ("POST", "/api/v1/workshops"),
    ("GET", "/api/v1/workshops/{workshop_id}"),
    ("POST", "/api/v1/workshops/{workshop_id}/participants"),
    ("POST", "/api/v1/workshops/{workshop_id}/follow-ups"),
}
LAWYER_API = {
    ("GET", "/api/v1/legal-cases"),
    ("GET", "/api/v1/legal-cases/{case_id}"),
    ("POST", "/api/v1/legal-cases/{case_id}/complaints"),
    ("POST", "/api/v1/legal-cases/{case_id}/complaints/{complaint_id}"),
}
# Operations that take the organisation in the query string.
BY_ORGANISATION = {
    "/api/v1/fund",
    "/api/v1/fund/ledger",
    "/api/v1/fund/summary",
    "/api/v1/legal-cases",
    "/api/v1/workshops",
}


def api_bodies(slug: str) -> dict[str, dict[str, Any]]:
    today = timezone.localdate().isoformat()
    return {
        "/api/v1/fund": {
            "organisation": slug,
            "category": "transport",
            "amount": "10",
            "currency": "PEN",
            "beneficiary_name": "Intrusa",
            "justification": "Intrusa",
        },
        "/api/v1/fund/{request_id}/refusal": {"note": "Intrusa"},
        "/api/v1/fund/{request_id}/disbursement": {"reference": "X"},
        "/api/v1/fund/{request_id}/satisfaction": {"satisfaction": 1},
        "/api/v1/legal-cases": {"organisation": slug, "matter": "threat", "summary": "Intrusa"},
        "/api/v1/legal-cases/{case_id}/complaints": {"body": "court", "filed_on": today},
        "/api/v1/legal-cases/{case_id}/complaints/{complaint_id}": {
            "status": "archived",
            "status_on": today,
            "outcome": "dismissed",
            "sanctions": 0,
        },
        "/api/v1/legal-cases/{case_id}/lawyer": {"lawyer": None},
        "/api/v1/legal-cases/{case_id}/close": {"resolved": False},
        "/api/v1/workshops": {
            "organisation": slug,
            "line": "s1_l2",
            "topic": "Intrusa",
            "held_on": today,
            "duration_hours": "2",
            "language": "es",
            "community": "X",
            "facilitator": "Intrusa",
        },
        "/api/v1/workshops/{workshop_id}/participants": {
            "gender": "man",
            "age_band": "30_44",
            "indigenous": "no",
            "role": "other",
        },
        "/api/v1/workshops/{workshop_id}/follow-ups": {
            "message": "Intrusa",
            "request_key": str(uuid.uuid4()),
        },
    }


def api_operations(slug: str, ids: dict[str, str]) -> list[tuple[str, str, str, dict]]:
    """(method, template, URL, body) for every operation of the three routers."""
    bodies = api_bodies(slug)
    operations = []
    for prefix, router in ROUTERS:
        for path, path_view in router.path_operations.items():
            template = prefix + path
            url = template
            for name in re.findall(r"\{(\w+)\}", template):
                assert name in ids, f"API path {template} takes {name}: teach this test"
                url = url.replace("{" + name + "}", ids[name])
            for operation in path_view.operations:
                for method in operation.methods:
                    assert (method, template) in KNOWN_API, (
                        f"{method} {template} is new: teach this test"
                    )
                    full = url
                    if method == "GET" and template in BY_ORGANISATION:
                        full += f"?organisation={slug}"
                    operations.append((method, template, full, bodies.get(template, {})))
    assert {(m, t) for m, t, _u, _b in operations} == KNOWN_API
    return operations


def call(c, method: str, url: str, body: dict) -> Any:
    if method == "GET":
        return c.get(url)
    return c.post(url, json.dumps(body), content_type="application/json")


def assert_api(c, records, who, slug: str, allowed: set, lists: set) -> None:
    for method, template, url, body in api_operations(slug, records.ids()):
        if (method, template) in allowed:
            continue
        response = call(c, method, url, body)
        if (method, template) in lists:
            assert response.status_code == 200, (who, url)
            assert str(records.case.pk) not in response.content.decode(), (who, url)
            continue
        assert response.status_code == 404, (who, method, url, response.status_code)
        assert_no_secret(response.content, who, url)


def test_the_coordinator_of_b_gets_404_on_every_endpoint(world, records, api_client):
    before = state()
    assert_api(api_client(world.coordinator_b), records, "B", "org-a", set(), set())
    assert state() == before


def test_members_of_a_without_a_part_get_404_on_every_endpoint(world, records, api_client):
    before = state()
    for who, persona in outsiders(world).items():
        assert_api(api_client(persona), records, who, "org-a", set(), set())
    partner = make_persona(world.org_a, Role.PARTNER, "socio@a.example")
    c = api_client(partner)
    assert c.get("/api/v1/fund/summary?organisation=org-a").status_code == 200
    assert_api(c, records, "partner", "org-a", {("GET", "/api/v1/fund/summary")}, set())
    assert state() == before


def test_a_lawyer_reaches_only_the_assigned_case_through_the_api(world, records, api_client):
    before = state()
    assert_api(
        api_client(records.other_lawyer),
        records,
        "other lawyer",
        "org-a",
        set(),
        {("GET", "/api/v1/legal-cases")},
    )
    assert_api(api_client(records.lawyer), records, "lawyer", "org-a", LAWYER_API, set())
    assert state() == before
    c = api_client(records.lawyer)
    body = c.get(f"/api/v1/legal-cases/{records.case.pk}").json()
    assert body["id"] == str(records.case.pk)
    assert "Caso-Secreto" not in json.dumps(body)
