"""The psychosocial figures of the KPI catalogue (reference, Strategy 6, line 4,
"Evaluation (KPIs): number of defenders receiving psychosocial support; ... integration
of cultural healing practices"). Counts only, from plain columns: nothing sealed is
opened. Issue 8 (monitoring) reads these; nothing here reads monitoring."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth

from amparo.programmes.models import PsychosocialReferral, PsychosocialSession


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
