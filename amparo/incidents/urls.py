from django.urls import path

from amparo.incidents import dossier, plan_views, views

o = "o/<slug:slug>/"

urlpatterns = [
    path(o + "threats/", views.case_list, name="threat-list"),
    path(o + "threats/new/", views.report_form, name="threat-new"),
    path(o + "threats/<str:report_id>/", views.case_detail, name="threat-detail"),
    path(o + "threats/<str:report_id>/level/", views.change_level, name="threat-level"),
    path(o + "threats/<str:report_id>/status/", views.change_status, name="threat-status"),
    path(
        o + "threats/<str:report_id>/items/<str:item_id>/",
        views.update_item,
        name="threat-item",
    ),
    path(
        o + "threats/<str:report_id>/evidence/<str:evidence_id>/",
        views.evidence_download,
        name="threat-evidence",
    ),
    path(o + "threats/<str:report_id>/dossier.pdf", dossier.dossier_view, name="threat-dossier"),
    path(
        o + "people/<str:person_id>/security-plan/", plan_views.security_plan, name="security-plan"
    ),
    path("report/status/", views.receipt_status, name="threat-receipt"),
    path("report/<slug:slug>/", views.anonymous_report, name="threat-anonymous"),
]
