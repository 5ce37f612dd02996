"""A coordinator signs in with password and TOTP in a real browser and reaches the
organisation home page; the page obeys the Content-Security-Policy."""

from __future__ import annotations

import pytest

from conftest import PASSWORD, totp_now

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_logs_a_coordinator_in_with_mfa_and_reaches_the_org_home(world, live_server, page):
    csp_violations: list[str] = []
    page.on(
        "console",
        lambda msg: (
            csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None
        ),
    )

    page.goto(f"{live_server.url}/o/org-a/")
    assert "/accounts/login/" in page.url

    page.fill("input[name=username]", world.coordinator.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")

    # A coordinator must finish the second step before any page.
    page.wait_for_url("**/accounts/mfa/verify/**")
    page.goto(f"{live_server.url}/o/org-a/people/")
    assert "/accounts/mfa/verify/" in page.url

    page.fill("input[name=token]", totp_now(world.coordinator.device))
    page.click("main button[type=submit]")
    page.wait_for_url("**/o/org-a/**")

    page.goto(f"{live_server.url}/o/org-a/")
    assert page.locator("[data-testid=org-home]").inner_text() == "Federación A"
    assert (
        page.get_by_role("link", name="Casas seguras").count()
        + page.get_by_role("link", name="Safe houses").count()
        == 1
    )
    # Styles come from the vendored Pico CSS: the page is styled, not bare HTML.
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "system-ui" in font or "sans-serif" in font
    assert csp_violations == []


def test_it_refuses_a_wrong_code(world, live_server, page):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", world.coordinator.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/accounts/mfa/verify/**")
    page.fill(
        "input[name=token]",
        "000000" if totp_now(world.coordinator.device) != "000000" else "111111",
    )
    page.click("main button[type=submit]")
    assert page.locator(".field-error").count() == 1
    page.goto(f"{live_server.url}/o/org-a/")
    assert "/accounts/mfa/verify/" in page.url
