"""The bare one-insert endpoint that bench/intake.py compares threat intake with: the
same server, middleware and token authentication, and one INSERT. Routed only when
``AMPARO_BENCH_ENDPOINTS`` is true (never in a normal deployment)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from amparo.core.models import BenchPing

router = Router(tags=["benchmark"])


class PingIn(Schema):
    body: str = ""


class PingOut(Schema):
    id: int


@router.post("/ping", response={201: PingOut})
def ping(request: HttpRequest, payload: PingIn) -> Any:
    row = BenchPing.objects.create(body=payload.body[:200])
    return 201, {"id": row.pk}
