from django.urls import path

from amparo.demo import views

urlpatterns = [
    path("demo/messages/", views.inbox, name="demo-inbox"),
    path("demo/inbox/<slug:channel>/", views.receive, name="demo-inbox-receive"),
]
