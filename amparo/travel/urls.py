from django.urls import path

from amparo.travel import views

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
    # Each record's form posts to its own URL.
    *(
        path(d + f"{record}/", views.save_record, {"record": record}, name=f"deployment-{record}")
        for record in views.RECORDS
    ),
]
