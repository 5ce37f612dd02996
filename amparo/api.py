"""The REST API under /api/ (DESIGN.md section 8): bearer tokens for integrations,
OpenAPI at /api/openapi.json."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.security import HttpBearer

from amparo.people.actions import user_for_api_token


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_api_token(token)
        if user is None:
            return None
        request.user = user
        # Messages (validation errors included) follow the account's language.
        translation.activate(user.language)
        return user


api = NinjaAPI(
    title="Amparo API",
    version="1",
    urls_namespace="api",
    auth=BearerToken(),
    docs_url=None,
)

from amparo.alerts.api import router as alerts_router  # noqa: E402
from amparo.incidents.api import public_router as public_threats_router  # noqa: E402
from amparo.incidents.api import router as threats_router  # noqa: E402
from amparo.people.api import router as people_router  # noqa: E402
from amparo.travel.api import router as travel_router  # noqa: E402

api.add_router("/", people_router)
api.add_router("/v1/alerts", alerts_router)
api.add_router("/v1/threats", threats_router)
api.add_router("/v1/deployments", travel_router)
api.add_router("/v1/crisis", "amparo.crisis.api.router")
api.add_router("/v1/risk", "amparo.risk.api.router")
api.add_router("/v1/relocations", "amparo.protocols.relocation_api.router")
api.add_router("/v1/referrals", "amparo.programmes.api.router")
api.add_router("/v1/fund", "amparo.programmes.fund_api.router")
api.add_router("/v1/legal-cases", "amparo.programmes.legal_api.router")
api.add_router("/v1/workshops", "amparo.programmes.training_api.router")
# No account: anonymous reporting and the status by receipt code (DESIGN.md section 7).
api.add_router("/v1/public/threats", public_threats_router)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """An action refused the input: 422 with the messages, in the user's language."""
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(RequestDataTooBig)
def request_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE (base64 evidence, mostly): say so in JSON,
    naming the field, instead of Django's bare 400."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
    message = _(
        "The request is larger than %(mb)s MB. Send fewer or smaller files, or attach "
        "large ones through the report form."
    ) % {"mb": limit}
    return api.create_response(request, {"detail": {"evidence": [message]}}, status=413)


if settings.AMPARO_BENCH_ENDPOINTS:
    # bench/intake.py's baseline: a bare one-insert endpoint on the same server.
    from amparo.core.bench_api import router as bench_router

    api.add_router("/v1/bench", bench_router)
