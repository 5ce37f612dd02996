"""Threat reports over the API (issue 4): report (``POST /api/v1/threats``), the
coordinators' case list, record, checklist, level and status, and the anonymous
endpoints (``/api/v1/public/threats``) that take a report without an account and answer
its status by receipt code. Every write goes through ``incidents.actions``, every read of
a report through ``incidents.access``; anything not visible is the same 404 as missing."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status as WithStatus

from amparo.core import ratelimit
from amparo.core.access import not_found
from amparo.incidents import access, actions, vault
from amparo.incidents.checklist import BY_CODE
from amparo.incidents.classify import explanation
from amparo.incidents.models import (
    ChecklistItem,
    HarmSign,
    IllicitActivity,
    Level,
    Source,
    Status,
    ThreatChannel,
    ThreatReport,
)
from amparo.people import access as people_access
from amparo.people.access import OrgContext
from amparo.people.models import Organisation, Person

router = Router(tags=["threats"])
public_router = Router(tags=["threats (anonymous)"])

# Base64 characters decoded at a time: a multiple of 4, so every piece decodes alone, and
# small enough that a file is never decoded whole on top of the request body.
BASE64_PIECE = 64 * 1024
MAX_FILES = 20
MAX_PAGE = 200


def _choices(values: list[str]) -> str:
    return ", ".join(values)


def _choose_from(values: list[str]) -> str:
    return _("Choose from: %(choices)s.") % {"choices": _choices(values)}


# What comes in


class EvidenceIn(Schema):
    name: str = Field(..., min_length=1, max_length=255, description="the file's name")
    content_base64: str = Field(..., description="the file's bytes, base64-encoded")


class ThreatFields(Schema):
    """The Step 2 record and the Step 1 answers. Every answer may be left out: a missing
    one counts as unknown, and what the rules cannot place is medium."""

    occurred_at: datetime | None = Field(
        None, description="when it happened, ISO 8601 with the offset: 2026-05-01T18:30-05:00"
    )
    place: str = Field("", max_length=500)
    region: str = Field("", max_length=80)
    community: str = Field("", max_length=200)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    channel: str | None = Field(
        None, description="how the threat arrived: " + _choices(ThreatChannel.values)
    )
    verbatim: str = Field("", max_length=actions.MAX_TEXT, description="the exact words")
    perpetrator_description: str = Field("", max_length=actions.MAX_TEXT)
    physical_violence: bool | None = None
    attempted_assault: bool | None = None
    imminent_harm_signs: list[str] | None = Field(
        None, max_length=len(HarmSign.values), description=_choices(HarmSign.values)
    )
    source_illicit_activity: str | None = Field(None, description=_choices(IllicitActivity.values))
    shows_knowledge_of_work: bool | None = None
    source_known: bool | None = None
    language: str | None = Field(
        None, description="es, en or pt (default: the account's or the request's language)"
    )
    reported_level: str | None = Field(
        None,
        description="the reporter's own assessment, low, medium or high: it can raise the "
        "rules' level, never lower it",
    )
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=MAX_FILES)


class ThreatIn(ThreatFields):
    organisation: str = Field(..., description="the organisation's short name (slug)")
    person: UUID | None = Field(
        None,
        description="the person threatened; left out, a defender reports about themselves",
    )


class LevelIn(Schema):
    level: str = Field(..., description="low, medium or high")
    reason: str = Field(..., max_length=4000, description="why the level changes")


class StatusIn(Schema):
    status: str = Field(..., description=_choices(Status.values))


class ItemIn(Schema):
    status: str | None = Field(None, description="open, done or not_applicable")
    notes: str | None = Field(None, max_length=4000)


# What goes out


class Error(Schema):
    detail: Any


class RefusedFile(Schema):
    name: str
    reason: str


class ReceiptOut(Schema):
    id: UUID
    receipt: str
    level: str
    explanation: str
    status: str
    refused_files: list[RefusedFile]
    alert: UUID | None


class PublicReceiptOut(Schema):
    receipt: str
    level: str
    explanation: str
    refused_files: list[RefusedFile]


class PublicStatusOut(Schema):
    receipt: str
    status: str
    level: str
    received: date


class ThreatSummaryOut(Schema):
    id: UUID
    receipt: str
    organisation: str
    level: str
    status: str
    channel: str
    region: str
    source: str
    occurred_at: datetime | None
    created_at: datetime
    person: UUID | None
    alert: UUID | None


class RecordOut(Schema):
    """The sealed part of the record, opened for case readers and for whoever filed it."""

    place: str
    community: str
    lat: float | None
    lon: float | None
    verbatim: str
    perpetrator_description: str


class EvidenceOut(Schema):
    id: UUID
    name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime


class ThreatPageOut(Schema):
    items: list[ThreatSummaryOut]
    count: int
    limit: int
    offset: int


class ThreatOut(ThreatSummaryOut):
    language: str
    answers: dict[str, Any]
    reported_level: str
    rules_level: str
    reasons: list[str]
    explanation: str
    level_reason: str
    updated_at: datetime
    record: RecordOut | None
    evidence: list[EvidenceOut]


class ItemOut(Schema):
    id: UUID
    code: str
    step: int
    position: int
    owner: str
    title: str
    guidance: str
    status: str
    due_at: datetime | None
    done_at: datetime | None
    notes: str
    superseded: bool


# Reporting


def _language(given: str | None) -> str:
    """The report's language: as given, else the active one (the account's, or the
    request's), else Spanish. A wrong one is left for clean_report to name."""
    if given:
        return given
    active = (translation.get_language() or "es").split("-")[0]
    return active if active in actions.LANGUAGES else "es"


def _report_data(payload: ThreatFields) -> dict[str, Any]:
    """The fields for actions.report_threat, refusing what it would quietly drop: an
    unknown harm sign or illicit activity must not lower a level."""
    data = payload.dict(exclude={"evidence", "organisation", "person"})
    occurred_at = data["occurred_at"]
    if occurred_at is not None and occurred_at.tzinfo is None:
        raise ValidationError(
            {"occurred_at": _("Give the date and time as 2026-05-01T18:30-05:00.")}
        )
    signs = data["imminent_harm_signs"]
    if signs is not None and not set(signs) <= actions._SIGNS:
        raise ValidationError({"imminent_harm_signs": _choose_from(HarmSign.values)})
    activity = data["source_illicit_activity"]
    if activity is not None and activity not in actions._ACTIVITIES:
        raise ValidationError({"source_illicit_activity": _choose_from(IllicitActivity.values)})
    data["language"] = _language(data["language"])
    actions.clean_report(data)  # refuse before any file is staged
    return data


def _base64_pieces(text: str) -> Iterator[bytes]:
    """The bytes of a base64 text, piece by piece. Line breaks are allowed, as is a
    ``data:...;base64,`` prefix. Raises binascii.Error on anything else."""
    if text.startswith("data:") and "," in text[:200]:
        text = text.split(",", 1)[1]
    pending = ""
    for start in range(0, len(text), BASE64_PIECE):
        piece = pending + "".join(text[start : start + BASE64_PIECE].split())
        cut = len(piece) - len(piece) % 4
        pending = piece[cut:]
        if cut:
            yield base64.b64decode(piece[:cut], validate=True)
    if pending:
        raise binascii.Error("incomplete base64")


def _stage_one(organisation: Organisation, upload: EvidenceIn) -> vault.StagedEvidence:
    """One file sealed into the vault as it decodes. A file that is not base64 is refused
    like any other (named in the answer) and the report goes on."""
    broken = False

    def pieces() -> Iterator[bytes]:
        nonlocal broken
        try:
            yield from _base64_pieces(upload.content_base64)
        except (binascii.Error, ValueError):
            broken = True

    staged = vault.stage_stream(organisation.pk, upload.name, pieces())
    if broken:
        staged.discard()
        staged.refused = _("it is not valid base64")
    return staged


def _stage(organisation: Organisation, files: list[EvidenceIn]) -> list[vault.StagedEvidence]:
    staged: list[vault.StagedEvidence] = []
    try:
        for upload in files:
            staged.append(_stage_one(organisation, upload))
    except BaseException:
        for one in staged:
            one.discard()
        raise
    return staged


def _file_report(
    actor: Any,
    organisation: Organisation,
    payload: ThreatFields,
    *,
    source: str,
    person: Person | None = None,
) -> actions.Receipt:
    data = _report_data(payload)
    evidence = _stage(organisation, payload.evidence)
    try:
        return actions.report_threat(
            actor, organisation, data, source=source, person=person, evidence=evidence
        )
    except BaseException:
        # report_threat removes staged files when it fails after validating; not before.
        for one in evidence:
            one.discard()
        raise


def _refused(receipt: actions.Receipt) -> list[dict[str, str]]:
    return [{"name": name, "reason": reason} for name, reason in receipt.refused_files]


def _ctx(request: HttpRequest, slug: str) -> OrgContext:
    return people_access.access_organisation_by_slug(request.user, slug)


@router.post("", response={201: ReceiptOut, 404: Error, 413: Error, 422: Error})
def report_threat(request: HttpRequest, payload: ThreatIn) -> WithStatus[dict[str, Any]]:
    """Report a threat (DESIGN.md section 5). Answers the level with its explanation and
    the receipt code; refused evidence files are named, the report is saved without
    them."""
    ctx = _ctx(request, payload.organisation)
    if payload.person is not None:
        person = access.access_person_for_report(ctx, payload.person)
    elif access.can_report_for_others(ctx):
        person = None
    else:
        person = people_access.own_profile(ctx)
    receipt = _file_report(
        request.user, ctx.organisation, payload, source=Source.API, person=person
    )
    report = receipt.report
    return WithStatus(
        201,
        {
            "id": report.pk,
            "receipt": receipt.code,
            "level": report.level,
            "explanation": receipt.explanation(),
            "status": report.status,
            "refused_files": _refused(receipt),
            "alert": report.alert_id,
        },
    )


# Anonymous reporting (DESIGN.md section 7: no account, no IP address stored)


@public_router.post(
    "/{org_slug}",
    auth=None,
    response={201: PublicReceiptOut, 404: Error, 413: Error, 422: Error, 429: Error},
)
def report_anonymously(
    request: HttpRequest, org_slug: str, payload: ThreatFields
) -> WithStatus[dict[str, Any]] | HttpResponse:
    """Report a threat without an account. The answer holds no id: the receipt code is
    the only way back to the report, and it reveals the status only. Limited per client
    address, together with the web form (429 with Retry-After)."""
    wait = ratelimit.seconds_to_wait(request, ratelimit.ANONYMOUS_REPORTS)
    if wait is not None:
        return ratelimit.refuse_json(request, wait)
    organisation = Organisation.objects.filter(slug=org_slug).first()
    if organisation is None:
        not_found()
    receipt = _file_report("anonymous", organisation, payload, source=Source.PUBLIC_API)
    return WithStatus(
        201,
        {
            "receipt": receipt.code,
            "level": receipt.report.level,
            "explanation": receipt.explanation(),
            "refused_files": _refused(receipt),
        },
    )


@public_router.get(
    "/status/{receipt}", auth=None, response={200: PublicStatusOut, 404: Error, 429: Error}
)
def status_by_receipt(request: HttpRequest, receipt: str) -> dict[str, Any] | HttpResponse:
    """What a receipt code reveals: status, level and the day the report arrived. Limited
    per client address, together with the receipt page (429 with Retry-After)."""
    wait = ratelimit.seconds_to_wait(request, ratelimit.RECEIPT_LOOKUPS)
    if wait is not None:
        return ratelimit.refuse_json(request, wait)
    row = access.status_by_receipt(receipt)
    if row is None:
        not_found()
    return {
        "receipt": row["receipt"],
        "status": row["status"],
        "level": row["level"],
        "received": row["created_at"].astimezone(UTC).date(),
    }


# Cases


def _find(request: HttpRequest, report_id: str) -> tuple[OrgContext, ThreatReport]:
    """A report by id, seen through whichever of the user's organisations may see it."""
    for organisation in people_access.organisations_of(request.user):
        ctx = _ctx(request, organisation.slug)
        try:
            return ctx, access.access_report_by_id(ctx, report_id)
        except Http404:
            continue
    not_found()


def _summary(report: ThreatReport) -> dict[str, Any]:
    return {
        "id": report.pk,
        "receipt": report.receipt,
        "organisation": report.organisation.slug,
        "level": report.level,
        "status": report.status,
        "channel": report.channel,
        "region": report.region,
        "source": report.source,
        "occurred_at": report.occurred_at,
        "created_at": report.created_at,
        "person": report.person_id,
        "alert": report.alert_id,
    }


def _detail(ctx: OrgContext, report: ThreatReport) -> dict[str, Any]:
    record = None
    if access.may_read_record(ctx, report):
        point = report.location or {}
        record = {
            "place": report.place,
            "community": report.community,
            "lat": point.get("lat"),
            "lon": point.get("lon"),
            "verbatim": report.verbatim,
            "perpetrator_description": report.perpetrator_description,
        }
    evidence = []
    if access.can_read_cases(ctx):
        evidence = [
            {
                "id": e.pk,
                "name": e.name,
                "content_type": e.content_type,
                "size": e.size,
                "sha256": e.sha256,
                "uploaded_at": e.uploaded_at,
            }
            for e in report.evidence.all()
        ]
    return {
        **_summary(report),
        "language": report.language,
        "answers": report.answers,
        "reported_level": report.reported_level,
        "rules_level": report.rules_level,
        "reasons": report.reasons,
        "explanation": explanation(report.level, report.reasons),
        "level_reason": report.level_reason if access.can_read_cases(ctx) else "",
        "updated_at": report.updated_at,
        "record": record,
        "evidence": evidence,
    }


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


@router.get("", response={200: ThreatPageOut, 404: Error, 422: Error})
def list_threats(
    request: HttpRequest,
    organisation: str,
    level: str = "",
    status: str = "",
    region: str = "",
    channel: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0),
) -> dict[str, Any]:
    """The reports one may see, newest first: every report of the organisation for case
    readers, one's own for everyone else. ``since`` and ``until`` bound when it arrived
    (a date alone is midnight UTC). Summaries only: no sealed field is opened."""
    ctx = _ctx(request, organisation)
    for name, value, allowed in (
        ("level", level, Level.values),
        ("status", status, Status.values),
        ("channel", channel, ThreatChannel.values),
    ):
        if value and value not in allowed:
            raise ValidationError({name: _choose_from(allowed)})
    reports = access.reports_visible_to(ctx)
    if level:
        reports = reports.filter(level=level)
    if status:
        reports = reports.filter(status=status)
    if channel:
        reports = reports.filter(channel=channel)
    if region:
        reports = reports.filter(region__iexact=region.strip())
    if since is not None:
        reports = reports.filter(created_at__gte=_utc(since))
    if until is not None:
        reports = reports.filter(created_at__lt=_utc(until))
    page = reports.select_related("organisation").order_by("-created_at", "-pk")
    return {
        "items": [_summary(r) for r in page[offset : offset + limit]],
        "count": reports.count(),
        "limit": limit,
        "offset": offset,
    }


@router.get("/{report_id}", response={200: ThreatOut, 404: Error})
def get_threat(request: HttpRequest, report_id: str) -> dict[str, Any]:
    ctx, report = _find(request, report_id)
    return _detail(ctx, report)


def _item(ctx: OrgContext, report: ThreatReport, item: ChecklistItem) -> dict[str, Any]:
    known = BY_CODE.get(item.code)
    notes_visible = access.may_read_notes(ctx, report, item.owner)
    return {
        "id": item.pk,
        "code": item.code,
        "step": item.step,
        "position": item.position,
        "owner": item.owner,
        "title": str(known.title) if known else item.code,
        "guidance": str(known.guidance) if known else "",
        "status": item.status,
        "due_at": item.due_at,
        "done_at": item.done_at,
        "notes": item.notes if notes_visible else "",
        "superseded": item.superseded,
    }


@router.get("/{report_id}/checklist", response={200: list[ItemOut], 404: Error})
def get_checklist(request: HttpRequest, report_id: str) -> list[dict[str, Any]]:
    """The response checklist, in the reader's language."""
    ctx, report = _find(request, report_id)
    return [_item(ctx, report, item) for item in report.checklist.all()]


@router.post("/{report_id}/checklist/{item_id}", response={200: ItemOut, 404: Error, 422: Error})
def update_item(
    request: HttpRequest, report_id: str, item_id: str, payload: ItemIn
) -> dict[str, Any]:
    ctx, report = _find(request, report_id)
    item = access.access_item_by_id(ctx, report, item_id)
    if not access.may_update_item(ctx, report, item.owner):
        not_found()
    actions.update_item(request.user, item, status=payload.status, notes=payload.notes)
    item.refresh_from_db()
    return _item(ctx, report, item)


@router.post("/{report_id}/level", response={200: ThreatOut, 404: Error, 422: Error})
def change_level(request: HttpRequest, report_id: str, payload: LevelIn) -> dict[str, Any]:
    """A coordinator sets the level, with a written reason (audited)."""
    ctx, report = _find(request, report_id)
    report = access.access_report_to_manage(ctx, report.pk)
    actions.change_level(request.user, report, payload.level, payload.reason)
    return _detail(ctx, access.access_report_by_id(ctx, report.pk))


@router.post("/{report_id}/status", response={200: ThreatOut, 404: Error, 422: Error})
def set_status(request: HttpRequest, report_id: str, payload: StatusIn) -> dict[str, Any]:
    ctx, report = _find(request, report_id)
    report = access.access_report_to_manage(ctx, report.pk)
    actions.set_status(request.user, report, payload.status)
    return _detail(ctx, access.access_report_by_id(ctx, report.pk))
