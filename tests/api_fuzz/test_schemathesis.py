"""Issue 10, point 3: schemathesis against ``/api/openapi.json``, in the suite.

The schema is loaded from the Django WSGI application itself (no server, no network), and
every request goes through the same handler in the test's thread, so it sees the test
database. The caller is the demo Federación's security coordinator, with a real API token.

Random UUIDs and slugs only ever meet a 404 and random words a 422, so most generated
cases are steered towards real input: the caller's organisation, the ids of its records
(read from the database when the case is drawn, so they include what the earlier cases
created), today's dates and the values the schema's own descriptions list ("low, medium
or high"). Each part of the API starts from one record of each kind, made through the API
itself with a valid request. The run is bounded and reproducible: Hypothesis is
derandomised, a few examples per operation, no example database. Two checks: no 5xx, and
every response matches the schema the API declares for its status code.

One test per part of the API (people, alerts, threats, deployments...), so that
pytest-xdist shares them out; each builds the demo world in its own transaction. The
cases come from each operation's Hypothesis strategy (``APIOperation.as_strategy``), not
from ``schemathesis.pytest.from_fixture``, whose loader sets ``Node._nodeid``, which
pytest 9 no longer has; and one demo world per operation would cost minutes."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from ninja import Schema as NinjaSchema
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from werkzeug.test import Client as WerkzeugClient

from amparo.alerts.models import Alert
from amparo.crisis.models import CrisisCase, CrisisTask
from amparo.demo import data as demo
from amparo.incidents.models import ChecklistItem, ThreatReport
from amparo.people import actions as people_actions
from amparo.people.models import DirectoryEntry, Organisation, Person, Role, SafeHouse, User
from amparo.programmes.models import (
    Complaint,
    FundRequest,
    LegalCase,
    PsychosocialReferral,
    Workshop,
)
from amparo.protocols.models import RelocationRequest
from amparo.risk.models import MitigationAction, RiskAssessment, RiskSubject
from amparo.travel.models import Deployment
from amparo.wsgi import application

ORG = "federacion-mdd"
# Examples per operation and generation mode: valid requests find the wrong answers,
# invalid ones the crashes. About 1,300 requests in all.
EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 6}
CHECKS = [not_a_server_error, response_schema_conformance]

SCHEMA = schemathesis.openapi.from_wsgi(
    "/api/openapi.json",
    application,
    config=schemathesis.Config.from_dict(
        # The token is sent with every case: no case goes without it or with another.
        {"generation": {"database": "none", "with-security-parameters": False}}
    ),
)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


def part(path: str) -> str:
    """``/api/v1/risk/subjects`` -> ``risk``; ``/api/me`` and ``/api/orgs/...`` -> ``people``."""
    pieces = path.split("/")
    return pieces[3] if pieces[2] == "v1" else "people"


def order(operation: Any) -> tuple[int, str, str]:
    """Creating operations first, so that the others meet the records they made."""
    creates = operation.method.upper() == "POST" and "{" not in operation.path
    return (0 if creates else 1, operation.path, operation.method)


PARTS: dict[str, list[Any]] = defaultdict(list)
for _operation in sorted(OPERATIONS, key=order):
    PARTS[part(_operation.path)].append(_operation)


def modes(operation: Any) -> list[GenerationMode]:
    """Invalid requests where there is something to get wrong beyond a path segment."""
    if operation.body or operation.query:
        return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    return [GenerationMode.POSITIVE]


# "low, medium or high", "ISO 4217: PEN, USD": the values a field's description lists.
WORD = re.compile(r"^[A-Za-z0-9_]+$")


def listed_values(description: str) -> list[str]:
    words = re.split(r", | or ", description.rsplit(":", 1)[-1].strip())
    return words if len(words) > 1 and all(WORD.match(w) for w in words) else []


def vocabulary(document: dict[str, Any]) -> dict[str, list[str]]:
    """Field or parameter name -> every value the descriptions of that name list."""
    found: dict[str, set[str]] = defaultdict(set)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for name, field in (node.get("properties") or {}).items():
                found[name].update(listed_values(field.get("description", "")))
            if node.get("in") == "query":
                found[node["name"]].update(listed_values(node.get("description", "")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    return {name: sorted(values) for name, values in found.items() if values}


VOCABULARY = vocabulary(SCHEMA.raw_schema)
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def mostly(real: list[Any], original: Any) -> st.SearchStrategy[Any]:
    """A real value three times in four, the generated one otherwise."""
    return st.integers(0, 3).flatmap(
        lambda roll: st.sampled_from(real) if roll else st.just(original)
    )


class Records:
    """Real values a generated case may use instead of its own, read from the database
    when the case is drawn."""

    def __init__(self, organisation: Organisation) -> None:
        self.organisation = organisation

    def ids(self, model: Any, **lookups: Any) -> list[str]:
        lookups = lookups or {"organisation": self.organisation}
        return [str(pk) for pk in model.objects.filter(**lookups).values_list("pk", flat=True)[:20]]

    def path_values(self, path: str, name: str) -> list[str]:
        if name in ("slug", "org_slug"):
            return [ORG]
        if name == "receipt":
            return list(
                ThreatReport.objects.filter(organisation=self.organisation).values_list(
                    "receipt", flat=True
                )
            )
        if name == "case_id":
            return self.ids(CrisisCase if "/crisis/" in path else LegalCase)
        models = {
            "person_id": Person,
            "entry_id": DirectoryEntry,
            "safe_house_id": SafeHouse,
            "alert_id": Alert,
            "report_id": ThreatReport,
            "deployment_id": Deployment,
            "subject_id": RiskSubject,
            "assessment_id": RiskAssessment,
            "action_id": MitigationAction,
            "relocation_id": RelocationRequest,
            "referral_id": PsychosocialReferral,
            "request_id": FundRequest,
            "workshop_id": Workshop,
        }
        if name in models:
            return self.ids(models[name])
        return []

    def children(self, name: str) -> list[tuple[str, str]]:
        """(parent, child) pairs of a nested path: a checklist item of its own report."""
        org = self.organisation
        rows: dict[str, Any] = {
            "item_id": ChecklistItem.objects.filter(report__organisation=org).values_list(
                "report_id", "pk"
            ),
            "task_id": CrisisTask.objects.filter(organisation=org).values_list("case_id", "pk"),
            "complaint_id": Complaint.objects.filter(organisation=org).values_list("case_id", "pk"),
        }
        return [(str(a), str(b)) for a, b in rows[name][:20]] if name in rows else []

    def body_values(self, name: str, value: Any) -> list[Any]:
        today = timezone.localdate()
        if name == "organisation":
            return [ORG]
        if name in ("person", "person_id", "traveller", "lead", "beneficiary", "owner"):
            return self.ids(Person)
        if name in ("threat_report", "incident"):
            return self.ids(ThreatReport)
        if name == "professional":
            return self.ids(
                DirectoryEntry, organisation=self.organisation, category="mental_health"
            )
        if name == "safe_house":
            return self.ids(SafeHouse)
        if name == "alert_id":
            return self.ids(Alert)
        if name == "crisis_case_id":
            return self.ids(CrisisCase)
        if name == "amount":
            return ["350.00", 120]
        if isinstance(value, str) and DATE.match(value):
            return [str(today + timedelta(days=d)) for d in (-30, -1, 0, 10, 20)]
        if name in VOCABULARY and isinstance(value, str):
            return VOCABULARY[name]
        return []

    def steer(self, name: str, value: Any) -> st.SearchStrategy[Any]:
        if isinstance(value, dict):
            return st.fixed_dictionaries({k: self.steer(k, v) for k, v in value.items()})
        if isinstance(value, list) and value and isinstance(value[0], dict):
            return st.tuples(*(self.steer(name, item) for item in value)).map(list)
        if isinstance(value, list) and name in VOCABULARY:
            words = st.lists(st.sampled_from(VOCABULARY[name]), max_size=3, unique=True)
            return st.one_of(words, st.just(value))
        real = self.body_values(name, value)
        return mostly(real, value) if real else st.just(value)

    def realistic(self, case: Any) -> st.SearchStrategy[Any]:
        """A strategy of the same case with some values swapped for real ones."""
        path: dict[str, Any] = {}
        for name, value in case.path_parameters.items():
            pairs = self.children(name)
            if pairs:
                parent = next(p for p in case.path_parameters if p != name)
                path[name] = mostly(pairs, (case.path_parameters[parent], value))
                continue
            real = self.path_values(case.operation.path, name)
            if real and name not in path:
                path[name] = mostly(real, value)
        query = {
            name: mostly([ORG] if name == "organisation" else VOCABULARY.get(name, []), value)
            for name, value in (case.query or {}).items()
            if name == "organisation" or (name in VOCABULARY and isinstance(value, str))
        }
        body = self.steer("", case.body) if isinstance(case.body, dict) else st.just(case.body)

        def swap(drawn: tuple[dict[str, Any], dict[str, Any], Any]) -> Any:
            new_path, new_query, new_body = drawn
            parameters = dict(case.path_parameters)
            for name, value in new_path.items():
                if isinstance(value, tuple):
                    parent = next(p for p in parameters if p != name)
                    parameters[parent], parameters[name] = value
                else:
                    parameters[name] = value
            case.path_parameters = parameters
            if new_query:
                case.query = {**case.query, **new_query}
            if isinstance(case.body, dict):
                case.body = new_body
            return case

        return st.tuples(st.fixed_dictionaries(path), st.fixed_dictionaries(query), body).map(swap)


class Run:
    def __init__(self, secret: str, records: Records) -> None:
        self.headers = {"Authorization": f"Bearer {secret}"}
        self.client = WerkzeugClient(application)
        self.records = records
        self.statuses: dict[str, Counter[int]] = defaultdict(Counter)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A valid request of the happy path: it must succeed."""
        response = self.client.post(
            path, data=json.dumps(body), content_type="application/json", headers=self.headers
        )
        assert response.status_code in (200, 201), (path, response.get_data()[:500])
        return response.get_json()

    def fuzz(self, operation: Any, mode: GenerationMode) -> str | None:
        strategy = operation.as_strategy(generation_mode=mode).flatmap(self.records.realistic)

        @settings(
            max_examples=EXAMPLES[mode],
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            print_blob=False,
        )
        @given(case=strategy)
        def test(case: Any) -> None:
            response = case.call(headers=self.headers)
            self.statuses[operation.label][response.status_code] += 1
            case.validate_response(response, checks=CHECKS, headers=self.headers)

        try:
            test()
        except Unsatisfiable:
            # Nothing invalid to send: string path parameters only.
            return None
        except Exception as exc:  # noqa: BLE001 - every failure is reported at the end
            return f"{operation.label} ({mode.value}): {exc}"
        return None


# One record of each kind, through the API, before the part of the API that shows it.


def seed_people(run: Run, ids: dict[str, str]) -> None:
    """The demo has people, a directory and safe houses."""


def seed_alerts(run: Run, ids: dict[str, str]) -> None:
    run.post(
        "/api/v1/alerts",
        {
            "organisation": ORG,
            "kind": "threat",
            "severity": "high",
            "message": "Dos hombres armados preguntan por la defensora en la trocha 3",
            "person_id": ids["person"],
            "location": {"lat": -12.5933, "lon": -69.1891},
        },
    )


def seed_crisis(run: Run, ids: dict[str, str]) -> None:
    run.post(
        "/api/v1/crisis/cases",
        {
            "organisation": ORG,
            "kind": "attack",
            "title": "Ataque al puesto de control de Boca Pariamanu",
            "summary": "Incendio del puesto de vigilancia comunal durante la noche.",
            "region": "Madre de Dios",
            "person_id": ids["person"],
        },
    )


def seed_deployments(run: Run, ids: dict[str, str]) -> None:
    today = timezone.localdate()
    run.post(
        "/api/v1/deployments",
        {
            "organisation": ORG,
            "traveller": ids["person"],
            "trip_type": "me_supervision",
            "starts_on": str(today + timedelta(days=10)),
            "returns_on": str(today + timedelta(days=17)),
            "purpose": "Acompañamiento del monitoreo territorial en Iberia",
            "destinations": [{"country": "PE", "region": "Madre de Dios", "places": "Iberia"}],
        },
    )


def seed_risk(run: Run, ids: dict[str, str]) -> None:
    subject = run.post(
        "/api/v1/risk/subjects", {"organisation": ORG, "kind": "person", "person": ids["person"]}
    )
    run.post(
        f"/api/v1/risk/subjects/{subject['id']}/assessments",
        {
            "likelihood": 4,
            "impact": 4,
            "threats": [
                {
                    "actor_type": "illegal_mining",
                    "description": "Amenazas de muerte por denunciar la minería en el río",
                    "rating": 4,
                    "recurring": True,
                    "endangers": ["life"],
                }
            ],
            "vulnerabilities": [{"description": "Vive sola cerca de la trocha", "rating": 4}],
            "capacities": [{"description": "Radio comunal con el puesto", "rating": 3}],
            "mitigation": [
                {"description": "Instalar luces en la casa", "owner": ids["person"]},
            ],
        },
    )


def seed_relocations(run: Run, ids: dict[str, str]) -> None:
    run.post(
        "/api/v1/relocations",
        {
            "organisation": ORG,
            "person": ids["person"],
            "risk_level": "imminent",
            "reason": "Amenaza de muerte con plazo de tres días",
        },
    )


def seed_referrals(run: Run, ids: dict[str, str]) -> None:
    run.post(
        "/api/v1/referrals",
        {
            "organisation": ORG,
            "person": ids["person"],
            "professional": ids["professional"],
            "reason": "Insomnio y miedo tras la amenaza",
            "consent": True,
        },
    )


def seed_fund(run: Run, ids: dict[str, str]) -> None:
    run.post(
        "/api/v1/fund",
        {
            "organisation": ORG,
            "category": "transport",
            "amount": "350.00",
            "currency": "PEN",
            "beneficiary": ids["person"],
            "justification": "Traslado urgente a Puerto Maldonado",
        },
    )


def seed_legal_cases(run: Run, ids: dict[str, str]) -> None:
    case = run.post(
        "/api/v1/legal-cases",
        {
            "organisation": ORG,
            "matter": "threat",
            "summary": "Denuncia por amenazas de mineros ilegales",
            "person": ids["person"],
        },
    )
    run.post(
        f"/api/v1/legal-cases/{case['id']}/complaints",
        {"body": "prosecutor", "filed_on": str(timezone.localdate())},
    )


def seed_workshops(run: Run, ids: dict[str, str]) -> None:
    workshop = run.post(
        "/api/v1/workshops",
        {
            "organisation": ORG,
            "line": "s1_l1",
            "topic": "Autoprotección digital",
            "held_on": str(timezone.localdate() - timedelta(days=7)),
            "duration_hours": 3,
            "language": "es",
            "community": "Boca Pariamanu",
            "facilitator": "Equipo de seguridad",
        },
    )
    run.post(
        f"/api/v1/workshops/{workshop['id']}/participants",
        {"gender": "woman", "age_band": "30_44", "indigenous": "yes", "role": "community_leader"},
    )


def seed_nothing(run: Run, ids: dict[str, str]) -> None:
    """The demo has three threat reports with their checklists."""


SEEDS: dict[str, Callable[[Run, dict[str, str]], None]] = {
    "alerts": seed_alerts,
    "crisis": seed_crisis,
    "deployments": seed_deployments,
    "fund": seed_fund,
    "legal-cases": seed_legal_cases,
    "people": seed_nothing,
    "public": seed_nothing,
    "referrals": seed_referrals,
    "relocations": seed_relocations,
    "risk": seed_risk,
    "threats": seed_nothing,
    "workshops": seed_workshops,
}


@pytest.fixture
def wsgi_in_transaction(db: Any) -> Iterator[None]:
    """The requests go through the WSGI handler, which closes the database connection at
    the start and end of each (CONN_MAX_AGE is 0 in the tests), and the test's transaction
    with it on PostgreSQL. Django's test client stops that for its own requests; this does
    it for the test's."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def run(
    wsgi_in_transaction: None, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Run:
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    # The map layers (thousands of features) are not in the API: the demo without them.
    monkeypatch.setattr(demo, "load_reference_layers", lambda actor: [])
    demo.build()
    organisation = Organisation.objects.get(slug=ORG)
    coordinator = User.objects.get(
        memberships__organisation=organisation, memberships__role=Role.COORDINATOR
    )
    _token, secret = people_actions.create_api_token("test", coordinator, "schemathesis")
    return Run(secret, Records(organisation))


def test_every_part_of_the_api_is_fuzzed() -> None:
    assert set(PARTS) == set(SEEDS), "a new part of the API needs its seed here"


@pytest.mark.parametrize("name", sorted(PARTS))
def test_the_api_answers_without_a_5xx_and_as_its_schema_says(name: str, run: Run) -> None:
    organisation = run.records.organisation
    defender = Person.objects.filter(
        organisation=organisation, user__memberships__role=Role.DEFENDER
    ).first()
    professional = DirectoryEntry.objects.filter(
        organisation=organisation, category="mental_health"
    ).first()
    assert defender is not None and professional is not None
    SEEDS[name](run, {"person": str(defender.pk), "professional": str(professional.pk)})

    failures = []
    for operation in PARTS[name]:
        for mode in modes(operation):
            failure = run.fuzz(operation, mode)
            if failure:
                failures.append(failure)
    summary = "\n".join(
        f"  {label}: {dict(sorted(counts.items()))}" for label, counts in run.statuses.items()
    )
    print(f"\n{name}:\n{summary}")
    assert not failures, "\n\n".join(failures)
    # The token works: nothing was refused as unauthenticated.
    assert all(401 not in counts for counts in run.statuses.values()), summary


def test_no_two_schemas_share_a_name_with_different_shapes() -> None:
    """django-ninja names each component of the OpenAPI document after its class: two
    classes of one name in two routers become one component, and one of the two operations
    documents the other's body (the crisis case once documented the legal case)."""
    shapes: dict[str, dict[str, Any]] = defaultdict(dict)

    def walk(cls: type) -> None:
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("amparo."):
                shapes[sub.__name__][sub.__module__] = sub.model_json_schema()
            walk(sub)

    walk(NinjaSchema)
    clashes = {
        name: sorted(by_module)
        for name, by_module in shapes.items()
        if len({json.dumps(shape, sort_keys=True) for shape in by_module.values()}) > 1
    }
    assert not clashes
