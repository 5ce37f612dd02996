"""The channels page: coordinators set delivery channels and inbound SMS credentials;
everyone else, and other organisations, get 404."""

from __future__ import annotations

from amparo.alerts.models import DeliveryChannel
from amparo.channels.models import SmsGateway
from amparo.core.models import AuditEntry
from tests.core.raw import raw_column


def test_it_sets_a_delivery_channel_sealed_and_audited(world, login):
    client = login(world.coordinator)
    response = client.post(
        "/o/org-a/channels/",
        {"action": "channel", "ch-channel": "webhook", "ch-url": "json://127.0.0.1:9/hook"},
    )
    assert response.status_code == 302
    channel = DeliveryChannel.objects.get(organisation=world.org_a, channel="webhook")
    assert channel.url == "json://127.0.0.1:9/hook"
    assert raw_column(DeliveryChannel, "url", channel.pk).startswith("enc1:")
    assert AuditEntry.objects.filter(action="delivery_channel.set").exists()


def test_it_refuses_a_url_apprise_does_not_understand(world, login):
    client = login(world.coordinator)
    response = client.post(
        "/o/org-a/channels/", {"action": "channel", "ch-channel": "sms", "ch-url": "nonsense"}
    )
    assert response.status_code == 200
    assert not DeliveryChannel.objects.exists()


def test_it_shows_a_new_inbound_token_once(world, login):
    client = login(world.coordinator)
    response = client.post("/o/org-a/channels/", {"action": "token"})
    assert response.status_code == 200
    assert b'data-testid="sms-token"' in response.content
    assert SmsGateway.objects.get(organisation=world.org_a).token_hash
    assert b'data-testid="sms-token"' not in client.get("/o/org-a/channels/").content


def test_it_validates_ownership(world, login):
    for persona in (world.coordinator_b, world.defender, world.focal_point):
        client = login(persona)
        assert client.get("/o/org-a/channels/").status_code == 404
        assert client.post("/o/org-a/channels/", {"action": "token"}).status_code == 404
    assert not SmsGateway.objects.exists()
