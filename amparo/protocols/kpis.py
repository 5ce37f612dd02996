"""The protocol, evacuation, drill and institutional-policy figures of the KPI catalogue
(issue 8, point 7), from the reference's "Evaluation (KPIs)" bullets:

- Strategy 2, line 1: "Number of protocols developed and adopted; % of community members
  trained in their use; frequency of drills to test protocols."
- Strategy 2, line 3: "Number of communities with operational evacuation plans;
  reduction in evacuation time during drills."
- Strategy 1, line 4: "average evacuation time, percentage of participants following
  protocols correctly, reduction of critical errors in successive simulations."
- Strategy 3, line 3: "% of organizations with updated risk management plans; ...
  frequency of internal compliance checks."
- Strategy 2, line 4: "% of organizations with internal security policies; level of
  compliance with minimum safety standards."
- Strategy 5, line 6 (participation of women and youth): protocols co-created with them.

Every function is ``(organisation, since, until) -> number | None``: ``since`` and
``until`` are dates, both inclusive, either may be None for an open end. None means "no
data to answer" (no drills, no members), which is not zero. Flows (how many drills) count
records dated within the period; stocks (share trained, operational plans, an updated
plan) are taken as of ``until``. Only plain columns are read: nothing sealed is opened.
The monitoring app reads these; nothing here reads monitoring.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Avg, QuerySet, Sum
from django.utils import timezone

from amparo.people.models import Person
from amparo.protocols.models import (
    CommunityProtocol,
    ComplianceCheck,
    ComplianceStatus,
    Drill,
    EvacuationPlan,
    InstitutionalPolicy,
    PlanStatus,
    ProtocolStatus,
    ProtocolTraining,
)

# A risk management plan counts as updated if it was revised within a year of the
# period's end. The reference says "updated" without a period; a year is the cycle most
# organisations review their plans on, and risk.reminders re-assesses quarterly.
RISK_PLAN_FRESH_DAYS = 365


def _between(qs: QuerySet[Any], field: str, since: date | None, until: date | None) -> Any:
    if since is not None:
        qs = qs.filter(**{f"{field}__gte": since})
    if until is not None:
        qs = qs.filter(**{f"{field}__lte": until})
    return qs


def _as_of(until: date | None) -> date:
    return until or timezone.localdate()


def _drills(organisation: Any, since: date | None, until: date | None) -> QuerySet[Drill]:
    return _between(Drill.objects.filter(organisation=organisation), "held_on", since, until)


def _protocols_developed(
    organisation: Any, since: date | None, until: date | None
) -> QuerySet[CommunityProtocol]:
    return _between(
        CommunityProtocol.objects.filter(organisation=organisation),
        "created_at__date",
        since,
        until,
    )


# Strategy 2, line 1


def protocols_developed(organisation: Any, since: date | None, until: date | None) -> int:
    return _protocols_developed(organisation, since, until).count()


def protocols_adopted(organisation: Any, since: date | None, until: date | None) -> int:
    """Protocols adopted within the period and still in force (not retired)."""
    return _between(
        CommunityProtocol.objects.filter(organisation=organisation, status=ProtocolStatus.ADOPTED),
        "adopted_on",
        since,
        until,
    ).count()


def share_members_trained(
    organisation: Any, since: date | None, until: date | None
) -> float | None:
    """% of the organisation's current members (people, not archived) trained in at least
    one of its protocols by ``until``. None without members."""
    members = Person.objects.filter(organisation=organisation, archived_at__isnull=True)
    total = members.count()
    if not total:
        return None
    trained = (
        ProtocolTraining.objects.filter(
            organisation=organisation,
            person__in=members,
            trained_on__lte=_as_of(until),
        )
        .values("person")
        .distinct()
        .count()
    )
    return round(100 * trained / total, 1)


def drills_testing_protocols(organisation: Any, since: date | None, until: date | None) -> int:
    return _drills(organisation, since, until).filter(protocol__isnull=False).count()


def protocols_co_created_with_women(
    organisation: Any, since: date | None, until: date | None
) -> int:
    return _protocols_developed(organisation, since, until).filter(with_women=True).count()


def protocols_co_created_with_youth(
    organisation: Any, since: date | None, until: date | None
) -> int:
    return _protocols_developed(organisation, since, until).filter(with_youth=True).count()


def protocols_co_created_with_indigenous_leaders(
    organisation: Any, since: date | None, until: date | None
) -> int:
    return (
        _protocols_developed(organisation, since, until)
        .filter(with_indigenous_leaders=True)
        .count()
    )


# Strategy 2, line 3 and Strategy 1, line 4


def operational_evacuation_plans(organisation: Any, since: date | None, until: date | None) -> int:
    """Plans operational now that existed by ``until`` (a plan's status has no history)."""
    return EvacuationPlan.objects.filter(
        organisation=organisation,
        status=PlanStatus.OPERATIONAL,
        created_at__date__lte=_as_of(until),
    ).count()


def drills_held(organisation: Any, since: date | None, until: date | None) -> int:
    return _drills(organisation, since, until).count()


def average_evacuation_minutes(
    organisation: Any, since: date | None, until: date | None
) -> float | None:
    seconds = (
        _drills(organisation, since, until)
        .filter(evacuation_seconds__isnull=False)
        .aggregate(avg=Avg("evacuation_seconds"))["avg"]
    )
    return None if seconds is None else round(seconds / 60, 2)


def evacuation_time_reduction_minutes(
    organisation: Any, since: date | None, until: date | None
) -> float | None:
    """The first timed drill of the period minus the last, in minutes: positive when
    evacuations got faster. None with fewer than two timed drills."""
    timed = [
        seconds
        for seconds in _drills(organisation, since, until)
        .order_by("held_on", "recorded_at")
        .values_list("evacuation_seconds", flat=True)
        if seconds is not None
    ]
    if len(timed) < 2:
        return None
    return round((timed[0] - timed[-1]) / 60, 2)


def share_following_protocol(
    organisation: Any, since: date | None, until: date | None
) -> float | None:
    """% of drill participants who followed the protocol, over all drills of the period
    (weighted by participants). None without drills."""
    totals = _drills(organisation, since, until).aggregate(
        followed=Sum("followed_protocol"), participants=Sum("participants")
    )
    if not totals["participants"]:
        return None
    return round(100 * totals["followed"] / totals["participants"], 1)


def critical_errors_reduction(
    organisation: Any, since: date | None, until: date | None
) -> int | None:
    """Critical errors in the period's first drill minus its last: positive when they
    fell. None with fewer than two drills."""
    errors = list(
        _drills(organisation, since, until)
        .order_by("held_on", "recorded_at")
        .values_list("critical_errors", flat=True)
    )
    if len(errors) < 2:
        return None
    return errors[0] - errors[-1]


# Strategy 3, line 3 and Strategy 2, line 4. Per organisation these are 0 or 1; the
# catalogue's "% of organisations" is their mean over organisations.


def has_updated_risk_plan(organisation: Any, since: date | None, until: date | None) -> int:
    as_of = _as_of(until)
    updated_on = (
        InstitutionalPolicy.objects.filter(organisation=organisation)
        .values_list("risk_plan_updated_on", flat=True)
        .first()
    )
    if updated_on is None:
        return 0
    return int(as_of - timedelta(days=RISK_PLAN_FRESH_DAYS) <= updated_on <= as_of)


def has_security_manual(organisation: Any, since: date | None, until: date | None) -> int:
    """Whether the organisation has an internal security manual by ``until``. Without an
    adoption date, the current answer is taken."""
    policy = InstitutionalPolicy.objects.filter(organisation=organisation).first()
    if policy is None or not policy.has_security_manual:
        return 0
    adopted = policy.security_manual_adopted_on
    return int(adopted is None or adopted <= _as_of(until))


def compliance_checks(organisation: Any, since: date | None, until: date | None) -> int:
    return _between(
        ComplianceCheck.objects.filter(organisation=organisation), "checked_on", since, until
    ).count()


def share_compliant_checks(
    organisation: Any, since: date | None, until: date | None
) -> float | None:
    """% of the period's compliance checks that found no gaps. None without checks."""
    checks = _between(
        ComplianceCheck.objects.filter(organisation=organisation), "checked_on", since, until
    )
    total = checks.count()
    if not total:
        return None
    return round(100 * checks.filter(status=ComplianceStatus.COMPLIANT).count() / total, 1)
