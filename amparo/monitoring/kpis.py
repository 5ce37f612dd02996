"""The KPI framework (issue 8, point 7): the catalogue of every KPI that the reference
lists under "Evaluation (KPIs)" (kpi_catalogue.json, next to this module), and a function
per KPI that the records can answer.

Every function is ``(organisation, since, until) -> float | None``: ``since`` and
``until`` are dates, both inclusive, either may be None for an open end. None means
"nothing in the period answers it", which is not zero. Shares are percentages (0 to 100),
times are in the catalogue's unit. Flows count records dated within the period; stocks
(a plan in place, safe houses available) are taken as of ``until``. Only plain columns
are read: nothing sealed is opened. Most figures come from the helpers of the app that
owns the records (programmes.kpis, protocols.kpis); this module only puts them in the
catalogue's units. Nothing outside monitoring reads this module (DESIGN.md section 4).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from django.db.models import Avg, F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from amparo.alerts.models import Alert
from amparo.crisis.models import (
    AdvocacyAlert,
    AdvocacyState,
    AfterActionReview,
    ContinuityStatus,
    CrisisCase,
    Playbook,
)
from amparo.incidents.models import ThreatReport
from amparo.monitoring.models import PublicReport
from amparo.people.models import SafeHouse
from amparo.programmes import kpis as programmes
from amparo.programmes.models import (
    Complaint,
    ComplaintBody,
    ComplaintOutcome,
    FundRequest,
    FundRequestStatus,
    LegalCase,
    LegalCaseStatus,
    PsychosocialReferral,
    PsychosocialSession,
    TrainingLine,
    WorkshopParticipant,
)
from amparo.protocols import kpis as protocols
from amparo.protocols.models import RelocationRequest, RelocationStatus
from amparo.risk.models import RiskAssessment

CATALOGUE_FILE = Path(__file__).with_name("kpi_catalogue.json")

UNITS = {
    "count": _("number"),
    "percent": "%",
    "minutes": _("min"),
    "hours": _("h"),
    "days": _("days"),
    "points": _("points of 100"),
    "level 1-5": _("level, 1 to 5"),
    "amount": _("amount"),
}


class Method:
    COMPUTED = "computed"
    ENTERED = "entered"


@dataclass(frozen=True)
class Kpi:
    id: str
    strategy: int
    line: int
    line_title: str
    bullet: str  # the reference's words, exactly
    name: str
    unit: str
    method: str
    function: str = ""
    also_under: tuple[tuple[int, int], ...] = ()

    @property
    def computed(self) -> bool:
        return self.method == Method.COMPUTED


Figure = Callable[[Any, date | None, date | None], float | None]

STRATEGIES = {
    1: _("Training and awareness-raising"),
    2: _("Emergency response"),
    3: _("Institutional strengthening"),
    4: _("Risk monitoring and evaluation"),
    5: _("Legal framework and policy advocacy"),
    6: _("Crisis response"),
}


@cache
def catalogue() -> tuple[Kpi, ...]:
    document = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    return tuple(
        Kpi(
            id=entry["id"],
            strategy=entry["strategy"],
            line=entry["line"],
            line_title=entry["line_title"],
            bullet=entry["bullet"],
            name=entry["name"],
            unit=entry["unit"],
            method=entry["method"],
            function=entry.get("function", ""),
            also_under=tuple(tuple(pair) for pair in entry.get("also_under", ())),  # type: ignore[misc]
        )
        for entry in document["kpis"]
    )


def kpi_by_id(kpi_id: str) -> Kpi | None:
    return next((k for k in catalogue() if k.id == kpi_id), None)


def of_strategy(strategy: int) -> list[Kpi]:
    return [k for k in catalogue() if k.strategy == strategy]


def compute(kpi: Kpi, organisation: Any, since: date | None, until: date | None) -> float | None:
    value = COMPUTED[kpi.function](organisation, since, until)
    return None if value is None else float(value)


# Small pieces


def _between(qs: QuerySet[Any], field: str, since: date | None, until: date | None) -> Any:
    if since is not None:
        qs = qs.filter(**{f"{field}__gte": since})
    if until is not None:
        qs = qs.filter(**{f"{field}__lte": until})
    return qs


def _end_of(until: date | None) -> datetime:
    """The first instant after ``until`` (or now), for stocks kept as datetimes."""
    if until is None:
        return timezone.now()
    return datetime.combine(
        until + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone()
    )


def _percent(share: float | None) -> float | None:
    return None if share is None else round(100 * share, 1)


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 2)


# Trainings (Strategy 1): the participants of the workshops of one line of action.


def _participants_of(line: str) -> Callable[[Any, date | None, date | None], QuerySet[Any]]:
    def participants(organisation: Any, since: date | None, until: date | None) -> Any:
        return _between(
            WorkshopParticipant.objects.filter(organisation=organisation, workshop__line=line),
            "workshop__held_on",
            since,
            until,
        )

    return participants


def _count_participants(line: str) -> Figure:
    def figure(organisation: Any, since: date | None, until: date | None) -> float | None:
        return _participants_of(line)(organisation, since, until).count()

    return figure


def _score_gain(line: str) -> Figure:
    """Reference, Strategy 1, line 1: "Pre- and post-workshop surveys ... to measure
    knowledge acquired": mean of post minus pre over participants with both scores."""

    def figure(organisation: Any, since: date | None, until: date | None) -> float | None:
        gain = (
            _participants_of(line)(organisation, since, until)
            .filter(pre_score__isnull=False, post_score__isnull=False)
            .aggregate(gain=Avg(F("post_score") - F("pre_score")))["gain"]
        )
        return None if gain is None else round(float(gain), 1)

    return figure


def share_women_trained(organisation: Any, since: date | None, until: date | None) -> float | None:
    return _percent(programmes.share_of_women_trained(organisation, since, until))


def share_youth_trained(organisation: Any, since: date | None, until: date | None) -> float | None:
    return _percent(programmes.share_of_youth_trained(organisation, since, until))


def share_improved_legal_knowledge(
    organisation: Any, since: date | None, until: date | None
) -> float | None:
    """Strategy 3, line 2: of the participants of the rights trainings (Strategy 1, lines
    1 and 2) with both scores, the share whose post-workshop score beat the pre-workshop
    one."""
    scored = _between(
        WorkshopParticipant.objects.filter(
            organisation=organisation,
            workshop__line__in=[TrainingLine.RIGHTS_AND_REPORTING, TrainingLine.DEFENDER_RIGHTS],
            pre_score__isnull=False,
            post_score__isnull=False,
        ),
        "workshop__held_on",
        since,
        until,
    )
    total = scored.count()
    if not total:
        return None
    return round(100 * scored.filter(post_score__gt=F("pre_score")).count() / total, 1)


# Threats, evidence and alerts (Strategy 2, line 2; Strategy 4, line 1)


def _threats(organisation: Any, since: date | None, until: date | None) -> Any:
    return _between(
        ThreatReport.objects.filter(organisation=organisation), "created_at__date", since, until
    )


def threats_reported(organisation: Any, since: date | None, until: date | None) -> float | None:
    return _threats(organisation, since, until).count()


def threats_with_evidence(
    organisation: Any, since: date | None, until: date | None
) -> float | None:
    return _threats(organisation, since, until).filter(evidence__isnull=False).distinct().count()


def share_threats_with_evidence(
    organisation: Any, since: date | None, until: date | None
) -> float | None:
    """Strategy 4, line 1: "% of threats documented with evidence": reports filed in the
    period with at least one file in the evidence vault."""
    total = _threats(organisation, since, until).count()
    if not total:
        return None
    with_evidence = threats_with_evidence(organisation, since, until) or 0
    return round(100 * with_evidence / total, 1)


def _alerts(organisation: Any, since: date | None, until: date | None) -> Any:
    return _between(
        Alert.objects.filter(organisation=organisation), "raised_at__date", since, until
    )


def average_alert_response_minutes(
    organisation: Any, since: date | None, until: date | None
) -> float | None:
    """Strategy 2, line 2: "Average response time to alerts": acknowledged minus raised,
    over the alerts raised in the period and acknowledged."""
    acknowledged = _alerts(organisation, since, until).filter(acknowledged_at__isnull=False)
    seconds = [
        (ack - raised).total_seconds()
        for raised, ack in acknowledged.values_list("raised_at", "acknowledged_at")
    ]
    return _minutes(sum(seconds) / len(seconds)) if seconds else None


def alerts_acknowledged(organisation: Any, since: date | None, until: date | None) -> float | None:
    return _alerts(organisation, since, until).filter(acknowledged_at__isnull=False).count()


def alerts_from_threat_reports(
    organisation: Any, since: date | None, until: date | None
) -> float | None:
    return (
        _alerts(organisation, since, until)
        .filter(subject_type=ThreatReport._meta.label_lower)
        .count()
    )


# Legal and psychosocial accompaniment (Strategy 1, line 9; Strategy 3, line 2; Strategy
# 5, lines 3 and 5; Strategy 6, line 4)


def _legal_cases(organisation: Any, since: date | None, until: date | None) -> Any:
    return _between(
        LegalCase.objects.filter(organisation=organisation), "opened_at__date", since, until
    )


def legal_cases_opened(organisation: Any, since: date | None, until: date | None) -> float | None:
    return _legal_cases(organisation, since, until).count()


def strategic_litigation_cases(
    organisation: Any, since: date | None, until: date | None
) -> float | None:
    return _legal_cases(organisation, since, until).filter(strategic_litigation=True).count()


def legal_cases_resolved(organisation: Any, since: date | None, until: date | None) -> float | None:
    return _between(
        LegalCase.objects.filter(organisation=organisation, status=LegalCaseStatus.RESOLVED),
        "closed_at__date",
        since,
        until,
    ).count()


def defenders_with_legal_cases(
    organisation: Any, since: date | None, until: date | None
) -> float | None:
    return (
        _legal_cases(organisation, since, until)
        .filter(person__isnull=False)
        .values("person")
        .distinct()
        .count()
    )


def defenders_accompanied(
    organisation: Any, since: date | None, until: date | None
) -> float | None:
    """Strategy 1, line 9: "number of defenders assisted": distinct people with a legal
    case opened or an attended psychosocial session in the period."""
    legal = set(
        _legal_cases(organisation, since, until)
        .filter(person__isnull=False)
        .values_list("person", flat=True)
    )
    psychosocial = set(
        _between(
            PsychosocialSession.objects.filter(organisation=organisation, attended=True),
            "held_on",
            since,
            until,
        ).values_list("referral__person", flat=True)
    )
    return len((legal | psychosocial) - {None})


def court_success_rate(organisation: Any, since: date | None, until: date | None) -> float | None:
    """Strategy 5, line 3: "success rate in court": of the complaints before a court
    decided in the period, the share with a sanction, protection measures or the
    defender's acquittal."""
    decided = _between(
        Complaint.objects.filter(organisation=organisation, body=ComplaintBody.COURT).exclude(
            outcome=ComplaintOutcome.PENDING
        ),
        "status_on",
        since,
        until,
    )
    total = decided.count()
    if not total:
        return None
    won = decided.filter(
        outcome__in=[
            ComplaintOutcome.SANCTION,
            ComplaintOutcome.PROTECTION,
            ComplaintOutcome.ACQUITTAL,
        ]
    ).count()
    return round(100 * won / total, 1)


def share_unresolved_legal_cases(
    organisation: Any, since: date | None, until: date | None
) -> float | None:
    return _percent(programmes.share_of_unresolved_legal_cases(organisation, since, until))


def people_supported_psychosocially(
    organisation: Any, since: date | None, until: date | None
) -> float | None:
    return programmes.people_supported(organisation, since, until)


def referrals_with_healing_practices(
    organisation: Any, since: date | None, until: date | None
) -> float | None:
    return _between(
        PsychosocialReferral.objects.filter(
            organisation=organisation, includes_healing_practices=True
        ),
        "referred_at__date",
        since,
        until,
    ).count()


# The emergency fund (Strategy 2, line 5; Strategy 6, line 2)


def fund_requests_disbursed(
    organisation: Any, since: date | None, until: date | None
) -> float | None:
    return _between(
        FundRequest.objects.filter(organisation=organisation, status=FundRequestStatus.DISBURSED),
        "disbursed_at__date",
        since,
        until,
    ).count()


# Risk assessments and public reports (Strategy 4, lines 3 and 4)


def risk_assessments_conducted(
    organisation: Any, since: date | None, until: date | None
) -> float | None:
    return _between(
        RiskAssessment.objects.filter(organisation=organisation), "assessed_on", since, until
    ).count()


def public_reports_published(
    organisation: Any, since: date | None, until: date | None
) -> float | None:
    return _between(
        PublicReport.objects.filter(organisation=organisation, published_at__isnull=False),
        "published_at__date",
        since,
        until,
    ).count()


# Crisis response (Strategy 6)


def crisis_playbooks(organisation: Any, since: date | None, until: date | None) -> float | None:
    """Strategy 6, line 1: "Number of protocols developed": first versions of the
    organisation's crisis playbooks written in the period (a new version is not a new
    protocol)."""
    return _between(
        Playbook.objects.filter(organisation=organisation, version=1),
        "created_at__date",
        since,
        until,
    ).count()


def has_crisis_playbook(organisation: Any, since: date | None, until: date | None) -> float | None:
    """Per organisation 0 or 100; the reference's "% of organizations" is their mean."""
    exists = Playbook.objects.filter(
        organisation=organisation, created_at__lt=_end_of(until)
    ).exists()
    return 100.0 if exists else 0.0


def _crisis_cases(organisation: Any, since: date | None, until: date | None) -> Any:
    return _between(
        CrisisCase.objects.filter(organisation=organisation), "opened_at__date", since, until
    )


def crisis_cases_opened(organisation: Any, since: date | None, until: date | None) -> float | None:
    return _crisis_cases(organisation, since, until).count()


def average_minutes_to_activate(
    organisation: Any, since: date | None, until: date | None
) -> float | None:
    """Strategy 6, line 1: "time to activate emergency protocols": from the alert (or the
    opening by hand) to the first task done (crisis.models.CrisisCase)."""
    seconds = [
        case.seconds_to_activate
        for case in _crisis_cases(organisation, since, until).filter(
            first_task_done_at__isnull=False
        )
    ]
    known = [s for s in seconds if s is not None]
    return _minutes(sum(known) / len(known)) if known else None


def average_minutes_to_open_case(
    organisation: Any, since: date | None, until: date | None
) -> float | None:
    value = (
        _crisis_cases(organisation, since, until)
        .filter(seconds_to_open__isnull=False)
        .aggregate(avg=Avg("seconds_to_open"))["avg"]
    )
    return _minutes(value)


def after_action_reviews(organisation: Any, since: date | None, until: date | None) -> float | None:
    return _between(
        AfterActionReview.objects.filter(organisation=organisation), "filed_at__date", since, until
    ).count()


def has_continuity_plan(organisation: Any, since: date | None, until: date | None) -> float | None:
    """Per organisation 0 or 100: the latest after-action review by ``until`` has a
    continuity plan in place or activated. None before any review."""
    latest = (
        AfterActionReview.objects.filter(organisation=organisation, filed_at__lt=_end_of(until))
        .order_by("-filed_at")
        .values_list("continuity_status", flat=True)
        .first()
    )
    if latest is None:
        return None
    in_place = latest in (ContinuityStatus.IN_PLACE, ContinuityStatus.ACTIVATED)
    return 100.0 if in_place else 0.0


def advocacy_alerts_sent(organisation: Any, since: date | None, until: date | None) -> float | None:
    return _between(
        AdvocacyAlert.objects.filter(organisation=organisation, state=AdvocacyState.SENT),
        "created_at__date",
        since,
        until,
    ).count()


# Relocations and safe houses (Strategy 2, line 3; Strategy 6, line 3)

_RELOCATED = (RelocationStatus.RELOCATED, RelocationStatus.RETURNED, RelocationStatus.CLOSED)


def relocations_carried_out(
    organisation: Any, since: date | None, until: date | None
) -> float | None:
    return _between(
        RelocationRequest.objects.filter(
            organisation=organisation, status__in=_RELOCATED, starts_on__isnull=False
        ),
        "starts_on",
        since,
        until,
    ).count()


def defenders_relocated_safely(
    organisation: Any, since: date | None, until: date | None
) -> float | None:
    """Distinct people relocated in the period (moved to safety; a return is counted when
    it happens, not required)."""
    return (
        _between(
            RelocationRequest.objects.filter(
                organisation=organisation, status__in=_RELOCATED, starts_on__isnull=False
            ),
            "starts_on",
            since,
            until,
        )
        .values("person")
        .distinct()
        .count()
    )


def average_relocation_days(
    organisation: Any, since: date | None, until: date | None
) -> float | None:
    ended = _between(
        RelocationRequest.objects.filter(
            organisation=organisation, starts_on__isnull=False, ends_on__isnull=False
        ),
        "ends_on",
        since,
        until,
    )
    days = [(end - start).days for start, end in ended.values_list("starts_on", "ends_on")]
    return round(sum(days) / len(days), 1) if days else None


def safe_houses_available(
    organisation: Any, since: date | None, until: date | None
) -> float | None:
    """Safe houses marked available and not archived now (availability has no history,
    so a past period shows today's figure)."""
    return SafeHouse.objects.filter(
        organisation=organisation, available=True, archived_at__isnull=True
    ).count()


def _from(helper: Callable[..., Any], scale: float = 1.0) -> Figure:
    def figure(organisation: Any, since: date | None, until: date | None) -> float | None:
        value = helper(organisation, since, until)
        return None if value is None else float(value) * scale

    figure.__doc__ = helper.__doc__
    return figure


COMPUTED: dict[str, Figure] = {
    # Trainings
    "line1_participants": _count_participants(TrainingLine.RIGHTS_AND_REPORTING),
    "line2_participants": _count_participants(TrainingLine.DEFENDER_RIGHTS),
    "line3_participants": _count_participants(TrainingLine.SECURITY),
    "line6_participants": _count_participants(TrainingLine.TECHNOLOGY),
    "line8_participants": _count_participants(TrainingLine.ESCAZU),
    "line1_score_gain": _score_gain(TrainingLine.RIGHTS_AND_REPORTING),
    "line8_score_gain": _score_gain(TrainingLine.ESCAZU),
    "share_women_trained": share_women_trained,
    "share_youth_trained": share_youth_trained,
    "share_improved_legal_knowledge": share_improved_legal_knowledge,
    # Threats and alerts
    "threats_reported": threats_reported,
    "threats_with_evidence": threats_with_evidence,
    "share_threats_with_evidence": share_threats_with_evidence,
    "average_alert_response_minutes": average_alert_response_minutes,
    "alerts_acknowledged": alerts_acknowledged,
    "alerts_from_threat_reports": alerts_from_threat_reports,
    # Protocols, evacuation, drills, institutional policy (protocols.kpis)
    "protocols_developed": _from(protocols.protocols_developed),
    "protocols_adopted": _from(protocols.protocols_adopted),
    "share_members_trained": _from(protocols.share_members_trained),
    "drills_testing_protocols": _from(protocols.drills_testing_protocols),
    "operational_evacuation_plans": _from(protocols.operational_evacuation_plans),
    "average_evacuation_minutes": _from(protocols.average_evacuation_minutes),
    "evacuation_time_reduction_minutes": _from(protocols.evacuation_time_reduction_minutes),
    "share_following_protocol": _from(protocols.share_following_protocol),
    "critical_errors_reduction": _from(protocols.critical_errors_reduction),
    "has_security_manual": _from(protocols.has_security_manual, 100),
    "has_updated_risk_plan": _from(protocols.has_updated_risk_plan, 100),
    "share_compliant_checks": _from(protocols.share_compliant_checks),
    "compliance_checks": _from(protocols.compliance_checks),
    # The emergency fund (programmes.kpis)
    "defenders_assisted_by_fund": _from(programmes.defenders_assisted_by_fund),
    "mean_hours_to_disbursement": _from(programmes.mean_hours_to_disbursement),
    "beneficiary_satisfaction": _from(programmes.beneficiary_satisfaction),
    "fund_requests_disbursed": fund_requests_disbursed,
    # Legal and psychosocial accompaniment
    "complaints_filed": _from(programmes.complaints_filed),
    "sanctions_applied": _from(programmes.sanctions_applied),
    "legal_cases_opened": legal_cases_opened,
    "legal_cases_resolved": legal_cases_resolved,
    "strategic_litigation_cases": strategic_litigation_cases,
    "court_success_rate": court_success_rate,
    "share_unresolved_legal_cases": share_unresolved_legal_cases,
    "defenders_with_legal_cases": defenders_with_legal_cases,
    "defenders_accompanied": defenders_accompanied,
    "people_supported_psychosocially": people_supported_psychosocially,
    "referrals_with_healing_practices": referrals_with_healing_practices,
    # Risk and public reports
    "risk_assessments_conducted": risk_assessments_conducted,
    "public_reports_published": public_reports_published,
    # Crisis response
    "crisis_playbooks": crisis_playbooks,
    "has_crisis_playbook": has_crisis_playbook,
    "crisis_cases_opened": crisis_cases_opened,
    "average_minutes_to_activate": average_minutes_to_activate,
    "average_minutes_to_open_case": average_minutes_to_open_case,
    "after_action_reviews": after_action_reviews,
    "has_continuity_plan": has_continuity_plan,
    "advocacy_alerts_sent": advocacy_alerts_sent,
    # Relocations and safe houses
    "relocations_carried_out": relocations_carried_out,
    "defenders_relocated_safely": defenders_relocated_safely,
    "average_relocation_days": average_relocation_days,
    "safe_houses_available": safe_houses_available,
}
