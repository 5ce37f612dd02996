"""Delivery through real loopback channels (issue 3, "Must be shown by tests"): a local SMTP
server and local JSON webhooks receive what the outbox sends through Apprise; a webhook
that answers 500 is retried with backoff while the e-mail of the same step is delivered and
the next tier runs on time; a hanging webhook is given up within the timeouts and retried;
a message with no channel fails at once, for good.

The clock (``run_due_steps``), the claim (``claim_messages``) and the sender
(``send_message``) are driven directly, one pass at a time, as the worker's loops call them;
time is moved with time_machine, never slept.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client, override_settings

from amparo.alerts import actions as alert_actions
from amparo.alerts import delivery
from amparo.alerts.clock import (
    BACKOFF,
    LEASE_SECONDS,
    MAX_ATTEMPTS,
    claim_messages,
    run_due_steps,
    send_message,
)
from amparo.alerts.models import (
    Alert,
    AlertState,
    AlertStep,
    Channel,
    DeliveryChannel,
    EscalationPolicy,
    OutboxMessage,
    OutboxState,
    StepState,
)
from amparo.people import actions as people
from amparo.people.models import Organisation, Person, Role
from tests.alerts.loopback import SilentServer, SMTPSink, WebhookReceiver

T0 = datetime(2031, 3, 4, 15, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
TICK = timedelta(microseconds=1)
ACK_LINK = re.compile(r"https?://\S+/a/[^/\s]+/")


@dataclass
class Setup:
    org: Organisation
    ana: Person  # the security coordinator, reads Spanish
    john: Person  # a regional contact, reads English


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def setup(db: Any, clock: Any) -> Setup:
    org = people.create_organisation(
        "test",
        name="Federación Nativa del Río",
        slug="fenario",
        kind="indigenous_federation",
        country="PE",
        region="Madre de Dios",
    )
    user = people.create_user("test", email="ana.login@fenario.example", password=None)
    people.add_membership("test", org, user, Role.COORDINATOR)
    ana = people.create_person(
        "test",
        org,
        given_names="Ana",
        family_names="Quispe",
        user=user,
        phone_numbers=["+51982000001"],
        email="ana@fenario.example",
        preferred_language="es",
    )
    john = people.create_person(
        "test",
        org,
        given_names="John",
        family_names="Smith",
        phone_numbers=["+447700900123"],
        email="john@network.example",
        preferred_language="en",
    )
    return Setup(org, ana, john)


def tier(
    level: str,
    targets: list[dict[str, str]],
    channels: list[str],
    delay: int = 0,
    repeats: int = 0,
    interval: int = 1,
) -> dict[str, Any]:
    return {
        "level": level,
        "targets": targets,
        "channels": channels,
        "delay_minutes": delay,
        "repeat_count": repeats,
        "repeat_interval_minutes": interval,
    }


def coordinators() -> dict[str, str]:
    return {"type": "role", "role": Role.COORDINATOR}


def person(p: Person) -> dict[str, str]:
    return {"type": "person", "id": str(p.pk)}


def raise_with(setup: Setup, *tiers: dict[str, Any]) -> Alert:
    policy: EscalationPolicy = alert_actions.save_policy(
        "test",
        setup.org,
        policy=None,
        name="Loopback",
        description="",
        kinds=[],
        severities=[],
        priority=1,
        tiers=list(tiers),
    )
    return alert_actions.raise_alert(
        "test",
        setup.org,
        kind="threat",
        severity="high",
        message="Hombres armados en el camino a la comunidad",
        policy=policy,
    )


def channel(setup: Setup, name: str, url: str, enabled: bool = True) -> DeliveryChannel:
    return DeliveryChannel.objects.create(
        organisation=setup.org, channel=name, url=url, enabled=enabled
    )


def send_pass(worker: str = "test") -> list[tuple[OutboxMessage, bool]]:
    """One pass of the outbox loop: claim what is ready and send each."""
    return [(m, send_message(m)) for m in claim_messages(worker)]


def message_of(alert: Alert, channel_name: str, **filters: Any) -> OutboxMessage:
    return OutboxMessage.objects.get(alert=alert, channel=channel_name, **filters)


# E-mail through a real SMTP server


def test_it_delivers_a_step_by_email_in_each_recipients_language(
    setup: Setup, clock: Any, client: Client
) -> None:
    with SMTPSink() as smtp:
        channel(setup, Channel.EMAIL, smtp.url())
        alert = raise_with(
            setup,
            tier("local", [coordinators(), person(setup.john)], [Channel.EMAIL]),
            tier("regional", [person(setup.john)], [Channel.EMAIL], delay=5),
        )
        assert run_due_steps("test") == 1
        sent = send_pass()
        assert [ok for _m, ok in sent] == [True, True]
        received = smtp.wait_for(2)

    assert len(received) == 2
    by_recipient = {tuple(mail.rcpt_tos): mail for mail in received}
    assert set(by_recipient) == {("ana@fenario.example",), ("john@network.example",)}
    ana_mail = by_recipient[("ana@fenario.example",)]
    john_mail = by_recipient[("john@network.example",)]
    for mail in received:
        assert mail.mail_from == "amparo@example.org"
        assert alert.code in mail.subject
        assert f"OK {alert.code}" in mail.text
        assert "Federación Nativa del Río" in mail.text
        assert "Hombres armados en el camino a la comunidad" in mail.text
    # Each in the recipient's own language: subject and body.
    assert ana_mail.subject == f"Amparo Alta: {alert.code}"
    assert f"Responda OK {alert.code}" in ana_mail.text
    assert john_mail.subject == f"Amparo High: {alert.code}"
    assert f"Reply OK {alert.code}" in john_mail.text
    # Each recipient gets a link of their own.
    ana_link = ACK_LINK.search(ana_mail.text)
    john_link = ACK_LINK.search(john_mail.text)
    assert ana_link and john_link, ana_mail.text
    assert ana_link.group(0) != john_link.group(0)

    # The link that arrived by e-mail acknowledges in Ana's name and stops the next tier.
    path = urlsplit(ana_link.group(0)).path
    assert client.get(path).status_code == 200
    assert client.post(path).status_code == 200
    alert.refresh_from_db()
    assert alert.state == AlertState.ACKNOWLEDGED
    assert alert.acknowledged_via == "link"
    assert alert.acknowledged_by_label == "Ana Quispe"
    clock.move_to(T0 + timedelta(minutes=5))
    assert run_due_steps("test") == 0
    regional = alert.steps.get(tier_position=1)
    assert regional.state == StepState.CANCELLED
    assert claim_messages("test") == []
    # A used link does not acknowledge twice.
    assert client.post(path).status_code == 404


# A JSON webhook


def test_it_posts_each_step_to_a_webhook_with_its_idempotency_key(setup: Setup, clock: Any) -> None:
    with WebhookReceiver() as hook:
        channel(setup, Channel.WEBHOOK, hook.url("amparo/alerts"))
        alert = raise_with(
            setup, tier("local", [coordinators()], [Channel.WEBHOOK], repeats=1, interval=1)
        )
        assert run_due_steps("test") == 1
        assert [ok for _m, ok in send_pass()] == [True]
        clock.move_to(T0 + timedelta(minutes=1))
        assert run_due_steps("test") == 1
        assert [ok for _m, ok in send_pass()] == [True]
        # Nothing is sent again, however long the sender keeps polling.
        clock.move_to(T0 + timedelta(days=2))
        assert run_due_steps("test") == 0
        assert send_pass() == []
        requests = hook.wait_for(2)

    messages = list(OutboxMessage.objects.filter(alert=alert).order_by("step__repeat_index"))
    assert len(messages) == 2
    assert [r.key for r in requests] == [m.idempotency_key for m in messages]
    assert len({m.idempotency_key for m in messages}) == 2
    for request, message in zip(requests, messages, strict=True):
        assert request.path == "/amparo/alerts"
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["X-Amparo-Channel"] == "webhook"
        assert request.payload["title"] == f"Amparo Alta: {alert.code}"
        assert f"OK {alert.code}" in request.payload["message"]
        assert message.state == OutboxState.SENT
        assert message.attempts == 1
        assert message.last_error == ""
        assert message.lease_until is None
    assert messages[0].sent_at == T0
    assert messages[1].sent_at == T0 + timedelta(minutes=1)


def test_it_uses_the_installation_channel_when_the_organisation_has_none(
    setup: Setup, clock: Any
) -> None:
    with (
        WebhookReceiver() as hook,
        override_settings(AMPARO_CHANNEL_URLS={"webhook": hook.url("installation")}),
    ):
        raise_with(setup, tier("local", [coordinators()], [Channel.WEBHOOK]))
        run_due_steps("test")
        assert [ok for _m, ok in send_pass()] == [True]
        assert [r.path for r in hook.wait_for(1)] == ["/installation"]


# A webhook that answers 500


def test_it_retries_a_failing_webhook_with_backoff_while_email_and_the_next_tier_go_on(
    setup: Setup, clock: Any
) -> None:
    with SMTPSink() as smtp, WebhookReceiver(status=500) as hook:
        channel(setup, Channel.EMAIL, smtp.url())
        channel(setup, Channel.WEBHOOK, hook.url("down"))
        alert = raise_with(
            setup,
            tier("local", [coordinators()], [Channel.EMAIL, Channel.WEBHOOK]),
            tier("regional", [person(setup.john)], [Channel.EMAIL], delay=1),
        )
        assert run_due_steps("test") == 1
        results = {m.channel: ok for m, ok in send_pass()}
        assert results == {Channel.EMAIL: True, Channel.WEBHOOK: False}
        assert [m.rcpt_tos for m in smtp.wait_for(1)] == [["ana@fenario.example"]]

        webhook = message_of(alert, Channel.WEBHOOK)
        assert webhook.state == OutboxState.PENDING
        assert webhook.attempts == 1
        assert "500" in webhook.last_error
        assert webhook.lease_until is None
        assert webhook.next_attempt_at == T0 + BACKOFF[0] * SECOND

        regional_due = T0 + timedelta(minutes=1)
        regional_ran_at = None
        attempt_times = [T0]
        while webhook.state == OutboxState.PENDING:
            due = webhook.next_attempt_at
            # The next tier runs at its own time, whatever the webhook is doing.
            if regional_ran_at is None and regional_due <= due:
                clock.move_to(regional_due - TICK)
                assert run_due_steps("test") == 0
                clock.move_to(regional_due)
                assert run_due_steps("test") == 1
                regional_ran_at = regional_due
                assert [(m.channel, ok) for m, ok in send_pass()] == [(Channel.EMAIL, True)]
                assert smtp.wait_for(2)[1].rcpt_tos == ["john@network.example"]
                webhook.refresh_from_db()
                assert webhook.state == OutboxState.PENDING  # still failing meanwhile
            # Not a moment before its backoff is over...
            clock.move_to(due - TICK)
            assert claim_messages("test") == []
            # ...and then at once.
            clock.move_to(due)
            assert [(m.pk, ok) for m, ok in send_pass()] == [(webhook.pk, False)]
            attempt_times.append(due)
            webhook.refresh_from_db()
            if webhook.state == OutboxState.PENDING:
                assert webhook.next_attempt_at == due + BACKOFF[webhook.attempts - 1] * SECOND

        # Given up after MAX_ATTEMPTS, for good.
        assert webhook.state == OutboxState.FAILED
        assert webhook.attempts == MAX_ATTEMPTS
        assert "500" in webhook.last_error
        clock.move_to(T0 + timedelta(days=3))
        assert send_pass() == []
        requests = hook.requests()

    # Attempt n+1 came BACKOFF[n-1] seconds after attempt n.
    gaps = [(b - a).total_seconds() for a, b in zip(attempt_times, attempt_times[1:], strict=False)]
    assert gaps == BACKOFF[: MAX_ATTEMPTS - 1]
    # The receiver saw every attempt, each with the same key (it could drop a repeat).
    assert len(requests) == MAX_ATTEMPTS
    assert {r.key for r in requests} == {webhook.idempotency_key}
    # The e-mail of the same step and the next tier's e-mail went out once each, on time.
    assert regional_ran_at == regional_due
    regional = alert.steps.get(tier_position=1)
    assert regional.state == StepState.DONE
    assert regional.executed_at == regional_due
    emails = OutboxMessage.objects.filter(alert=alert, channel=Channel.EMAIL)
    assert sorted((m.state, m.attempts) for m in emails) == [(OutboxState.SENT, 1)] * 2
    assert len(smtp.received) == 2


# A webhook that hangs


@pytest.mark.parametrize("timeouts_in", ["module defaults", "url"])
def test_it_gives_up_on_a_hanging_webhook_within_the_timeouts_and_retries_it(
    setup: Setup, clock: Any, monkeypatch: pytest.MonkeyPatch, timeouts_in: str
) -> None:
    if timeouts_in == "module defaults":
        # The sender adds its own timeouts to a URL that names none.
        monkeypatch.setattr(delivery, "CONNECT_TIMEOUT", 1)
        monkeypatch.setattr(delivery, "READ_TIMEOUT", 1)
        query = ""
    else:
        # A URL's own timeouts win over the defaults (4 s and 8 s).
        query = "cto=1&rto=1"
    with SilentServer() as silent, WebhookReceiver() as hook:
        configured = channel(setup, Channel.WEBHOOK, silent.url("hangs", query))
        alert = raise_with(setup, tier("local", [coordinators()], [Channel.WEBHOOK]))
        run_due_steps("test")
        (message,) = claim_messages("test")
        built = delivery.build_url(silent.url("hangs", query), message)
        assert built.count("cto=") == 1 and built.count("rto=") == 1
        assert "cto=1" in built and "rto=1" in built

        started = time.monotonic()
        assert send_message(message) is False
        elapsed = time.monotonic() - started
        assert silent.accepted >= 1
        assert elapsed < 1 + 1 + 1.5, f"the sender hung {elapsed:.1f}s"

        # Kept for a retry, not lost.
        message.refresh_from_db()
        assert message.state == OutboxState.PENDING
        assert message.attempts == 1
        assert message.last_error
        assert message.lease_until is None
        assert message.next_attempt_at == T0 + BACKOFF[0] * SECOND

        # The gateway is back: the retry delivers it, once.
        configured.url = hook.url("back")
        configured.save()
        clock.move_to(message.next_attempt_at)
        assert [(m.pk, ok) for m, ok in send_pass()] == [(message.pk, True)]
        requests = hook.wait_for(1)
    message.refresh_from_db()
    assert (message.state, message.attempts, message.last_error) == (OutboxState.SENT, 2, "")
    assert [r.key for r in requests] == [message.idempotency_key]
    assert alert.state == AlertState.RAISED


# Nothing to send through


@pytest.mark.parametrize(
    ("configured", "error"),
    [
        (None, "no sms channel is configured"),
        ("disabled", "no sms channel is configured"),
        ("nosuchgateway://example", "the sms channel URL is not valid"),
    ],
)
def test_it_fails_at_once_and_for_good_when_no_channel_can_send(
    setup: Setup, clock: Any, configured: str | None, error: str
) -> None:
    if configured == "disabled":
        channel(setup, Channel.SMS, "json://127.0.0.1:9/never", enabled=False)
    elif configured is not None:
        channel(setup, Channel.SMS, configured)
    with override_settings(AMPARO_CHANNEL_URLS={}):
        alert = raise_with(
            setup,
            tier("local", [coordinators()], [Channel.SMS]),
            tier("regional", [person(setup.john)], [Channel.SMS], delay=1),
        )
        run_due_steps("test")
        assert [ok for _m, ok in send_pass()] == [False]
        message = message_of(alert, Channel.SMS)
        assert message.state == OutboxState.FAILED
        assert message.attempts == 1
        assert message.last_error == error
        assert message.lease_until is None
        # Final: never claimed again. The escalation itself goes on.
        clock.move_to(T0 + timedelta(days=1))
        assert run_due_steps("test") == 1
        assert [m.recipient_label for m, _ok in send_pass()] == ["John Smith"]
        assert send_pass() == []
    assert AlertStep.objects.filter(alert=alert, state=StepState.DONE).count() == 2


# The lease of a sender that died


def test_it_sends_a_message_again_only_when_the_lease_of_a_dead_sender_expires(
    setup: Setup, clock: Any
) -> None:
    with WebhookReceiver() as hook:
        channel(setup, Channel.WEBHOOK, hook.url())
        raise_with(setup, tier("local", [coordinators()], [Channel.WEBHOOK]))
        run_due_steps("test")
        (claimed,) = claim_messages("dies")  # ...and never sends nor marks it
        claimed.refresh_from_db()
        assert claimed.state == OutboxState.SENDING
        assert claimed.lease_until == T0 + LEASE_SECONDS * SECOND
        # While the lease holds, no other sender touches it.
        clock.move_to(T0 + LEASE_SECONDS * SECOND)
        assert claim_messages("other") == []
        # Once it expires, another sender takes it over; sent once, same key.
        clock.move_to(T0 + LEASE_SECONDS * SECOND + TICK)
        assert [(m.pk, ok) for m, ok in send_pass("other")] == [(claimed.pk, True)]
        assert send_pass("other") == []
        requests = hook.wait_for(1)
    claimed.refresh_from_db()
    assert claimed.state == OutboxState.SENT
    assert [r.key for r in requests] == [claimed.idempotency_key]


# Concurrent senders


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_error_of_each_concurrent_delivery_to_itself(setup: Setup) -> None:
    """The worker sends in parallel threads: one message's error must not end up in the
    record of another (nor another organisation's) message."""
    with SilentServer() as silent, WebhookReceiver(status=500) as hook:
        channel(setup, Channel.SMS, silent.url("sms", "cto=1&rto=1"))
        channel(setup, Channel.WEBHOOK, hook.url("down"))
        alert = raise_with(setup, tier("local", [coordinators()], [Channel.SMS, Channel.WEBHOOK]))
        run_due_steps("test")
        sms = message_of(alert, Channel.SMS)
        webhook = message_of(alert, Channel.WEBHOOK)
        results: dict[str, delivery.DeliveryResult] = {}

        def deliver(message: OutboxMessage) -> None:
            results[message.channel] = delivery.deliver(message)

        hanging = threading.Thread(target=deliver, args=(sms,))
        hanging.start()
        time.sleep(0.3)  # the SMS gateway is now hanging while the webhook fails
        failing = threading.Thread(target=deliver, args=(webhook,))
        failing.start()
        failing.join(5)
        hanging.join(5)

    assert not results[Channel.WEBHOOK].ok and not results[Channel.SMS].ok
    assert "500" in results[Channel.WEBHOOK].error
    assert "500" not in results[Channel.SMS].error, results[Channel.SMS].error
    assert "Connection error" in results[Channel.SMS].error
