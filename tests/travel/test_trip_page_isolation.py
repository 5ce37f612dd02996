"""Organisation isolation and need-to-know for the trip pages (travel.trip_views;
DESIGN.md section 7): the coordinator of B, another traveller of A and a member of A with
no part in the trip get the same 404 on every page and post, see none of the sealed
values, and change nothing; each role of A gets exactly its part. The routes come from
the URL configuration itself, so a new trip route these tests do not know fails them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from amparo.alerts.models import Alert, OutboxMessage
from amparo.core.models import AuditEntry
from amparo.people import actions as people_actions
from amparo.travel import checkins, documents, trip_views
from amparo.travel import urls as travel_urls
from amparo.travel.models import (
    CheckIn,
    Deployment,
    DeploymentStatus,
    Leg,
    LostCommsPlan,
    ProofOfLife,
    TravelDocument,
    TravellerPins,
)
from tests.people.org_pages import random_id, without_csrf
from tests.travel.test_pages import login as login  # noqa: F401  (the English pages)
from tests.travel.test_pages import signatories as signatories  # noqa: F401

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PLACE = "Albergue Tambopata-Secreto"
PLAN = "Ir al puesto de Laberinto-Secreto"
ANSWER = "Pachacútec-el-perro-azul"
QUESTION = "¿Perro de la abuela-Secreto?"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n" * 40
PIN = "73190582"

TRIP_ROUTES = {
    "deployment-legs",
    "deployment-leg-change",
    "deployment-leg-remove",
    "deployment-pins",
    "deployment-checkin",
    "deployment-lost-comms",
    "deployment-proof-of-life",
    "deployment-proof-of-life-read",
    "deployment-documents",
    "deployment-document",
}
POST_ONLY = {"deployment-leg-remove", "deployment-proof-of-life-read"}
GET_ONLY = {"deployment-document"}
SECRETS = (PLACE.encode(), PLAN.encode(), ANSWER.encode(), QUESTION.encode(), PDF[:40])
# What each role of A may GET (200); every other trip page is a 404 to it.
READS = {
    "traveller": TRIP_ROUTES - POST_ONLY,
    "coordinator": TRIP_ROUTES - POST_ONLY - {"deployment-pins", "deployment-checkin"},
    "signatory": {
        "deployment-legs",
        "deployment-lost-comms",
        "deployment-documents",
        "deployment-document",
    },
}

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def frozen() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def vault_dir(settings: Any, tmp_path: Path) -> Path:
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    return settings.EVIDENCE_DIR


def upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("programa-Secreto.pdf", PDF, content_type="application/pdf")


def new_trip(world: Any, traveller: Any) -> Deployment:
    return Deployment.objects.create(
        organisation=world.org_a,
        traveller=traveller,
        trip_type="other",
        starts_on=date(2026, 3, 1),
        returns_on=date(2026, 3, 20),
        status=DeploymentStatus.ACTIVE,
    )


@pytest.fixture
def trip(world: Any) -> dict[str, Any]:
    """Rosa's active trip with every record filled in."""
    deployment = new_trip(world, world.defender_person)
    leg = checkins.add_leg(
        "test",
        deployment,
        place=PLACE,
        country="PE",
        time_zone="America/Lima",
        starts_at=NOW + timedelta(hours=1),
        ends_at=NOW + timedelta(days=3),
    )
    checkins.set_pins("test", world.defender_person, PIN)
    checkins.save_lost_comms_plan("test", deployment, traveller_will=PLAN, organisation_should=PLAN)
    checkins.set_proof_of_life("test", deployment, [{"question": QUESTION, "answer": ANSWER}])
    document = documents.attach_document("test", deployment, "programme", upload())
    return {
        "deployment": deployment,
        "ids": {"deployment_id": deployment.pk, "leg_id": leg.pk, "document_id": document.pk},
    }


def trip_patterns() -> list[Any]:
    return [p for p in travel_urls.urlpatterns if p.callback.__module__ == trip_views.__name__]


def trip_urls(slug: str, ids: dict[str, Any]) -> dict[str, str]:
    urls = {}
    for pattern in trip_patterns():
        kwargs = {"slug": slug}
        for name in pattern.pattern.converters:
            if name != "slug":
                assert name in ids, f"route {pattern.name} takes {name}: teach this test"
                kwargs[name] = ids[name]
        urls[pattern.name] = reverse(pattern.name, kwargs=kwargs)
    return urls


def posts() -> dict[str, dict[str, Any]]:
    """A valid post for each route: a refusal must come from the access check."""
    leg = {
        "place": "Intrusa",
        "country": "PE",
        "time_zone": "America/Lima",
        "starts_local": "2026-03-05T08:00",
        "ends_local": "2026-03-06T08:00",
        "checkin_every_hours": "24",
        "grace_minutes": "60",
    }
    return {
        "deployment-legs": leg,
        "deployment-leg-change": leg,
        "deployment-pins": {"checkin_pin": "11112222", "checkin_pin_again": "11112222"},
        "deployment-checkin": {"note": "Intrusa"},
        "deployment-lost-comms": {"traveller_will": "Intrusa", "organisation_should": "Intrusa"},
        "deployment-proof-of-life": {"q0_question": "¿Intrusa?", "q0_answer": "Intrusa"},
        "deployment-proof-of-life-read": {"justification": "Quiero leerlas ahora mismo."},
        "deployment-documents": {"kind": "programme", "file": upload()},
    }


def state(vault_dir: Path) -> dict[str, Any]:
    """Everything a refused request must leave as it was."""
    return {
        "legs": sorted(Leg.objects.values_list("id", "starts_at", "ends_at", "grace_minutes")),
        "checkins": CheckIn.objects.count(),
        "pins": sorted(TravellerPins.objects.values_list("id", "checkin_pin", "updated_at")),
        "plans": sorted(LostCommsPlan.objects.values_list("id", "updated_at")),
        "proofs": sorted(ProofOfLife.objects.values_list("id", "updated_at")),
        "documents": sorted(TravelDocument.objects.values_list("id", flat=True)),
        "audit": AuditEntry.objects.count(),
        "alerts": Alert.objects.count(),
        "outbox": OutboxMessage.objects.count(),
        "files": sorted(str(p) for p in vault_dir.rglob("*") if p.is_file()),
    }


def assert_refused(
    c: Client, urls: dict[str, str], names: set[str] | None = None, member: bool = True
) -> None:
    """Every page 404 to ``c``, GET and POST. A GET of a post-only page is refused before
    any lookup (405, revealing nothing) when the organisation in the address is one of
    the user's; a stranger's is a 404 before that."""
    all_posts = posts()
    for name, url in urls.items():
        if names is not None and name not in names:
            continue
        got = c.get(url)
        assert got.status_code == (405 if member and name in POST_ONLY else 404), (name, url)
        if name not in GET_ONLY:
            posted = c.post(url, all_posts.get(name, {}))
            assert posted.status_code == 404, (name, url)
            assert not any(secret in posted.content for secret in SECRETS), name
        content = got.content if name != "deployment-document" else b""
        assert not any(secret in content for secret in SECRETS), name


def test_it_knows_every_trip_route():
    names = {p.name for p in trip_patterns()}
    assert names == TRIP_ROUTES, "a new trip route needs its access tests here"
    assert set(trip_urls("org-a", {"deployment_id": "d", "leg_id": "l", "document_id": "f"})) == (
        TRIP_ROUTES
    )


def test_it_hides_every_trip_page_from_coordinator_b(world, login, trip, vault_dir):
    c = login(world.coordinator_b)
    before = state(vault_dir)
    assert_refused(c, trip_urls("org-a", trip["ids"]), member=False)
    # A's trip behind B's address.
    assert_refused(c, trip_urls("org-b", trip["ids"]))
    assert state(vault_dir) == before


def test_it_hides_a_trip_from_another_traveller(world, login, trip, vault_dir):
    zoila = people_actions.create_person(
        "test", world.org_a, given_names="Zoila", user=world.focal_point.user
    )
    own = new_trip(world, zoila)
    c = login(world.focal_point)
    before = state(vault_dir)
    assert_refused(c, trip_urls("org-a", trip["ids"]))
    # Rosa's leg and annex behind Zoila's own trip are missing too.
    crossed = trip["ids"] | {"deployment_id": own.pk}
    assert_refused(
        c,
        trip_urls("org-a", crossed),
        {"deployment-leg-change", "deployment-leg-remove", "deployment-document"},
    )
    assert state(vault_dir) == before
    # Her own trip's pages do open.
    assert c.get(reverse("deployment-checkin", args=["org-a", own.pk])).status_code == 200


def test_it_hides_a_trip_from_a_member_without_a_part(world, login, trip, vault_dir):
    c = login(world.supervisor)
    before = state(vault_dir)
    assert_refused(c, trip_urls("org-a", trip["ids"]))
    assert state(vault_dir) == before


def test_it_answers_missing_malformed_and_forbidden_alike(world, login, trip):
    """A leg or an annex of another trip, one that does not exist, and a malformed id:
    the same 404, to the coordinator who reads both trips."""
    other = new_trip(world, world.defender_person)
    other_leg = checkins.add_leg(
        "test",
        other,
        country="PE",
        time_zone="America/Lima",
        starts_at=NOW + timedelta(days=5),
        ends_at=NOW + timedelta(days=6),
    )
    other_document = documents.attach_document("test", other, "programme", upload())
    c = login(world.coordinator)
    for name, key, foreign in (
        ("deployment-leg-change", "leg_id", other_leg.pk),
        ("deployment-leg-remove", "leg_id", other_leg.pk),
        ("deployment-document", "document_id", other_document.pk),
    ):
        responses = []
        for value in (foreign, random_id(), "not-a-uuid"):
            url = trip_urls("org-a", trip["ids"] | {key: value})[name]
            responses.append(c.post(url) if name in POST_ONLY else c.get(url))
        assert {r.status_code for r in responses} == {404}, name
        assert len({without_csrf(r.content) for r in responses}) == 1, name
    assert Leg.objects.filter(pk=other_leg.pk).exists()


@pytest.mark.parametrize("role", sorted(READS))
def test_it_gives_each_role_of_a_its_part(world, login, signatories, trip, role):  # noqa: F811
    persona = {
        "traveller": world.defender,
        "coordinator": world.coordinator,
        "signatory": signatories["ed"],
    }[role]
    c = login(persona)
    urls = trip_urls("org-a", trip["ids"])
    before = AuditEntry.objects.count()
    for name, url in urls.items():
        if name in POST_ONLY:
            continue
        expected = 200 if name in READS[role] else 404
        assert c.get(url).status_code == expected, (role, name)
    if role == "signatory":
        # Reads the itinerary, the plan and the annexes; writes none of them.
        assert_refused(
            c,
            urls,
            {"deployment-leg-change", "deployment-leg-remove", "deployment-proof-of-life-read"},
        )
        all_posts = posts()
        for name in ("deployment-legs", "deployment-lost-comms", "deployment-documents"):
            assert c.post(urls[name], all_posts[name]).status_code == 404, name
        # The download is the one read it leaves in the audit log.
        assert AuditEntry.objects.count() == before + 1


def test_it_sends_anonymous_visitors_to_sign_in(world, trip, vault_dir):
    anonymous = Client()
    before = state(vault_dir)
    for name, url in trip_urls("org-a", trip["ids"]).items():
        for response in (anonymous.get(url), anonymous.post(url, posts().get(name, {}))):
            assert response.status_code == 302, name
            assert response.url.startswith("/accounts/login/"), name
    assert state(vault_dir) == before
