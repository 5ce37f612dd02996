from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The organisation context of the page (set by views), for the role-aware menu."""
    from django.conf import settings

    return {
        "org_ctx": getattr(request, "org_ctx", None),
        "settings_demo_inbox": settings.AMPARO_DEMO_INBOX,
    }
