"""The psychosocial figures of the KPI catalogue (reference, Strategy 6, line 4,
"Evaluation (KPIs): number of defenders receiving psychosocial support; ... integration
of cultural healing practices"). Counts only, from plain columns: nothing sealed is
opened. Issue 8 (monitoring) reads these; nothing here reads monitoring."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Avg, Count, F, Q, Sum
from django.db.models.functions import TruncMonth

from amparo.programmes.fund import disbursement_hours, median
from amparo.programmes.models import (
    YOUTH_BANDS,
    Complaint,
    FundRequest,
    FundRequestStatus,
    Gender,
    LegalCase,
    LegalCaseStatus,
    PsychosocialReferral,
    PsychosocialSession,
    WorkshopParticipant,
)


@dataclass(frozen=True)
class MonthlyPsychosocialSupport:
    month: date  # the first day of the month
    sessions_held: int  # attended
    sessions_missed: int
    minutes: int  # of attended sessions
    people_supported: int  # distinct people with at least one attended session
    referrals_made: int
    referrals_with_healing_practices: int


def _first_of_month(value: Any) -> date:
    if hasattr(value, "date"):
        value = value.date()
    return date(value.year, value.month, 1)


def session_counts_by_month(
    organisation: Any, since: date | None = None, until: date | None = None
) -> list[MonthlyPsychosocialSupport]:
    """Per month (``since`` and ``until`` inclusive, by session date and referral date),
    oldest first; months with neither sessions nor referrals are left out."""
    sessions = PsychosocialSession.objects.filter(organisation=organisation)
    referrals = PsychosocialReferral.objects.filter(organisation=organisation)
    if since is not None:
        sessions = sessions.filter(held_on__gte=since)
        referrals = referrals.filter(referred_at__date__gte=since)
    if until is not None:
        sessions = sessions.filter(held_on__lte=until)
        referrals = referrals.filter(referred_at__date__lte=until)
    by_month: dict[date, dict[str, int]] = {}

    def row(month: Any) -> dict[str, int]:
        return by_month.setdefault(
            _first_of_month(month),
            {
                "sessions_held": 0,
                "sessions_missed": 0,
                "minutes": 0,
                "people_supported": 0,
                "referrals_made": 0,
                "referrals_with_healing_practices": 0,
            },
        )

    attended = Q(attended=True)
    for r in (
        sessions.annotate(month=TruncMonth("held_on"))
        .values("month")
        .order_by("month")
        .annotate(
            held=Count("id", filter=attended),
            missed=Count("id", filter=~attended),
            minutes=Sum("duration_minutes", filter=attended),
            people=Count("referral__person", filter=attended, distinct=True),
        )
    ):
        counts = row(r["month"])
        counts["sessions_held"] = r["held"]
        counts["sessions_missed"] = r["missed"]
        counts["minutes"] = r["minutes"] or 0
        counts["people_supported"] = r["people"]
    for r in (
        referrals.annotate(month=TruncMonth("referred_at"))
        .values("month")
        .order_by("month")
        .annotate(
            made=Count("id"),
            healing=Count("id", filter=Q(includes_healing_practices=True)),
        )
    ):
        counts = row(r["month"])
        counts["referrals_made"] = r["made"]
        counts["referrals_with_healing_practices"] = r["healing"]
    return [MonthlyPsychosocialSupport(month=m, **by_month[m]) for m in sorted(by_month)]


def people_supported(
    organisation: Any, since: date | None = None, until: date | None = None
) -> int:
    """Distinct defenders with at least one attended session in the period (the
    reference's "number of defenders receiving psychosocial support": a person counted in
    two months is one person here)."""
    sessions = PsychosocialSession.objects.filter(organisation=organisation, attended=True)
    if since is not None:
        sessions = sessions.filter(held_on__gte=since)
    if until is not None:
        sessions = sessions.filter(held_on__lte=until)
    return sessions.values("referral__person").distinct().count()


# Trainings, the emergency fund and legal accompaniment (issue 8, points 4 to 6). Each
# helper is ``(organisation, since, until) -> number | None`` (``since`` and ``until``
# inclusive dates, either may be None), and None when nothing in the period answers it.


def _participants(organisation: Any, since: date | None, until: date | None) -> Any:
    participants = WorkshopParticipant.objects.filter(organisation=organisation)
    if since is not None:
        participants = participants.filter(workshop__held_on__gte=since)
    if until is not None:
        participants = participants.filter(workshop__held_on__lte=until)
    return participants


def share_of_women_trained(
    organisation: Any, since: date | None = None, until: date | None = None
) -> float | None:
    """Reference, Strategy 1, line 1 KPIs: "percentage of women and youth trained".
    Women over all participants of the workshops held in the period, 0 to 1."""
    participants = _participants(organisation, since, until)
    total = participants.count()
    if not total:
        return None
    return participants.filter(gender=Gender.WOMAN).count() / total


def share_of_youth_trained(
    organisation: Any, since: date | None = None, until: date | None = None
) -> float | None:
    """Youth (under 30, models.AgeBand) over all participants, 0 to 1."""
    participants = _participants(organisation, since, until)
    total = participants.count()
    if not total:
        return None
    return participants.filter(age_band__in=YOUTH_BANDS).count() / total


def average_score_gain(
    organisation: Any, since: date | None = None, until: date | None = None
) -> float | None:
    """Reference, Strategy 1, line 1: "Pre- and post-workshop surveys ... to measure
    knowledge acquired". Mean of post minus pre, in points of 100, over participants
    with both scores."""
    scored = _participants(organisation, since, until).filter(
        pre_score__isnull=False, post_score__isnull=False
    )
    value = scored.aggregate(gain=Avg(F("post_score") - F("pre_score")))["gain"]
    return float(value) if value is not None else None


def _disbursement_hours(organisation: Any, since: date | None, until: date | None) -> list[float]:
    return disbursement_hours(organisation, since, until)


def mean_hours_to_disbursement(
    organisation: Any, since: date | None = None, until: date | None = None
) -> float | None:
    """Reference, Strategy 2, line 5 KPIs: "response time for fund disbursement". Hours
    from request to disbursement, over the requests disbursed in the period."""
    hours = _disbursement_hours(organisation, since, until)
    return sum(hours) / len(hours) if hours else None


def median_hours_to_disbursement(
    organisation: Any, since: date | None = None, until: date | None = None
) -> float | None:
    return median(_disbursement_hours(organisation, since, until))


def defenders_assisted_by_fund(
    organisation: Any, since: date | None = None, until: date | None = None
) -> int:
    """Reference, Strategy 2, line 5 KPIs: "number of defenders assisted". Requests
    disbursed in the period: distinct people of the organisation, plus each request
    whose beneficiary has no record (counted once per request)."""
    paid = FundRequest.objects.filter(organisation=organisation, status=FundRequestStatus.DISBURSED)
    if since is not None:
        paid = paid.filter(disbursed_at__date__gte=since)
    if until is not None:
        paid = paid.filter(disbursed_at__date__lte=until)
    people = paid.filter(beneficiary__isnull=False).values("beneficiary").distinct().count()
    return people + paid.filter(beneficiary__isnull=True).count()


def beneficiary_satisfaction(
    organisation: Any, since: date | None = None, until: date | None = None
) -> float | None:
    """Reference, Strategy 2, line 5 KPIs: "satisfaction level of beneficiaries". Mean
    of the 1-to-5 scores of the requests disbursed in the period."""
    scored = FundRequest.objects.filter(organisation=organisation, satisfaction__isnull=False)
    if since is not None:
        scored = scored.filter(disbursed_at__date__gte=since)
    if until is not None:
        scored = scored.filter(disbursed_at__date__lte=until)
    value = scored.aggregate(mean=Avg("satisfaction"))["mean"]
    return float(value) if value is not None else None


def share_of_unresolved_legal_cases(
    organisation: Any, since: date | None = None, until: date | None = None
) -> float | None:
    """Reference, Strategy 5, line 5 KPIs: "decrease in unresolved cases" (and line 3:
    "reduction in impunity rates"). Of the cases opened in the period, the share not
    resolved today (open, or closed without resolution), 0 to 1."""
    cases = LegalCase.objects.filter(organisation=organisation)
    if since is not None:
        cases = cases.filter(opened_at__date__gte=since)
    if until is not None:
        cases = cases.filter(opened_at__date__lte=until)
    total = cases.count()
    if not total:
        return None
    return cases.exclude(status=LegalCaseStatus.RESOLVED).count() / total


def complaints_filed(
    organisation: Any, since: date | None = None, until: date | None = None
) -> int:
    """Reference, Strategy 1, line 1 KPIs: "number of effective complaints filed" (and
    the legal-empowerment line's "number of cases successfully filed"). Complaints filed
    in the period, with any authority."""
    complaints = Complaint.objects.filter(organisation=organisation)
    if since is not None:
        complaints = complaints.filter(filed_on__gte=since)
    if until is not None:
        complaints = complaints.filter(filed_on__lte=until)
    return complaints.count()


def sanctions_applied(
    organisation: Any, since: date | None = None, until: date | None = None
) -> int:
    """Reference, Strategy 5, line 5 KPIs: "number of sanctions applied", counted on
    the complaints whose status date falls in the period."""
    complaints = Complaint.objects.filter(organisation=organisation)
    if since is not None:
        complaints = complaints.filter(status_on__gte=since)
    if until is not None:
        complaints = complaints.filter(status_on__lte=until)
    return int(complaints.aggregate(n=Sum("sanctions"))["n"] or 0)
