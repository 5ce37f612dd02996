"""The emergency support fund (issue 8, point 5; reference, Strategy 2, line 5: "a
financial mechanism to cover urgent needs in situations of imminent danger ... Fund
administered transparently ... with clear accountability mechanisms ... Fast disbursement
procedures with minimal bureaucracy").

A request goes: requested -> approved (two approvals) -> disbursed, or refused by any one
approver. The rules of approval, decided here and enforced in ``approve_fund_request``:

- two approvals by two different people, coordinators or administrators of the
  organisation; one person cannot approve twice (also a unique constraint);
- the person who made the request does not approve it, nor does the beneficiary: the
  approvals are the accountability the reference asks for, and a request approved by
  its author is approved by one other person only. An organisation needs three people in
  those roles to use the fund; the request page says so when it cannot be approved.

Reads: the organisation's ledger (every request, with the relocation costs the fund paid
as a separate read-only line) and the anonymised public summary (counts and sums by
month, category and currency; cells of fewer than five requests are suppressed).
Audit details carry ids, choices and amounts, never the sealed beneficiary or reasons.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from amparo.core import audit
from amparo.people.models import Membership, Organisation, Person
from amparo.programmes.access import FUND_APPROVERS
from amparo.programmes.models import (
    APPROVALS_NEEDED,
    FundApproval,
    FundCategory,
    FundRequest,
    FundRequestStatus,
)

MAX_TEXT = 8000
MAX_AMOUNT = Decimal("1000000")
# DESIGN.md section 7: public counts are suppressed below k = 5.
PUBLIC_K = 5


def _user_id(actor: Any) -> Any:
    return actor.pk if getattr(actor, "is_authenticated", False) else None


def _text(value: str | None) -> str:
    return (value or "").strip()


def _is_approver(organisation_id: Any, user_id: Any) -> bool:
    return Membership.objects.filter(
        organisation_id=organisation_id, user_id=user_id, role__in=FUND_APPROVERS
    ).exists()


def _amount(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({"amount": _("Give the amount as a number.")}) from None
    if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT:
        raise ValidationError({"amount": _("Give an amount above zero.")})
    return amount.quantize(Decimal("0.01"))


@transaction.atomic
def request_funds(
    actor: Any,
    organisation: Organisation,
    *,
    category: str,
    amount: Any,
    currency: str,
    justification: str,
    beneficiary: Person | None = None,
    beneficiary_name: str = "",
    threat_report: Any = None,
) -> FundRequest:
    """Ask the fund for money for one of the reference's five uses."""
    errors: dict[str, str] = {}
    if category not in FundCategory.values:
        errors["category"] = _("Choose what the money is for.")
    currency = _text(currency).upper()
    if len(currency) != 3 or not currency.isalpha():
        errors["currency"] = _("Give the currency as a three-letter code, e.g. PEN.")
    justification = _text(justification)
    if not justification:
        errors["justification"] = _("Say why the fund is needed.")
    elif len(justification) > MAX_TEXT:
        errors["justification"] = _("This text is too long.")
    beneficiary_name = _text(beneficiary_name)
    if beneficiary is not None and (
        beneficiary.organisation_id != organisation.pk or beneficiary.archived_at is not None
    ):
        errors["beneficiary"] = _("Choose a person of this organisation.")
    if beneficiary is None and not beneficiary_name:
        errors["beneficiary"] = _("Choose the beneficiary or write their name.")
    if len(beneficiary_name) > 200:
        errors["beneficiary_name"] = _("This text is too long.")
    if threat_report is not None and threat_report.organisation_id != organisation.pk:
        errors["threat_report"] = _("Choose a threat report of this organisation.")
    try:
        value = _amount(amount)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    fund_request = FundRequest(
        organisation=organisation,
        category=category,
        amount=value,
        currency=currency,
        beneficiary=beneficiary,
        beneficiary_name=beneficiary_name,
        justification=justification,
        threat_report=threat_report,
        requested_by_id=_user_id(actor),
        requested_at=timezone.now(),
    )
    fund_request.save()
    audit.record(
        actor,
        "fund_request.created",
        fund_request,
        details={
            "category": category,
            "amount": str(value),
            "currency": currency,
            "beneficiary": str(beneficiary.pk) if beneficiary is not None else None,
            "threat_report": str(threat_report.pk) if threat_report is not None else None,
        },
    )
    return fund_request


def _lock(fund_request: FundRequest) -> FundRequest:
    return FundRequest.objects.select_for_update().get(pk=fund_request.pk)


def approval_refusal(fund_request: FundRequest, user: Any) -> str | None:
    """Why ``user`` may not approve ``fund_request`` now, or None when they may."""
    if fund_request.status != FundRequestStatus.REQUESTED:
        return _("This request is not awaiting approval.")
    if not _is_approver(fund_request.organisation_id, _user_id(user)):
        return _("Only a coordinator or an administrator approves the fund.")
    if fund_request.requested_by_id == _user_id(user):
        return _("The person who made the request cannot approve it.")
    beneficiary = fund_request.beneficiary
    if beneficiary is not None and beneficiary.user_id == _user_id(user):
        return _("The beneficiary cannot approve their own request.")
    if fund_request.approvals.filter(approver_id=_user_id(user)).exists():
        return _("You have already approved this request. A second person must approve it.")
    return None


@transaction.atomic
def approve_fund_request(actor: Any, fund_request: FundRequest) -> FundRequest:
    """One approval. The second, by a different person, approves the request."""
    fund_request = _lock(fund_request)
    refusal = approval_refusal(fund_request, actor)
    if refusal is not None:
        raise ValidationError(refusal)
    now = timezone.now()
    try:
        with transaction.atomic():
            FundApproval.objects.create(
                organisation_id=fund_request.organisation_id,
                request=fund_request,
                approver_id=_user_id(actor),
                approved_at=now,
            )
    except IntegrityError:
        raise ValidationError(
            _("You have already approved this request. A second person must approve it.")
        ) from None
    approvals = fund_request.approvals.count()
    if approvals >= APPROVALS_NEEDED:
        fund_request.status = FundRequestStatus.APPROVED
        fund_request.approved_at = now
        fund_request.save(update_fields=["status", "approved_at", "updated_at"])
    audit.record(
        actor,
        "fund_request.approved",
        fund_request,
        details={"approvals": approvals, "status": fund_request.status},
    )
    return fund_request


@transaction.atomic
def refuse_fund_request(actor: Any, fund_request: FundRequest, note: str) -> FundRequest:
    """Any one approver may refuse a request that is not yet disbursed, with a reason."""
    fund_request = _lock(fund_request)
    if fund_request.status not in (FundRequestStatus.REQUESTED, FundRequestStatus.APPROVED):
        raise ValidationError(_("This request can no longer be refused."))
    if not _is_approver(fund_request.organisation_id, _user_id(actor)):
        raise ValidationError(_("Only a coordinator or an administrator decides on the fund."))
    note = _text(note)
    if not note:
        raise ValidationError({"note": _("Say why the request is refused.")})
    if len(note) > MAX_TEXT:
        raise ValidationError({"note": _("This text is too long.")})
    fund_request.status = FundRequestStatus.REFUSED
    fund_request.refused_at = timezone.now()
    fund_request.refused_by_id = _user_id(actor)
    fund_request.refusal_note = note
    fund_request.save(
        update_fields=["status", "refused_at", "refused_by", "refusal_note", "updated_at"]
    )
    audit.record(actor, "fund_request.refused", fund_request, details={})
    return fund_request


@transaction.atomic
def disburse_fund_request(
    actor: Any,
    fund_request: FundRequest,
    *,
    reference: str = "",
    disbursed_at: datetime | None = None,
) -> FundRequest:
    """Record that the money was paid. ``disbursed_at`` defaults to now; a payment made
    earlier (in the field, without signal) may be recorded with its time."""
    fund_request = _lock(fund_request)
    if fund_request.status != FundRequestStatus.APPROVED:
        raise ValidationError(_("Only a request approved by two people is disbursed."))
    now = timezone.now()
    when = disbursed_at or now
    if when > now:
        raise ValidationError({"disbursed_at": _("A payment is recorded once it is made.")})
    if fund_request.approved_at is not None and when < fund_request.approved_at:
        raise ValidationError({"disbursed_at": _("The payment cannot precede the approval.")})
    reference = _text(reference)
    if len(reference) > 60:
        raise ValidationError({"reference": _("This text is too long.")})
    fund_request.status = FundRequestStatus.DISBURSED
    fund_request.disbursed_at = when
    fund_request.disbursed_by_id = _user_id(actor)
    fund_request.disbursement_reference = reference
    fund_request.save(
        update_fields=[
            "status",
            "disbursed_at",
            "disbursed_by",
            "disbursement_reference",
            "updated_at",
        ]
    )
    audit.record(
        actor,
        "fund_request.disbursed",
        fund_request,
        details={
            "amount": str(fund_request.amount),
            "currency": fund_request.currency,
            "hours_from_request": round(hours_to_disbursement(fund_request) or 0, 2),
        },
    )
    return fund_request


@transaction.atomic
def record_satisfaction(actor: Any, fund_request: FundRequest, score: int) -> FundRequest:
    """The beneficiary's satisfaction, 1 (very unsatisfied) to 5 (very satisfied), asked
    after the disbursement (reference, Strategy 2, line 5 KPIs)."""
    fund_request = _lock(fund_request)
    if fund_request.status != FundRequestStatus.DISBURSED:
        raise ValidationError(_("Satisfaction is asked after the money is disbursed."))
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise ValidationError({"satisfaction": _("Give a score from 1 to 5.")})
    fund_request.satisfaction = score
    fund_request.satisfaction_recorded_at = timezone.now()
    fund_request.save(update_fields=["satisfaction", "satisfaction_recorded_at", "updated_at"])
    audit.record(actor, "fund_request.satisfaction", fund_request, details={"score": score})
    return fund_request


def hours_to_disbursement(fund_request: FundRequest) -> float | None:
    if fund_request.disbursed_at is None:
        return None
    return (fund_request.disbursed_at - fund_request.requested_at).total_seconds() / 3600


def disbursement_hours(
    organisation: Any, since: date | None = None, until: date | None = None
) -> list[float]:
    """Hours from request to disbursement of the requests disbursed in the period."""
    requests = FundRequest.objects.filter(
        organisation=organisation, status=FundRequestStatus.DISBURSED
    )
    if since is not None:
        requests = requests.filter(disbursed_at__date__gte=since)
    if until is not None:
        requests = requests.filter(disbursed_at__date__lte=until)
    return [
        (disbursed - requested).total_seconds() / 3600
        for requested, disbursed in requests.values_list("requested_at", "disbursed_at")
        if disbursed is not None
    ]


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


# The ledger


@dataclass(frozen=True)
class LedgerTotal:
    category: str
    currency: str
    requests: int
    amount: Decimal

    @property
    def category_label(self) -> str:
        return str(FundCategory(self.category).label)


@dataclass(frozen=True)
class RelocationLine:
    """The relocation costs the fund paid (protocols.RelocationCost with
    ``emergency_fund``), per currency: recorded on the relocation, shown here read-only."""

    currency: str
    costs: int
    amount: Decimal
    references: list[str]


@dataclass(frozen=True)
class FundLedger:
    requests: list[FundRequest]
    disbursed: list[LedgerTotal]
    committed: list[LedgerTotal]  # approved, not yet paid
    relocations: list[RelocationLine]


def _money(value: Any) -> Decimal:
    # SQLite sums decimals as floats: round back to cents.
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def _totals(requests: Any) -> list[LedgerTotal]:
    rows = (
        requests.values("category", "currency")
        .order_by("category", "currency")
        .annotate(n=Count("id"), total=Sum("amount"))
    )
    return [LedgerTotal(r["category"], r["currency"], r["n"], _money(r["total"])) for r in rows]


def relocation_lines(organisation: Any) -> list[RelocationLine]:
    from amparo.protocols.models import RelocationCost

    costs = RelocationCost.objects.filter(organisation=organisation, emergency_fund=True)
    by_currency: dict[str, list[Any]] = defaultdict(list)
    for currency, amount, reference in costs.values_list(
        "currency", "amount", "fund_reference"
    ).order_by("currency", "incurred_on"):
        by_currency[currency].append((amount, reference))
    return [
        RelocationLine(
            currency=currency,
            costs=len(rows),
            amount=_money(sum((a for a, _r in rows), Decimal(0))),
            references=sorted({r for _a, r in rows if r}),
        )
        for currency, rows in sorted(by_currency.items())
    ]


def fund_ledger(organisation: Any) -> FundLedger:
    """Every request of the organisation, the totals paid and committed by category and
    currency, and the relocation costs paid by the fund. Names no one: requests are
    shown by their reference code."""
    requests = FundRequest.objects.filter(organisation=organisation)
    return FundLedger(
        requests=list(requests.prefetch_related("approvals")),
        disbursed=_totals(requests.filter(status=FundRequestStatus.DISBURSED)),
        committed=_totals(requests.filter(status=FundRequestStatus.APPROVED)),
        relocations=relocation_lines(organisation),
    )


# The anonymised public summary


@dataclass(frozen=True)
class SummaryCell:
    month: date
    category: str
    currency: str
    # None when suppressed: fewer than PUBLIC_K requests in the cell.
    requests: int | None
    amount: Decimal | None

    @property
    def suppressed(self) -> bool:
        return self.requests is None

    @property
    def category_label(self) -> str:
        return str(FundCategory(self.category).label)


def public_summary(
    organisation: Any, since: date | None = None, until: date | None = None
) -> list[SummaryCell]:
    """Disbursed requests by month of disbursement, category and currency. Counts and
    sums only; a cell of fewer than five requests shows neither (DESIGN.md section 7).
    No totals across cells: with one cell suppressed, a total would give it away."""
    requests = FundRequest.objects.filter(
        organisation=organisation, status=FundRequestStatus.DISBURSED
    )
    if since is not None:
        requests = requests.filter(disbursed_at__date__gte=since)
    if until is not None:
        requests = requests.filter(disbursed_at__date__lte=until)
    rows = (
        requests.annotate(month=TruncMonth("disbursed_at"))
        .values("month", "category", "currency")
        .order_by("month", "category", "currency")
        .annotate(n=Count("id"), total=Sum("amount"))
    )
    cells = []
    for r in rows:
        month = r["month"]
        if isinstance(month, datetime):
            month = month.date()
        shown = r["n"] >= PUBLIC_K
        cells.append(
            SummaryCell(
                month=date(month.year, month.month, 1),
                category=r["category"],
                currency=r["currency"],
                requests=r["n"] if shown else None,
                amount=_money(r["total"]) if shown else None,
            )
        )
    return cells
