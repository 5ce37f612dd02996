"""Pages without an account: the emergency fund's anonymised summary (reference
Strategy 2, line 5: a transparent fund)."""

from django.urls import path

from amparo.programmes import fund_views

urlpatterns = [
    path(
        "public/<slug:org_slug>/fund/",
        fund_views.public_fund_summary,
        name="public-fund-summary",
    ),
]
