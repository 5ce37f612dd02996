"""Inbound channels: every SMS that reaches Amparo is stored (sealed) before it is acted
on, and each organisation's inbound credentials."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from amparo.core.fields import EncryptedJSONField, EncryptedTextField
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


class OpenRosaDevice(models.Model):
    """An app user for ODK Collect, KoboCollect or Tella: one phone, one user name and a
    server-generated password. Digest authentication needs HA1 = md5(user:realm:password)
    on the server, a password equivalent for this realm, so it is kept sealed; see
    docs/threat-model.md, "OpenRosa app users"."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="openrosa_devices"
    )
    label = models.CharField(_("device"), max_length=100)
    username = models.CharField(_("user name"), max_length=64)
    realm = models.CharField(max_length=120)
    digest_ha1 = EncryptedTextField()
    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "username"], name="openrosa_device_username"
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.username})"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)


class SubmissionState(models.TextChoices):
    INCOMPLETE = "incomplete", _("Waiting for more attachments")
    FILED = "filed", _("Filed")


class OpenRosaSubmission(models.Model):
    """One form instance received over OpenRosa, kept by its instanceID so that a
    resubmission is accepted once and a submission split across POSTs is reassembled.
    The XML (the record as the phone wrote it) and the keys of attachments staged in the
    vault while the rest arrives are sealed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="openrosa_submissions"
    )
    device = models.ForeignKey(
        OpenRosaDevice, on_delete=models.SET_NULL, null=True, related_name="submissions"
    )
    form_id = models.CharField(max_length=100)
    instance_id = models.CharField(max_length=200)
    xml_sha256 = models.CharField(max_length=64)
    xml = EncryptedTextField()
    staged = EncryptedJSONField(default=list)
    state = models.CharField(
        max_length=12, choices=SubmissionState.choices, default=SubmissionState.INCOMPLETE
    )
    parts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)
    filed_at = models.DateTimeField(null=True, blank=True)
    # What the submission became: a threat report or a hotspot (by id, so that
    # channels holds no foreign key into the domain apps' tables).
    subject_type = models.CharField(max_length=40, blank=True)
    subject_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "instance_id"], name="openrosa_submission_instance"
            )
        ]

    def __str__(self) -> str:
        return f"{self.form_id} {self.instance_id}"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)
