from django.contrib import admin
from django.urls import include, path

from amparo.api import api

urlpatterns = [
    path("", include("amparo.people.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]
