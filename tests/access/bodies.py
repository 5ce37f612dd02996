"""A minimal body for each API operation that takes one: it passes the operation's schema,
so that a persona without access is refused by the access check (404) and not by
validation (422), which would say nothing about access. "{name}" is filled from the
world's values (tests/access/world.py)."""

from __future__ import annotations

from typing import Any

API_BODIES: dict[str, dict[str, Any]] = {
    "POST /api/orgs/{slug}/people": {"given_names": "Intrusa"},
    "POST /api/orgs/{slug}/directory": {"category": "police", "region": "Pando", "name": "X"},
    "POST /api/v1/alerts": {
        "organisation": "{slug}",
        "kind": "threat",
        "severity": "high",
        "message": "Intrusa",
    },
    "POST /api/v1/alerts/{alert_id}/resolve": {"note": "Intrusa"},
    "POST /api/v1/threats": {"organisation": "{slug}", "verbatim": "Intrusa"},
    "POST /api/v1/threats/{report_id}/checklist/{item_id}": {"status": "done"},
    "POST /api/v1/threats/{report_id}/level": {"level": "high", "reason": "Intrusa sube"},
    "POST /api/v1/threats/{report_id}/status": {"status": "closed"},
    "POST /api/v1/public/threats/{org_slug}": {"verbatim": "Amenaza anónima"},
    "POST /api/v1/deployments": {
        "organisation": "{slug}",
        "traveller": "{person_id}",
        "trip_type": "pri",
        "starts_on": "{in_a_month}",
        "returns_on": "{in_a_month}",
    },
    "POST /api/v1/deployments/{deployment_id}/status": {"status": "cancelled"},
    "POST /api/v1/deployments/{deployment_id}/exceptions": {
        "gate": "health",
        "reason": "Intrusa sin razón alguna",
    },
    "POST /api/v1/deployments/{deployment_id}/checkins": {"pin": "73190582"},
    "POST /api/v1/crisis/cases": {"organisation": "{slug}", "kind": "attack"},
    "POST /api/v1/crisis/cases/{case_id}/tasks/{task_id}/complete": {},
    "POST /api/v1/crisis/cases/{case_id}/timeline": {"text": "Intrusa"},
    "POST /api/v1/risk/subjects": {"organisation": "{slug}", "kind": "organisation"},
    "POST /api/v1/risk/subjects/{subject_id}/assessments": {
        "likelihood": 5,
        "impact": 5,
        "threats": [{"actor_type": "unknown", "description": "Intrusa", "rating": 1}],
        "vulnerabilities": [{"description": "Intrusa", "rating": 1}],
    },
    "POST /api/v1/relocations": {
        "organisation": "{slug}",
        "person": "{person_id}",
        "risk_level": "imminent",
        "reason": "Intrusa",
    },
    "POST /api/v1/relocations/{relocation_id}/decision": {"approve": False, "note": "Intrusa"},
    "POST /api/v1/relocations/{relocation_id}/relocation": {"starts_on": "{today}"},
    "POST /api/v1/relocations/{relocation_id}/return": {"ends_on": "{today}"},
    "POST /api/v1/relocations/{relocation_id}/close": {"note": "Intrusa"},
    "POST /api/v1/relocations/{relocation_id}/costs": {
        "category": "transport",
        "amount": "10",
        "currency": "PEN",
        "incurred_on": "{today}",
    },
    "POST /api/v1/referrals": {
        "organisation": "{slug}",
        "person": "{person_id}",
        "professional": "{professional_id}",
        "reason": "Intrusa",
        "consent": True,
    },
    "POST /api/v1/referrals/{referral_id}/sessions": {"held_on": "{today}"},
    "POST /api/v1/fund": {
        "organisation": "{slug}",
        "category": "transport",
        "amount": "10",
        "currency": "PEN",
        "justification": "Intrusa",
    },
    "POST /api/v1/fund/{request_id}/refusal": {"note": "Intrusa"},
    "POST /api/v1/fund/{request_id}/disbursement": {},
    "POST /api/v1/fund/{request_id}/satisfaction": {"satisfaction": 1},
    "POST /api/v1/legal-cases": {"organisation": "{slug}", "matter": "threat", "summary": "X"},
    "POST /api/v1/legal-cases/{case_id}/complaints": {"body": "court", "filed_on": "{today}"},
    "POST /api/v1/legal-cases/{case_id}/complaints/{complaint_id}": {
        "status": "archived",
        "status_on": "{today}",
        "outcome": "dismissed",
    },
    "POST /api/v1/legal-cases/{case_id}/lawyer": {},
    "POST /api/v1/legal-cases/{case_id}/close": {"resolved": False},
    "POST /api/v1/workshops": {
        "organisation": "{slug}",
        "line": "s1_l2",
        "topic": "Intrusa",
        "held_on": "{today}",
        "duration_hours": "2",
        "language": "es",
        "community": "X",
        "facilitator": "Intrusa",
    },
    "POST /api/v1/workshops/{workshop_id}/participants": {
        "gender": "man",
        "age_band": "30_44",
        "indigenous": "no",
        "role": "community_member",
    },
    "POST /api/v1/workshops/{workshop_id}/follow-ups": {
        "message": "Intrusa",
        "request_key": "0f0e0d0c-0b0a-4908-8706-050403020100",
    },
}


def body_for(key: str, values: dict[str, str]) -> Any:
    """The operation's body with "{name}" placeholders filled; ``None`` for an operation
    that takes none."""
    body = API_BODIES.get(key)
    return None if body is None else _fill(body, values)


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return values[value[1:-1]]
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    return value
