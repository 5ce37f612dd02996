"""Shared helpers of the alerts tests: a fixed instant to raise alerts at, extra people
with contacts, and a way to drive the step clock by hand (no worker process)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from django.core import signing

from amparo.alerts import actions, clock
from amparo.alerts.models import (
    AckLink,
    Alert,
    AlertStep,
    EscalationPolicy,
    OutboxMessage,
    StepState,
)
from amparo.people import actions as people_actions
from amparo.people.models import Organisation, Person

# A Monday, 15:00 in Lima (UTC-5, no daylight saving): well outside anybody's quiet hours.
T0 = datetime(2025, 3, 10, 20, 0, tzinfo=UTC)
ACK_PATH = re.compile(r"/a/[^/\s]+/")


def policy_named(organisation: Organisation, prefix: str) -> EscalationPolicy:
    return EscalationPolicy.objects.get(organisation=organisation, name__startswith=prefix)


def life_safety_policy(organisation: Organisation) -> EscalationPolicy:
    """The default policy for high alerts that are not panic or duress."""
    return policy_named(organisation, "Vida en riesgo / Life at risk")


def add_person(organisation: Organisation, given: str, family: str = "", **fields: Any) -> Person:
    return people_actions.create_person(
        "test", organisation, given_names=given, family_names=family, **fields
    )


def coordinator_person(world: Any) -> Person:
    """A profile (with a phone, to acknowledge by SMS) for the coordinator of org A."""
    return add_person(
        world.org_a,
        "Julia",
        "Mamani Condori",
        user=world.coordinator.user,
        phone_numbers=["+51 984 700 100"],
        email="julia@a.example",
    )


def set_quiet_hours(person: Person, start: str, end: str, time_zone: str = "America/Lima") -> None:
    """Quiet hours are not among the fields people.actions writes; set them directly."""
    Person.objects.filter(pk=person.pk).update(
        quiet_hours_start=time.fromisoformat(start),
        quiet_hours_end=time.fromisoformat(end),
        time_zone=time_zone,
    )
    person.refresh_from_db()


def raise_high(world: Any, **kwargs: Any) -> Alert:
    fields: dict[str, Any] = {"kind": "threat", "severity": "high", "message": "Hombres armados"}
    fields.update(kwargs)
    return actions.raise_alert(world.coordinator.user, world.org_a, **fields)


def run_steps(worker: str = "test-clock") -> int:
    return clock.run_due_steps(worker, limit=1000)


def step_states(alert: Alert) -> dict[tuple[int, int], str]:
    return {
        (s.tier_position, s.repeat_index): s.state for s in AlertStep.objects.filter(alert=alert)
    }


def pending_steps(alert: Alert) -> int:
    return AlertStep.objects.filter(alert=alert, state=StepState.PENDING).count()


def after(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ack_path_for(alert: Alert, label: str) -> str:
    """The acknowledgement link in the first e-mail a recipient received."""
    messages = OutboxMessage.objects.filter(alert=alert, channel="email").order_by(
        "step__due_at", "step__tier_position", "step__repeat_index"
    )
    # The label is sealed: it cannot be filtered on in the database.
    message = next((m for m in messages if m.recipient_label == label), None)
    assert message is not None, label
    match = ACK_PATH.search(message.body)
    assert match, message.body
    return match.group(0)


def ack_link_of(path: str) -> AckLink:
    link_id = signing.loads(path.split("/")[2], salt=actions.ACK_SALT)
    return AckLink.objects.get(pk=link_id)


@pytest.fixture
def fast_hashing(settings: Any) -> None:
    """Argon2 costs half a second per password; the personas and every login hash one.
    What these tests check does not depend on the hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class _FormReader(HTMLParser):
    """What a browser submits for the page's own POST form (the first one without an
    action): inputs with their values, checked boxes, each select's selected (or first)
    option, textareas."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._in_form = False
        self._done = False
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        own = not a.get("action")
        if tag == "form" and a.get("method", "").lower() == "post" and own and not self._done:
            self._in_form = True
        if not self._in_form:
            return
        if tag == "input" and "name" in a:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button"):
                self.fields.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select":
            self._select, self._select_first, self._select_chosen = a.get("name"), None, None
        elif tag == "option" and self._select:
            if self._select_first is None:
                self._select_first = a.get("value", "")
            if "selected" in a:
                self._select_chosen = a.get("value", "")
        elif tag == "textarea":
            self._textarea, self._text = a.get("name"), ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if not self._in_form:
            return
        if tag == "select" and self._select:
            chosen = self._select_chosen if self._select_chosen is not None else self._select_first
            if chosen is not None:
                self.fields.append((self._select, chosen))
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.fields.append((self._textarea, self._text.lstrip("\n")))
            self._textarea = None
        elif tag == "form":
            self._in_form, self._done = False, True


def form_as_browser_sends(html: str) -> dict[str, list[str]]:
    reader = _FormReader()
    reader.feed(html)
    data: dict[str, list[str]] = {}
    for name, value in reader.fields:
        data.setdefault(name, []).append(value)
    return data
