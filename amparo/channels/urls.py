from django.urls import path

from amparo.channels.sms import views as sms

urlpatterns = [
    path("channels/sms/generic/<slug:slug>/", sms.generic, name="sms-generic"),
    path("channels/sms/twilio/<slug:slug>/", sms.twilio, name="sms-twilio"),
]
