from __future__ import annotations

import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from amparo.alerts.models import OutboxMessage
from amparo.core.access import not_found
from amparo.demo.models import DemoInboxMessage
from amparo.people.access import organisations_of


def _enabled() -> None:
    if not settings.AMPARO_DEMO_INBOX:
        not_found()


@csrf_exempt
@require_POST
def receive(request: HttpRequest, channel: str) -> JsonResponse:
    _enabled()
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"error": "not JSON"}, status=400)
    DemoInboxMessage.objects.create(
        channel=channel[:12],
        recipient=str(payload.get("to", ""))[:200],
        title=str(payload.get("title", ""))[:200],
        body=str(payload.get("message", ""))[:5000],
        idempotency_key=request.headers.get("X-Amparo-Idempotency-Key", "")[:200],
    )
    return JsonResponse({"ok": True})


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """What the demo's gateways would have delivered, for the signed-in user's
    organisations only."""
    _enabled()
    keys = OutboxMessage.objects.filter(
        organisation__in=organisations_of(request.user)
    ).values_list("idempotency_key", flat=True)
    received = DemoInboxMessage.objects.filter(idempotency_key__in=list(keys))[:100]
    return render(request, "demo/inbox.html", {"received": received})
