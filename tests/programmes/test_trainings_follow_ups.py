"""Trainings (issue 8, point 4): a workshop of a Strategy 1 line of action, minimised
participants with pre- and post-workshop scores, and SMS follow-ups queued in the
outbox once per follow-up and participant (reference, Strategy 1, line 1, "Post-training
follow-up ... using phone calls or SMS")."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from amparo.alerts.models import OutboxMessage
from amparo.programmes import trainings
from amparo.programmes.models import TrainingLine, WorkshopFollowUp

pytestmark = pytest.mark.django_db

FACILITATOR = "Facilitadora Training-Secreta"
NAME = "Participante Nombre-Sellado"
PHONE = "+51 982 444 5555"


def make_workshop(world, **overrides):
    fields = {
        "line": TrainingLine.RIGHTS_AND_REPORTING,
        "topic": "Cómo denunciar amenazas",
        "held_on": timezone.localdate() - timedelta(days=3),
        "duration_hours": "7",
        "language": "Shipibo-Konibo",
        "community": "Tres Islas",
        "facilitator": FACILITATOR,
    }
    fields.update(overrides)
    return trainings.record_workshop(world.coordinator.user, world.org_a, **fields)


def participant(workshop, world, **overrides):
    fields = {
        "gender": "woman",
        "age_band": "18_29",
        "indigenous": "yes",
        "role": "community_member",
        "pre_score": 40,
        "post_score": 75,
    }
    fields.update(overrides)
    return trainings.add_participant(world.coordinator.user, workshop, **fields)


def test_the_nine_lines_of_strategy_1_are_the_choices():
    assert len(TrainingLine.values) == 9
    assert TrainingLine.values == [f"s1_l{n}" for n in range(1, 10)]


def test_a_participant_needs_no_name(world):
    workshop = make_workshop(world)
    p = participant(workshop, world)
    assert p.name == ""
    assert p.phone == ""


def test_no_consent_no_phone_kept(world):
    workshop = make_workshop(world)
    p = participant(workshop, world, phone=PHONE, follow_up_consent=False)
    p.refresh_from_db()
    assert p.phone == ""
    with pytest.raises(ValidationError):
        participant(workshop, world, follow_up_consent=True)


def test_it_queues_one_sms_per_consenting_participant_once(world):
    workshop = make_workshop(world)
    reached = [
        participant(workshop, world, phone=PHONE, follow_up_consent=True, name=NAME),
        participant(workshop, world, phone="+51 982 000 111", follow_up_consent=True),
    ]
    participant(workshop, world)  # no consent: not reached
    key = uuid.uuid4()
    first = trainings.send_follow_up(
        world.coordinator.user, workshop, message="¿Pudo presentar la denuncia?", request_key=key
    )
    again = trainings.send_follow_up(
        world.coordinator.user, workshop, message="¿Pudo presentar la denuncia?", request_key=key
    )
    assert again.pk == first.pk
    assert WorkshopFollowUp.objects.count() == 1
    messages = OutboxMessage.objects.filter(idempotency_key__startswith="workshop-follow-up:")
    assert messages.count() == 2
    assert sorted(m.address for m in messages) == sorted(p.phone for p in reached)
    assert {m.channel for m in messages} == {"sms"}
    assert {m.idempotency_key for m in messages} == {
        trainings.follow_up_key(first, p) for p in reached
    }
    # Queuing the same follow-up again writes nothing.
    assert trainings.queue_follow_up(first) == 0
    assert messages.count() == 2


def test_a_second_follow_up_is_a_second_message(world):
    workshop = make_workshop(world)
    participant(workshop, world, phone=PHONE, follow_up_consent=True)
    for _ in range(2):
        trainings.send_follow_up(
            world.coordinator.user, workshop, message="Recordatorio", request_key=uuid.uuid4()
        )
    assert OutboxMessage.objects.count() == 2


def test_the_follow_up_form_posted_twice_queues_once(world, login):
    workshop = make_workshop(world)
    participant(workshop, world, phone=PHONE, follow_up_consent=True)
    c = login(world.coordinator)
    url = f"/o/org-a/trainings/{workshop.pk}/follow-ups/"
    form = {"message": "¿Cómo va la denuncia?", "request_key": str(uuid.uuid4())}
    assert c.post(url, form).status_code == 302
    assert c.post(url, form).status_code == 302
    assert OutboxMessage.objects.count() == 1


def test_it_validates_the_workshop(world):
    with pytest.raises(ValidationError) as exc:
        make_workshop(
            world,
            line="s1_l10",
            duration_hours="0",
            held_on=timezone.localdate() + timedelta(days=2),
            facilitator="",
        )
    assert set(exc.value.message_dict) == {"line", "duration_hours", "held_on", "facilitator"}


def test_the_workshop_page_shows_counts_not_names(world, login):
    workshop = make_workshop(world)
    participant(workshop, world, name=NAME)
    c = login(world.coordinator)
    body = c.get(f"/o/org-a/trainings/{workshop.pk}/").content.decode()
    assert "Woman" in body or "Mujer" in body
    assert NAME not in body


def test_scores_are_recorded_from_the_page(world, login):
    workshop = make_workshop(world)
    p = participant(workshop, world, pre_score=None, post_score=None)
    c = login(world.coordinator)
    prefix = str(p.pk)
    response = c.post(
        f"/o/org-a/trainings/{workshop.pk}/participants/{p.pk}/",
        {f"{prefix}-pre_score": "30", f"{prefix}-post_score": "90"},
    )
    assert response.status_code == 302
    p.refresh_from_db()
    assert (p.pre_score, p.post_score) == (30, 90)
