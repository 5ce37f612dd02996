from django.urls import path

from amparo.monitoring import views

o = "o/<slug:slug>/"
p = "public/<slug:org_slug>/reports/"

urlpatterns = [
    path(o + "indicators/", views.indicators, name="indicators"),
    path(o + "public-reports/", views.public_reports, name="public-reports"),
    path(o + "public-reports/preview/", views.public_preview, name="public-report-preview"),
    # Public, no account: the published reports of one organisation.
    path(p, views.published_list, name="published-reports"),
    path(p + "<str:report_id>/report.csv", views.published_csv, name="published-report-csv"),
    path(
        p + "<str:report_id>/report.geojson",
        views.published_geojson,
        name="published-report-geojson",
    ),
    path(p + "<str:report_id>/report.pdf", views.published_pdf, name="published-report-pdf"),
]
