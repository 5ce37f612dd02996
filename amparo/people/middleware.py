from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django_otp import user_has_device

# Paths a signed-in user may reach before finishing MFA.
MFA_EXEMPT_PREFIXES = (
    "/static/",
    "/accounts/login/",
    "/accounts/logout/",
    "/accounts/mfa/",
    "/accounts/language/",
    "/i18n/",
    "/api/",
    "/invite/",
    "/a/",
    "/health/",
    "/healthz",
    "/metrics",
    "/channels/",
    "/demo/inbox/",
    # The anonymous threat report and its receipt page use no account.
    "/report/",
)


class UserLanguageMiddleware:
    """The signed-in user's language preference rules the whole UI."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


class DuressMiddleware:
    """A session opened with the duress password sees only a harmless page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if (
            session is not None
            and session.get("amparo_duress")
            and not request.path.startswith(("/static/", "/accounts/logout/", "/accounts/mfa/"))
        ):
            from django.shortcuts import render

            return render(request, "accounts/harmless.html")
        return self.get_response(request)


class RequireMFAMiddleware:
    """Staff must finish MFA before any page (DESIGN.md section 7). So must a defender who
    enrolled a device: a second factor that can be skipped protects nothing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not user.is_verified()
            and not request.path.startswith(MFA_EXEMPT_PREFIXES)
        ):
            has_device = user_has_device(user, confirmed=True)
            if has_device or user.needs_mfa:
                target = "mfa-verify" if has_device else "mfa-setup"
                query = urlencode({"next": request.get_full_path()})
                return HttpResponseRedirect(f"{reverse(target)}?{query}")
        return self.get_response(request)
