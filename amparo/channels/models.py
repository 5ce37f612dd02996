"""Inbound channels: every SMS that reaches Amparo is stored (sealed) before it is acted
on, and each organisation's inbound credentials."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from amparo.core.fields import EncryptedTextField
from amparo.people.models import Organisation, Person, org_scope


class SmsGateway(models.Model):
    """An organisation's inbound SMS settings: the generic webhook's token (hashed) and the
    Twilio auth token that signs Twilio's requests (sealed)."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="sms_gateway", primary_key=True
    )
    token_hash = models.CharField(max_length=64, blank=True)
    twilio_auth_token = EncryptedTextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"SMS gateway of {self.organisation_id}"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)


class InboundSms(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="inbound_sms"
    )
    via = models.CharField(max_length=12)  # "twilio" or "generic"
    sender = EncryptedTextField(_("from"))
    body = EncryptedTextField(_("text"), blank=True, default="")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    command = models.CharField(max_length=16, blank=True)
    outcome = models.CharField(max_length=40, blank=True)
    reply = EncryptedTextField(blank=True, default="")
    alert_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"SMS {self.command or '?'} {self.received_at:%Y-%m-%d %H:%M}"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)
