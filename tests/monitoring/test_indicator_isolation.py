"""Organisation isolation and roles for every indicator and public-report route
(monitoring.urls): only the coordinator and the administrator of the organisation reach
the dashboard, the preview and the list; everyone else gets the same 404 and publishes
nothing. The public page of an organisation shows only its own published reports. The
routes come from the URL configuration, so a new one these tests do not know fails them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.test import Client
from django.urls import reverse

from amparo.monitoring import tallies
from amparo.monitoring import urls as monitoring_urls
from amparo.monitoring.models import Incident, PublicReport
from amparo.people.models import Role
from conftest import make_persona

ORG_PAGES = {"indicators", "public-reports", "public-report-preview"}
PUBLIC = {
    "published-reports",
    "published-report-csv",
    "published-report-geojson",
    "published-report-pdf",
}


def test_it_knows_every_route():
    assert {p.name for p in monitoring_urls.urlpatterns} == ORG_PAGES | PUBLIC


@pytest.fixture
def reports(world):
    def report(org, published):
        return PublicReport.objects.create(
            organisation=org,
            title=f"Informe de {org.name}",
            period_start=date(2025, 1, 1),
            period_end=date(2025, 1, 1),
            data={
                "areas": [{"area": org.region, "month": "2025-01", "kind": "threat", "count": 5}],
                "cells": [],
                "total": 5,
                "k": 5,
                "grid_km": 10,
            },
            pdf=b"%PDF-1.7 test",
            published_at=datetime(2025, 2, 1, tzinfo=UTC) if published else None,
        )

    return {
        "a": report(world.org_a, True),
        "a_draft": report(world.org_a, False),
        "b": report(world.org_b, True),
    }


@pytest.fixture
def intruders(world):
    return {
        "coordinator of B": world.coordinator_b,
        "defender of A": world.defender,
        "focal point of A": world.focal_point,
        "supervisor of A": world.supervisor,
        "partner of A": make_persona(world.org_a, Role.PARTNER, "partner@a.example"),
    }


def test_the_coordinator_and_admin_of_a_reach_every_page(world, login):
    admin = make_persona(world.org_a, Role.ADMIN, "admin@a.example")
    for persona in (world.coordinator, admin):
        c = login(persona)
        for name in ORG_PAGES:
            assert c.get(reverse(name, args=["org-a"])).status_code == 200, name


def test_everyone_else_gets_404_and_publishes_nothing(world, login, intruders):
    tallies.create_facts(
        [
            Incident(
                organisation=world.org_a,
                origin="import",
                occurred_on=date(2025, 1, 5),
                month=date(2025, 1, 1),
                kind="threat",
                region="Madre de Dios",
            )
            for _ in range(6)
        ]
    )
    for who, persona in intruders.items():
        c = login(persona)
        for name in ORG_PAGES:
            url = reverse(name, args=["org-a"])
            response = c.get(url + "?start=2025-01&end=2025-01")
            assert response.status_code == 404, (who, name)
            assert b"Madre de Dios" not in response.content, (who, name)
        post = c.post(reverse("public-report-preview", args=["org-a"]), {"start": "2025-01"})
        assert post.status_code == 404, who
    assert PublicReport.objects.count() == 0


def test_anonymous_visitors_are_sent_to_sign_in(world):
    for name in ORG_PAGES:
        response = Client().get(reverse(name, args=["org-a"]))
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_the_public_page_shows_only_that_organisations_published_reports(world, reports):
    c = Client()
    page = c.get("/public/org-a/reports/").content.decode()
    assert "Informe de Federación A" in page
    assert "Informe de Comunidad B" not in page
    assert str(reports["a_draft"].pk) not in page
    assert str(reports["a"].pk) in page
    assert c.get("/public/nobody/reports/").status_code == 404


@pytest.mark.parametrize("suffix", ["report.csv", "report.geojson", "report.pdf"])
def test_downloads_are_only_of_a_published_report_of_that_organisation(world, reports, suffix):
    c = Client()
    assert c.get(f"/public/org-a/reports/{reports['a'].pk}/{suffix}").status_code == 200
    # Another organisation's report under A's name, a draft, and nonsense: all 404.
    assert c.get(f"/public/org-a/reports/{reports['b'].pk}/{suffix}").status_code == 404
    assert c.get(f"/public/org-a/reports/{reports['a_draft'].pk}/{suffix}").status_code == 404
    assert c.get(f"/public/org-a/reports/not-an-id/{suffix}").status_code == 404
    assert c.get(f"/public/org-b/reports/{reports['b'].pk}/{suffix}").status_code == 200


def test_the_coordinator_of_b_sees_only_bs_reports_in_the_list(world, login, reports):
    body = login(world.coordinator_b).get("/o/org-b/public-reports/").content.decode()
    assert "Informe de Comunidad B" in body
    assert "Informe de Federación A" not in body
