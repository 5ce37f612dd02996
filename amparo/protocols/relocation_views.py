"""Relocation pages (issue 6, point 3; reference, Strategy 6, line 3): the coordinator's
list, a new request (also for a supervisor, for their own staff), the relocation's page
with its decision, move, return, closure and costs, and the monthly cost totals. Thin:
reads go through protocols.access, writes through protocols.relocation. Plain form
posts, each step to its own URL, so the pages work on a phone without JavaScript."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from amparo.people import access as people_access
from amparo.people.access import OrgContext
from amparo.people.views import _form_errors_from, org_view
from amparo.protocols import access, relocation
from amparo.protocols.models import (
    OPEN_STATUSES,
    CostCategory,
    RelocationCost,
    RelocationRequest,
    RelocationStatus,
    RiskLevel,
)

# Forms


class DateInput(forms.DateInput):
    input_type = "date"


def _date(label: Any, required: bool = False) -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=DateInput)


def _note(label: Any, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=relocation.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _set_choices(field: forms.Field, choices: list[tuple[str, str]]) -> None:
    assert isinstance(field, forms.ChoiceField)
    field.choices = [("", "—"), *choices]


class RequestForm(forms.Form):
    person = forms.ChoiceField(label=gettext_lazy("Person to relocate"))
    risk_level = forms.ChoiceField(label=gettext_lazy("Risk"), choices=RiskLevel.choices)
    reason = _note(gettext_lazy("Why the person must be moved (sealed)"))
    cross_border = forms.BooleanField(
        label=gettext_lazy("Temporary relocation abroad"), required=False
    )
    destination_country = forms.CharField(
        label=gettext_lazy("Destination country (if abroad)"),
        required=False,
        max_length=2,
        help_text=gettext_lazy("ISO 3166 code, e.g. CO"),
    )
    expected_end_on = _date(gettext_lazy("Expected return"))
    crisis_case_id = forms.UUIDField(label=gettext_lazy("Crisis case id"), required=False)

    def __init__(self, *args: Any, people: list[tuple[str, str]], coordinator: bool, **kw: Any):
        super().__init__(*args, **kw)
        _set_choices(self.fields["person"], people)
        if not coordinator:
            # A supervisor asks; the plans and the crisis link are the coordinator's.
            del self.fields["expected_end_on"]
            del self.fields["crisis_case_id"]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", gettext_lazy("Approve")), ("refuse", gettext_lazy("Refuse"))],
        widget=forms.HiddenInput,
    )
    note = _note(gettext_lazy("Decision note"))


class RelocateForm(forms.Form):
    safe_house = forms.ChoiceField(label=gettext_lazy("Safe house"), required=False)
    destination_address = _note(gettext_lazy("Or where the person stays (sealed)"), required=False)
    lat = forms.FloatField(
        label=gettext_lazy("Latitude"), required=False, min_value=-90, max_value=90
    )
    lon = forms.FloatField(
        label=gettext_lazy("Longitude"), required=False, min_value=-180, max_value=180
    )
    starts_on = _date(gettext_lazy("Relocated on"), required=True)
    expected_end_on = _date(gettext_lazy("Expected return"))

    def __init__(self, *args: Any, safe_houses: list[tuple[str, str]], **kw: Any):
        super().__init__(*args, **kw)
        _set_choices(self.fields["safe_house"], safe_houses)

    def location(self) -> dict[str, float] | None:
        lat, lon = self.cleaned_data.get("lat"), self.cleaned_data.get("lon")
        if lat is None and lon is None:
            return None
        return {"lat": lat, "lon": lon}  # type: ignore[dict-item]


class ReturnForm(forms.Form):
    ends_on = _date(gettext_lazy("Returned on"), required=True)
    note = _note(gettext_lazy("Note"), required=False)


class CloseForm(forms.Form):
    note = _note(gettext_lazy("Why it is closed"))


class CostForm(forms.Form):
    category = forms.ChoiceField(label=gettext_lazy("Category"), choices=CostCategory.choices)
    amount = forms.DecimalField(
        label=gettext_lazy("Amount"), min_value=Decimal("0.01"), max_digits=12, decimal_places=2
    )
    currency = forms.CharField(
        label=gettext_lazy("Currency"), max_length=3, help_text=gettext_lazy("e.g. PEN, USD")
    )
    incurred_on = _date(gettext_lazy("Date"), required=True)
    emergency_fund = forms.BooleanField(
        label=gettext_lazy("Paid by the emergency fund"), required=False, initial=True
    )
    fund_reference = forms.CharField(
        label=gettext_lazy("Fund reference"),
        required=False,
        max_length=60,
        help_text=gettext_lazy("The emergency fund's grant or ledger code. No names or places."),
    )
    note = _note(gettext_lazy("Note (sealed)"), required=False)


# Helpers


def _people_choices(ctx: OrgContext) -> list[tuple[str, str]]:
    people = access.people_to_relocate(ctx)
    return sorted(((str(p.pk), p.display_name) for p in people), key=lambda c: c[1].lower())


def _safe_house_choices(ctx: OrgContext) -> list[tuple[str, str]]:
    return [
        (str(h.pk), f"{h.name} ({h.region})" + ("" if h.available else " — " + _("full")))
        for h in people_access.safe_houses_visible_to(ctx)
    ]


def totals_by_currency(costs: Any) -> list[dict[str, Any]]:
    return list(costs.values("currency").annotate(total=Sum("amount")).order_by("currency"))


def _detail_context(ctx: OrgContext, item: RelocationRequest, **forms_: Any) -> dict[str, Any]:
    costs = RelocationCost.objects.filter(relocation=item).select_related("recorded_by")
    return {
        "ctx": ctx,
        "relocation": item,
        "costs": costs,
        "totals": totals_by_currency(costs),
        "fund_totals": totals_by_currency(costs.filter(emergency_fund=True)),
        "decision_form": forms_.get("decision_form") or DecisionForm(),
        "return_form": forms_.get("return_form")
        or ReturnForm(initial={"ends_on": timezone.localdate()}),
        "close_form": forms_.get("close_form") or CloseForm(),
        "may_decide": item.status == RelocationStatus.REQUESTED,
        "must_ask_another": (
            item.status == RelocationStatus.REQUESTED
            and item.requested_by_id == ctx.user.pk
            and relocation.other_coordinator_exists(item, ctx.user)
        ),
        "may_relocate": item.status == RelocationStatus.APPROVED,
        "may_return": item.status == RelocationStatus.RELOCATED,
        "may_close": item.status in relocation.CLOSABLE,
        "may_cost": item.approved is True,
    }


def _detail(request: HttpRequest, ctx: OrgContext, item: RelocationRequest, **forms_: Any) -> Any:
    return render(request, "protocols/relocation_detail.html", _detail_context(ctx, item, **forms_))


# Pages. A step that only takes a post answers 405 to a GET only after the access check,
# so that everyone without a part gets the same 404 for every address.


@org_view
def relocation_list(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    access.require_manager(ctx)
    show_all = request.GET.get("all") == "1"
    relocations = access.relocations_visible_to(ctx).select_related("person", "safe_house")
    if not show_all:
        relocations = relocations.filter(status__in=OPEN_STATUSES)
    return render(
        request,
        "protocols/relocation_list.html",
        {
            "ctx": ctx,
            "relocations": relocations.annotate(cost_count=Count("costs")),
            "show_all": show_all,
        },
    )


@org_view
def relocation_new(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    access.require_requester(ctx)
    coordinator = access.can_manage_relocations(ctx)
    form = RequestForm(request.POST or None, people=_people_choices(ctx), coordinator=coordinator)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        person = access.people_to_relocate(ctx).filter(pk=d["person"]).first()
        if person is None:
            form.add_error("person", _("Choose a person of this organisation."))
        else:
            try:
                item = relocation.request_relocation(
                    request.user,
                    person,
                    reason=d["reason"],
                    risk_level=d["risk_level"],
                    cross_border=d["cross_border"],
                    destination_country=d["destination_country"],
                    expected_end_on=d.get("expected_end_on"),
                    crisis_case_id=d.get("crisis_case_id"),
                )
            except ValidationError as exc:
                _form_errors_from(form, exc)
            else:
                if coordinator:
                    return redirect("relocation-detail", ctx.organisation.slug, item.pk)
                # The request is now the coordinator's: the supervisor is not shown it.
                messages.success(request, _("Your request was sent to the security coordinator."))
                return redirect("org-home", ctx.organisation.slug)
    return render(
        request,
        "protocols/relocation_new.html",
        {"ctx": ctx, "form": form, "coordinator": coordinator},
    )


@org_view
def relocation_detail(request: HttpRequest, ctx: OrgContext, relocation_id: str) -> HttpResponse:
    item = access.access_relocation_by_id(ctx, relocation_id)
    return _detail(request, ctx, item)


@org_view
def relocation_decide(request: HttpRequest, ctx: OrgContext, relocation_id: str) -> HttpResponse:
    item = access.access_relocation_by_id(ctx, relocation_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            relocation.decide_relocation(
                request.user,
                item,
                approve=form.cleaned_data["decision"] == "approve",
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            return redirect("relocation-detail", ctx.organisation.slug, item.pk)
    return _detail(request, ctx, item, decision_form=form)


@org_view
def relocation_relocate(request: HttpRequest, ctx: OrgContext, relocation_id: str) -> HttpResponse:
    item = access.access_relocation_by_id(ctx, relocation_id)
    form = RelocateForm(
        request.POST or None,
        safe_houses=_safe_house_choices(ctx),
        initial={"starts_on": timezone.localdate(), "expected_end_on": item.expected_end_on},
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        safe_house = None
        if d["safe_house"]:
            safe_house = people_access.access_safe_house_by_id(ctx, d["safe_house"])
        try:
            relocation.relocate(
                request.user,
                item,
                starts_on=d["starts_on"],
                safe_house=safe_house,
                destination_address=d["destination_address"],
                destination_location=form.location(),
                expected_end_on=d["expected_end_on"],
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            return redirect("relocation-detail", ctx.organisation.slug, item.pk)
    return render(
        request,
        "protocols/relocation_relocate.html",
        {"ctx": ctx, "relocation": item, "form": form},
    )


@org_view
def relocation_return(request: HttpRequest, ctx: OrgContext, relocation_id: str) -> HttpResponse:
    item = access.access_relocation_by_id(ctx, relocation_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = ReturnForm(request.POST)
    if form.is_valid():
        try:
            d = form.cleaned_data
            relocation.mark_returned(request.user, item, ends_on=d["ends_on"], note=d["note"])
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            return redirect("relocation-detail", ctx.organisation.slug, item.pk)
    return _detail(request, ctx, item, return_form=form)


@org_view
def relocation_close(request: HttpRequest, ctx: OrgContext, relocation_id: str) -> HttpResponse:
    item = access.access_relocation_by_id(ctx, relocation_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            relocation.close_relocation(request.user, item, note=form.cleaned_data["note"])
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            return redirect("relocation-detail", ctx.organisation.slug, item.pk)
    return _detail(request, ctx, item, close_form=form)


@org_view
def relocation_cost_new(request: HttpRequest, ctx: OrgContext, relocation_id: str) -> HttpResponse:
    item = access.access_relocation_by_id(ctx, relocation_id)
    form = CostForm(request.POST or None, initial={"incurred_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            relocation.record_cost(request.user, item, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, _("The cost is recorded."))
            return redirect("relocation-detail", ctx.organisation.slug, item.pk)
    return render(
        request,
        "protocols/relocation_cost_form.html",
        {"ctx": ctx, "relocation": item, "form": form},
    )


@org_view
def relocation_costs(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    """Costs per month and currency, split by what the emergency fund pays (reference,
    Strategy 6, line 2 KPI: "availability and use of emergency funds")."""
    access.require_manager(ctx)
    rows = (
        access.costs_visible_to(ctx)
        .annotate(month=TruncMonth("incurred_on"))
        .values("month", "currency", "emergency_fund")
        .annotate(total=Sum("amount"), count=Count("id"))
        .order_by("-month", "currency")
    )
    months: dict[Any, dict[str, Any]] = defaultdict(lambda: {"fund": [], "other": []})
    for row in rows:
        key = "fund" if row["emergency_fund"] else "other"
        months[row["month"]][key].append(row)
    return render(
        request,
        "protocols/relocation_costs.html",
        {"ctx": ctx, "months": sorted(months.items(), key=lambda m: m[0], reverse=True)},
    )
