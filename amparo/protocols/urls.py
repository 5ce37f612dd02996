"""The protocols page and the community protocol, evacuation plan, drill and
institutional policy pages (issue 8, points 1-3), under the organisation's address."""

from django.urls import path

from amparo.protocols import community_views, evacuation_views, institutional_views, views

o = "o/<slug:slug>/protocols/"
p = o + "community/<str:protocol_id>/"

urlpatterns = [
    path(o, views.index, name="protocols"),
    path(o + "community/new/", community_views.protocol_new, name="protocol-new"),
    path(p, community_views.protocol_detail, name="protocol-detail"),
    path(p + "edit/", community_views.protocol_edit, name="protocol-edit"),
    path(p + "versions/<int:number>/", community_views.protocol_version, name="protocol-version"),
    path(p + "status/", community_views.protocol_status, name="protocol-status"),
    path(p + "trained/", community_views.protocol_train, name="protocol-train"),
    path(p + "card.pdf", community_views.protocol_card, name="protocol-card"),
    path(o + "evacuation/new/", evacuation_views.evacuation_new, name="evacuation-new"),
    path(
        o + "evacuation/<str:plan_id>/",
        evacuation_views.evacuation_detail,
        name="evacuation-detail",
    ),
    path(
        o + "evacuation/<str:plan_id>/edit/",
        evacuation_views.evacuation_edit,
        name="evacuation-edit",
    ),
    path(o + "drills/", evacuation_views.drill_list, name="drill-list"),
    path(o + "drills/new/", evacuation_views.drill_new, name="drill-new"),
    path(
        o + "institutional/", institutional_views.institutional_policy, name="institutional-policy"
    ),
    path(
        o + "institutional/edit/", institutional_views.institutional_edit, name="institutional-edit"
    ),
    path(
        o + "institutional/checks/new/",
        institutional_views.compliance_check_new,
        name="compliance-check-new",
    ),
    path(
        o + "institutional/checks/<str:check_id>/resolve/",
        institutional_views.compliance_check_resolve,
        name="compliance-check-resolve",
    ),
]
