"""Relocation pages (protocols.relocation_views), under the organisation's address."""

from django.urls import path

from amparo.protocols import relocation_views as views

o = "o/<slug:slug>/"
r = o + "relocations/<str:relocation_id>/"

urlpatterns = [
    path(o + "relocations/", views.relocation_list, name="relocation-list"),
    path(o + "relocations/new/", views.relocation_new, name="relocation-new"),
    path(o + "relocations/costs/", views.relocation_costs, name="relocation-costs"),
    path(r, views.relocation_detail, name="relocation-detail"),
    path(r + "decide/", views.relocation_decide, name="relocation-decide"),
    path(r + "relocate/", views.relocation_relocate, name="relocation-relocate"),
    path(r + "return/", views.relocation_return, name="relocation-return"),
    path(r + "close/", views.relocation_close, name="relocation-close"),
    path(r + "costs/new/", views.relocation_cost_new, name="relocation-cost-new"),
]
