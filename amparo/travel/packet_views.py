"""The deployment packet as a download (issue 5, point 7; ``travel.packet``). Thin: the
read goes through travel.access, the render and its audit entry through travel.packet."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from amparo.core.access import not_found
from amparo.people.access import OrgContext
from amparo.people.views import org_view
from amparo.travel import access, packet


@org_view
@require_GET
def deployment_packet(
    request: HttpRequest, ctx: OrgContext, deployment_id: str, language: str
) -> HttpResponse:
    deployment = access.access_deployment_by_id(ctx, deployment_id)
    if language not in packet.PACKET_LANGUAGES:
        not_found()
    pdf = packet.download_packet(request.user, deployment, language)
    name = f"packet-{packet.short_id(deployment)}-{language}.pdf"
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
