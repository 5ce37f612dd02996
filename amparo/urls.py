from django.contrib import admin
from django.urls import include, path

from amparo.api import api

urlpatterns = [
    # First: every API request would otherwise be tried against each page pattern below
    # (a third of a millisecond per request), and no page can take an /api/ path.
    path("api/", api.urls),
    path("", include("amparo.people.urls")),
    path("", include("amparo.alerts.urls")),
    path("", include("amparo.incidents.urls")),
    path("", include("amparo.travel.urls")),
    path("", include("amparo.risk.urls")),
    path("", include("amparo.crisis.urls")),
    path("", include("amparo.protocols.urls")),
    path("", include("amparo.programmes.urls")),
    path("", include("amparo.programmes.programme_urls")),
    path("", include("amparo.programmes.public_urls")),
    path("", include("amparo.protocols.relocation_urls")),
    path("", include("amparo.monitoring.urls")),
    path("", include("amparo.channels.urls")),
    path("", include("amparo.demo.urls")),
    path("", include("amparo.monitoring.map_urls")),
    path("", include("amparo.monitoring.kpi_urls")),
    path("", include("amparo.core.ops_urls")),
    path("admin/", admin.site.urls),
]
