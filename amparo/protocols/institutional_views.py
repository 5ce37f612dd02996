"""The institutional security policy page (issue 8, point 2; reference, Strategy 3, line
3): whether a security manual exists, when the risk management plan was last updated,
the digital security standards, the crisis chain of command, and the log of internal
compliance checks. Thin: reads through protocols.access, writes through
protocols.institutional."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone

from amparo.people.access import OrgContext
from amparo.people.models import Membership, User
from amparo.people.views import _form_errors_from, org_view
from amparo.protocols import access, institutional
from amparo.protocols.forms import ComplianceCheckForm, InstitutionalPolicyForm, ResolveForm

# Pages that only read answer other methods with 405, after the access check, so that
# everyone without a part gets the same 404 whatever the method.
READS = ["GET", "HEAD"]


def _checker_choices(ctx: OrgContext) -> list[tuple[str, str]]:
    # Checks are made by staff who answer for security: the writers of the policy.
    users = (
        Membership.objects.filter(
            organisation=ctx.organisation,
            role__in=access.PROTOCOL_WRITERS,
            user__is_active=True,
        )
        .values_list("user_id", "user__email")
        .distinct()
    )
    return sorted(((str(pk), email) for pk, email in users), key=lambda c: c[1])


@org_view
def institutional_policy(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    policy = access.institutional_policy_of(ctx)
    if request.method not in READS:
        return HttpResponseNotAllowed(READS)
    writer = access.can_write_protocols(ctx)
    return render(
        request,
        "protocols/institutional.html",
        {
            "ctx": ctx,
            "policy": policy,
            "writer": writer,
            "checks": access.compliance_checks_visible_to(ctx).select_related("checker"),
            "resolve_form": ResolveForm(initial={"resolved_on": timezone.localdate()}),
        },
    )


@org_view
def institutional_edit(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    policy = access.institutional_policy_of(ctx)
    access.require_protocol_writer(ctx)
    initial = {}
    if policy is not None:
        initial = {name: getattr(policy, name) for name in InstitutionalPolicyForm.base_fields}
    form = InstitutionalPolicyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            institutional.update_institutional_policy(
                request.user, ctx.organisation, **form.cleaned_data
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            return redirect("institutional-policy", ctx.organisation.slug)
    return render(request, "protocols/institutional_form.html", {"ctx": ctx, "form": form})


@org_view
def compliance_check_new(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    access.require_protocol_writer(ctx)
    form = ComplianceCheckForm(
        request.POST or None,
        checkers=_checker_choices(ctx),
        initial={"checked_on": timezone.localdate(), "checker": str(ctx.user.pk)},
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        checker = User.objects.filter(pk=d["checker"]).first() if d["checker"] else None
        try:
            institutional.record_compliance_check(
                request.user,
                ctx.organisation,
                checked_on=d["checked_on"],
                status=d["status"],
                findings=d["findings"],
                checker=checker,
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            return redirect("institutional-policy", ctx.organisation.slug)
    return render(request, "protocols/compliance_check_form.html", {"ctx": ctx, "form": form})


@org_view
def compliance_check_resolve(request: HttpRequest, ctx: OrgContext, check_id: str) -> HttpResponse:
    check = access.access_compliance_check_by_id(ctx, check_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = ResolveForm(request.POST)
    if form.is_valid():
        try:
            institutional.resolve_compliance_check(
                request.user, check, resolved_on=form.cleaned_data["resolved_on"]
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
    return redirect("institutional-policy", ctx.organisation.slug)
