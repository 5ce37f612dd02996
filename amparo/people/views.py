"""Pages for accounts, organisations, people, the directory and safe houses. Thin: each
reads through people.access and writes through people.actions."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from amparo.people import access, actions
from amparo.people.access import OrgContext
from amparo.people.forms import (
    AcceptInvitationForm,
    ApiTokenForm,
    ChainOfCommandForm,
    DirectoryEntryForm,
    DuressPasswordForm,
    InvitationForm,
    LanguageForm,
    LoginForm,
    PersonForm,
    SafeHouseForm,
    TokenForm,
)
from amparo.people.models import ApiToken, DirectoryCategory, Invitation, Membership, User
from amparo.protocols.access import relocation_status_label


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


def _form_errors_from(form: Any, exc: ValidationError) -> None:
    """Show an action's refusal on the form, next to the field it names where it can."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def org_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Resolve /o/<slug>/ to the user's context there, or 404 for non-members."""

    @login_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
        ctx = access.access_organisation_by_slug(request.user, slug)
        request.org_ctx = ctx  # type: ignore[attr-defined]
        return view(request, ctx, *args, **kwargs)

    return wrapper


# Accounts


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


@require_POST
def logout_view(request: HttpRequest) -> HttpResponseBase:
    return auth_views.LogoutView.as_view()(request)


@login_required
def mfa_setup(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not user.is_verified() and TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        # A new device needs the second factor of the old one: a stolen password alone
        # must not enrol the thief's phone.
        return redirect(f"{reverse('mfa-verify')}?next={reverse('mfa-setup')}")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                actions.record_mfa_device(user, user, "totp")
            otp_login(request, device)
            messages.success(request, _("Two-step verification is on."))
            return HttpResponseRedirect(_safe_next(request, reverse("home")))
        form.add_error("token", _("That code is not right. Check the time on your phone."))
    qr = segno.make(device.config_url, error="m")
    return render(
        request,
        "accounts/mfa_setup.html",
        {
            "form": form,
            "qr_data_uri": qr.svg_data_uri(scale=5),
            "secret": _base32_secret(device),
            "required": user.needs_mfa,
        },
    )


def _base32_secret(device: TOTPDevice) -> str:
    import base64

    return base64.b32encode(device.bin_key).decode().rstrip("=")


@login_required
def mfa_verify(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    devices = list(TOTPDevice.objects.filter(user=user, confirmed=True))
    if not devices:
        return redirect("mfa-setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        for device in devices:
            if device.verify_token(form.cleaned_data["token"]):
                otp_login(request, device)
                return HttpResponseRedirect(_safe_next(request, reverse("home")))
        form.add_error("token", _("That code is not right. Check the time on your phone."))
    return render(request, "accounts/mfa_verify.html", {"form": form})


def set_language(request: HttpRequest) -> HttpResponse:
    """The language switcher: remembered on the account, and in a cookie for visitors."""
    from django.conf import settings

    form = LanguageForm(request.POST or None)
    if request.method != "POST" or not form.is_valid():
        return redirect("home")
    language = form.cleaned_data["language"]
    if request.user.is_authenticated:
        actions.set_language(request.user, request.user, language)  # type: ignore[arg-type]
    response = HttpResponseRedirect(_safe_next(request, reverse("home")))
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
    )
    return response


@login_required
def account_settings(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at")
    new_token = None
    token_form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and token_form.is_valid():
        _token, new_token = actions.create_api_token(user, user, token_form.cleaned_data["name"])
        token_form = ApiTokenForm()
    return render(
        request,
        "accounts/settings.html",
        {
            "language_form": LanguageForm(initial={"language": user.language}),
            "has_mfa": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
            "tokens": tokens,
            "token_form": token_form,
            "new_token": new_token,
            "duress_form": DuressPasswordForm(),
            "has_duress": bool(user.duress_password),
        },
    )


@login_required
@require_POST
def revoke_token(request: HttpRequest, token_id: str) -> HttpResponse:
    user: Any = request.user
    token = ApiToken.objects.filter(user=user, pk=access._uuid(token_id)).first()
    if token is None:
        access.not_found()
    actions.revoke_api_token(request.user, token)
    messages.success(request, _("The token no longer works."))
    return redirect("account-settings")


@login_required
@require_POST
def log_out_everywhere(request: HttpRequest) -> HttpResponse:
    actions.log_out_everywhere(request.user, request.user)  # type: ignore[arg-type]
    request.session.flush()
    messages.success(request, _("You have been signed out on every device."))
    return redirect("login")


def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    invitation = actions.find_open_invitation(token)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    user: Any = request.user
    if user.is_authenticated:
        if request.method == "POST":
            try:
                actions.accept_invitation(user, token)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                return redirect("home")
            return redirect("org-home", slug=invitation.organisation.slug)
        return render(request, "accounts/invitation.html", {"invitation": invitation})
    if User.objects.filter(email=invitation.email).exists():
        # An existing account signs in first, then accepts.
        return redirect(f"{reverse('login')}?next={request.path}")
    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            validate_password(form.cleaned_data["password"])
            with transaction.atomic():
                new_user = actions.create_user(
                    "invitation",
                    email=invitation.email,
                    password=form.cleaned_data["password"],
                    language=getattr(request, "LANGUAGE_CODE", "es")[:2],
                )
                actions.accept_invitation(new_user, token)
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            auth_login(request, new_user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("org-home", slug=invitation.organisation.slug)
    return render(request, "accounts/invitation.html", {"invitation": invitation, "form": form})


# Organisations


@login_required
def home(request: HttpRequest) -> HttpResponse:
    organisations = list(access.organisations_of(request.user))
    if len(organisations) == 1:
        return redirect("org-home", slug=organisations[0].slug)
    return render(request, "home.html", {"organisations": organisations})


@org_view
def org_home(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    return render(
        request,
        "people/org_home.html",
        {
            "ctx": ctx,
            "own_profile": access.own_profile(ctx),
            "people_count": access.people_visible_to(ctx).count() if ctx.can_read_people else None,
            "directory_count": access.directory_visible_to(ctx).count(),
            "safe_house_count": access.safe_houses_visible_to(ctx).count()
            if ctx.can_see_safe_houses
            else None,
        },
    )


@org_view
def members(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    access.require(ctx, ctx.can_manage_members)
    form = InvitationForm(request.POST or None)
    link = None
    if request.method == "POST" and form.is_valid():
        try:
            _invitation, token = actions.invite(request.user, ctx.organisation, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            link = request.build_absolute_uri(reverse("accept-invitation", args=[token]))
            form = InvitationForm()
    return render(
        request,
        "people/members.html",
        {
            "ctx": ctx,
            "form": form,
            "link": link,
            "memberships": Membership.objects.filter(organisation=ctx.organisation)
            .select_related("user")
            .order_by("user__email", "role"),
            "invitations": [
                i
                for i in Invitation.objects.filter(organisation=ctx.organisation).order_by(
                    "-created_at"
                )[:50]
                if i.is_open
            ],
        },
    )


@org_view
@require_POST
def revoke_invitation(request: HttpRequest, ctx: OrgContext, invitation_id: str) -> HttpResponse:
    access.require(ctx, ctx.can_manage_members)
    invitation = Invitation.objects.filter(
        organisation=ctx.organisation, pk=access._uuid(invitation_id)
    ).first()
    if invitation is None:
        access.not_found()
    actions.revoke_invitation(request.user, invitation)
    return redirect("members", slug=ctx.organisation.slug)


# People


@org_view
def people_list(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    people = list(access.people_visible_to(ctx).select_related("supervisor"))
    people.sort(key=lambda p: p.display_name.lower())
    return render(request, "people/people_list.html", {"ctx": ctx, "people": people})


@org_view
def person_detail(request: HttpRequest, ctx: OrgContext, person_id: str) -> HttpResponse:
    person = access.access_person_by_id(ctx, person_id)
    return render(
        request,
        "people/person_detail.html",
        {
            "ctx": ctx,
            "person": person,
            "reports": access.people_visible_to(ctx).filter(supervisor=person),
            # Everyone who may read the person sees that they are relocated; only the
            # security coordinator sees where (protocols.access, DESIGN.md section 7).
            "relocation_label": relocation_status_label(ctx, person),
        },
    )


@org_view
def person_edit(
    request: HttpRequest, ctx: OrgContext, person_id: str | None = None
) -> HttpResponse:
    access.require(ctx, ctx.can_edit_people)
    person = access.access_person_by_id(ctx, person_id) if person_id else None
    initial = PersonForm.initial_from(person) if person else {}
    form = PersonForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if person is None:
                person = actions.create_person(request.user, ctx.organisation, **form.cleaned_data)
            else:
                actions.update_person(request.user, person, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("person-detail", slug=ctx.organisation.slug, person_id=person.pk)
    title = _("Edit person") if person else _("New person")
    return render(request, "form_page.html", {"ctx": ctx, "form": form, "title": title})


@org_view
def person_chain(request: HttpRequest, ctx: OrgContext, person_id: str) -> HttpResponse:
    access.require(ctx, ctx.can_edit_people)
    person = access.access_person_by_id(ctx, person_id)
    candidates = access.people_visible_to(ctx).exclude(pk=person.pk)
    form = ChainOfCommandForm(
        request.POST or None,
        people=candidates,
        initial={"supervisor": person.supervisor_id, "emergency_rank": person.emergency_rank},
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.set_chain_of_command(request.user, person, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("person-detail", slug=ctx.organisation.slug, person_id=person.pk)
    return render(
        request, "form_page.html", {"ctx": ctx, "form": form, "title": _("Chain of command")}
    )


@org_view
def chain_of_command(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    access.require(ctx, ctx.can_read_people)
    people = list(access.people_visible_to(ctx))
    deciders = sorted((p for p in people if p.emergency_rank), key=lambda p: p.emergency_rank or 0)
    top = [p for p in people if p.supervisor_id is None]
    by_boss: dict[Any, list[Any]] = {}
    for p in people:
        by_boss.setdefault(p.supervisor_id, []).append(p)
    return render(
        request,
        "people/chain.html",
        {"ctx": ctx, "deciders": deciders, "top": top, "by_boss": by_boss},
    )


# Directory


@org_view
def directory_list(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    entries = access.directory_visible_to(ctx)
    category = request.GET.get("category", "")
    region = request.GET.get("region", "")
    if category in DirectoryCategory.values:
        entries = entries.filter(category=category)
    if region:
        entries = entries.filter(region__icontains=region)
    return render(
        request,
        "people/directory_list.html",
        {
            "ctx": ctx,
            "entries": entries,
            "categories": DirectoryCategory.choices,
            "category": category,
            "region": region,
        },
    )


@org_view
def directory_detail(request: HttpRequest, ctx: OrgContext, entry_id: str) -> HttpResponse:
    entry = access.access_directory_entry_by_id(ctx, entry_id)
    return render(request, "people/directory_detail.html", {"ctx": ctx, "entry": entry})


@org_view
def directory_edit(
    request: HttpRequest, ctx: OrgContext, entry_id: str | None = None
) -> HttpResponse:
    access.require(ctx, ctx.can_edit_directory)
    entry = access.access_directory_entry_by_id(ctx, entry_id) if entry_id else None
    initial = {}
    if entry is not None:
        initial = {name: getattr(entry, name) for name in DirectoryEntryForm.base_fields}
    form = DirectoryEntryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if entry is None:
                entry = actions.create_directory_entry(
                    request.user, ctx.organisation, **form.cleaned_data
                )
            else:
                actions.update_directory_entry(request.user, entry, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("directory-detail", slug=ctx.organisation.slug, entry_id=entry.pk)
    title = _("Edit directory entry") if entry else _("New directory entry")
    return render(request, "form_page.html", {"ctx": ctx, "form": form, "title": title})


@org_view
@require_POST
def directory_archive(request: HttpRequest, ctx: OrgContext, entry_id: str) -> HttpResponse:
    access.require(ctx, ctx.can_edit_directory)
    entry = access.access_directory_entry_by_id(ctx, entry_id)
    actions.archive_directory_entry(request.user, entry)
    messages.success(request, _("Removed from the directory."))
    return redirect("directory", slug=ctx.organisation.slug)


# Safe houses


@org_view
def safe_house_list(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    access.require(ctx, ctx.can_see_safe_houses)
    return render(
        request,
        "people/safe_house_list.html",
        {"ctx": ctx, "safe_houses": access.safe_houses_visible_to(ctx)},
    )


@org_view
def safe_house_detail(request: HttpRequest, ctx: OrgContext, safe_house_id: str) -> HttpResponse:
    safe_house = access.access_safe_house_by_id(ctx, safe_house_id)
    return render(request, "people/safe_house_detail.html", {"ctx": ctx, "safe_house": safe_house})


@org_view
def safe_house_edit(
    request: HttpRequest, ctx: OrgContext, safe_house_id: str | None = None
) -> HttpResponse:
    access.require(ctx, ctx.can_see_safe_houses)
    safe_house = access.access_safe_house_by_id(ctx, safe_house_id) if safe_house_id else None
    initial: dict[str, Any] = {}
    if safe_house is not None:
        location = safe_house.location or {}
        initial = {
            name: getattr(safe_house, name)
            for name in ("region", "name", "address", "contact", "notes", "capacity", "available")
        }
        initial.update(latitude=location.get("lat"), longitude=location.get("lon"))
    form = SafeHouseForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if safe_house is None:
                safe_house = actions.create_safe_house(
                    request.user, ctx.organisation, **form.action_fields()
                )
            else:
                actions.update_safe_house(request.user, safe_house, **form.action_fields())
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(
                "safe-house-detail", slug=ctx.organisation.slug, safe_house_id=safe_house.pk
            )
    title = _("Edit safe house") if safe_house else _("New safe house")
    return render(request, "form_page.html", {"ctx": ctx, "form": form, "title": title})


@login_required
@require_POST
def set_duress_password(request: HttpRequest) -> HttpResponse:
    form = DuressPasswordForm(request.POST)
    if form.is_valid():
        try:
            user: Any = request.user
            actions.set_duress_password(user, user, form.cleaned_data["duress_password"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Saved."))
    return redirect("account-settings")
