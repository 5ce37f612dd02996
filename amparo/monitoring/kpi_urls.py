from django.urls import path

from amparo.monitoring import kpi_views

o = "o/<slug:slug>/kpis/"

urlpatterns = [
    path(o, kpi_views.kpi_index, name="kpi-index"),
    path(o + "strategy/<int:number>/", kpi_views.kpi_strategy, name="kpi-strategy"),
    path(o + "strategy/<int:number>/kpis.csv", kpi_views.kpi_strategy_csv, name="kpi-csv"),
    path(o + "<str:kpi_id>/enter/", kpi_views.kpi_enter, name="kpi-enter"),
]
