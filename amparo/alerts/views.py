"""Alert pages: the panic button, the live board, an alert's timeline, acknowledging,
resolving, sharing, the policy editor with its preview, the acknowledgement link and the
worker heartbeat."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from amparo.alerts import access, actions
from amparo.alerts.forms import (
    PanicForm,
    PolicyForm,
    RaiseAlertForm,
    ResolveForm,
    ShareForm,
    TierForm,
    TierFormSet,
)
from amparo.alerts.models import (
    Alert,
    AlertKind,
    AlertState,
    EscalationPolicy,
    OutboxMessage,
    Severity,
    WorkerHeartbeat,
)
from amparo.people import access as people_access
from amparo.people.access import OrgContext
from amparo.people.models import Organisation
from amparo.people.views import _form_errors_from, org_view

# PanicForm.message's max_length: an overlong message is cut there, not refused.
PANIC_MESSAGE_CHARS = 500


def _role_label(ctx: OrgContext) -> str:
    return ",".join(sorted(ctx.roles))


@org_view
def panic(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    """One tap: a plain form POST that works without JavaScript (DESIGN.md section 8)."""
    # Bound even when empty: a bare POST (no location, no words) is a panic too.
    form = PanicForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        # The alert goes out whatever else is wrong with the form: a location the phone
        # garbled (or a message too long) must never turn a panic away. A field that does
        # not validate is dropped; the message is cut to its limit.
        form.is_valid()
        message = form.cleaned_data.get("message")
        if message is None:
            message = request.POST.get("message", "")[:PANIC_MESSAGE_CHARS]
        alert = actions.raise_alert(
            request.user,
            ctx.organisation,
            kind=AlertKind.PANIC,
            severity=Severity.HIGH,
            message=message,
            person=people_access.own_profile(ctx),
            location=form.location(),
            source="web",
        )
        return render(request, "alerts/panic_sent.html", {"ctx": ctx, "alert": alert})
    return render(request, "alerts/panic.html", {"ctx": ctx, "form": form})


@org_view
def board(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    alerts = access.alerts_visible_to(ctx).select_related("organisation", "person")
    show = request.GET.get("show", "open")
    if show == "open":
        alerts = alerts.exclude(state=AlertState.RESOLVED)
    template = (
        "alerts/board_rows.html" if request.headers.get("HX-Request") else "alerts/board.html"
    )
    return render(
        request,
        template,
        {"ctx": ctx, "alerts": alerts[:200], "show": show, "can_raise": access.can_respond(ctx)},
    )


@org_view
def raise_manual(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    people_access.require(ctx, access.can_respond(ctx))
    form = RaiseAlertForm(request.POST or None, people=people_access.people_visible_to(ctx))
    if request.method == "POST" and form.is_valid():
        try:
            alert = actions.raise_alert(
                request.user, ctx.organisation, source="web", **form.cleaned_data
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            return redirect("alert-detail", slug=ctx.organisation.slug, alert_id=alert.pk)
    return render(
        request, "form_page.html", {"ctx": ctx, "form": form, "title": _("Raise an alert")}
    )


@org_view
def detail(request: HttpRequest, ctx: OrgContext, alert_id: str) -> HttpResponse:
    alert = access.access_alert_by_id(ctx, alert_id)
    own = access.is_own_alert(ctx, alert)
    return render(
        request,
        "alerts/detail.html",
        {
            "ctx": ctx,
            "alert": alert,
            "own": own,
            "steps": alert.steps.all(),
            "messages_sent": OutboxMessage.objects.filter(alert=alert).select_related("step")
            if own and access.can_see_board(ctx)
            else [],
            "can_respond": access.can_respond(ctx),
            "resolve_form": ResolveForm(),
            "share_form": ShareForm(),
            "shares": alert.shares.select_related("partner") if own else [],
        },
    )


@org_view
@require_POST
def acknowledge(request: HttpRequest, ctx: OrgContext, alert_id: str) -> HttpResponse:
    alert = access.access_alert_by_id(ctx, alert_id)
    people_access.require(ctx, access.can_respond(ctx))
    try:
        taken = actions.acknowledge_alert(request.user, alert, via="web", role=_role_label(ctx))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("alert-detail", slug=ctx.organisation.slug, alert_id=alert.pk)
    if taken:
        messages.success(request, _("You took responsibility for this alert. Escalation stopped."))
    else:
        messages.info(request, _("Someone already took responsibility for this alert."))
    return redirect("alert-detail", slug=ctx.organisation.slug, alert_id=alert.pk)


@org_view
@require_POST
def resolve(request: HttpRequest, ctx: OrgContext, alert_id: str) -> HttpResponse:
    alert = access.access_alert_by_id(ctx, alert_id)
    people_access.require(ctx, access.can_respond(ctx) and access.is_own_alert(ctx, alert))
    form = ResolveForm(request.POST)
    if form.is_valid():
        try:
            actions.resolve_alert(request.user, alert, form.cleaned_data["note"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return redirect("alert-detail", slug=ctx.organisation.slug, alert_id=alert.pk)


@org_view
@require_POST
def share(request: HttpRequest, ctx: OrgContext, alert_id: str) -> HttpResponse:
    alert = access.access_alert_by_id(ctx, alert_id)
    people_access.require(ctx, access.can_edit_policies(ctx) and access.is_own_alert(ctx, alert))
    form = ShareForm(request.POST)
    partner = None
    if form.is_valid():
        partner = Organisation.objects.filter(slug=form.cleaned_data["partner"]).first()
    if partner is None:
        messages.error(request, _("No organisation has that short name."))
    else:
        try:
            actions.share_alert(request.user, alert, partner)
            messages.success(request, _("Shared with %(org)s.") % {"org": partner.name})
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return redirect("alert-detail", slug=ctx.organisation.slug, alert_id=alert.pk)


# Policies


def preview(policy: EscalationPolicy) -> list[dict[str, Any]]:
    """Who would be notified when, if an alert were raised now under this policy."""
    probe = Alert(organisation=policy.organisation, kind=AlertKind.MANUAL, severity=Severity.HIGH)
    rows = []
    now = timezone.now()
    for step in actions.plan_steps(policy.snapshot(), now):
        tier = next(t for t in policy.snapshot()["tiers"] if t["position"] == step["tier_position"])
        recipients, partners = actions.resolve_targets(probe, tier)
        rows.append(
            {
                "after": round((step["due_at"] - now).total_seconds() / 60),
                "level": step["level"],
                "repeat": step["repeat_index"],
                "recipients": [r.label for r in recipients],
                "partners": partners,
                "channels": tier["channels"],
            }
        )
    return rows


@org_view
def policies(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    people_access.require(ctx, access.can_edit_policies(ctx))
    items = [
        {"policy": p, "preview": preview(p)}
        for p in EscalationPolicy.objects.filter(organisation=ctx.organisation)
    ]
    return render(request, "alerts/policies.html", {"ctx": ctx, "items": items})


@org_view
def policy_edit(
    request: HttpRequest, ctx: OrgContext, policy_id: str | None = None
) -> HttpResponse:
    people_access.require(ctx, access.can_edit_policies(ctx))
    policy = access.access_policy_by_id(ctx, policy_id) if policy_id else None
    people = people_access.people_visible_to(ctx)
    initial = {}
    tiers_initial: list[dict[str, Any]] = []
    if policy is not None:
        initial = {
            "name": policy.name,
            "description": policy.description,
            "kinds": policy.kinds,
            "severities": policy.severities,
            "priority": policy.priority,
        }
        tiers_initial = [TierForm.initial_from(t) for t in policy.tiers.all()]
    form = PolicyForm(request.POST or None, initial=initial)
    tiers = TierFormSet(
        request.POST or None, initial=tiers_initial, form_kwargs={"people": people}, prefix="tier"
    )
    if request.method == "POST" and form.is_valid() and tiers.is_valid():
        tier_specs = [
            t for t in (f.tier() for f in tiers.forms if f.has_changed() or f.initial) if t
        ]
        try:
            with transaction.atomic():
                policy = actions.save_policy(
                    request.user,
                    ctx.organisation,
                    policy=policy,
                    tiers=tier_specs,
                    **form.cleaned_data,
                )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, _("Saved. Running alerts keep the policy they started with."))
            return redirect("alert-policies", slug=ctx.organisation.slug)
    return render(
        request,
        "alerts/policy_form.html",
        {
            "ctx": ctx,
            "form": form,
            "tiers": tiers,
            "policy": policy,
            "preview": preview(policy) if policy else None,
        },
    )


# Acknowledgement link (no account needed: the signed, single-use link is the key)


def ack_link(request: HttpRequest, token: str) -> HttpResponse:
    link = actions.ack_link_from_token(token)
    if link is None:
        return render(request, "alerts/ack_invalid.html", status=404)
    if request.method == "POST":
        if link.alert.state != AlertState.RAISED:
            # Someone else took it first: say so, never "the alert is yours now".
            context = {"link": link, "alert": link.alert}
            return render(request, "alerts/ack_confirm.html", context, status=409)
        alert = actions.acknowledge_by_link(token)
        if alert is None:
            return render(request, "alerts/ack_invalid.html", status=404)
        return render(request, "alerts/ack_done.html", {"alert": alert})
    return render(request, "alerts/ack_confirm.html", {"link": link, "alert": link.alert})


# Heartbeat for an outside monitor


def heartbeat(request: HttpRequest) -> JsonResponse:
    """200 when every worker loop beat recently, 503 otherwise. Reveals no data."""
    now = timezone.now()
    stale_after = timedelta(seconds=settings.AMPARO_HEARTBEAT_STALE_SECONDS)
    loops = {hb.name: hb.beat_at for hb in WorkerHeartbeat.objects.all()}
    ages = {
        name: (now - loops[name]).total_seconds() if name in loops else None
        for name in WorkerHeartbeat.WATCHED_LOOPS
    }
    healthy = all(age is not None and age < stale_after.total_seconds() for age in ages.values())
    return JsonResponse({"ok": healthy, "seconds_since_beat": ages}, status=200 if healthy else 503)
