from django.urls import path

from amparo.channels import views
from amparo.channels.openrosa import views as openrosa
from amparo.channels.sms import views as sms

urlpatterns = [
    path("o/<slug:slug>/channels/", views.channels, name="channels"),
    path("channels/sms/generic/<slug:slug>/", sms.generic, name="sms-generic"),
    path("channels/sms/twilio/<slug:slug>/", sms.twilio, name="sms-twilio"),
    # OpenRosa (issue 9): ODK Collect's server URL is /openrosa/<slug>; it appends the
    # names below, without a trailing slash.
    path("o/<slug:slug>/channels/openrosa/", openrosa.devices, name="openrosa-devices"),
    path("openrosa/<slug:slug>/", openrosa.form_list, name="openrosa-root"),
    path("openrosa/<slug:slug>/formList", openrosa.form_list, name="openrosa-form-list"),
    path(
        "openrosa/<slug:slug>/forms/<str:form_id>/form.xml",
        openrosa.form_download,
        name="openrosa-form",
    ),
    path(
        "openrosa/<slug:slug>/forms/<str:form_id>/manifest",
        openrosa.manifest,
        name="openrosa-manifest",
    ),
    path("openrosa/<slug:slug>/submission", openrosa.submission, name="openrosa-submission"),
]
