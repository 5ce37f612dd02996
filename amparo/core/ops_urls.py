"""The operations endpoints (core/ops.py), outside any organisation and any sign-in."""

from django.urls import path

from amparo.core import ops

urlpatterns = [
    path("healthz", ops.healthz, name="ops-healthz"),
    path("metrics", ops.metrics, name="ops-metrics"),
]
