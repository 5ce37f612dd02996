from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, driven by Playwright. A missing browser is a failure, not a skip:
    CI installs it, and a browser test that silently skips proves nothing."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="es-PE")
    page = context.new_page()
    yield page
    context.close()


# The demo world for the accessibility tests and the README's screenshots (issue 10,
# points 8 and 9): the demo organisations, people, directory, map layers and threat
# reports, plus what the main pages show on a working day: alerts on the board, a trip
# being prepared and a crisis under way.


@dataclass
class DemoSite:
    url: str
    slug: str
    coordinator: dict[str, Any]
    alert_id: str
    deployment_id: str
    crisis_id: str


def demo_totp(secret: str) -> str:
    from django_otp.oath import TOTP

    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{TOTP(key).token():06d}"


@pytest.fixture
def demo_site(live_server: Any, transactional_db: Any, settings: Any, tmp_path: Path) -> DemoSite:
    from datetime import timedelta

    from django.utils import timezone

    from amparo.alerts import actions as alerts
    from amparo.alerts.models import Alert
    from amparo.crisis import actions as crisis
    from amparo.demo import data
    from amparo.incidents import actions as incidents
    from amparo.people.models import Organisation, Person
    from amparo.travel import actions as travel

    settings.EVIDENCE_DIR = tmp_path / "evidence"
    built = data.build()
    slug = "federacion-mdd"
    org = Organisation.objects.get(slug=slug)
    coordinator = next(
        u for u in built["users"] if u["organisation"] == slug and u["email"].startswith("coord")
    )

    def person(local: str) -> Person:
        return Person.objects.get(organisation=org, user__email__startswith=f"{local}@")

    defender, monitor, lead = person("defensora"), person("monitor"), person("coordinadora")
    for occurred, place, community, lat, lon, words, activity in (
        (
            "2026-10-03T06:40:00-05:00",
            "Playa del río Malinowski, km 40 (demo)",
            "Comunidad nativa demo San Jacinto",
            -12.91,
            -69.98,
            "Si vuelven a medir el río, no regresan. (demo)",
            "illegal_mining",
        ),
        (
            "2026-10-19T21:15:00-05:00",
            "Trocha de acceso a Boca Colorado (demo)",
            "Centro poblado demo",
            -12.53,
            -70.45,
            "Los madereros dijeron que quemarían la caseta de vigilancia. (demo)",
            "illegal_logging",
        ),
        (
            "2026-11-12T10:00:00-05:00",
            "Puerto de Laberinto (demo)",
            "Comunidad nativa demo Tres Islas",
            -12.72,
            -69.59,
            "Nos siguieron en bote hasta la comunidad. (demo)",
            "illegal_mining",
        ),
    ):
        incidents.report_threat(
            monitor.user,
            org,
            {
                "occurred_at": occurred,
                "place": place,
                "region": "Madre de Dios",
                "community": community,
                "lat": lat,
                "lon": lon,
                "channel": "in_person",
                "verbatim": words,
                "physical_violence": False,
                "attempted_assault": False,
                "imminent_harm_signs": ["weapons_shown"],
                "source_illicit_activity": activity,
                "shows_knowledge_of_work": True,
                "source_known": False,
            },
            source="web",
            person=defender,
        )
    panic = alerts.raise_alert(
        defender.user,
        org,
        kind="panic",
        severity="high",
        message="Hombres armados en la puerta de la casa comunal (demo)",
        person=defender,
        location={"lat": -12.5933, "lon": -69.1891},
    )
    community = alerts.raise_alert(
        monitor.user,
        org,
        kind="community",
        severity="medium",
        message="Dragas nuevas frente a la comunidad; los vigilantes fueron amenazados (demo)",
        person=monitor,
    )
    alerts.acknowledge_alert(lead.user, community, via="web")
    case = crisis.open_crisis(
        lead.user,
        org,
        "attack",
        alert=panic,
        person=defender,
        title="Amenaza armada en la casa comunal (demo)",
        region="Madre de Dios",
    )
    today = timezone.localdate()
    trip = travel.create_deployment(
        lead.user,
        org,
        traveller=monitor,
        lead=lead,
        trip_type="me_supervision",
        starts_on=today + timedelta(days=12),
        returns_on=today + timedelta(days=19),
        purpose="Acompañar el monitoreo de la minería en el río Malinowski (demo)",
        destinations=[{"country": "PE", "region": "Madre de Dios", "places": "Iberia (demo)"}],
    )
    # Half-way through its preparation: insured, briefed, next of kin named.
    travel.save_next_of_kin(
        lead.user,
        trip,
        [
            {"name": "Rosa Sirena Yine (demo)", "relation": "madre", "phone": "+51 982 000 101"},
            {"name": "Julio Yine (demo)", "relation": "hermano", "phone": "+51 982 000 102"},
            {"name": "Ana Sirena (demo)", "relation": "pareja", "phone": "+51 982 000 103"},
        ],
    )
    travel.save_insurance(
        lead.user,
        trip,
        insurer="Seguro de viaje (demo)",
        policy_number="DEMO-2291",
        emergency_number="+51 1 700 0000",
        medical=True,
        evacuation=True,
        repatriation=True,
        valid_from=today,
        valid_to=today + timedelta(days=60),
        valid_orange_red=True,
    )
    briefed = today - timedelta(days=3)
    travel.save_preparation(
        lead.user,
        trip,
        health_check_on=briefed,
        first_aid_on=briefed,
        training_on=briefed,
        local_procedures_briefed_on=briefed,
    )
    # A working day, not one instant: the alerts were raised over the last days.
    now = timezone.now()
    Alert.objects.filter(pk=panic.pk).update(raised_at=now - timedelta(minutes=7))
    Alert.objects.filter(pk=community.pk).update(raised_at=now - timedelta(hours=2, minutes=40))
    earlier = Alert.objects.filter(organisation=org).exclude(pk__in=[panic.pk, community.pk])
    for days, alert in enumerate(earlier.order_by("raised_at"), start=1):
        Alert.objects.filter(pk=alert.pk).update(raised_at=now - timedelta(days=days, hours=days))
    return DemoSite(
        url=live_server.url,
        slug=slug,
        coordinator=coordinator,
        alert_id=str(panic.pk),
        deployment_id=str(trip.pk),
        crisis_id=str(case.pk),
    )


@pytest.fixture
def demo_sign_in() -> Any:
    """Sign the demo coordinator in through the login and two-step pages of a page."""

    def _sign_in(page: Any, site: DemoSite) -> None:
        page.goto(f"{site.url}/accounts/login/")
        page.fill("input[name=username]", site.coordinator["email"])
        page.fill("input[name=password]", site.coordinator["password"])
        page.click("main button[type=submit]")
        page.wait_for_url("**/accounts/mfa/verify/**")
        page.fill("input[name=token]", demo_totp(site.coordinator["totp_secret"]))
        page.click("main button[type=submit]")
        page.wait_for_url(f"**/o/{site.slug}/**")

    return _sign_in
