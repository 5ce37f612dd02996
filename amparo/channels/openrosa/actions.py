"""What the OpenRosa channel writes: app users (created and revoked by a coordinator) and
received submissions. A submission is filed through the same domain action as the web
form (incidents.actions.report_threat, monitoring.hotspots.add_hotspot), once per
instanceID. A submission split across POSTs is filed at its first part, so that a
threat report's alert is raised at once; each later part adds its files to the report
(incidents.actions.add_evidence) or the hotspot (monitoring.hotspots.add_photos). Only
a threat report whose first part has neither text nor a file is held, sealed, until a
part brings one."""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from amparo.channels.models import OpenRosaDevice, OpenRosaSubmission, SubmissionState
from amparo.channels.openrosa import instance as xml_instance
from amparo.channels.openrosa import xlsforms
from amparo.channels.openrosa.auth import digest_ha1, realm_of
from amparo.core import audit
from amparo.incidents import actions as incident_actions
from amparo.incidents import vault
from amparo.incidents.models import Level, Source, ThreatReport
from amparo.people.models import Organisation, Person

log = logging.getLogger("amparo.channels.openrosa")


class UnknownForm(Exception):
    pass


class Conflict(Exception):
    """Another submission already holds this instanceID."""


# App users


@transaction.atomic
def create_device(
    actor: Any, organisation: Organisation, *, label: str, person: Person | None = None
) -> tuple[OpenRosaDevice, str]:
    """A new app user; returns it with its password, shown once. The password is made
    here, never chosen: about 144 random bits, so neither MD5 (which Digest needs) nor a
    leaked HA1 lets anyone guess it."""
    if person is not None and person.organisation_id != organisation.pk:
        raise ValidationError({"person": _("That person is not in this organisation.")})
    password = secrets.token_urlsafe(18)
    username = f"{organisation.slug[:40]}-{secrets.token_hex(3)}"
    while OpenRosaDevice.objects.filter(organisation=organisation, username=username).exists():
        username = f"{organisation.slug[:40]}-{secrets.token_hex(3)}"
    realm = realm_of(organisation)
    device = OpenRosaDevice(
        organisation=organisation,
        label=label.strip()[:100] or username,
        username=username,
        realm=realm,
        digest_ha1=digest_ha1(username, realm, password),
        person=person,
    )
    device.save(force_insert=True)
    audit.record(
        actor,
        "openrosa.device_created",
        device,
        organisation_id=organisation.pk,
        details={"username": username},
    )
    return device, password


@transaction.atomic
def revoke_device(actor: Any, device: OpenRosaDevice) -> None:
    if device.revoked_at is not None:
        return
    device.revoked_at = timezone.now()
    device.save(update_fields=["revoked_at"])
    audit.record(
        actor,
        "openrosa.device_revoked",
        device,
        organisation_id=device.organisation_id,
        details={"username": device.username},
    )


# Submissions


@dataclass
class Received:
    message: str
    duplicate: bool = False
    complete: bool = True
    subject_id: uuid.UUID | None = None
    refused: list[tuple[str, str]] = field(default_factory=list)


def _held(staged: vault.StagedEvidence) -> dict[str, Any]:
    return {
        "name": staged.name,
        "evidence_id": str(staged.evidence_id),
        "key": vault.encode_key(staged.key),
        "content_type": staged.content_type,
        "size": staged.size,
        "sha256": staged.sha256,
        "refused": staged.refused,
    }


def _unheld(organisation_id: Any, held: dict[str, Any]) -> vault.StagedEvidence:
    return vault.StagedEvidence(
        organisation_id=organisation_id,
        name=held["name"],
        evidence_id=uuid.UUID(held["evidence_id"]),
        key=vault.decode_key(held["key"]),
        content_type=held["content_type"],
        size=held["size"],
        sha256=held["sha256"],
        refused=held["refused"],
    )


def _discard(staged: list[vault.StagedEvidence]) -> None:
    for one in staged:
        one.discard()


def _context(device: OpenRosaDevice, language: str) -> tuple[str, str]:
    """The report's time zone and language: the device holder's, else the organisation's
    zone and the phone's language."""
    person = device.person
    zone = person.time_zone if person is not None else device.organisation.time_zone
    if person is not None and person.preferred_language in incident_actions.LANGUAGES:
        language = person.preferred_language
    return zone, language if language in incident_actions.LANGUAGES else "es"


def _actor(device: OpenRosaDevice) -> Any:
    person = device.person
    if person is not None and person.user_id:
        return person.user
    return f"openrosa:{device.username}"


def receive_submission(
    device: OpenRosaDevice,
    xml: bytes,
    staged: list[vault.StagedEvidence],
    *,
    incomplete: bool,
    language: str = "es",
) -> Received:
    """File, hold or recognise one POST of a submission. Raises MalformedSubmission or
    ValidationError (400), UnknownForm (404) or Conflict (409); the files this POST
    staged are removed whenever they are not kept."""
    try:
        parsed = xml_instance.parse(xml)
        if parsed.form_id not in xlsforms.FORMS:
            raise UnknownForm(parsed.form_id)
        zone, language = _context(device, language)
        data = _check(parsed, zone, language)
        # Only parts the answers name are evidence; anything else is dropped unread.
        named = xml_instance.attachment_names(parsed)
        kept = [s for s in staged if s.name in named]
        _discard([s for s in staged if s.name not in named])
        staged = kept
    except BaseException:
        _discard(staged)
        raise
    digest = hashlib.sha256(xml).hexdigest()
    organisation = device.organisation
    held_files: list[vault.StagedEvidence] = []
    try:
        with transaction.atomic():
            submission = _claim(device, parsed, xml, digest)
            if submission.xml_sha256 != digest:
                raise Conflict(parsed.instance_id)
            if submission.state == SubmissionState.FILED:
                return _add_to_filed(device, submission, parsed, staged, language)
            have = {h["name"] for h in submission.staged}
            fresh = [s for s in staged if s.name not in have]
            _discard([s for s in staged if s.name in have])
            submission.staged = [*submission.staged, *[_held(s) for s in fresh]]
            submission.parts += 1
            held_files = [_unheld(organisation.pk, h) for h in submission.staged]
            if incomplete and not _fileable(parsed, data, held_files):
                submission.save()
                audit.record(
                    f"openrosa:{device.username}",
                    "openrosa.part_received",
                    submission,
                    organisation_id=organisation.pk,
                    details={"form": parsed.form_id, "files": len(fresh)},
                )
                return Received(_("Part received; send the rest."), complete=False)
            received = _file(device, parsed, data, held_files, language)
            submission.state = SubmissionState.FILED
            submission.filed_at = timezone.now()
            submission.staged = []
            submission.subject_id = received.subject_id
            submission.subject_type = (
                "incidents.threatreport"
                if parsed.form_id == xlsforms.THREAT_FORM_ID
                else "monitoring.hotspot"
            )
            submission.save()
            audit.record(
                f"openrosa:{device.username}",
                "openrosa.submission_filed",
                submission,
                organisation_id=organisation.pk,
                details={
                    "form": parsed.form_id,
                    "parts": submission.parts,
                    "complete": not incomplete,
                },
            )
            received.complete = not incomplete
            return received
    except Conflict:
        _discard(staged)
        raise
    except BaseException:
        # Nothing half-written: the transaction rolled back; drop this submission's
        # held parts too, so the phone's next attempt starts clean.
        _discard([*staged, *held_files])
        with transaction.atomic():
            OpenRosaSubmission.objects.filter(
                organisation=organisation,
                instance_id=parsed.instance_id,
                state=SubmissionState.INCOMPLETE,
            ).delete()
        raise


def _claim(
    device: OpenRosaDevice, parsed: xml_instance.Instance, xml: bytes, digest: str
) -> OpenRosaSubmission:
    """The row of this instanceID, locked; created if it is the first part."""
    rows = OpenRosaSubmission.objects.select_for_update()
    found = rows.filter(organisation=device.organisation, instance_id=parsed.instance_id).first()
    if found is not None:
        return found
    submission = OpenRosaSubmission(
        organisation=device.organisation,
        device=device,
        form_id=parsed.form_id,
        instance_id=parsed.instance_id,
        xml_sha256=digest,
        xml=xml.decode("utf-8", errors="replace"),
    )
    try:
        with transaction.atomic():
            submission.save(force_insert=True)
    except IntegrityError:
        # The same instance arrived twice at once: take the other request's row.
        return rows.get(organisation=device.organisation, instance_id=parsed.instance_id)
    return submission


def _check(parsed: xml_instance.Instance, zone: str, language: str) -> dict[str, Any]:
    """Refuse on the first part what the last part would be refused for."""
    if parsed.form_id == xlsforms.THREAT_FORM_ID:
        data = xml_instance.threat_data(parsed, time_zone=zone, language=language)
        incident_actions.clean_report(data)
        return data
    xml_instance.geometry(parsed)
    xml_instance.observed_on(parsed)
    return {}


def _fileable(
    parsed: xml_instance.Instance, data: dict[str, Any], files: list[vault.StagedEvidence]
) -> bool:
    """Whether a part that is not the last can be filed now: a hotspot always; a threat
    report when it has words or a file (report_threat refuses an empty report, and its
    files may all be in the later parts)."""
    if parsed.form_id != xlsforms.THREAT_FORM_ID:
        return True
    words = f"{data.get('verbatim') or ''}{data.get('perpetrator_description') or ''}"
    return bool(words.strip()) or any(not f.refused for f in files)


def _add_to_filed(
    device: OpenRosaDevice,
    submission: OpenRosaSubmission,
    parsed: xml_instance.Instance,
    staged: list[vault.StagedEvidence],
    language: str,
) -> Received:
    """A part of a submission already filed (a later part of a split one, or a POST sent
    again): its files go to the report or the hotspot it became, those already there are
    dropped. Nothing new: "already received"."""
    from amparo.monitoring import hotspots
    from amparo.monitoring.models import Hotspot

    actor = _actor(device)
    subject_id = submission.subject_id
    assert subject_id is not None  # set when it was filed
    stored: int
    refused: list[tuple[str, str]]
    report = None
    if parsed.form_id == xlsforms.THREAT_FORM_ID:
        report = ThreatReport.objects.select_related("organisation").get(
            pk=subject_id, organisation=submission.organisation_id
        )
        added = incident_actions.add_evidence(actor, report, staged)
        stored, refused = len(added.files), added.refused_files
    else:
        hotspot = Hotspot.objects.get(pk=subject_id, organisation=submission.organisation_id)
        photos = hotspots.add_photos(actor, hotspot, staged)
        stored, refused = len(photos.photos), photos.refused_files
    if not stored and not refused:
        return Received(_("This form was already received."), duplicate=True, subject_id=subject_id)
    submission.parts += 1
    submission.save(update_fields=["parts"])
    audit.record(
        f"openrosa:{device.username}",
        "openrosa.files_added",
        submission,
        organisation_id=submission.organisation_id,
        details={"form": parsed.form_id, "files": stored, "refused": len(refused)},
    )
    with translation.override(language):
        if report is not None:
            message = _threat_message(report, refused)
        else:
            message = _("Observation received.") + _not_kept(refused)
    return Received(message, subject_id=subject_id, refused=refused)


def _not_kept(refused: list[tuple[str, str]]) -> str:
    if not refused:
        return ""
    return " " + _("Not kept: %(files)s.") % {
        "files": "; ".join(f"{name} ({why})" for name, why in refused)
    }


def _threat_message(report: ThreatReport, refused: list[tuple[str, str]]) -> str:
    return _("Threat received: receipt %(receipt)s, level %(level)s.") % {
        "receipt": report.receipt,
        "level": Level(report.level).label,
    } + _not_kept(refused)


def _file(
    device: OpenRosaDevice,
    parsed: xml_instance.Instance,
    data: dict[str, Any],
    evidence: list[vault.StagedEvidence],
    language: str,
) -> Received:
    if parsed.form_id == xlsforms.THREAT_FORM_ID:
        receipt = incident_actions.report_threat(
            _actor(device),
            device.organisation,
            data,
            source=Source.OPENROSA,
            person=device.person,
            evidence=evidence,
        )
        report = receipt.report
        with translation.override(language):
            message = _threat_message(report, receipt.refused_files)
        return Received(message, subject_id=report.pk, refused=receipt.refused_files)
    return _file_hotspot(device, parsed, evidence, language)


def _file_hotspot(
    device: OpenRosaDevice,
    parsed: xml_instance.Instance,
    evidence: list[vault.StagedEvidence],
    language: str,
) -> Received:
    from amparo.monitoring import hotspots

    actor = _actor(device)
    hotspot = hotspots.add_hotspot(
        actor,
        device.organisation,
        kind=parsed.get("kind"),
        observed_on=xml_instance.observed_on(parsed),
        geometry=xml_instance.geometry(parsed),
        notes=parsed.get("notes"),
        mapped_by=actor if not isinstance(actor, str) else None,
    )
    # The photo goes to the vault with the hotspot, in the same transaction.
    refused = hotspots.add_photos(actor, hotspot, evidence).refused_files
    with translation.override(language):
        message = _("Observation received.") + _not_kept(refused)
    return Received(message, subject_id=hotspot.pk, refused=refused)
