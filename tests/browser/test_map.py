"""The map page in a real browser (issue 7, point 3): with no tile server configured it
draws the country outlines shipped with Amparo and the hotspots layer, loads Leaflet from
/static/, asks no other origin for anything, and breaks no Content-Security-Policy rule."""

from __future__ import annotations

import pytest

from tests.browser.test_threat_report import csp_watch, sign_in
from tests.monitoring.test_hotspots import SQUARE, add
from tests.monitoring.test_map import make_incident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_map_draws_offline_with_outlines_and_hotspots(world, live_server, page):
    add(world, geometry=SQUARE)
    make_incident(world.org_a, -12.5934, -69.1891)
    violations = csp_watch(page)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    sign_in(page, live_server, world.focal_point)
    page.goto(f"{live_server.url}/o/org-a/map/")
    page.wait_for_selector("#map.countries-loaded.hotspots-loaded.incidents-loaded")
    assert page.locator("#map .leaflet-overlay-pane path").count() >= 3 + 1 + 1
    assert page.locator("#map .leaflet-tile").count() == 0
    assert "Amazon Mining Watch" in page.inner_text("#map .leaflet-control-attribution")
    assert all(url.startswith(live_server.url) for url in requests), requests
    assert any(url.endswith("/static/vendor/leaflet/leaflet.js") for url in requests)
    assert violations == []
