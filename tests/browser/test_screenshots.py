"""Issue 10, point 8: the README's pictures of the main pages, taken by the browser tests
so that they stay current. Every run takes them (into a scratch directory) and checks
them; ``AMPARO_SCREENSHOTS=1`` also copies them into docs/screenshots/, for a commit:

    AMPARO_SCREENSHOTS=1 .venv/bin/pytest tests/browser/test_screenshots.py

The data is the demo world (``make demo``) with a working day on top: alerts on the
board, a crisis under way, a trip being prepared (tests/browser/conftest.py). Each
picture is the visible window only, reduced to 256 colours, under 200 KB."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.browser.conftest import DemoSite

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
MAX_BYTES = 200 * 1024


def save(page: Any, path: Path, element: str | None = None) -> None:
    """The window as it is (or one element of it), as a small palette PNG."""
    if element:
        page.locator(element).screenshot(path=str(path))
    else:
        page.screenshot(path=str(path))
    with Image.open(path) as shot:
        small = shot.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def show(page: Any, selector: str = "main h1") -> None:
    """Scroll past the organisation's menu, to the page's own content."""
    page.evaluate(
        "(s) => window.scrollTo(0, document.querySelector(s).getBoundingClientRect().top"
        " + window.scrollY - 24)",
        selector,
    )


def test_the_readme_pictures_of_the_main_pages(
    demo_site: DemoSite, browser: Any, demo_sign_in: Any, tmp_path: Path
) -> None:
    site = demo_site
    o = f"{site.url}/o/{site.slug}"
    shots: list[Path] = []

    phone = browser.new_context(viewport=PHONE, locale="es-PE", device_scale_factor=1)
    page = phone.new_page()
    page.goto(f"{site.url}/report/{site.slug}/")
    page.wait_for_selector("[data-testid=report-form]")
    shots.append(tmp_path / "report-form-phone.png")
    save(page, shots[-1])
    phone.close()

    desktop = browser.new_context(viewport=DESKTOP, locale="es-PE", device_scale_factor=1)
    page = desktop.new_page()
    demo_sign_in(page, site)

    page.goto(f"{o}/alerts/")  # the top of the page: the menu, then the board
    page.wait_for_selector("table")
    shots.append(tmp_path / "alert-board.png")
    save(page, shots[-1])

    page.goto(f"{o}/map/")
    page.wait_for_selector("#map.countries-loaded.hotspots-loaded.incidents-loaded")
    # The gold-mining detections too: the pressure the defenders live under.
    page.locator(".leaflet-control-layers label").nth(1).locator("input").check()
    page.wait_for_timeout(1500)
    page.evaluate("document.activeElement.blur()")
    shots.append(tmp_path / "map.png")
    save(page, shots[-1], element="#map")

    page.goto(f"{o}/indicators/")
    show(page)
    shots.append(tmp_path / "dashboard.png")
    save(page, shots[-1])

    page.goto(f"{o}/deployments/{site.deployment_id}/")
    show(page, "h2:has(+ [data-testid=gates])")
    shots.append(tmp_path / "deployment-checklist.png")
    save(page, shots[-1])
    desktop.close()

    for shot in shots:
        with Image.open(shot) as image:
            assert image.format == "PNG"
            # The window, never the whole page.
            assert image.size[0] <= DESKTOP["width"] and image.size[1] <= DESKTOP["height"]
        assert shot.stat().st_size < MAX_BYTES, (shot.name, shot.stat().st_size)

    if os.environ.get("AMPARO_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        for shot in shots:
            shutil.copyfile(shot, DOCS / shot.name)
