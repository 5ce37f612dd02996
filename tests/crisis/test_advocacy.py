"""The emergency alert to international bodies (Strategy 6, line 6): the redaction
preview is exactly what is queued; names, contacts and exact places stay out unless
included; the media blackout blocks it for kidnapping, and the crisis lead's override is
audited."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from amparo.alerts.models import OutboxMessage
from amparo.core.models import AuditEntry
from amparo.crisis import actions, advocacy
from amparo.crisis.models import AdvocacyState, CrisisKind
from amparo.people.models import Role
from conftest import make_persona

APPEAL = (
    "Rosa Huamán (rosa@correo.example, +51 982 111 222) fue secuestrada en la trocha km 12 "
    "de Boca Colorado, en -12.5936, -69.1891. Su madre Julia Huaman pide ayuda. Llamen a "
    "ROSA al 982111222."
)
SECRETS = [
    "Rosa",
    "ROSA",
    "Huamán",
    "Huaman",
    "rosa@correo.example",
    "982 111 222",
    "982111222",
    "Boca Colorado",
    "trocha km 12",
    "-12.5936",
    "-69.1891",
    "Julia",
]


@pytest.fixture
def attack(world):
    from datetime import date

    from amparo.travel import actions as travel_actions

    d = travel_actions.create_deployment(
        world.coordinator.user,
        world.org_a,
        traveller=world.defender_person,
        trip_type="pri",
        starts_on=date(2025, 3, 1),
        returns_on=date(2025, 3, 20),
    )
    travel_actions.save_next_of_kin(
        world.coordinator.user, d, [{"name": "Julia Huamán", "relation": "madre"}]
    )
    return actions.open_crisis(
        world.coordinator.user,
        world.org_a,
        CrisisKind.ATTACK,
        deployment=d,
        region="Madre de Dios",
        exact_place="trocha km 12, Boca Colorado",
    )


def test_the_preview_withholds_names_contacts_and_places(world, attack):
    body = advocacy.compose(attack, appeal=APPEAL, include=[], sender_email="c@a.example")
    for secret in SECRETS + ["c@a.example"]:
        assert secret not in body, secret
    assert "Madre de Dios" in body  # the region is coarse enough
    assert "[withheld]" in body
    assert "name withheld" in body


def test_what_is_included_is_what_was_chosen(world, attack):
    body = advocacy.compose(
        attack, appeal=APPEAL, include=[advocacy.NAME], sender_email="c@a.example"
    )
    assert "Person concerned: Rosa Huamán" in body
    assert "rosa@correo.example" not in body
    assert "Boca Colorado" not in body
    body = advocacy.compose(
        attack,
        appeal=APPEAL,
        include=[advocacy.PLACE, advocacy.CONTACT],
        sender_email="c@a.example",
    )
    assert "Exact place: trocha km 12, Boca Colorado" in body
    assert "Contact: c@a.example" in body
    assert "Huamán" not in body


def test_the_queued_messages_are_exactly_the_preview(world, login, attack, partners):
    c = login(world.coordinator)
    url = f"/o/org-a/crisis/{attack.pk}/advocacy/"
    form = {
        "appeal": APPEAL,
        "language": "en",
        "recipients": [str(p.pk) for p in partners],
    }
    page = c.post(url, {**form, "do": "preview"}).content.decode()
    import html as html_lib
    import re

    shown = html_lib.unescape(
        re.search(r'<pre data-testid="advocacy-preview">(.*?)</pre>', page, re.S).group(1)
    )
    assert c.post(url, {**form, "do": "send"}).status_code == 302
    queued = list(OutboxMessage.objects.filter(organisation=world.org_a, alert=None))
    assert len(queued) == 2
    assert {m.body for m in queued} == {shown}
    assert {m.address for m in queued} == {"urgent@fld.example", "+51 1 555 0100"}
    for secret in SECRETS:
        assert secret not in shown


def test_the_blackout_blocks_the_alert_for_kidnapping(world, case, partners):
    row = actions.send_advocacy_alert(
        world.coordinator.user,
        case,
        appeal="Urgente",
        recipient_ids=[p.pk for p in partners],
    )
    assert row.state == AdvocacyState.BLOCKED
    assert not OutboxMessage.objects.filter(alert=None).exists()
    assert AuditEntry.objects.filter(action="crisis.advocacy_blocked").exists()


def test_only_the_crisis_lead_may_override(world, case, partners):
    other = make_persona(world.org_a, Role.COORDINATOR, "coordinator2@a.example")
    with pytest.raises(ValidationError):
        actions.send_advocacy_alert(
            other.user,
            case,
            appeal="Urgente",
            recipient_ids=[p.pk for p in partners],
            override_reason="La familia lo pide",
        )
    assert not OutboxMessage.objects.filter(alert=None).exists()


def test_the_leads_override_sends_and_is_audited(world, case, partners):
    reason = "La aseguradora y la familia piden presión diplomática"
    row = actions.send_advocacy_alert(
        world.coordinator.user,
        case,
        appeal="Urgente",
        recipient_ids=[p.pk for p in partners],
        override_reason=reason,
    )
    assert row.state == AdvocacyState.SENT
    assert row.override_reason == reason
    assert OutboxMessage.objects.filter(alert=None).count() == 2
    audit = AuditEntry.objects.get(action="crisis.blackout_override")
    assert audit.actor == f"user:{world.coordinator.user.pk}"
    assert audit.object_id == str(row.pk)
    assert reason not in str(audit.details)  # the reason is sealed, on the row and timeline
    override = case.timeline.get(kind="override")
    assert reason in override.text


def test_the_blocked_page_says_so(world, login, case, partners):
    c = login(world.coordinator)
    url = f"/o/org-a/crisis/{case.pk}/advocacy/"
    assert 'data-testid="advocacy-blocked"' in c.get(url).content.decode()
    response = c.post(
        url,
        {"appeal": "Urgente", "language": "en", "recipients": [str(partners[0].pk)], "do": "send"},
    )
    assert response.status_code == 200
    assert not OutboxMessage.objects.filter(alert=None).exists()
