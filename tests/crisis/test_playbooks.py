"""The default playbooks, from the reference's "Crisis scenarios" and Strategy 6: each
one instantiated gives its tasks with due times at activation + offset, and versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import translation

from amparo.crisis import actions, playbooks
from amparo.crisis.models import CrisisKind, CrisisRole, Playbook

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

EXPECTED = {
    CrisisKind.KIDNAPPING: [
        (CrisisRole.LEAD, 15),
        (CrisisRole.LEAD, 30),
        (CrisisRole.COMMUNICATOR, 30),
        (CrisisRole.MEDIA, 30),
        (CrisisRole.FAMILY_LIAISON, 60),
        (CrisisRole.LEAD, 60),
        (CrisisRole.LEGAL, 240),
        (CrisisRole.LOGISTICS, 1440),
    ],
    CrisisKind.FRAUD: [
        (CrisisRole.LEAD, 15),
        (CrisisRole.COMMUNICATOR, 30),
        (CrisisRole.FAMILY_LIAISON, 60),
        (CrisisRole.LEAD, 240),
    ],
    CrisisKind.DETENTION: [
        (CrisisRole.LEAD, 15),
        (CrisisRole.LEGAL, 60),
        (CrisisRole.COMMUNICATOR, 60),
        (CrisisRole.FAMILY_LIAISON, 120),
        (CrisisRole.LEAD, 240),
        (CrisisRole.MEDIA, 1440),
    ],
    CrisisKind.ATTACK: [
        (CrisisRole.LEAD, 15),
        (CrisisRole.LEAD, 30),
        (CrisisRole.COMMUNICATOR, 60),
        (CrisisRole.LOGISTICS, 240),
        (CrisisRole.FAMILY_LIAISON, 240),
        (CrisisRole.LEGAL, 1440),
    ],
    CrisisKind.EVICTION: [
        (CrisisRole.LEAD, 15),
        (CrisisRole.LEGAL, 60),
        (CrisisRole.COMMUNICATOR, 60),
        (CrisisRole.LOGISTICS, 240),
        (CrisisRole.MEDIA, 1440),
    ],
    CrisisKind.DEATH_ABROAD: [
        (CrisisRole.LEAD, 15),
        (CrisisRole.LEAD, 30),
        (CrisisRole.FAMILY_LIAISON, 60),
        (CrisisRole.LOGISTICS, 60),
        (CrisisRole.LEGAL, 1440),
        (CrisisRole.LOGISTICS, 1440),
        (CrisisRole.LOGISTICS, 2880),
        (CrisisRole.FAMILY_LIAISON, 4320),
    ],
}


def test_every_kind_has_a_default_playbook():
    assert set(playbooks.BY_KIND) == set(CrisisKind.values)
    for spec in playbooks.DEFAULTS:
        for task in spec["tasks"]:
            assert task["title"]["es"] and task["title"]["en"]
            assert task["guidance"]["es"] and task["guidance"]["en"]
            for item in task["checklist"]:
                assert item["es"] and item["en"]


@pytest.mark.parametrize("kind", list(CrisisKind))
def test_it_instantiates_each_default_playbook_with_its_due_times(world, kind):
    with time_machine.travel(NOW, tick=False):
        case = actions.open_crisis(world.coordinator.user, world.org_a, kind)
    got = [(t.role, t.due_at) for t in case.tasks.order_by("position")]
    want = [(role, NOW + timedelta(minutes=m)) for role, m in EXPECTED[kind]]
    assert got == want
    assert all(t.assignee_id == world.coordinator.user.pk for t in case.tasks.all())
    assert case.media_blackout is (kind == CrisisKind.KIDNAPPING)
    assert case.playbook.version == 1


def test_it_creates_the_defaults_once_per_organisation(world):
    actions.create_default_playbooks(world.org_a)
    actions.create_default_playbooks(world.org_a)
    assert Playbook.objects.filter(organisation=world.org_a).count() == len(CrisisKind)
    assert not Playbook.objects.filter(organisation=world.org_b).exists()


def test_the_kidnapping_playbook_follows_the_reference(world):
    playbook = actions.current_playbook(world.org_a, CrisisKind.KIDNAPPING)
    with translation.override("en"):
        titles = [t.title_text for t in playbook.tasks.all()]
        panels = [p["title"] for p in playbook.panels_text()]
    assert "Colleagues on site: no rescue" in titles
    assert "Media blackout: no press or media" in titles
    assert "Contact the ministry's Global Emergency Centre (24/7)" in titles
    assert "Engage the K&R insurer's crisis response team" in titles
    assert panels == [
        "What the Ministry of Foreign Affairs and embassies can do",
        "What the ministry and embassies cannot do",
        "The NGO's responsibilities",
    ]
    with translation.override("es"):
        assert playbook.tasks.first().title_text.startswith("Colegas en el lugar")
    with translation.override("da"):  # no Danish text: English
        assert playbook.tasks.first().title_text == "Colleagues on site: no rescue"


def test_the_repatriation_playbook_tracks_the_documents(world):
    playbook = actions.current_playbook(world.org_a, CrisisKind.DEATH_ABROAD)
    with translation.override("en"):
        documents = next(
            t for t in playbook.tasks.all() if t.title_text == "Secure the official documents"
        ).checklist_text()
        transport = next(
            t for t in playbook.tasks.all() if t.title_text == "Choose the transport"
        ).checklist_text()
    assert documents == [
        "Local death certificate",
        "Consular death certificate (where required)",
        "Medical certificate of cause of death",
        "Embalming certificate (required for transport)",
        "Permit for export of remains (local authorities)",
        "Passport of the deceased (to be cancelled)",
    ]
    assert transport == [
        "Air transport as cargo",
        "Accompanied transport",
        "Cremation abroad, ashes repatriated",
    ]


def test_an_edit_is_a_new_version_and_running_cases_keep_theirs(world):
    user = world.coordinator.user
    old_case = actions.open_crisis(user, world.org_a, CrisisKind.EVICTION)
    v1 = old_case.playbook
    tasks = actions.playbook_spec(v1)["tasks"]
    tasks[0]["offset_minutes"] = 5
    tasks[0]["title"] = {"es": "Contar a las personas", "en": "Count the people"}
    v2 = actions.revise_playbook(user, v1, tasks=tasks)
    assert v2.version == 2
    assert actions.current_playbook(world.org_a, CrisisKind.EVICTION) == v2
    new_case = actions.open_crisis(user, world.org_a, CrisisKind.EVICTION)
    first = new_case.tasks.order_by("position").first()
    assert first.due_at == new_case.opened_at + timedelta(minutes=5)
    with translation.override("en"):
        assert first.template.title_text == "Count the people"
        old_first = old_case.tasks.order_by("position").first()
        assert old_first.template.title_text == "People first: gather at the safe meeting point"
    assert old_case.playbook.version == 1


def test_a_coordinator_edits_a_playbook_on_its_page(world, login):
    v1 = actions.current_playbook(world.org_a, CrisisKind.FRAUD)
    c = login(world.coordinator)
    page = c.get(f"/o/org-a/crisis/playbooks/{v1.pk}/")
    assert page.status_code == 200
    form = {"media_blackout": "on"}
    for task in v1.tasks.all():
        p = f"t{task.position}"
        form |= {
            f"{p}-role": task.role,
            f"{p}-offset_minutes": task.offset_minutes,
            f"{p}-title": task.title_text,
            f"{p}-guidance": task.guidance_text,
        }
    form["t0-title"] = "No pagar nada"
    form["t3-remove"] = "on"
    response = c.post(f"/o/org-a/crisis/playbooks/{v1.pk}/", form)
    v2 = actions.current_playbook(world.org_a, CrisisKind.FRAUD)
    assert response.status_code == 302
    assert v2.version == 2
    assert v2.media_blackout
    assert v2.tasks.count() == 3
    first = v2.tasks.first()
    assert first.title["es"] == "No pagar nada"
    assert first.title["en"] == "Do not pay or act on the demand"  # the other language kept
    assert v1.tasks.count() == 4  # the old version is untouched
