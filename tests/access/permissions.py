"""The declared permission table: who may reach each page and API operation of Amparo.

tests/access/test_matrix.py asks every route of ``amparo.urls`` and every operation of
``amparo.api.api`` as every persona (tests/access/world.py says who they are and what
records they have a part in) and compares the answer with this table. A route that is
not here fails the test until its permission is declared; an entry whose route is gone
fails it too.

Keys: a page by its URL name (``admin:index`` with its namespace; an unnamed pattern by
the pattern itself); an API operation by its method and path, ``"GET
/api/v1/alerts/{alert_id}"``.

Values: ``page(allowed, ...)`` or ``api(allowed, ...)``, where ``allowed`` is the set of
personas that get past the access check. "Past the access check" means any answer but
a refusal: the action behind it may still turn the (empty or minimal) input down with
400, 409 or 422, and that is fine; a 5xx never is. Everybody else must be refused, in
the way the table says:

- a page: the anonymous visitor is sent to sign in (``LOGIN``), everyone else gets 404
  (DESIGN.md section 7: "missing" and "forbidden" look the same);
- an API operation: 401 without a token, 404 with one;
- ``denied=`` overrides that (one outcome for every refused persona, or a dict by
  persona), ``served=`` lists the answers an allowed persona may get when the default
  ("not a refusal, not a 5xx") does not fit.

Pages are asked with GET, or with an empty POST where ``post=True`` (views that only take
a POST answer 405 to a GET before they look at anything). API operations are called with
their method and a minimal body that passes the schema (tests/access/bodies.py), so that
a refusal comes from the access check and not from validation.

``SECRET_READERS`` says who may read each sealed text of the world; ``KNOWN_DEVIATIONS``
lists the cases where the application answers otherwise than this table (expected to
fail until someone decides which is right).
"""

from __future__ import annotations

from dataclasses import dataclass

# Outcomes other than a status code (tests/access/test_matrix.py, ``outcome``).
LOGIN = "login"  # 302 to /accounts/login/
MFA = "mfa"  # 302 to /accounts/mfa/...
ADMIN_LOGIN = "admin-login"  # 302 to /admin/login/

# The personas (tests/access/world.py).
ANYONE = frozenset(
    {
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
    }
)
SIGNED_IN = ANYONE - {"anonymous"}
# Members of organisation A, one per role.
MEMBERS = SIGNED_IN - {"coordinator_b", "superuser"}
MANAGERS = frozenset({"coordinator", "admin"})
COORDINATOR = frozenset({"coordinator"})
NOBODY: frozenset[str] = frozenset()
# people.access.PEOPLE_READERS
PEOPLE_READERS = MANAGERS | {"supervisor", "focal_point", "signatory"}
# alerts.access.RESPONDERS
RESPONDERS = MANAGERS | {"supervisor", "focal_point", "partner"}
# Who reads Rosa's threat report, its evidence and its dossier: the case managers and
# (not the dossier or the evidence) Rosa herself. DESIGN.md section 1 gives supervisors
# "the Step 2 documentation of threats against their staff" and lawyers "the cases they
# are assigned": the world's supervisor manages Zoila, not Rosa, and its lawyer works
# Zoila's legal case, so neither reads Rosa's report (incidents.access.reports_visible_to).
THREAT_READERS = MANAGERS
# Who sees Rosa's deployment: managers, the signatory, the traveller herself.
DEPLOYMENT_READERS = MANAGERS | {"signatory", "defender"}
# Who fills in its records: managers and the traveller.
DEPLOYMENT_FILLERS = MANAGERS | {"defender"}
# protocols.access.PROTOCOL_READERS: every member but a partner.
PROTOCOL_READERS = MEMBERS - {"partner"}
# monitoring.access.HOTSPOT_MAPPERS (the focal point mapped the world's hotspot).
MAPPERS = frozenset({"focal_point", "coordinator"})
# The crisis case: its managers and the focal point, who holds its communicator's task.
CRISIS_TEAM = MANAGERS | {"focal_point"}
# The referral: the coordinator and the assigned psychologist.
CARERS = frozenset({"coordinator", "psychologist"})
# The legal case: managers and the assigned lawyer.
LEGAL_TEAM = MANAGERS | {"lawyer"}
# What the platform administrator reaches in the Django admin: its pages, or the
# admin's own refusals (403 adding to a read-only model, 404 for no such object).
ADMIN_SERVED = frozenset({200, 302, 403, 404})


@dataclass(frozen=True)
class Rule:
    allowed: frozenset[str]
    api: bool = False
    post: bool = False
    denied: str | int | dict[str, str | int] | None = None
    served: frozenset[str | int] | None = None
    why: str = ""

    def refusal_for(self, persona: str) -> str | int:
        """How this route refuses ``persona``."""
        if isinstance(self.denied, dict) and persona in self.denied:
            return self.denied[persona]
        if self.denied is not None and not isinstance(self.denied, dict):
            return self.denied
        if persona == "anonymous":
            return 401 if self.api else LOGIN
        return 404


def page(
    allowed: frozenset[str] | set[str],
    *,
    post: bool = False,
    denied: str | int | dict[str, str | int] | None = None,
    served: set[str | int] | frozenset[str | int] | None = None,
    why: str = "",
) -> Rule:
    return Rule(
        frozenset(allowed),
        post=post,
        denied=denied,
        served=frozenset(served) if served is not None else None,
        why=why,
    )


def api(
    allowed: frozenset[str] | set[str],
    *,
    denied: str | int | dict[str, str | int] | None = None,
    why: str = "",
) -> Rule:
    return Rule(frozenset(allowed), api=True, denied=denied, why=why)


def admin_model(app_model: str, *, extra: tuple[str, ...] = ()) -> dict[str, Rule]:
    """The routes the Django admin adds for one registered model: the platform
    administrator only; everyone else is sent to the admin's sign-in."""
    app, model = app_model.split(".")
    names = [f"admin:{app}_{model}_{view}" for view in ("changelist", "add", "history")]
    names += [f"admin:{app}_{model}_{view}" for view in ("delete", "change", *extra)]
    names.append(f"admin/{app}/{model}/<path:object_id>/")
    return {name: ADMIN for name in names}


ADMIN = page({"superuser"}, denied=ADMIN_LOGIN, served=ADMIN_SERVED)

PAGES: dict[str, Rule] = {
    # Accounts (people.views)
    "home": page(SIGNED_IN),
    "login": page(ANYONE),
    "logout": page(ANYONE, post=True, served={LOGIN}),
    "mfa-setup": page(SIGNED_IN),
    "mfa-verify": page(
        SIGNED_IN - {"defender"},
        denied={"defender": MFA},
        why="The defender has no device: verifying sends her to set one up.",
    ),
    "set-language": page(ANYONE),
    "account-settings": page(SIGNED_IN),
    "revoke-token": page(COORDINATOR, post=True, why="The world's token is the coordinator's."),
    "logout-everywhere": page(SIGNED_IN, post=True, served={LOGIN}),
    "duress-password": page(SIGNED_IN, post=True),
    "accept-invitation": page(ANYONE, why="The invitation's token is its key."),
    # The organisation's people, directory and safe houses (people.access)
    "org-home": page(MEMBERS),
    "members": page(MANAGERS),
    "revoke-invitation": page(MANAGERS, post=True),
    "people": page(MEMBERS, why="A list of whom one may see: a defender sees herself."),
    "person-new": page(MANAGERS),
    "person-detail": page(PEOPLE_READERS | {"defender"}, why="Rosa's own record."),
    "person-edit": page(MANAGERS),
    "person-chain": page(MANAGERS),
    "chain-of-command": page(PEOPLE_READERS),
    "directory": page(MEMBERS),
    "directory-new": page(MANAGERS | {"focal_point"}),
    "directory-detail": page(MEMBERS),
    "directory-edit": page(MANAGERS | {"focal_point"}),
    "directory-archive": page(MANAGERS | {"focal_point"}, post=True),
    "safe-houses": page(COORDINATOR),
    "safe-house-new": page(COORDINATOR),
    "safe-house-detail": page(COORDINATOR),
    "safe-house-edit": page(COORDINATOR),
    # Alerts (alerts.access)
    "panic": page(MEMBERS),
    "alert-board": page(MEMBERS, why="Own alerts only for defender, signatory, lawyer, ..."),
    "alert-new": page(RESPONDERS),
    "alert-detail": page(RESPONDERS | {"defender"}, why="The alert is about Rosa."),
    "alert-acknowledge": page(RESPONDERS, post=True),
    "alert-resolve": page(RESPONDERS, post=True),
    "alert-share": page(MANAGERS, post=True),
    "alert-policies": page(MANAGERS),
    "alert-policy-new": page(MANAGERS),
    "alert-policy-edit": page(MANAGERS),
    "alert-ack-link": page(ANYONE, why="The signed link is its own key."),
    "worker-heartbeat": page(ANYONE, served={200, 503}, why="No worker runs in the tests."),
    # Threat reports (incidents.access)
    "threat-list": page(MEMBERS, why="Own reports only for those who are not case readers."),
    "threat-new": page(MEMBERS),
    "threat-detail": page(THREAT_READERS | {"defender"}, why="The report is about Rosa."),
    "threat-level": page(MANAGERS, post=True),
    "threat-status": page(MANAGERS, post=True),
    "threat-item": page(MANAGERS | {"defender"}, post=True, why="An item Rosa ticks herself."),
    "threat-evidence": page(THREAT_READERS),
    "threat-dossier": page(THREAT_READERS),
    "security-plan": page(MANAGERS | {"defender"}, why="Rosa's own; Julia is not her boss."),
    "threat-receipt": page(ANYONE),
    "threat-anonymous": page(ANYONE),
    # Deployments (travel.access; Rosa is the traveller, the signatory signs)
    "deployment-list": page(MEMBERS, why="Own deployments only for a traveller."),
    "deployment-new": page(MANAGERS),
    "deployment-approvals": page(MANAGERS | {"signatory"}),
    "travel-settings": page(MANAGERS),
    "deployment-detail": page(DEPLOYMENT_READERS),
    "deployment-status": page(MANAGERS, post=True),
    "deployment-sign": page({"signatory"}, post=True),
    "deployment-exception": page({"signatory"}, post=True),
    "deployment-accept-code": page(
        DEPLOYMENT_READERS,
        post=True,
        why="Whoever sees the deployment reaches it; the action accepts the traveller only.",
    ),
    "deployment-packet": page(DEPLOYMENT_READERS),
    "deployment-legs": page(DEPLOYMENT_READERS),
    "deployment-leg-change": page(DEPLOYMENT_FILLERS),
    "deployment-leg-remove": page(DEPLOYMENT_FILLERS, post=True),
    "deployment-pins": page({"defender"}, why="The traveller's own PINs."),
    "deployment-checkin": page({"defender"}, why="The traveller checks in."),
    "deployment-lost-comms": page(DEPLOYMENT_READERS),
    "deployment-proof-of-life": page(
        {"defender", "coordinator"}, why="travel.checkins.CRISIS_ROLES: the coordinator."
    ),
    "deployment-proof-of-life-read": page(COORDINATOR, post=True),
    "deployment-documents": page(DEPLOYMENT_READERS),
    "deployment-document": page(DEPLOYMENT_READERS),
    **{
        f"deployment-{record}": page(DEPLOYMENT_FILLERS, post=True)
        for record in (
            "declaration",
            "next-of-kin",
            "insurance",
            "health",
            "training",
            "chain-of-command",
            "necessity",
            "registrations",
        )
    },
    # Crisis (crisis.access; the focal point holds the communicator's task)
    "crisis-list": page(CRISIS_TEAM, why="A member without a task in any case gets 404."),
    "crisis-new": page(MANAGERS),
    "crisis-playbooks": page(MANAGERS),
    "crisis-playbook": page(MANAGERS),
    "crisis-from-alert": page(MANAGERS, post=True),
    "crisis-detail": page(CRISIS_TEAM),
    "crisis-task-done": page(CRISIS_TEAM, post=True, why="The focal point's own task."),
    "crisis-note": page(CRISIS_TEAM, post=True),
    "crisis-blackout": page(MANAGERS, post=True),
    "crisis-advocacy": page(MANAGERS),
    "crisis-review": page(MANAGERS),
    # Risk (risk.access; Rosa is the subject)
    "risk-list": page(MEMBERS, why="A list of what one may see: the subject sees hers."),
    "risk-overdue": page(MANAGERS),
    "risk-subject-new": page(MANAGERS),
    "risk-subject": page(MANAGERS | {"defender"}),
    "risk-subject-schedule": page(MANAGERS, post=True),
    "risk-assessment-new": page(MANAGERS),
    "risk-assessment": page(MANAGERS | {"defender"}),
    "risk-action-add": page(MANAGERS, post=True),
    "risk-action-done": page(MANAGERS, post=True),
    # Protocols (protocols.access)
    "protocols": page(MEMBERS, why="A partner sees the crisis lessons only."),
    "protocol-new": page(MANAGERS),
    "protocol-detail": page(PROTOCOL_READERS),
    "protocol-edit": page(MANAGERS),
    "protocol-version": page(PROTOCOL_READERS),
    "protocol-status": page(MANAGERS, post=True),
    "protocol-train": page(MANAGERS, post=True),
    "protocol-card": page(PROTOCOL_READERS),
    "evacuation-new": page(MANAGERS),
    "evacuation-detail": page(PROTOCOL_READERS),
    "evacuation-edit": page(MANAGERS),
    "drill-list": page(PROTOCOL_READERS),
    "drill-new": page(MANAGERS),
    "institutional-policy": page(PROTOCOL_READERS),
    "institutional-edit": page(MANAGERS),
    "compliance-check-new": page(MANAGERS),
    "compliance-check-resolve": page(MANAGERS, post=True),
    # Relocations (protocols.access: the security coordinator only, not the admin)
    "relocation-list": page(COORDINATOR),
    "relocation-new": page(COORDINATOR | {"supervisor"}, why="For her own staff (Zoila)."),
    "relocation-costs": page(COORDINATOR),
    "relocation-detail": page(COORDINATOR),
    "relocation-decide": page(COORDINATOR, post=True),
    "relocation-relocate": page(COORDINATOR),
    "relocation-return": page(COORDINATOR, post=True),
    "relocation-close": page(COORDINATOR, post=True),
    "relocation-cost-new": page(COORDINATOR),
    # Psychosocial referrals (programmes.access: the coordinator, not the admin)
    "referral-list": page(MEMBERS, why="A list of what one may see: Rosa sees hers."),
    "referral-new": page(COORDINATOR),
    "referral-detail": page(CARERS | {"defender"}),
    "referral-session": page(CARERS, post=True),
    "referral-next-session": page(CARERS, post=True),
    "referral-healing": page(CARERS, post=True),
    "referral-psychologist": page(COORDINATOR, post=True),
    "referral-close": page(CARERS, post=True),
    "referral-notes": page({"psychologist"}, why="Clinical notes: the psychologist only."),
    # The emergency fund, legal accompaniment, trainings (programmes.access)
    "fund-list": page(MANAGERS),
    "fund-new": page(MANAGERS),
    "fund-ledger": page(MANAGERS),
    "fund-summary": page(MANAGERS | {"partner"}),
    "fund-detail": page(MANAGERS),
    "fund-approve": page(MANAGERS, post=True),
    "fund-refuse": page(MANAGERS, post=True),
    "fund-disburse": page(MANAGERS, post=True),
    "fund-satisfaction": page(MANAGERS, post=True),
    "public-fund-summary": page(ANYONE, why="Anonymised by construction, cells under 5 hidden."),
    "legal-case-list": page(LEGAL_TEAM),
    "legal-case-new": page(MANAGERS),
    "legal-case-detail": page(LEGAL_TEAM),
    "legal-complaint-new": page(LEGAL_TEAM, post=True),
    "legal-complaint-status": page(LEGAL_TEAM, post=True),
    "legal-case-lawyer": page(MANAGERS, post=True),
    "legal-case-close": page(MANAGERS, post=True),
    "workshop-list": page(MANAGERS),
    "workshop-new": page(MANAGERS),
    "workshop-detail": page(MANAGERS),
    "workshop-participant-new": page(MANAGERS, post=True),
    "workshop-participant-scores": page(MANAGERS, post=True),
    "workshop-follow-up": page(MANAGERS, post=True),
    # Monitoring (monitoring.access, monitoring.indicator_access)
    "indicators": page(MANAGERS),
    "public-reports": page(MANAGERS),
    "public-report-preview": page(MANAGERS),
    "published-reports": page(ANYONE),
    "published-report-csv": page(ANYONE),
    "published-report-geojson": page(ANYONE),
    "published-report-pdf": page(ANYONE),
    "kpi-index": page(MANAGERS),
    "kpi-strategy": page(MANAGERS),
    "kpi-csv": page(MANAGERS),
    "kpi-enter": page(MANAGERS),
    "map": page(MEMBERS, why="Precise points for the coordinator, grid cells for others."),
    "map-incidents": page(MEMBERS),
    "map-hotspots": page(MEMBERS),
    "map-layer": page(MEMBERS),
    "map-hotspot-list": page(MAPPERS),
    "map-hotspot-new": page(MAPPERS),
    "map-hotspot-edit": page(MAPPERS),
    "map-hotspot-archive": page(MAPPERS, post=True),
    "map-hotspot-photo": page(MAPPERS, why="A photo can carry the GPS position."),
    "monitoring-imports": page(COORDINATOR),
    "monitoring-import": page(COORDINATOR),
    "monitoring-import-mapping": page(COORDINATOR),
    "monitoring-export-csv": page(MEMBERS, why="Identity and text for the coordinator only."),
    "monitoring-export-geojson": page(MEMBERS),
    # Channels: settings pages for managers; gateways and phones bring their own key
    "channels": page(MANAGERS),
    "openrosa-devices": page(MANAGERS),
    "sms-generic": page(NOBODY, post=True, denied=403, why="A signed webhook, no session."),
    "sms-twilio": page(NOBODY, post=True, denied=403, why="Twilio's signature, no session."),
    **{
        name: page(NOBODY, denied=401, why="ODK Collect signs in with a device's password.")
        for name in (
            "openrosa-root",
            "openrosa-form-list",
            "openrosa-form",
            "openrosa-manifest",
            "openrosa-submission",
        )
    },
    # The demo's inbox (switched on for these tests; off in production)
    "demo-inbox": page(SIGNED_IN, why="What was delivered to one's own organisations."),
    "demo-inbox-receive": page(ANYONE, post=True, why="The demo's fake gateways deliver here."),
    # Operations (core.ops)
    "ops-healthz": page(ANYONE, served={200, 503}, why="No worker runs in the tests."),
    "ops-metrics": page(ANYONE, why="A local request without AMPARO_METRICS_TOKEN."),
    # The API's own pages (django-ninja)
    "api:openapi-json": page(ANYONE, why="The schema, no data."),
    "api:api-root": page(NOBODY, denied=404, why="The interactive docs are off."),
    # The Django admin (people/admin.py): the platform administrator, after MFA
    "admin:index": ADMIN,
    "admin:login": page(ANYONE),
    "admin:logout": page(ANYONE, post=True, served={LOGIN, 200, 302}),
    "admin:password_change": ADMIN,
    "admin:password_change_done": ADMIN,
    "admin:autocomplete": ADMIN,
    "admin:jsi18n": ADMIN,
    "admin:view_on_site": ADMIN,
    "admin:app_list": ADMIN,
    "admin/(?P<url>.*)$": ADMIN,
    **admin_model("auth.group"),
    **admin_model("otp_totp.totpdevice", extra=("config", "qrcode")),
    **admin_model("axes.accessattempt"),
    **admin_model("axes.accesslog"),
    **admin_model("axes.accessfailurelog"),
    **admin_model("django_tasks_database.dbtaskresult"),
    **admin_model("core.auditentry"),
    **admin_model("people.organisation"),
    **admin_model("people.user"),
    **admin_model("people.invitation"),
    **admin_model("people.apitoken"),
    **admin_model("monitoring.referencelayer"),
}

API: dict[str, Rule] = {
    # people.api
    "GET /api/me": api(SIGNED_IN),
    "GET /api/orgs/{slug}/people": api(MEMBERS),
    "POST /api/orgs/{slug}/people": api(MANAGERS),
    "GET /api/orgs/{slug}/people/{person_id}": api(PEOPLE_READERS | {"defender"}),
    "GET /api/orgs/{slug}/directory": api(MEMBERS),
    "POST /api/orgs/{slug}/directory": api(MANAGERS | {"focal_point"}),
    "GET /api/orgs/{slug}/directory/{entry_id}": api(MEMBERS),
    "GET /api/orgs/{slug}/safe-houses": api(COORDINATOR),
    "GET /api/orgs/{slug}/safe-houses/{safe_house_id}": api(COORDINATOR),
    # alerts.api
    "POST /api/v1/alerts": api(MEMBERS),
    "GET /api/v1/alerts": api(MEMBERS),
    "GET /api/v1/alerts/{alert_id}": api(RESPONDERS | {"defender"}),
    "POST /api/v1/alerts/{alert_id}/acknowledge": api(RESPONDERS),
    "POST /api/v1/alerts/{alert_id}/resolve": api(RESPONDERS),
    # incidents.api
    "POST /api/v1/threats": api(MEMBERS),
    "GET /api/v1/threats": api(MEMBERS),
    "GET /api/v1/threats/{report_id}": api(THREAT_READERS | {"defender"}),
    "GET /api/v1/threats/{report_id}/checklist": api(THREAT_READERS | {"defender"}),
    "POST /api/v1/threats/{report_id}/checklist/{item_id}": api(MANAGERS | {"defender"}),
    "POST /api/v1/threats/{report_id}/level": api(MANAGERS),
    "POST /api/v1/threats/{report_id}/status": api(MANAGERS),
    "POST /api/v1/public/threats/{org_slug}": api(ANYONE, why="Anonymous reporting."),
    "GET /api/v1/public/threats/status/{receipt}": api(ANYONE, why="The receipt is the key."),
    # travel.api
    "GET /api/v1/deployments": api(MEMBERS),
    "POST /api/v1/deployments": api(MANAGERS),
    "GET /api/v1/deployments/{deployment_id}": api(DEPLOYMENT_READERS),
    "GET /api/v1/deployments/{deployment_id}/gates": api(DEPLOYMENT_READERS),
    "POST /api/v1/deployments/{deployment_id}/status": api(MANAGERS),
    "POST /api/v1/deployments/{deployment_id}/exceptions": api({"signatory"}),
    "POST /api/v1/deployments/{deployment_id}/sign": api({"signatory"}),
    "POST /api/v1/deployments/{deployment_id}/checkins": api({"defender"}),
    "GET /api/v1/deployments/{deployment_id}/checkins": api(DEPLOYMENT_FILLERS),
    # crisis.api
    "GET /api/v1/crisis/cases": api(MEMBERS, why="The cases one works on."),
    "POST /api/v1/crisis/cases": api(MANAGERS),
    "GET /api/v1/crisis/cases/{case_id}": api(CRISIS_TEAM),
    "GET /api/v1/crisis/cases/{case_id}/tasks": api(CRISIS_TEAM),
    "POST /api/v1/crisis/cases/{case_id}/tasks/{task_id}/complete": api(CRISIS_TEAM),
    "GET /api/v1/crisis/cases/{case_id}/timeline": api(CRISIS_TEAM),
    "POST /api/v1/crisis/cases/{case_id}/timeline": api(CRISIS_TEAM),
    # risk.api
    "GET /api/v1/risk": api(MEMBERS),
    "GET /api/v1/risk/overdue": api(MANAGERS),
    "POST /api/v1/risk/subjects": api(MANAGERS),
    "GET /api/v1/risk/subjects/{subject_id}": api(MANAGERS | {"defender"}),
    "POST /api/v1/risk/subjects/{subject_id}/assessments": api(MANAGERS),
    "GET /api/v1/risk/assessments/{assessment_id}": api(MANAGERS | {"defender"}),
    "POST /api/v1/risk/actions/{action_id}/done": api(MANAGERS),
    # protocols.relocation_api
    "GET /api/v1/relocations": api(COORDINATOR),
    "POST /api/v1/relocations": api(
        COORDINATOR, why="The API is the coordinator's; a supervisor asks on the page."
    ),
    "GET /api/v1/relocations/costs": api(COORDINATOR),
    "GET /api/v1/relocations/{relocation_id}": api(COORDINATOR),
    "POST /api/v1/relocations/{relocation_id}/decision": api(COORDINATOR),
    "POST /api/v1/relocations/{relocation_id}/relocation": api(COORDINATOR),
    "POST /api/v1/relocations/{relocation_id}/return": api(COORDINATOR),
    "POST /api/v1/relocations/{relocation_id}/close": api(COORDINATOR),
    "GET /api/v1/relocations/{relocation_id}/costs": api(COORDINATOR),
    "POST /api/v1/relocations/{relocation_id}/costs": api(COORDINATOR),
    # programmes.api (referrals)
    "GET /api/v1/referrals": api(MEMBERS),
    "POST /api/v1/referrals": api(COORDINATOR),
    "GET /api/v1/referrals/{referral_id}": api(CARERS | {"defender"}),
    "GET /api/v1/referrals/{referral_id}/sessions": api(CARERS),
    "POST /api/v1/referrals/{referral_id}/sessions": api(CARERS),
    "POST /api/v1/referrals/{referral_id}/close": api(CARERS),
    # programmes.fund_api
    "GET /api/v1/fund": api(MANAGERS),
    "POST /api/v1/fund": api(MANAGERS),
    "GET /api/v1/fund/ledger": api(MANAGERS),
    "GET /api/v1/fund/summary": api(MANAGERS | {"partner"}),
    "GET /api/v1/fund/{request_id}": api(MANAGERS),
    "POST /api/v1/fund/{request_id}/approvals": api(MANAGERS),
    "POST /api/v1/fund/{request_id}/refusal": api(MANAGERS),
    "POST /api/v1/fund/{request_id}/disbursement": api(MANAGERS),
    "POST /api/v1/fund/{request_id}/satisfaction": api(MANAGERS),
    # programmes.legal_api
    "GET /api/v1/legal-cases": api(LEGAL_TEAM),
    "POST /api/v1/legal-cases": api(MANAGERS),
    "GET /api/v1/legal-cases/{case_id}": api(LEGAL_TEAM),
    "POST /api/v1/legal-cases/{case_id}/complaints": api(LEGAL_TEAM),
    "POST /api/v1/legal-cases/{case_id}/complaints/{complaint_id}": api(LEGAL_TEAM),
    "POST /api/v1/legal-cases/{case_id}/lawyer": api(MANAGERS),
    "POST /api/v1/legal-cases/{case_id}/close": api(MANAGERS),
    # programmes.training_api
    "GET /api/v1/workshops": api(MANAGERS),
    "POST /api/v1/workshops": api(MANAGERS),
    "GET /api/v1/workshops/{workshop_id}": api(MANAGERS),
    "POST /api/v1/workshops/{workshop_id}/participants": api(MANAGERS),
    "POST /api/v1/workshops/{workshop_id}/follow-ups": api(MANAGERS),
}

TABLE: dict[str, Rule] = {**PAGES, **API}

# Who may read each sealed text of the world (tests/access/world.py, SECRETS): no other
# persona's answer, on any route, may contain it.
SECRET_READERS: dict[str, frozenset[str]] = {
    "safe_house": COORDINATOR,
    "incident_identity": COORDINATOR,
    "relocation_reason": COORDINATOR,
    "referral_reason": CARERS,
    "clinical_notes": frozenset({"psychologist"}),
    "hotspot_notes": MAPPERS,
    "legal_summary": LEGAL_TEAM,
    "fund_justification": MANAGERS,
    "proof_of_life_answer": NOBODY,
    "lost_comms_plan": DEPLOYMENT_READERS,
}

# Where the application answers otherwise than this table, and the table is kept as
# DESIGN.md has it until someone decides: (route, persona) -> why. These cases are
# expected to fail (strict xfail): when the application changes, they pass, and the
# entry must go.
KNOWN_DEVIATIONS: dict[tuple[str, str], str] = {}
