"""Issue 4 end to end in a real browser, on a phone-sized screen: an anonymous defender
reports a medium threat (the source is linked to illegal mining and knows her work) with
a photo and gets a receipt; the coordinator signs in, finds the case, ticks a checklist
item and downloads the dossier, whose text holds the receipt and the photo's SHA-256.
Also: the same form works with JavaScript turned off."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from conftest import PASSWORD, totp_now
from tests.incidents.pdftext import pdf_text
from tests.incidents.test_pages import jpeg_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def evidence_store(settings, tmp_path: Path) -> Path:
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    return settings.EVIDENCE_DIR


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "amenaza.jpg"
    path.write_bytes(jpeg_bytes(side=96))
    return path


def fill_medium_threat(page, photo: Path | None) -> None:
    """Step 1 as the defender answers it, and the record."""
    for name, value in (
        ("physical_violence", "no"),
        ("attempted_assault", "no"),
        ("source_illicit_activity", "illegal_mining"),
        ("shows_knowledge_of_work", "yes"),
        ("source_known", "unknown"),
    ):
        page.check(f"input[name={name}][value={value}]")
    page.check("input[name=imminent_harm_signs][value=none]")
    page.fill("input[name=occurred_date]", "2025-03-01")
    page.fill("input[name=occurred_time]", "18:30")
    page.fill("input[name=place]", "Trocha a Boca Colorado, km 12")
    page.select_option("select[name=channel]", "in_person")
    page.fill("textarea[name=perpetrator_description]", "Dos hombres en moto")
    page.fill("textarea[name=verbatim]", "Sabemos dónde trabajas. Deja a los mineros en paz.")
    if photo is not None:
        page.set_input_files("input[name=evidence]", str(photo))


def csp_watch(page) -> list[str]:
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return violations


def sign_in(page, live_server, persona) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", persona.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/accounts/mfa/verify/**")
    page.fill("input[name=token]", totp_now(persona.device))
    page.click("main button[type=submit]")
    page.wait_for_url("**/o/org-a/**")


def test_an_anonymous_report_reaches_the_coordinator_and_the_dossier(
    world, live_server, browser, photo
):
    defender = browser.new_context(viewport=PHONE, locale="es-PE")
    page = defender.new_page()
    violations = csp_watch(page)
    page.goto(f"{live_server.url}/report/org-a/")
    assert "Federación A" in page.inner_text("main")
    # Mobile first: nothing wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The script shows the location button; the fields stay typeable.
    assert page.is_visible("#use-location")
    fill_medium_threat(page, photo)
    page.click("[data-testid=send-report]")
    page.wait_for_selector("[data-testid=receipt]")
    receipt = page.inner_text("[data-testid=receipt]").strip()
    assert len(receipt) == 14
    assert page.inner_text("[data-testid=explanation]").startswith("Media")
    assert page.locator("[data-testid=refused-files]").count() == 0
    assert violations == []
    defender.close()

    coordinator = browser.new_context(viewport=PHONE, locale="es-PE", accept_downloads=True)
    page = coordinator.new_page()
    sign_in(page, live_server, world.coordinator)
    page.goto(f"{live_server.url}/o/org-a/threats/")
    assert receipt in page.inner_text("[data-testid=threat-list]")
    page.click(f"text={receipt}")
    page.wait_for_selector("[data-testid=checklist]")
    sha256 = hashlib.sha256(photo.read_bytes()).hexdigest()
    assert sha256 in page.inner_text("[data-testid=evidence]")

    item = page.locator("li[data-code=step1_evaluate_relocation]")
    item.locator("select[name=status]").select_option("done")
    item.locator("textarea[name=notes]").fill("Se queda en la comunidad por ahora")
    item.locator("[data-testid=save-item]").click()
    page.wait_for_selector("li[data-code=step1_evaluate_relocation][data-status=done]")
    assert "1 " in page.inner_text("[data-testid=checklist-progress]")

    with page.expect_download() as download:
        page.click("[data-testid=dossier-link]")
    data = Path(download.value.path()).read_bytes()
    text = pdf_text(data)
    flat = "".join(text.split())  # a long hash may wrap across lines in the PDF
    assert receipt in flat
    assert sha256 in flat
    coordinator.close()


def test_the_report_form_works_with_javascript_off(world, live_server, browser, photo):
    context = browser.new_context(viewport=PHONE, locale="es-PE", java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/report/org-a/")
    assert not page.is_visible("#use-location")
    fill_medium_threat(page, photo)
    page.fill("input[name=lat]", "-12.59")
    page.fill("input[name=lon]", "-69.18")
    page.click("[data-testid=send-report]")
    page.wait_for_selector("[data-testid=receipt]")
    receipt = page.inner_text("[data-testid=receipt]").strip()

    page.goto(f"{live_server.url}/report/status/")
    page.fill("input[name=code]", receipt.lower())
    page.click("main button[type=submit]")
    status = page.inner_text("[data-testid=receipt-status]")
    assert receipt in status
    assert "Sabemos" not in page.content()
    context.close()
