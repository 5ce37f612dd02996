"""The world the access matrix walks: organisation A with one record of every kind, the
personas of tests/access/permissions.py, and a value for every URL argument.

The records are built with the same actions (and, where one exists, the same helper) as
the per-app tests. Their relationships are what the permission table assumes:

- ``defender`` (Rosa) is the subject of the records that have one: the threat report,
  the alert, the crisis case, the risk assessment, the deployment (she is the
  traveller), the psychosocial referral, the fund request and the relocation. The
  coordinator made them all.
- ``supervisor`` (Julia) is the line manager of Zoila, another person of A with no
  account; not Rosa's.
- ``signatory`` is the executive director who signs Rosa's travel declaration.
- ``focal_point`` holds the communicator's task of the crisis case and mapped the
  hotspot.
- ``lawyer`` is assigned to the legal case, which is about Zoila; ``psychologist`` to
  Rosa's referral.
- ``partner`` and ``admin`` hold those roles in A and have no part in any record.
- ``coordinator_b`` is the coordinator of organisation B; ``superuser`` a platform
  administrator (Django admin) with no membership; ``anonymous`` has no account.

``SECRETS`` are sealed texts written into those records; tests/access/permissions.py
says who may read each one, and no other persona's answer may contain it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from amparo.alerts import actions as alert_actions
from amparo.crisis import actions as crisis_actions
from amparo.crisis.models import CrisisKind, CrisisRole
from amparo.incidents import actions as incident_actions
from amparo.incidents import vault
from amparo.incidents.models import EvidenceFile, Owner, Source
from amparo.monitoring import hotspots, imports, kpis
from amparo.monitoring.models import PublicReport
from amparo.people import actions as people_actions
from amparo.people.models import Role
from amparo.programmes import actions as programme_actions
from amparo.programmes import fund, legal, trainings
from amparo.protocols import institutional, relocation
from amparo.risk import actions as risk_actions
from amparo.risk.models import MitigationAction
from amparo.travel import checkins, documents, settings_actions
from amparo.travel.models import Deployment, DeploymentStatus
from conftest import PASSWORD, Persona, make_persona, totp_now
from tests.alerts.support import life_safety_policy
from tests.incidents.test_pages import jpeg_bytes
from tests.monitoring.test_hotspots import add as add_hotspot
from tests.monitoring.test_map import make_incident
from tests.protocols.test_community_builder import make_protocol
from tests.protocols.test_evacuation_plans_and_drills import drill, make_plan
from tests.risk.conftest import assess

# Every persona of the matrix, in the order of the parametrized ids.
PERSONAS = (
    "anonymous",
    "defender",
    "focal_point",
    "coordinator",
    "supervisor",
    "signatory",
    "lawyer",
    "psychologist",
    "partner",
    "admin",
    "coordinator_b",
    "superuser",
)

# Sealed texts of the world's records (ASCII, so that JSON does not escape them).
SECRETS = {
    "safe_house": "Casa Refugio Sigilo-Siete",
    "incident_identity": "Juana Secreta-Quispe",
    "relocation_reason": "Amenaza del aserradero Lucerna-Oculto",
    "referral_reason": "Pesadillas tras Huepetuhe-Secreto",
    "clinical_notes": "Insomnio y culpa Confidencial-Clinica",
    "hotspot_notes": "Yupanqui-Reservado",
    "legal_summary": "Denuncia Caso-Secreto de Zoila",
    "fund_justification": "Alquiler Fondo-Secreto",
    "proof_of_life_answer": "Perro-Azul-Secreto",
    "lost_comms_plan": "Ir al puesto Laberinto-Secreto",
}

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n" * 40


@dataclass
class AccessWorld:
    personas: dict[str, Persona | None]
    # URL argument name -> value, for every route.
    values: dict[str, str]
    # A piece of a route's address -> {argument: value} where a name means another record.
    overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    # Persona -> session cookies (signed in through the real login and MFA pages).
    cookies: dict[str, dict[str, str]] = field(default_factory=dict)
    # Persona -> bearer token secret.
    tokens: dict[str, str] = field(default_factory=dict)
    _clients: dict[tuple[str, bool], Client] = field(default_factory=dict)

    def values_for(self, template: str, callback: Any = None) -> dict[str, str]:
        """The value of each URL argument of the route at ``template``."""
        values = dict(self.values)
        for piece, extra in self.overrides.items():
            if piece in template:
                values.update(extra)
        if template.startswith("/admin/"):
            values.update(_admin_values(callback))
        return values

    def client(self, persona: str, api: bool) -> Client:
        """A client of the persona: its session cookies for a page, its bearer token for
        the API (which takes no cookie). Clients are kept: each new one builds the
        middleware again, WhiteNoise's scan of the static files included."""
        c = self._clients.get((persona, api))
        if c is None:
            headers = {}
            if api and persona in self.tokens:
                headers["Authorization"] = f"Bearer {self.tokens[persona]}"
            c = self._clients[(persona, api)] = Client(headers=headers)
        c.cookies = SimpleCookie()
        if not api:
            for key, value in self.cookies.get(persona, {}).items():
                c.cookies[key] = value
        return c


def _world_personas() -> dict[str, Any]:
    org_a = people_actions.create_organisation(
        "test",
        name="Federación A",
        slug="org-a",
        kind="indigenous_federation",
        country="PE",
        region="Madre de Dios",
    )
    org_b = people_actions.create_organisation(
        "test", name="Comunidad B", slug="org-b", kind="community", country="BO", region="Pando"
    )
    personas: dict[str, Any] = {"org_a": org_a, "org_b": org_b}
    for name, role in (
        ("defender", Role.DEFENDER),
        ("focal_point", Role.FOCAL_POINT),
        ("coordinator", Role.COORDINATOR),
        ("supervisor", Role.SUPERVISOR),
        ("signatory", Role.SIGNATORY),
        ("lawyer", Role.LAWYER),
        ("psychologist", Role.PSYCHOLOGIST),
        ("partner", Role.PARTNER),
        ("admin", Role.ADMIN),
    ):
        personas[name] = make_persona(org_a, role, f"{name.replace('_', '.')}@a.example")
    personas["coordinator_b"] = make_persona(org_b, Role.COORDINATOR, "coordinator@b.example")
    superuser = people_actions.create_user(
        "test", email="root@platform.example", password=PASSWORD, is_staff=True
    )
    type(superuser).objects.filter(pk=superuser.pk).update(is_superuser=True)
    superuser.refresh_from_db()
    device = TOTPDevice.objects.create(user=superuser, name="test", confirmed=True)
    # A member of no organisation: ``organisation`` is only where the dataclass wants one.
    personas["superuser"] = Persona(
        user=superuser, organisation=org_a, role="superuser", device=device
    )
    return personas


def build_world() -> AccessWorld:
    p = _world_personas()
    org_a = p["org_a"]
    coordinator = p["coordinator"].user
    today = timezone.localdate()
    shim = _Shim(p)

    # People: Rosa; Zoila and her line manager Julia; a directory entry, a safe house, an
    # invitation.
    supervisor_person = people_actions.create_person(
        "test", org_a, given_names="Julia", family_names="Mamani", user=p["supervisor"].user
    )
    zoila = people_actions.create_person("test", org_a, given_names="Zoila", family_names="Quispe")
    people_actions.set_chain_of_command(
        "test", zoila, supervisor=supervisor_person, emergency_rank=None
    )
    rosa = people_actions.create_person(
        "test",
        org_a,
        given_names="Rosa",
        family_names="Huamán",
        user=p["defender"].user,
        phone_numbers=["+51 982 111 222"],
    )
    shim.defender_person = rosa
    entry = people_actions.create_directory_entry(
        "test", org_a, category="hospital", region="Madre de Dios", name="Hospital Santa Rosa"
    )
    safe_house = people_actions.create_safe_house(
        "test",
        org_a,
        region="Madre de Dios",
        name=SECRETS["safe_house"],
        address="Jr. Loreto 742",
        location={"lat": -12.59, "lon": -69.18},
    )
    invitation, invitation_token = people_actions.invite(
        "test", org_a, email="new@a.example", role=Role.DEFENDER
    )
    api_token, _secret = people_actions.create_api_token("test", coordinator, "coordinator's")

    # Alerts: a high alert about Rosa, raised by the coordinator, and a link to it.
    alert = alert_actions.raise_alert(
        coordinator,
        org_a,
        kind="threat",
        severity="high",
        message="Hombres armados",
        person=rosa,
        location={"lat": -12.6, "lon": -69.2},
    )
    policy = life_safety_policy(org_a)
    recipient = alert_actions._person_recipient(supervisor_person, role=Role.SUPERVISOR)
    ack_url = alert_actions.make_ack_link(alert, recipient, "local")
    ack_token = ack_url.rstrip("/").rsplit("/", 1)[-1]

    # Incidents: a threat report about Rosa with a photo.
    photo = vault.stage_stream(org_a.pk, "foto.jpg", iter([jpeg_bytes()]))
    receipt = incident_actions.report_threat(
        coordinator,
        org_a,
        {"verbatim": "Te estamos vigilando", "source_illicit_activity": "illegal_mining"},
        source=Source.WEB,
        person=rosa,
        evidence=[photo],
    )
    report = receipt.report

    # Crisis: a case opened from the alert.
    case = crisis_actions.open_crisis(
        coordinator,
        org_a,
        CrisisKind.KIDNAPPING,
        alert=alert,
        assignees={CrisisRole.COMMUNICATOR: p["focal_point"].user},
    )
    task = case.tasks.filter(assignee=p["focal_point"].user).order_by("position").first()
    assert task is not None, "the kidnapping playbook has a communicator's task"

    # Risk: Rosa assessed, with a mitigation action.
    subject = risk_actions.create_subject("test", org_a, kind="person", person=rosa)
    assessment = assess(shim, subject)
    action = MitigationAction.objects.filter(assessment=assessment).first()

    # Travel: the executive director signs; Rosa's active trip with every record.
    settings_actions.set_signatories(
        "test",
        org_a,
        executive_director=p["signatory"].user,
        head_of_finance=p["signatory"].user,
        other_trips_signed_by="executive_director",
    )
    settings_actions.write_code_of_conduct("test", org_a, "No armas.")
    deployment = Deployment.objects.create(
        organisation=org_a,
        traveller=rosa,
        trip_type="other",
        starts_on=today,
        returns_on=today + dt.timedelta(days=20),
        status=DeploymentStatus.ACTIVE,
    )
    now = timezone.now()
    leg = checkins.add_leg(
        "test",
        deployment,
        place="Albergue Tambopata",
        country="PE",
        time_zone="America/Lima",
        starts_at=now + dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(days=3),
    )
    checkins.set_pins("test", rosa, "73190582")
    checkins.save_lost_comms_plan(
        "test", deployment, traveller_will=SECRETS["lost_comms_plan"], organisation_should="Llamar"
    )
    checkins.set_proof_of_life(
        "test", deployment, [{"question": "¿Perro?", "answer": SECRETS["proof_of_life_answer"]}]
    )
    document = documents.attach_document(
        "test",
        deployment,
        "programme",
        SimpleUploadedFile("programa.pdf", PDF, content_type="application/pdf"),
    )

    # Protocols: a community protocol, an evacuation plan, a drill, the institutional
    # policy and a compliance check; a relocation of Rosa.
    protocol = make_protocol(shim)
    plan = make_plan(shim, protocol=protocol)
    drill(shim, dt.date(2025, 1, 5), 600, followed=5, protocol=protocol)
    institutional.update_institutional_policy(
        coordinator, org_a, has_security_manual=True, chain_of_command="Julia, luego Oscar"
    )
    check = institutional.record_compliance_check(
        coordinator,
        org_a,
        checked_on=dt.date(2025, 2, 1),
        status="gaps_found",
        findings="Sin plan de riesgos al día",
    )
    relocation_request = relocation.request_relocation(
        coordinator, rosa, reason=SECRETS["relocation_reason"], risk_level="imminent"
    )

    # Programmes: a referral, a fund request, a legal case with a complaint, a workshop.
    professional = people_actions.create_directory_entry(
        "test",
        org_a,
        category="mental_health",
        region="Madre de Dios",
        name="Psicóloga Marleny",
        specialties=["trauma"],
    )
    referral = programme_actions.refer_person(
        coordinator,
        org_a,
        person=rosa,
        professional=professional,
        reason=SECRETS["referral_reason"],
        consent=True,
        psychologist=p["psychologist"].user,
    )
    programme_actions.record_session(
        p["psychologist"].user,
        referral,
        held_on=today - dt.timedelta(days=1),
        duration_minutes=50,
        attended=True,
        clinical_notes=SECRETS["clinical_notes"],
    )
    fund_request = fund.request_funds(
        coordinator,
        org_a,
        category="shelter",
        amount="200",
        currency="PEN",
        justification=SECRETS["fund_justification"],
        beneficiary=rosa,
    )
    legal_case = legal.open_legal_case(
        coordinator,
        org_a,
        matter="threat",
        summary=SECRETS["legal_summary"],
        person=zoila,
        lawyer=p["lawyer"].user,
    )
    complaint = legal.file_complaint(
        coordinator, legal_case, body="police", filed_on=today - dt.timedelta(days=2)
    )
    workshop = trainings.record_workshop(
        coordinator,
        org_a,
        line="s1_l1",
        topic="Derechos",
        held_on=today - dt.timedelta(days=1),
        duration_hours="6",
        language="Español",
        community="Puerto Arturo",
        facilitator="Facilitadora",
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

    # Monitoring: a hotspot mapped by the focal point, an incident, an import, a
    # published public report.
    hotspot = add_hotspot(shim, notes=SECRETS["hotspot_notes"])
    photo = hotspots.add_photos(
        p["focal_point"].user,
        hotspot,
        [vault.stage_stream(org_a.pk, "campamento.jpg", iter([jpeg_bytes()]))],
    ).photos[0]
    make_incident(org_a, -12.5934, -69.1891, identity={"name": SECRETS["incident_identity"]})
    job = imports.upload("test", org_a, filename="a.csv", raw=b"fecha,tipo\n2024-01-01,threat\n")
    public_report = PublicReport.objects.create(
        organisation=org_a,
        title="Informe",
        period_start=dt.date(2025, 1, 1),
        period_end=dt.date(2025, 1, 31),
        data={"areas": [], "cells": [], "total": 0, "k": 5, "grid_km": 10},
        pdf=b"%PDF-1.7 test",
        published_at=timezone.now(),
    )
    entered_kpi = next(k for k in kpis.catalogue() if not k.computed)

    values = {
        "today": today.isoformat(),
        "in_a_month": (today + dt.timedelta(days=30)).isoformat(),
        "slug": org_a.slug,
        "org_slug": org_a.slug,
        # people
        "person_id": str(rosa.pk),
        "entry_id": str(entry.pk),
        "safe_house_id": str(safe_house.pk),
        "invitation_id": str(invitation.pk),
        "token_id": str(api_token.pk),
        # alerts
        "alert_id": str(alert.pk),
        "policy_id": str(policy.pk),
        # incidents
        "report_id": str(report.pk),
        # An item the person threatened ticks herself.
        "item_id": str(report.checklist.filter(owner=Owner.REPORTER).order_by("code")[0].pk),
        "evidence_id": str(EvidenceFile.objects.get(report=report).pk),
        "receipt": receipt.report.receipt,
        # crisis
        "case_id": str(case.pk),
        "task_id": str(task.pk),
        "playbook_id": str(case.playbook_id),
        # risk
        "subject_id": str(subject.pk),
        "assessment_id": str(assessment.pk),
        "action_id": str(action.pk),
        # travel
        "deployment_id": str(deployment.pk),
        "leg_id": str(leg.pk),
        "document_id": str(document.pk),
        "language": "en",
        # protocols
        "protocol_id": str(protocol.pk),
        "number": "1",  # the protocol's version; the KPIs' strategy
        "plan_id": str(plan.pk),
        "check_id": str(check.pk),
        "relocation_id": str(relocation_request.pk),
        # programmes
        "referral_id": str(referral.pk),
        "request_id": str(fund_request.pk),
        "complaint_id": str(complaint.pk),
        "workshop_id": str(workshop.pk),
        "participant_id": str(participant.pk),
        "professional_id": str(professional.pk),
        # monitoring
        "hotspot_id": str(hotspot.pk),
        "photo_id": str(photo.pk),
        "job_id": str(job.pk),
        "layer": "countries",
        "kpi_id": entered_kpi.id,
        # channels and demo
        "form_id": "threat_report",
        "channel": "json",
    }
    # Where an argument's name means another record: by a piece of the route's address.
    overrides = {
        "/invite/<str:token>/": {"token": invitation_token},
        "/a/<str:token>/": {"token": ack_token},
        "/legal/<str:case_id>/": {"case_id": str(legal_case.pk)},
        "/legal-cases/{case_id}": {"case_id": str(legal_case.pk)},
        "/reports/<str:report_id>/": {"report_id": str(public_report.pk)},
    }
    return AccessWorld(personas=_personas_of(p), values=values, overrides=overrides)


class _Shim:
    """What the per-app helpers read from the root conftest's ``World``."""

    def __init__(self, p: dict[str, Any]) -> None:
        self.org_a = p["org_a"]
        self.org_b = p["org_b"]
        for name in ("defender", "focal_point", "coordinator", "supervisor", "coordinator_b"):
            setattr(self, name, p[name])
        self.defender_person: Any = None


def _personas_of(p: dict[str, Any]) -> dict[str, Persona | None]:
    personas: dict[str, Persona | None] = {"anonymous": None}
    for name in PERSONAS[1:]:
        personas[name] = p[name]
    return personas


def _admin_values(callback: Any) -> dict[str, str]:
    """The Django admin's arguments: an existing row of the page's model where there is
    one, else values the admin answers with its own "no such object"."""
    values = {"app_label": "people", "url": "no-such-page/", "content_type_id": "1"}
    model_admin = getattr(getattr(callback, "__wrapped__", None), "__self__", None)
    model = getattr(model_admin, "model", None)
    row = model._default_manager.order_by("pk").first() if model is not None else None
    values["object_id"] = values["pk"] = str(row.pk) if row is not None else "1"
    return values


def sign_in(persona: Persona) -> dict[str, str]:
    """Sign in through the real login and MFA pages (as the root conftest's ``login``);
    return the session cookies."""
    c = Client()
    response = c.post("/accounts/login/", {"username": persona.user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    if persona.device is not None:
        response = c.post("/accounts/mfa/verify/", {"token": totp_now(persona.device)})
        assert response.status_code == 302, response.content[:500]
    return {key: morsel.value for key, morsel in c.cookies.items()}
