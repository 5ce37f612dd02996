from django.urls import path

from amparo.travel import packet_views, trip_views, views

o = "o/<slug:slug>/"
d = o + "deployments/<str:deployment_id>/"

urlpatterns = [
    path(o + "deployments/", views.deployment_list, name="deployment-list"),
    path(o + "deployments/new/", views.deployment_new, name="deployment-new"),
    path(o + "deployments/approvals/", views.approval_queue, name="deployment-approvals"),
    path(o + "deployments/settings/", views.travel_settings, name="travel-settings"),
    path(d, views.deployment_detail, name="deployment-detail"),
    path(d + "status/", views.change_status, name="deployment-status"),
    path(d + "sign/", views.sign_declaration, name="deployment-sign"),
    path(d + "exception/", views.grant_exception, name="deployment-exception"),
    path(d + "accept-code/", views.accept_code, name="deployment-accept-code"),
    path(d + "packet/<str:language>/", packet_views.deployment_packet, name="deployment-packet"),
    # The trip itself (travel.trip_views).
    path(d + "legs/", trip_views.deployment_legs, name="deployment-legs"),
    path(d + "legs/<str:leg_id>/", trip_views.leg_change, name="deployment-leg-change"),
    path(d + "legs/<str:leg_id>/remove/", trip_views.leg_remove, name="deployment-leg-remove"),
    path(d + "pins/", trip_views.deployment_pins, name="deployment-pins"),
    path(d + "check-in/", trip_views.deployment_checkin, name="deployment-checkin"),
    path(d + "lost-comms/", trip_views.lost_comms_plan, name="deployment-lost-comms"),
    path(d + "proof-of-life/", trip_views.proof_of_life, name="deployment-proof-of-life"),
    path(
        d + "proof-of-life/read/",
        trip_views.proof_of_life_read,
        name="deployment-proof-of-life-read",
    ),
    path(d + "documents/", trip_views.deployment_documents, name="deployment-documents"),
    path(
        d + "documents/<str:document_id>/",
        trip_views.document_download,
        name="deployment-document",
    ),
    # Each record's form posts to its own URL.
    *(
        path(d + f"{record}/", views.save_record, {"record": record}, name=f"deployment-{record}")
        for record in views.RECORDS
    ),
]
