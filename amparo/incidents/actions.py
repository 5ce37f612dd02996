"""Writes of threat reports. Every channel (web form, API, SMS, OpenRosa) reports through
``report_threat``; every change is audited."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from amparo.alerts import actions as alert_actions
from amparo.alerts.models import Alert, AlertKind, AlertState, Channel, OutboxMessage
from amparo.core import audit
from amparo.core.db import prepared
from amparo.incidents import checklist as response
from amparo.incidents import vault
from amparo.incidents.classify import classify, explanation, normalise_answers
from amparo.incidents.models import (
    LEVEL_ORDER,
    ChecklistItem,
    CustodyAction,
    CustodyEvent,
    EvidenceFile,
    HarmSign,
    IllicitActivity,
    ItemStatus,
    Level,
    Measure,
    PlanMeasure,
    SecurityPlan,
    Source,
    Status,
    ThreatChannel,
    ThreatReport,
)
from amparo.monitoring.facts import compile_new_report, project_report
from amparo.people.models import Organisation, Person, User

LANGUAGES = ("es", "en", "pt")
RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read over a phone
MAX_TEXT = 10_000


def new_receipt() -> str:
    """Twelve characters in three groups, 60 bits: a receipt cannot be guessed."""
    raw = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalise_receipt(text: str) -> str:
    raw = "".join(ch for ch in text.upper() if ch.isalnum())
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:12]}" if len(raw) == 12 else ""


@dataclass
class Receipt:
    report: ThreatReport
    refused_files: list[tuple[str, str]] = field(default_factory=list)  # (name, why)

    @property
    def code(self) -> str:
        return self.report.receipt

    def explanation(self) -> str:
        with translation.override(self.report.language):
            return explanation(self.report.level, self.report.reasons)


def _text(data: dict[str, Any], key: str, limit: int = MAX_TEXT) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError({key: _("Give a text.")})
    return value.strip()[:limit]


def _occurred_at(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        parsed: datetime | None = value
    else:
        parsed = parse_datetime(str(value))
        if parsed is None:
            raise ValidationError(
                {"occurred_at": _("Give the date and time as 2026-05-01T18:30-05:00.")}
            )
    assert parsed is not None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    if parsed > timezone.now() + timedelta(hours=1):
        raise ValidationError({"occurred_at": _("That date is in the future.")})
    return parsed


def _location(data: dict[str, Any]) -> dict[str, float] | None:
    lat, lon = data.get("lat"), data.get("lon")
    if lat in (None, "") and lon in (None, ""):
        return None
    try:
        point = {"lat": float(lat), "lon": float(lon)}  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError({"lat": _("Give both latitude and longitude.")}) from None
    if not (-90 <= point["lat"] <= 90 and -180 <= point["lon"] <= 180):
        raise ValidationError({"lat": _("That latitude or longitude is out of range.")})
    return point


# The choices as sets, made once (``Choices.values`` builds a new list at each call).
_CHANNELS = frozenset(ThreatChannel.values)
_LEVELS = frozenset(Level.values)
_SIGNS = frozenset(HarmSign.values)
_ACTIVITIES = frozenset(IllicitActivity.values)
_SOURCES = frozenset(Source.values)


def clean_report(data: dict[str, Any]) -> dict[str, Any]:
    """The fields of a report as stored, or ValidationError naming the wrong ones. Missing
    Step 1 answers are allowed: they count as unknown."""
    channel = data.get("channel") or ThreatChannel.OTHER
    if channel not in _CHANNELS:
        raise ValidationError({"channel": _("Unknown channel.")})
    language = data.get("language") or "es"
    if language not in LANGUAGES:
        raise ValidationError({"language": _("Choose es, en or pt.")})
    reported_level = data.get("reported_level") or ""
    if reported_level and reported_level not in _LEVELS:
        raise ValidationError({"reported_level": _("Choose low, medium or high.")})
    signs = data.get("imminent_harm_signs")
    if signs is not None and not isinstance(signs, list | tuple):
        raise ValidationError({"imminent_harm_signs": _("Give a list.")})
    # An answer that is not one of the choices is refused, not dropped: dropping it
    # could turn a sign of imminent harm into "no sign" and lower the level.
    if signs is not None and any(sign not in _SIGNS for sign in signs):
        raise ValidationError({"imminent_harm_signs": _("Unknown sign of imminent harm.")})
    activity = data.get("source_illicit_activity")
    if activity not in (None, "") and activity not in _ACTIVITIES:
        raise ValidationError({"source_illicit_activity": _("Unknown activity.")})
    return {
        "occurred_at": _occurred_at(data.get("occurred_at")),
        "place": _text(data, "place", 500),
        "region": _text(data, "region", 80),
        "community": _text(data, "community", 200),
        "location": _location(data),
        "channel": channel,
        "verbatim": _text(data, "verbatim"),
        "perpetrator_description": _text(data, "perpetrator_description"),
        "answers": normalise_answers(data),
        "reported_level": reported_level,
        "language": language,
    }


def report_threat(
    actor: Any,
    organisation: Organisation,
    data: dict[str, Any],
    *,
    source: str,
    person: Person | None = None,
    evidence: Sequence[vault.StagedEvidence] = (),
) -> Receipt:
    """DESIGN.md section 5, "Threat report", in one transaction: store the Step 2 record,
    classify by the Step 1 rules, build the checklist, raise the alert for medium and
    high, queue the supervisor's message, and answer with a receipt code. ``evidence``
    are files the vault staged while the request streamed in; refused ones are named in
    the receipt, and the report is saved without them."""
    if source not in _SOURCES:
        raise ValueError(f"unknown source {source!r}")
    if person is not None and person.organisation_id != organisation.pk:
        raise ValidationError({"person": _("That person is not in this organisation.")})
    fields = clean_report(data)
    if not (fields["verbatim"] or fields["perpetrator_description"] or evidence):
        raise ValidationError(
            {"verbatim": _("Write what was said or done, or attach the evidence.")}
        )
    result = classify(fields["answers"], fields["reported_level"])
    user = actor if isinstance(actor, User) else None
    accepted = [e for e in evidence if not e.refused]
    # Reads before the transaction: on SQLite it holds the only write lock from BEGIN.
    policy = snapshot = None
    if result.level in (Level.MEDIUM, Level.HIGH):
        policy = alert_actions.choose_policy(organisation, AlertKind.THREAT, result.level)
        snapshot = policy.snapshot()
    supervisor = _supervisor_address(person)
    # Every row is built and its INSERT compiled before the transaction (sealing the
    # Step 2 record included): on SQLite the transaction holds the only write lock, and
    # with the rows built inside it a report held it for most of its 13 ms of CPU while
    # every other writer waited (amparo/core/db/prepared.py; bench/intake.py).
    now = timezone.now()
    entries: list[audit.Pending] = []
    writes: list[prepared.Statements] = []
    report = ThreatReport(
        organisation=organisation,
        receipt=new_receipt(),
        person=person,
        reported_by=user,
        source=source,
        rules_level=result.rules_level,
        level=result.level,
        reasons=result.reasons,
        created_at=now,
        **fields,
    )
    if policy is not None:
        alert = _prepare_alert(actor, report, policy, snapshot)
        report.alert = alert.alert
        alert_writes, alert_entries = alert_actions.compile_alerts(actor, [alert])
        writes += alert_writes
        entries += alert_entries
    writes.append(prepared.insert([report]))
    told = False
    if supervisor is not None:
        writes.append(prepared.insert([_supervisor_message(report, supervisor, now)]))
        told = True
    writes.append(
        prepared.insert(
            _checklist(report, now, done={"step2_record_to_supervisor"} if told else frozenset())
        )
    )
    writes.append(compile_new_report(report, has_evidence=bool(accepted)))
    entries.append(
        audit.Pending(
            actor,
            "threat.reported",
            report,
            details={
                "receipt": report.receipt,
                "level": report.level,
                "source": source,
                "evidence": len(accepted),
                "refused": len(evidence) - len(accepted),
            },
        )
    )
    try:
        with transaction.atomic():
            if accepted:
                prepared.run(*writes)
                _store_evidence(report, accepted, user, now)
                writes = []
            # The audit entries last, so the audit chain's head is locked only for the
            # commit; the writes go with the head's read (one round trip on PostgreSQL).
            audit.record_many(entries, after=writes)
            # Final names now; if the commit fails, the except below removes them.
            for staged in accepted:
                staged.commit()
    except BaseException:
        for staged in evidence:
            staged.discard()
        raise
    return Receipt(report, [(e.name, e.refused) for e in evidence if e.refused])


def _build_checklist(
    report: ThreatReport,
    now: datetime,
    keep: dict[str, Any] | None = None,
    done: set[str] | frozenset[str] = frozenset(),
) -> None:
    ChecklistItem.objects.bulk_create(_checklist(report, now, keep, done))


def _checklist(
    report: ThreatReport,
    now: datetime,
    keep: dict[str, Any] | None = None,
    done: set[str] | frozenset[str] = frozenset(),
) -> list[ChecklistItem]:
    rows = []
    for position, item in enumerate(response.items_for(report.level)):
        if keep is not None and item.code in keep:
            continue
        due = item.due.get(report.level)
        rows.append(
            ChecklistItem(
                organisation_id=report.organisation_id,
                report_id=report.pk,  # the key only: an item needs no copy of its report
                code=item.code,
                step=item.step,
                position=position,
                owner=item.owner,
                due_at=now + due if due else None,
                status=ItemStatus.DONE if item.code in done else ItemStatus.OPEN,
                done_at=now if item.code in done else None,
            )
        )
    return rows


def _store_evidence(
    report: ThreatReport, staged: Sequence[vault.StagedEvidence], user: User | None, now: datetime
) -> None:
    if not staged:
        return
    files = [
        EvidenceFile(
            **{**s.row_fields(), "organisation_id": report.organisation_id},
            report=report,
            uploaded_at=now,
            uploaded_by=user,
        )
        for s in staged
    ]
    EvidenceFile.objects.bulk_create(files)
    CustodyEvent.objects.bulk_create(
        CustodyEvent(
            organisation_id=report.organisation_id,
            evidence=f,
            at=now,
            actor=audit.actor_label(user) if user else f"report:{report.receipt}",
            action=CustodyAction.INTAKE,
            details={"sha256": f.sha256, "size": f.size, "content_type": f.content_type},
        )
        for f in files
    )


def _raise(actor: Any, report: ThreatReport) -> Alert:
    """The report's alert, raised now (a coordinator raised the level)."""
    alert = _prepare_alert(actor, report)
    return alert_actions.raise_alerts(actor, [alert])[0]


def _prepare_alert(
    actor: Any,
    report: ThreatReport,
    policy: Any = None,
    snapshot: dict[str, Any] | None = None,
) -> alert_actions.PreparedAlert:
    # The alert says what the organisation needs to act, not the record itself: that
    # stays in the vault (reference, Step 4: channels may be compromised).
    with translation.override("es"):
        message = _("Threat report %(receipt)s: %(explanation)s") % {
            "receipt": report.receipt,
            "explanation": explanation(report.level, report.reasons),
        }
    return alert_actions.prepare_alert(
        actor,
        report.organisation,
        kind=AlertKind.THREAT,
        severity=report.level,
        message=message,
        person=report.person,
        subject=report,
        policy=policy,
        snapshot=snapshot,
        source=report.source if report.source in ("web", "api", "sms") else "web",
        unverified=report.person is None,
    )


def case_url(report: ThreatReport) -> str:
    return settings.BASE_URL + reverse("threat-detail", args=[report.organisation.slug, report.pk])


@dataclass(frozen=True)
class _Supervisor:
    label: str
    channel: str
    address: str
    language: str


def _supervisor_address(person: Person | None) -> _Supervisor | None:
    """Whom Step 2's message goes to: the person's supervisor, by e-mail, or by SMS when
    there is no e-mail address (read before the report's transaction)."""
    if person is None or person.supervisor_id is None:
        return None
    supervisor = person.supervisor
    assert supervisor is not None
    email = supervisor.email or (supervisor.user.email if supervisor.user is not None else "")
    phones = supervisor.phone_numbers or []
    channel, address = (
        (Channel.EMAIL, email) if email else (Channel.SMS, phones[0] if phones else "")
    )
    if not address:
        return None
    return _Supervisor(
        supervisor.display_name[:80], channel, address, supervisor.preferred_language or "es"
    )


def _supervisor_message(
    report: ThreatReport, supervisor: _Supervisor, now: datetime
) -> OutboxMessage:
    """Reference, Step 2: the record goes to the immediate supervisor. Amparo sends the
    supervisor a link to it (the record itself stays in the vault)."""
    assert report.person is not None
    with translation.override(supervisor.language):
        body = _(
            "Threat report %(receipt)s about %(person)s (%(level)s). Read the record and "
            "the checklist: %(url)s"
        ) % {
            "receipt": report.receipt,
            "person": report.person.display_name,
            "level": Level(report.level).label,
            "url": case_url(report),
        }
    return OutboxMessage(
        organisation_id=report.organisation_id,
        alert=report.alert,
        idempotency_key=f"report:{report.pk}:supervisor:{supervisor.channel}",
        channel=supervisor.channel,
        recipient_label=supervisor.label,
        address=supervisor.address,
        body=body,
        language=supervisor.language,
        next_attempt_at=now,
    )


# Coordinators' decisions


@transaction.atomic
def change_level(actor: Any, report: ThreatReport, level: str, reason: str) -> None:
    """A coordinator sets the level with a written reason: audited; the checklist gains
    the items of the new level (done ones are kept, ones that no longer apply are marked
    superseded) and the alert follows (raised for medium and high, closed for low)."""
    if level not in Level.values:
        raise ValidationError({"level": _("Choose low, medium or high.")})
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ValidationError({"reason": _("Write why the level changes.")})
    report = ThreatReport.objects.select_for_update().get(pk=report.pk)
    if report.level == level:
        raise ValidationError({"level": _("The report already has that level.")})
    before = report.level
    now = timezone.now()
    report.level = level
    report.level_reason = reason[:4000]
    report.reasons = ["coordinator"]
    report.save(update_fields=["level", "level_reason", "reasons", "updated_at"])
    items = {i.code: i for i in ChecklistItem.objects.filter(report=report)}
    wanted = {i.code for i in response.items_for(level)}
    for code, item in items.items():
        superseded = code not in wanted
        if item.superseded != superseded:
            item.superseded = superseded
            item.save(update_fields=["superseded"])
    _build_checklist(report, now, keep=items)
    project_report(report)
    alert = Alert.objects.filter(pk=report.alert_id).first() if report.alert_id else None
    open_alert = alert if alert is not None and alert.state != AlertState.RESOLVED else None
    if level == Level.LOW:
        # Low needs no alert (Step 1): an open one is closed, with the reason.
        if open_alert is not None:
            alert_actions.resolve_alert(
                actor,
                open_alert,
                note=_("The report's level changed from %(a)s to %(b)s.")
                % {"a": before, "b": level},
            )
    elif open_alert is None:
        if alert is None or LEVEL_ORDER[level] > LEVEL_ORDER[before]:  # type: ignore[index]
            # No alert yet (the report was low), or a closed one and the risk grew.
            report.alert = _raise(actor, report)
            report.save(update_fields=["alert"])
    elif LEVEL_ORDER[level] > LEVEL_ORDER[open_alert.severity]:  # type: ignore[index]
        # The risk grew while the alert runs: a new alert at the new severity takes
        # over (its policy may reach further and faster); the old one is closed.
        alert_actions.resolve_alert(
            actor,
            open_alert,
            note=_("The report's level changed from %(a)s to %(b)s.") % {"a": before, "b": level},
        )
        report.alert = _raise(actor, report)
        report.save(update_fields=["alert"])
    # Lowered from high to medium with the alert still running: it goes on as it is,
    # rather than start again from its first tier as a second alert.
    audit.record(actor, "threat.level_changed", report, details={"from": before, "to": level})


@transaction.atomic
def set_status(actor: Any, report: ThreatReport, status: str) -> None:
    if status not in Status.values:
        raise ValidationError({"status": _("Unknown status.")})
    before = report.status
    if before == status:
        return
    ThreatReport.objects.filter(pk=report.pk).update(status=status, updated_at=timezone.now())
    report.status = status
    audit.record(actor, "threat.status", report, details={"from": before, "to": status})


@transaction.atomic
def update_item(
    actor: Any, item: ChecklistItem, *, status: str | None = None, notes: str | None = None
) -> None:
    changed: dict[str, Any] = {}
    if status is not None:
        if status not in ItemStatus.values:
            raise ValidationError({"status": _("Unknown status.")})
        if status != item.status:
            item.status = status
            item.done_at = timezone.now() if status == ItemStatus.DONE else None
            item.done_by = actor if isinstance(actor, User) and status == ItemStatus.DONE else None
            changed["status"] = status
    if notes is not None and notes.strip() != item.notes:
        item.notes = notes.strip()[:4000]
        changed["notes"] = True
    if not changed:
        return
    item.save()
    audit.record(actor, "threat.checklist", item.report, details={"item": item.code, **changed})


# The evidence vault


def read_evidence(actor: Any, evidence: EvidenceFile, action: str) -> Iterator[bytes]:
    """The plaintext of a file, chunk by chunk, after its custody log records who took
    it and how (view, download, export)."""
    if action not in (CustodyAction.VIEW, CustodyAction.DOWNLOAD, CustodyAction.EXPORT):
        raise ValueError(action)
    record_custody(actor, evidence, action)
    return vault.read_blob(
        vault.blob_path(evidence.organisation_id, evidence.pk),
        evidence.pk,
        vault.decode_key(evidence.file_key),
    )


def record_custody(
    actor: Any, evidence: EvidenceFile, action: str, details: dict[str, Any] | None = None
) -> None:
    with transaction.atomic():
        CustodyEvent.objects.create(
            organisation_id=evidence.organisation_id,
            evidence=evidence,
            at=timezone.now(),
            actor=audit.actor_label(actor),
            action=action,
            details=details or {},
        )
        audit.record(actor, f"evidence.{action}", evidence, details={"sha256": evidence.sha256})


def verify_evidence(evidence: Any) -> str:
    """Re-hash a file of the vault (an evidence file, a hotspot photo or a travel
    document: any row with ``organisation_id``, ``pk``, ``file_key`` and ``sha256``):
    "" when it matches its intake hash, else what is wrong."""
    import hashlib

    digest = hashlib.sha256()
    try:
        for chunk in vault.read_blob(
            vault.blob_path(evidence.organisation_id, evidence.pk),
            evidence.pk,
            vault.decode_key(evidence.file_key),
        ):
            digest.update(chunk)
    except FileNotFoundError:
        return "the file is missing from the evidence store"
    except vault.VaultError as exc:
        return str(exc)
    if digest.hexdigest() != evidence.sha256:
        return f"SHA-256 is {digest.hexdigest()}, intake said {evidence.sha256}"
    return ""


# The personal security plan


@transaction.atomic
def plan_for(actor: Any, person: Person) -> SecurityPlan:
    """The person's plan, made with the thirteen measures on first use."""
    plan = SecurityPlan.objects.filter(person=person).first()
    if plan is not None:
        return plan
    plan = SecurityPlan.objects.create(
        organisation_id=person.organisation_id,
        person=person,
        next_reminder_at=timezone.now() + timedelta(days=90),
    )
    PlanMeasure.objects.bulk_create(
        PlanMeasure(organisation_id=person.organisation_id, plan=plan, code=code, position=i)
        for i, code in enumerate(Measure.values)
    )
    audit.record(actor, "security_plan.created", plan)
    return plan


# Evidence that arrives after the report


@dataclass
class EvidenceAdded:
    """What ``add_evidence`` did: the files stored, and the ones refused (name, why)."""

    files: list[EvidenceFile] = field(default_factory=list)
    refused_files: list[tuple[str, str]] = field(default_factory=list)


def add_evidence(
    actor: Any, report: ThreatReport, evidence: Sequence[vault.StagedEvidence]
) -> EvidenceAdded:
    """Files for a report already filed: the later parts of an OpenRosa submission that a
    phone split across several POSTs (issue 9, point 5; DESIGN.md section 8), filed at
    its first part so that its alert is raised at once. In one transaction the files go
    into the vault on the same report, each with its intake custody event, the report's
    incident fact counts its evidence, and ``threat.evidence_added`` is audited (no
    content: receipt, counts). A file the report already holds (the same SHA-256) is not
    stored again, so a part sent twice adds nothing. Refused files are named in the
    answer; if anything fails, every staged blob is removed."""
    accepted = [e for e in evidence if not e.refused]
    stored: list[vault.StagedEvidence] = []
    try:
        with transaction.atomic():
            locked = (
                ThreatReport.objects.select_for_update()
                .select_related("organisation")
                .get(pk=report.pk)
            )
            held = set(EvidenceFile.objects.filter(report=locked).values_list("sha256", flat=True))
            for staged in accepted:
                if staged.sha256 not in held:
                    held.add(staged.sha256)
                    stored.append(staged)
            files: list[EvidenceFile] = []
            if stored:
                user = actor if isinstance(actor, User) else None
                _store_evidence(locked, stored, user, timezone.now())
                project_report(locked, has_evidence=True)
                audit.record(
                    actor,
                    "threat.evidence_added",
                    locked,
                    details={
                        "receipt": locked.receipt,
                        "evidence": len(stored),
                        "refused": len(evidence) - len(accepted),
                    },
                )
                files = list(EvidenceFile.objects.filter(pk__in=[s.evidence_id for s in stored]))
                # Final names now; if the commit fails, the except below removes them.
                for staged in stored:
                    staged.commit()
    except BaseException:
        for staged in evidence:
            staged.discard()
        raise
    # Files the report already held: their second copies are dropped.
    kept = {s.evidence_id for s in stored}
    for staged in accepted:
        if staged.evidence_id not in kept:
            staged.discard()
    return EvidenceAdded(files, [(e.name, e.refused) for e in evidence if e.refused])
