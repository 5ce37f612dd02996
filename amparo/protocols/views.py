"""The organisation's protocols page: the community security protocols, the institutional
security policy, the evacuation plans and the drills (issue 8, points 1-3), and the
lessons from crises (reference, Strategy 6, line 5: "incorporation of lessons into
updated protocols"): each after-action review's lessons and protocol changes, for every
member of the organisation."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from amparo.crisis import access as crisis_access
from amparo.people.access import OrgContext
from amparo.people.views import org_view
from amparo.protocols import access


@org_view
def index(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    readers = access.can_read_protocols(ctx)
    return render(
        request,
        "protocols/index.html",
        {
            "ctx": ctx,
            "reviews": crisis_access.lessons_visible_to(ctx)[:200],
            "readers": readers,
            "writer": access.can_write_protocols(ctx),
            "protocols": access.community_protocols_visible_to(ctx),
            "policy": access.institutional_policy_of(ctx) if readers else None,
            "last_check": access.compliance_checks_visible_to(ctx).first(),
            "plans": access.evacuation_plans_visible_to(ctx),
            "drills": access.drills_visible_to(ctx)[:5],
        },
    )
