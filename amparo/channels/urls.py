from django.urls import path

from amparo.channels import views
from amparo.channels.sms import views as sms

urlpatterns = [
    path("o/<slug:slug>/channels/", views.channels, name="channels"),
    path("channels/sms/generic/<slug:slug>/", sms.generic, name="sms-generic"),
    path("channels/sms/twilio/<slug:slug>/", sms.twilio, name="sms-twilio"),
]
