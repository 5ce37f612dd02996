"""Threat reports over the API (issue 4, points 1 and 9): ``POST /api/v1/threats`` with
base64 evidence, the anonymous report and the status by receipt code, and the
coordinators' list, record, checklist, level and status, all in the OpenAPI document."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.template.defaultfilters import filesizeformat
from django.test import Client, override_settings
from django.utils import translation
from PIL import Image

from amparo.alerts.models import Alert
from amparo.core.models import AuditEntry
from amparo.incidents import actions, checklist, vault
from amparo.incidents.classify import explanation
from amparo.incidents.models import ChecklistItem, EvidenceFile, ThreatReport
from amparo.people import actions as people_actions
from conftest import supervise
from tests.core.raw import plaintext_snapshot

RECEIPT_KEYS = {"id", "receipt", "level", "explanation", "status", "refused_files", "alert"}
THREAT = "Si no se van del río los vamos a desaparecer"


def post(c: Client, body: Any, url: str = "/api/v1/threats") -> Any:
    return c.post(url, json.dumps(body), content_type="application/json")


def valid(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"organisation": "org-a", "verbatim": THREAT}
    body.update(changes)
    return body


def full_record(**changes: Any) -> dict[str, Any]:
    return valid(
        occurred_at="2026-01-10T18:30:00-05:00",
        place="Trocha 3, km 12",
        region="Madre de Dios",
        community="Boca Pariamanu",
        lat=-12.5933,
        lon=-69.1891,
        channel="in_person",
        perpetrator_description="Dos hombres en moto roja",
        physical_violence=False,
        attempted_assault=False,
        imminent_harm_signs=["weapons_shown", "deadline_given"],
        source_illicit_activity="illegal_mining",
        shows_knowledge_of_work=True,
        source_known=False,
        language="es",
        **changes,
    )


def all_low(**changes: Any) -> dict[str, Any]:
    """Every Step 1 answer given, each pointing to a vague threat from a stranger."""
    body = valid(
        physical_violence=False,
        attempted_assault=False,
        imminent_harm_signs=[],
        source_illicit_activity="none",
        shows_knowledge_of_work=False,
        source_known=False,
    )
    body.update(changes)
    return body


def nothing_written() -> tuple[int, ...]:
    return (
        ThreatReport.objects.count(),
        ChecklistItem.objects.count(),
        EvidenceFile.objects.count(),
        Alert.objects.count(),
        AuditEntry.objects.count(),
    )


def vault_files(organisation: Any) -> set[str]:
    folder = vault.evidence_dir() / str(organisation.pk)
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), (180, 40, 40)).save(out, "JPEG", quality=80)
    return out.getvalue()


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notas.txt", "nombres y teléfonos")
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# Reporting


def test_it_reports_a_threat_and_answers_the_receipt(world, api_client):
    c = api_client(world.coordinator)
    response = post(c, full_record(person=str(world.defender_person.pk)))
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == RECEIPT_KEYS
    report = ThreatReport.objects.get()
    assert body["id"] == str(report.pk)
    assert body["receipt"] == report.receipt
    assert (body["level"], body["status"], body["refused_files"]) == ("high", "new", [])
    assert body["alert"] == str(report.alert_id)
    with translation.override("es"):
        assert body["explanation"] == explanation("high", ["imminent_harm"])
    assert report.source == "api"
    assert report.reported_by == world.coordinator.user
    assert report.person == world.defender_person
    assert report.verbatim == THREAT
    assert report.place == "Trocha 3, km 12"
    assert report.location == {"lat": -12.5933, "lon": -69.1891}
    assert report.occurred_at == datetime(2026, 1, 10, 23, 30, tzinfo=UTC)
    assert report.answers["imminent_harm_signs"] == ["weapons_shown", "deadline_given"]
    assert report.answers["source_illicit_activity"] == "illegal_mining"
    codes = {i.code for i in ChecklistItem.objects.filter(report=report)}
    assert codes == {i.code for i in checklist.items_for("high")}
    assert Alert.objects.get().severity == "high"


def test_a_defender_reports_about_themselves_and_unanswered_questions_make_medium(
    world, api_client
):
    response = post(api_client(world.defender), valid())
    assert response.status_code == 201, response.content
    body = response.json()
    report = ThreatReport.objects.get()
    assert report.person == world.defender_person
    assert report.answers == {
        "physical_violence": None,
        "attempted_assault": None,
        "imminent_harm_signs": None,
        "source_illicit_activity": None,
        "shows_knowledge_of_work": None,
        "source_known": None,
    }
    assert (body["level"], report.reasons) == ("medium", ["unplaced"])
    assert body["alert"] == str(report.alert_id)


def test_a_focal_point_without_a_person_reports_about_nobody_in_particular(world, api_client):
    assert post(api_client(world.focal_point), valid()).status_code == 201
    assert ThreatReport.objects.get().person is None


def test_it_answers_low_only_when_every_answer_says_so(world, api_client):
    body = post(api_client(world.coordinator), all_low(language="en")).json()
    assert (body["level"], body["alert"]) == ("low", None)
    assert body["explanation"].startswith("Low: ")
    assert Alert.objects.count() == 0


@pytest.mark.parametrize(
    ("reported", "level"), [("high", "high"), ("medium", "medium"), ("low", "low"), (None, "low")]
)
def test_the_reporters_level_raises_but_never_lowers(world, api_client, reported, level):
    body = post(api_client(world.coordinator), all_low(reported_level=reported)).json()
    assert body["level"] == level
    assert post(api_client(world.coordinator), full_record(reported_level="low")).json()[
        "level"
    ] == ("high")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"channel": "pigeon"}, "channel"),
        ({"language": "fr"}, "language"),
        ({"reported_level": "extreme"}, "reported_level"),
        ({"imminent_harm_signs": ["weapons_shown", "lasers"]}, "imminent_harm_signs"),
        ({"source_illicit_activity": "piracy"}, "source_illicit_activity"),
        ({"occurred_at": "2026-01-10T18:30:00"}, "occurred_at"),
        ({"occurred_at": "2999-01-10T18:30:00-05:00"}, "occurred_at"),
        ({"lat": -12.6}, "lat"),
        ({"verbatim": ""}, "verbatim"),
    ],
)
def test_it_refuses_a_wrong_field_naming_it(world, api_client, changes, field):
    c = api_client(world.coordinator)
    before, files = nothing_written(), vault_files(world.org_a)
    body = valid(**changes, evidence=[{"name": "foto.jpg", "content_base64": b64(jpeg_bytes())}])
    if field == "verbatim":
        body.pop("evidence")
    response = post(c, body)
    assert response.status_code == 422, response.content
    detail = response.json()["detail"]
    assert list(detail) == [field]
    assert detail[field][0]
    assert nothing_written() == before
    assert vault_files(world.org_a) == files


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lat": 91, "lon": 0}, "lat"),
        ({"lat": 0, "lon": -181}, "lon"),
        ({"physical_violence": "maybe"}, "physical_violence"),
        ({"imminent_harm_signs": "weapons_shown"}, "imminent_harm_signs"),
        ({"verbatim": "x" * 10_001}, "verbatim"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"person": "not-a-uuid"}, "person"),
        ({"evidence": [{"name": "a.jpg"}]}, "evidence"),
        ({"organisation": None}, "organisation"),
    ],
)
def test_it_refuses_a_malformed_field_naming_it(world, api_client, changes, field):
    c = api_client(world.coordinator)
    before = nothing_written()
    response = post(c, valid(**changes))
    assert response.status_code == 422, response.content
    detail = response.json()["detail"]
    assert detail and all(error["msg"] for error in detail)
    assert field in {str(part) for error in detail for part in error["loc"]}
    assert nothing_written() == before


def test_it_refuses_a_body_that_is_not_json(world, api_client):
    c = api_client(world.coordinator)
    response = c.post("/api/v1/threats", "{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert "detail" in response.json()
    assert ThreatReport.objects.count() == 0


def test_it_refuses_a_person_it_cannot_report_about(world, api_client):
    stranger = people_actions.create_person("test", world.org_b, given_names="Ajena")
    zoila = people_actions.create_person("test", world.org_a, given_names="Zoila")
    coordinator, defender = api_client(world.coordinator), api_client(world.defender)
    before = nothing_written()
    assert post(coordinator, valid(person=str(stranger.pk))).status_code == 404
    # A defender reports only about themselves.
    assert post(defender, valid(person=str(zoila.pk))).status_code == 404
    assert nothing_written() == before
    assert post(coordinator, valid(person=str(zoila.pk))).status_code == 201


# Evidence


def test_it_keeps_a_jpeg_and_refuses_a_zip_saving_the_report(world, api_client):
    photo, archive = jpeg_bytes(), zip_bytes()
    response = post(
        api_client(world.coordinator),
        valid(
            evidence=[
                {"name": "foto.jpg", "content_base64": b64(photo)},
                {"name": "notas.zip", "content_base64": b64(archive)},
            ]
        ),
    )
    assert response.status_code == 201, response.content
    refused = response.json()["refused_files"]
    assert [r["name"] for r in refused] == ["notas.zip"]
    assert refused[0]["reason"]
    report = ThreatReport.objects.get()
    stored = EvidenceFile.objects.get(report=report)
    assert (stored.name, stored.content_type, stored.size) == ("foto.jpg", "image/jpeg", len(photo))
    assert stored.sha256 == hashlib.sha256(photo).hexdigest()
    blob = vault.blob_path(world.org_a.pk, stored.pk)
    assert b"".join(vault.read_blob(blob, stored.pk, vault.decode_key(stored.file_key))) == photo
    assert photo not in blob.read_bytes()
    assert not [name for name in vault_files(world.org_a) if name.endswith(".part")]
    assert actions.verify_evidence(stored) == ""

    detail = api_client(world.coordinator).get(f"/api/v1/threats/{report.pk}").json()
    assert [(e["name"], e["sha256"]) for e in detail["evidence"]] == [
        ("foto.jpg", hashlib.sha256(photo).hexdigest())
    ]


def test_it_reads_base64_with_line_breaks_or_a_data_url(world, api_client):
    photo = jpeg_bytes()
    wrapped = base64.encodebytes(photo).decode("ascii")  # 76 characters a line
    assert "\n" in wrapped
    response = post(
        api_client(world.coordinator),
        valid(
            evidence=[
                {"name": "a.jpg", "content_base64": wrapped},
                {"name": "b.jpg", "content_base64": "data:image/jpeg;base64," + b64(photo)},
            ]
        ),
    )
    assert response.json()["refused_files"] == []
    digests = set(EvidenceFile.objects.values_list("sha256", flat=True))
    assert digests == {hashlib.sha256(photo).hexdigest()}
    assert EvidenceFile.objects.count() == 2


@pytest.mark.parametrize("text", ["no es base64!", "QUJD", "QUJDRA=", "////" * 3 + "%%%%"])
def test_it_refuses_evidence_that_is_not_base64_and_saves_the_report(world, api_client, text):
    files = vault_files(world.org_a)
    response = post(
        api_client(world.coordinator), valid(evidence=[{"name": "x.jpg", "content_base64": text}])
    )
    assert response.status_code == 201, response.content
    assert [r["name"] for r in response.json()["refused_files"]] == ["x.jpg"]
    assert ThreatReport.objects.count() == 1
    assert EvidenceFile.objects.count() == 0
    assert vault_files(world.org_a) == files


def test_it_refuses_a_file_over_the_limit_and_saves_the_report(world, api_client, settings):
    photo = jpeg_bytes()
    settings.AMPARO_EVIDENCE_MAX_BYTES = len(photo) - 1
    response = post(
        api_client(world.coordinator),
        valid(evidence=[{"name": "big.jpg", "content_base64": b64(photo)}]),
    )
    assert response.status_code == 201
    [refused] = response.json()["refused_files"]
    assert refused["name"] == "big.jpg"
    assert filesizeformat(len(photo) - 1) in refused["reason"]
    assert EvidenceFile.objects.count() == 0
    assert ThreatReport.objects.count() == 1


def test_it_refuses_a_body_over_the_request_limit_in_json(world, api_client):
    c = api_client(world.coordinator)
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000):
        response = post(c, valid(evidence=[{"name": "a.jpg", "content_base64": "A" * 20_000}]))
    assert response.status_code == 413
    assert list(response.json()["detail"]) == ["evidence"]
    assert ThreatReport.objects.count() == 0


# Anonymous reporting


def every_stored_text() -> str:
    """Every value of every table, raw, and every sealed value opened: what a copy of the
    database and its key would reveal."""
    values: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            values.extend(str(v) for row in cursor.fetchall() for v in row)
    values.extend(str(v) for v in plaintext_snapshot().values())
    return "\n".join(values)


def test_an_anonymous_report_answers_no_ids_and_stores_no_ip(world):
    c = Client(REMOTE_ADDR="203.0.113.77", HTTP_X_FORWARDED_FOR="198.51.100.23")
    response = post(
        c,
        full_record(organisation=None, person=str(world.defender_person.pk)),
        url="/api/v1/public/threats/org-a",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"receipt", "level", "explanation", "refused_files"}
    report = ThreatReport.objects.get()
    assert (body["receipt"], body["level"]) == (report.receipt, "high")
    assert str(report.pk) not in response.content.decode()
    assert str(report.alert_id) not in response.content.decode()
    assert (report.source, report.reported_by, report.person) == ("public_api", None, None)
    stored = every_stored_text()
    assert THREAT in stored  # the scan does reach the sealed record
    assert "203.0.113.77" not in stored
    assert "198.51.100.23" not in stored


def test_an_anonymous_report_keeps_evidence_and_names_refused_files(world):
    response = post(
        Client(),
        valid(
            organisation=None,
            evidence=[
                {"name": "foto.jpg", "content_base64": b64(jpeg_bytes())},
                {"name": "notas.zip", "content_base64": b64(zip_bytes())},
            ],
        ),
        url="/api/v1/public/threats/org-a",
    )
    assert response.status_code == 201
    assert [r["name"] for r in response.json()["refused_files"]] == ["notas.zip"]
    assert EvidenceFile.objects.get().report.organisation == world.org_a


def test_an_anonymous_report_is_validated_like_any_other(world):
    response = post(
        Client(), {"channel": "pigeon", "verbatim": "x"}, "/api/v1/public/threats/org-a"
    )
    assert response.status_code == 422
    assert list(response.json()["detail"]) == ["channel"]
    assert ThreatReport.objects.count() == 0


def test_an_anonymous_report_to_an_unknown_organisation_is_404(world):
    assert post(Client(), {"verbatim": "x"}, "/api/v1/public/threats/nadie").status_code == 404
    assert ThreatReport.objects.count() == 0


def test_a_receipt_reveals_the_status_only(world, api_client):
    receipt = post(Client(), {"verbatim": THREAT}, "/api/v1/public/threats/org-a").json()["receipt"]
    report = ThreatReport.objects.get()
    anonymous = Client()
    for asked in (receipt, receipt.lower(), receipt.replace("-", "")):
        response = anonymous.get(f"/api/v1/public/threats/status/{asked}")
        assert response.status_code == 200
        assert response.json() == {
            "receipt": receipt,
            "status": "new",
            "level": "medium",
            "received": report.created_at.astimezone(UTC).date().isoformat(),
        }
    c = api_client(world.coordinator)
    assert post(c, {"status": "triaged"}, f"/api/v1/threats/{report.pk}/status").status_code == 200
    assert anonymous.get(f"/api/v1/public/threats/status/{receipt}").json()["status"] == "triaged"


def test_an_unknown_or_malformed_receipt_is_the_same_404(world):
    anonymous = Client()
    responses = [
        anonymous.get(f"/api/v1/public/threats/status/{code}")
        for code in ("ABCD-EFGH-JKLM", "abcd", "x" * 300, "%27%20OR%201%3D1")
    ]
    assert {r.status_code for r in responses} == {404}
    assert len({r.content for r in responses}) == 1


# Cases


@pytest.fixture
def cases(world, api_client):
    """Three reports of org A at different days, levels, regions and channels."""
    c = api_client(world.coordinator)
    made = {}
    for name, day, body in (
        ("high", 1, full_record()),
        ("medium", 2, valid(region="Pando", channel="phone_call")),
        ("low", 3, all_low(region="Madre de Dios", channel="social_media")),
    ):
        response = post(c, body)
        assert response.status_code == 201, response.content
        made[name] = ThreatReport.objects.get(pk=response.json()["id"])
        made[name].created_at = datetime(2026, 1, day, 12, tzinfo=UTC)
        made[name].save(update_fields=["created_at"])
    return made


def listed(c: Client, query: str = "") -> dict[str, Any]:
    response = c.get(f"/api/v1/threats?organisation=org-a{query}")
    assert response.status_code == 200, response.content
    return response.json()


def test_it_lists_and_filters_the_cases(world, api_client, cases):
    c = api_client(world.coordinator)
    page = listed(c)
    assert page["count"] == 3
    assert [r["id"] for r in page["items"]] == [str(cases[n].pk) for n in ("low", "medium", "high")]
    assert set(page["items"][0]) == {
        "id",
        "receipt",
        "organisation",
        "level",
        "status",
        "channel",
        "region",
        "source",
        "occurred_at",
        "created_at",
        "person",
        "alert",
    }
    assert THREAT not in json.dumps(page)

    def ids(query: str) -> set[str]:
        return {r["id"] for r in listed(c, query)["items"]}

    assert ids("&level=high") == {str(cases["high"].pk)}
    assert ids("&channel=phone_call") == {str(cases["medium"].pk)}
    assert ids("&region=madre%20de%20dios") == {str(cases["high"].pk), str(cases["low"].pk)}
    assert ids("&since=2026-01-02") == {str(cases["medium"].pk), str(cases["low"].pk)}
    assert ids("&until=2026-01-02T00:00:00%2B00:00") == {str(cases["high"].pk)}
    assert ids("&since=2026-01-02&until=2026-01-03") == {str(cases["medium"].pk)}
    assert ids("&status=closed") == set()

    first = listed(c, "&limit=2")
    second = listed(c, "&limit=2&offset=2")
    assert (first["count"], len(first["items"]), len(second["items"])) == (3, 2, 1)
    assert {r["id"] for r in first["items"] + second["items"]} == {
        str(r.pk) for r in cases.values()
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [("&level=extreme", "level"), ("&status=lost", "status"), ("&channel=pigeon", "channel")],
)
def test_it_refuses_an_unknown_filter_naming_it(world, api_client, query, field):
    response = api_client(world.coordinator).get(f"/api/v1/threats?organisation=org-a{query}")
    assert response.status_code == 422
    assert list(response.json()["detail"]) == [field]


@pytest.mark.parametrize("query", ["&limit=0", "&limit=201", "&offset=-1", "&since=soon"])
def test_it_refuses_a_malformed_page_or_date(world, api_client, query):
    response = api_client(world.coordinator).get(f"/api/v1/threats?organisation=org-a{query}")
    assert response.status_code == 422


def test_it_shows_a_case_reader_the_whole_record(world, api_client, cases):
    supervise(world)
    report = cases["high"]
    # A report about Rosa, whom the supervisor supervises.
    ThreatReport.objects.filter(pk=report.pk).update(person=world.defender_person)
    for persona in (world.coordinator, world.supervisor):
        response = api_client(persona).get(f"/api/v1/threats/{report.pk}")
        assert response.status_code == 200
        body = response.json()
        assert body["record"] == {
            "place": "Trocha 3, km 12",
            "community": "Boca Pariamanu",
            "lat": -12.5933,
            "lon": -69.1891,
            "verbatim": THREAT,
            "perpetrator_description": "Dos hombres en moto roja",
        }
        assert body["answers"]["source_illicit_activity"] == "illegal_mining"
        assert (body["level"], body["rules_level"], body["reasons"]) == (
            "high",
            "high",
            ["imminent_harm"],
        )
        assert body["explanation"]
        assert body["organisation"] == "org-a"
        assert body["channel"] == "in_person"
        assert body["occurred_at"].startswith("2026-01-10T23:30:00")


def test_it_gives_the_checklist_in_the_readers_language(world, api_client, cases):
    report = cases["medium"]
    world.coordinator.user.language = "en"
    world.coordinator.user.save(update_fields=["language"])
    response = api_client(world.coordinator).get(f"/api/v1/threats/{report.pk}/checklist")
    assert response.status_code == 200
    items = response.json()
    assert [i["code"] for i in items] == [i.code for i in checklist.items_for("medium")]
    first = checklist.BY_CODE[items[0]["code"]]
    assert items[0]["title"] == str(first.title)
    assert set(items[0]) == {
        "id",
        "code",
        "step",
        "position",
        "owner",
        "title",
        "guidance",
        "status",
        "due_at",
        "done_at",
        "notes",
        "superseded",
    }


def test_a_coordinator_ticks_an_item_with_notes(world, api_client, cases):
    report = cases["high"]
    item = ChecklistItem.objects.get(report=report, code="step3_psychological_support")
    c = api_client(world.coordinator)
    url = f"/api/v1/threats/{report.pk}/checklist/{item.pk}"
    response = post(c, {"status": "done", "notes": "Cita con la psicóloga el lunes"}, url)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["notes"]) == ("done", "Cita con la psicóloga el lunes")
    assert body["done_at"] is not None
    item.refresh_from_db()
    assert (item.status, item.done_by) == ("done", world.coordinator.user)
    assert AuditEntry.objects.filter(action="threat.checklist").count() == 1
    refused = post(c, {"status": "finished"}, url)
    assert refused.status_code == 422
    assert list(refused.json()["detail"]) == ["status"]
    other = cases["low"].checklist.first()
    assert (
        post(c, {"status": "done"}, f"/api/v1/threats/{report.pk}/checklist/{other.pk}").status_code
        == 404
    )


def test_the_person_threatened_ticks_their_own_items_only(world, api_client):
    defender = api_client(world.defender)
    report_id = post(defender, valid()).json()["id"]
    own = ChecklistItem.objects.get(report_id=report_id, code="step4_suspend_social_media")
    coordinators = ChecklistItem.objects.get(
        report_id=report_id, code="step3_psychological_support"
    )
    base = f"/api/v1/threats/{report_id}/checklist/"
    assert post(defender, {"status": "done"}, base + str(own.pk)).status_code == 200
    assert post(defender, {"status": "done"}, base + str(coordinators.pk)).status_code == 404
    coordinators.refresh_from_db()
    assert coordinators.status == "open"


def test_a_coordinator_changes_the_level_with_a_reason(world, api_client, cases):
    report = cases["low"]
    c = api_client(world.coordinator)
    url = f"/api/v1/threats/{report.pk}/level"
    missing = post(c, {"level": "high", "reason": ""}, url)
    assert missing.status_code == 422
    assert list(missing.json()["detail"]) == ["reason"]
    assert post(c, {"level": "severe", "reason": "Hay armas"}, url).status_code == 422
    assert post(c, {"level": "low", "reason": "Sigue igual"}, url).status_code == 422
    response = post(c, {"level": "high", "reason": "Volvieron con armas"}, url)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["level"], body["reasons"], body["level_reason"]) == (
        "high",
        ["coordinator"],
        "Volvieron con armas",
    )
    assert body["alert"] is not None
    report.refresh_from_db()
    assert report.level == "high"
    assert AuditEntry.objects.filter(action="threat.level_changed").count() == 1


def test_a_coordinator_sets_the_status(world, api_client, cases):
    report = cases["medium"]
    c = api_client(world.coordinator)
    url = f"/api/v1/threats/{report.pk}/status"
    response = post(c, {"status": "responding"}, url)
    assert response.status_code == 200
    assert response.json()["status"] == "responding"
    refused = post(c, {"status": "lost"}, url)
    assert refused.status_code == 422
    assert list(refused.json()["detail"]) == ["status"]
    report.refresh_from_db()
    assert report.status == "responding"


def test_a_supervisor_reads_cases_but_does_not_steer_them(world, api_client, cases):
    supervise(world)
    report = cases["medium"]
    ThreatReport.objects.filter(pk=report.pk).update(person=world.defender_person)
    c = api_client(world.supervisor)
    assert c.get(f"/api/v1/threats/{report.pk}").status_code == 200
    assert post(c, {"status": "closed"}, f"/api/v1/threats/{report.pk}/status").status_code == 404
    response = post(
        c, {"level": "high", "reason": "Por si acaso"}, f"/api/v1/threats/{report.pk}/level"
    )
    assert response.status_code == 404
    report.refresh_from_db()
    assert (report.status, report.level) == ("new", "medium")


def test_it_describes_every_operation_in_openapi(db):
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    paths = document["paths"]
    operations = {
        (method.upper(), path)
        for path, item in paths.items()
        if "/threats" in path
        for method in item
    }
    assert operations == {
        ("POST", "/api/v1/threats"),
        ("GET", "/api/v1/threats"),
        ("GET", "/api/v1/threats/{report_id}"),
        ("GET", "/api/v1/threats/{report_id}/checklist"),
        ("POST", "/api/v1/threats/{report_id}/checklist/{item_id}"),
        ("POST", "/api/v1/threats/{report_id}/level"),
        ("POST", "/api/v1/threats/{report_id}/status"),
        ("POST", "/api/v1/public/threats/{org_slug}"),
        ("GET", "/api/v1/public/threats/status/{receipt}"),
    }
    schemas = document["components"]["schemas"]
    assert RECEIPT_KEYS <= set(schemas["ReceiptOut"]["properties"])
    assert {"verbatim", "imminent_harm_signs", "evidence", "person"} <= set(
        schemas["ThreatIn"]["properties"]
    )
    assert set(schemas["PublicStatusOut"]["properties"]) == {
        "receipt",
        "status",
        "level",
        "received",
    }
    assert paths["/api/v1/threats"]["post"]["responses"].keys() >= {"201", "422"}
    # The anonymous endpoints need no token; the others do.
    assert "security" not in paths["/api/v1/public/threats/{org_slug}"]["post"]
    assert "security" not in paths["/api/v1/public/threats/status/{receipt}"]["get"]
    assert paths["/api/v1/threats"]["post"]["security"]


def test_every_authenticated_endpoint_needs_a_token(world, cases):
    anonymous = Client()
    report = cases["high"]
    item = report.checklist.first()
    for method, url in (
        ("POST", "/api/v1/threats"),
        ("GET", "/api/v1/threats?organisation=org-a"),
        ("GET", f"/api/v1/threats/{report.pk}"),
        ("GET", f"/api/v1/threats/{report.pk}/checklist"),
        ("POST", f"/api/v1/threats/{report.pk}/checklist/{item.pk}"),
        ("POST", f"/api/v1/threats/{report.pk}/level"),
        ("POST", f"/api/v1/threats/{report.pk}/status"),
    ):
        response = anonymous.get(url) if method == "GET" else post(anonymous, valid(), url)
        assert response.status_code == 401, url


def test_a_report_stays_sealed_in_the_database(world, api_client):
    post(api_client(world.coordinator), full_record())
    report = ThreatReport.objects.get()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT verbatim, place, perpetrator_description FROM incidents_threatreport"
        )
        row = cursor.fetchone()
    assert all(value.startswith("enc1:") for value in row)
    assert report.verbatim == THREAT


def test_the_occurred_at_offset_is_kept_as_an_instant(world, api_client):
    when = datetime.now(UTC) - timedelta(days=2)
    body = valid(occurred_at=when.astimezone().isoformat())
    assert post(api_client(world.coordinator), body).status_code == 201
    assert ThreatReport.objects.get().occurred_at == when
