"""Issue 10, point 9: the main pages pass axe-core with no serious or critical violation,
on a phone in the light and the dark colour scheme and on a desktop; the anonymous threat
report and the sign-in work with the keyboard alone, with the focus visible at every step;
every page has its landmarks (header, navigation, main).

axe-core is vendored in tests/browser/vendor (a test tool, never served). The pages'
Content-Security-Policy allows scripts from the site only, so the browser context that
injects axe bypasses it; tests/browser/test_threat_report.py checks the policy itself.
Moderate and minor findings, and what axe could not decide ("incomplete"), are printed,
not failed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import DemoSite, demo_totp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
BLOCKING = {"serious", "critical"}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def anonymous_pages(site: DemoSite) -> list[str]:
    return ["/", "/accounts/login/", f"/report/{site.slug}/", "/report/status/"]


def staff_pages(site: DemoSite) -> list[str]:
    o = f"/o/{site.slug}"
    return [
        f"{o}/",
        f"{o}/threats/new/",  # the report form, signed in
        f"{o}/threats/",
        f"{o}/alerts/",
        f"{o}/alerts/{site.alert_id}/",
        f"{o}/map/",
        f"{o}/indicators/",  # the dashboard
        f"{o}/deployments/",
        f"{o}/deployments/{site.deployment_id}/",  # the deployment checklist
        f"{o}/crisis/{site.crisis_id}/",
    ]


def run_axe(page: Any) -> dict[str, Any]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations', 'incomplete']});
            const brief = (v) => ({id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map((n) => n.target.join(' ')).slice(0, 5),
                count: v.nodes.length});
            return {violations: r.violations.map(brief), incomplete: r.incomplete.map(brief)};
        }"""
    )


def landmarks(page: Any) -> dict[str, int]:
    return page.evaluate(
        """() => ({
            main: document.querySelectorAll('main').length,
            header: document.querySelectorAll('body > header').length,
            nav: document.querySelectorAll('nav').length,
        })"""
    )


def check(page: Any, path: str, found: list[str]) -> None:
    """axe on the page as it is; the serious and critical findings go to ``found``."""
    result = run_axe(page)
    for violation in result["violations"]:
        line = (
            f"{path}: {violation['impact']} {violation['id']} ({violation['help']}) "
            f"x{violation['count']}: {violation['targets']}"
        )
        if violation["impact"] in BLOCKING:
            found.append(line)
        else:
            print("axe:", line)
    for item in result["incomplete"]:
        print(f"axe, to review by hand: {path}: {item['impact']} {item['id']} x{item['count']}")
    marks = landmarks(page)
    if marks["main"] != 1 or marks["header"] != 1 or marks["nav"] < 1:
        found.append(f"{path}: landmarks {marks}")


def load(page: Any, site: DemoSite, path: str) -> None:
    page.goto(site.url + path)
    if path.endswith("/map/"):
        page.wait_for_selector("#map.countries-loaded.hotspots-loaded.incidents-loaded")


@pytest.mark.parametrize(
    ("viewport", "scheme"),
    [(PHONE, "light"), (PHONE, "dark"), (DESKTOP, "light")],
    ids=["phone-light", "phone-dark", "desktop-light"],
)
def test_the_main_pages_have_no_serious_or_critical_axe_violation(
    demo_site: DemoSite, browser: Any, viewport: dict[str, int], scheme: str
) -> None:
    site = demo_site
    context = browser.new_context(
        viewport=viewport, locale="es-PE", color_scheme=scheme, bypass_csp=True
    )
    page = context.new_page()
    found: list[str] = []
    for path in anonymous_pages(site):
        load(page, site, path)
        check(page, path, found)

    # Signing in, with the two-step page checked on the way.
    page.goto(f"{site.url}/accounts/login/")
    page.fill("input[name=username]", site.coordinator["email"])
    page.fill("input[name=password]", site.coordinator["password"])
    page.click("main button[type=submit]")
    page.wait_for_url("**/accounts/mfa/verify/**")
    check(page, "/accounts/mfa/verify/", found)
    page.fill("input[name=token]", demo_totp(site.coordinator["totp_secret"]))
    page.click("main button[type=submit]")
    page.wait_for_url(f"**/o/{site.slug}/**")

    for path in staff_pages(site):
        load(page, site, path)
        check(page, path, found)
    context.close()
    assert not found, "\n".join(found)


# Keyboard only: no click, no fill; Tab, Shift+Tab, Space, Enter, the arrow keys and typing.

FOCUS_VISIBLE = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const s = getComputedStyle(el);
    const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
    const shadow = s.boxShadow && s.boxShadow !== 'none';
    return {
        tag: el.tagName.toLowerCase(), name: el.name || '', type: el.type || '',
        value: el.value || '', text: (el.innerText || '').trim().slice(0, 40),
        checked: !!el.checked, visible: outline || shadow,
        matchesFocusVisible: el.matches(':focus-visible'),
    };
}"""


class Keyboard:
    def __init__(self, page: Any) -> None:
        self.page = page
        self.unseen: list[dict[str, Any]] = []

    def focused(self) -> dict[str, Any] | None:
        return self.page.evaluate(FOCUS_VISIBLE)

    def seen(self, focused: dict[str, Any]) -> None:
        # A date or time field's focus is on the part being typed (day, month, hour),
        # which the browser highlights inside the field.
        inside = focused["type"] in ("date", "time", "month", "datetime-local")
        if not inside and not (focused["visible"] and focused["matchesFocusVisible"]):
            self.unseen.append(focused)

    def tab(self) -> dict[str, Any]:
        self.page.keyboard.press("Tab")
        focused = self.focused()
        assert focused is not None, "Tab left the page"
        self.seen(focused)
        return focused

    def tab_to(self, tag: str, name: str = "", value: str | None = None) -> dict[str, Any]:
        """Tab until the control has the focus (it may have it already: autofocus)."""
        focused = self.focused()
        for _ in range(120):
            if focused and focused["tag"] == tag and focused["name"] == name:
                if value is None or focused["value"] == value:
                    self.seen(focused)
                    return focused
            focused = self.tab()
        raise AssertionError(f"Tab never reached {tag} {name} {value}")

    def choose(self, name: str, value: str) -> None:
        """A radio group: Tab into it, then the arrows move the choice."""
        focused = self.tab_to("input", name)
        for _ in range(8):
            if focused["value"] == value and focused["checked"]:
                return
            if focused["value"] == value:
                self.page.keyboard.press("Space")
            else:
                self.page.keyboard.press("ArrowDown")
            focused = self.focused()
            assert focused is not None
        raise AssertionError(f"could not choose {name}={value}")

    def type_into(self, tag: str, name: str, text: str) -> None:
        self.tab_to(tag, name)
        self.page.keyboard.type(text)


def test_a_threat_is_reported_anonymously_with_the_keyboard_alone(
    demo_site: DemoSite, browser: Any
) -> None:
    site = demo_site
    context = browser.new_context(viewport=PHONE, locale="es-PE")
    page = context.new_page()
    page.goto(f"{site.url}/report/{site.slug}/")
    keys = Keyboard(page)

    # The first Tab offers to skip the header; Enter lands in the form's page content.
    first = keys.tab()
    assert first["tag"] == "a" and "#main" in page.evaluate(
        "document.activeElement.getAttribute('href')"
    )
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.tagName") == "MAIN"

    keys.choose("physical_violence", "no")
    keys.choose("attempted_assault", "no")
    keys.tab_to("input", "imminent_harm_signs", "none")
    page.keyboard.press("Space")
    keys.choose("source_illicit_activity", "illegal_mining")
    keys.choose("shows_knowledge_of_work", "yes")
    keys.choose("source_known", "unknown")
    keys.type_into("input", "place", "Trocha a Boca Colorado, km 12")
    keys.tab_to("select", "channel")
    for _ in range(12):
        if page.evaluate("document.activeElement.value") == "in_person":
            break
        page.keyboard.press("ArrowDown")
    keys.type_into("textarea", "verbatim", "Sabemos dónde trabajas. Deja a los mineros en paz.")
    button = keys.tab_to("button", "")
    while "Enviar" not in button["text"]:
        keys.tab()
        button = keys.tab_to("button", "")
    page.keyboard.press("Enter")

    page.wait_for_selector("[data-testid=receipt]")
    assert len(page.inner_text("[data-testid=receipt]").strip()) == 14
    assert page.inner_text("[data-testid=explanation]").startswith("Media")
    assert keys.unseen == [], f"focus not visible on {keys.unseen}"
    context.close()


def test_staff_sign_in_with_the_keyboard_alone(demo_site: DemoSite, browser: Any) -> None:
    site = demo_site
    context = browser.new_context(viewport=PHONE, locale="es-PE")
    page = context.new_page()
    page.goto(f"{site.url}/accounts/login/")
    keys = Keyboard(page)

    keys.type_into("input", "username", site.coordinator["email"])
    keys.type_into("input", "password", site.coordinator["password"])
    keys.tab_to("button", "")  # the form's button, focused before it is pressed
    page.keyboard.press("Enter")
    page.wait_for_url("**/accounts/mfa/verify/**")

    keys.type_into("input", "token", demo_totp(site.coordinator["totp_secret"]))
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/o/{site.slug}/**")

    # Signed in, the skip link passes the organisation's menu of some twenty links.
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.tagName") == "MAIN"
    assert keys.unseen == [], f"focus not visible on {keys.unseen}"
    context.close()
