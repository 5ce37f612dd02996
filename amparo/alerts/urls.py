from django.urls import path

from amparo.alerts import views

o = "o/<slug:slug>/"

urlpatterns = [
    path(o + "panic/", views.panic, name="panic"),
    path(o + "alerts/", views.board, name="alert-board"),
    path(o + "alerts/new/", views.raise_manual, name="alert-new"),
    path(o + "alerts/<str:alert_id>/", views.detail, name="alert-detail"),
    path(o + "alerts/<str:alert_id>/acknowledge/", views.acknowledge, name="alert-acknowledge"),
    path(o + "alerts/<str:alert_id>/resolve/", views.resolve, name="alert-resolve"),
    path(o + "alerts/<str:alert_id>/share/", views.share, name="alert-share"),
    path(o + "policies/", views.policies, name="alert-policies"),
    path(o + "policies/new/", views.policy_edit, name="alert-policy-new"),
    path(o + "policies/<str:policy_id>/", views.policy_edit, name="alert-policy-edit"),
    path("a/<str:token>/", views.ack_link, name="alert-ack-link"),
    path("health/worker", views.heartbeat, name="worker-heartbeat"),
]
