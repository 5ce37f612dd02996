"""A delivered message whose outcome cannot be recorded at once (database busy) is not
left in "sending", where its lease would send it a second time."""

from __future__ import annotations

from django.db.utils import OperationalError

from amparo.alerts import clock
from amparo.alerts.delivery import DeliveryResult
from amparo.alerts.models import OutboxMessage, OutboxState
from amparo.people.models import Organisation


def test_it_retries_recording_a_delivery_on_a_busy_database(db, monkeypatch):
    from amparo.people import actions

    org: Organisation = actions.create_organisation(
        "test", name="Org", slug="org-mark", kind="ngo", country="PE"
    )
    message = OutboxMessage.objects.create(
        organisation=org,
        idempotency_key="k1",
        channel="webhook",
        recipient_label="x",
        body="hola",
        next_attempt_at=clock.timezone.now(),
        state=OutboxState.SENDING,
    )
    monkeypatch.setattr(clock, "deliver", lambda m, title="", template=None: DeliveryResult(True))
    monkeypatch.setattr(clock, "MARK_RETRY_SECONDS", 0.0)
    real_mark = clock._mark
    calls = []

    def busy_twice(*args, **kwargs):
        calls.append(1)
        if len(calls) <= 2:
            raise OperationalError("database is locked")
        return real_mark(*args, **kwargs)

    monkeypatch.setattr(clock, "_mark", busy_twice)
    assert clock.send_message(message) is True
    message.refresh_from_db()
    assert len(calls) == 3
    assert message.state == OutboxState.SENT
    assert message.lease_until is None
