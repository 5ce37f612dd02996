"""The complaint dossier: a threat report as a PDF to file with the police, the public
prosecutor or, in Peru, the Intersectoral Mechanism for the Protection of Human Rights
Defenders (reference, Section 1, Step 2: "Documentation may be essential if filing a
complaint with ...").

It holds the Step 2 record, the Step 1 answers and level, every evidence file with the
SHA-256 taken at intake and its chain of custody, and the case's timeline. It is made on
demand and never stored: each export appends an EXPORT event to every file's custody log
and an audit entry carrying the PDF's own SHA-256, so a dossier handed to an authority can
later be matched to its export.

WeasyPrint renders it offline: the template carries its own styles, fonts come from the
system, and the URL fetcher refuses every URL, so nothing in a report can make the server
fetch anything.
"""

from __future__ import annotations

import hashlib
import uuid
import zoneinfo
from datetime import datetime, tzinfo
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from amparo.core import audit
from amparo.core.models import AuditEntry
from amparo.incidents import access, actions
from amparo.incidents.checklist import BY_CODE
from amparo.incidents.classify import explanation
from amparo.incidents.forms import step1_answers
from amparo.incidents.models import (
    ChecklistItem,
    CustodyAction,
    CustodyEvent,
    EvidenceFile,
    ItemStatus,
    Level,
    Owner,
    Source,
    Status,
    ThreatChannel,
    ThreatReport,
)
from amparo.people.access import OrgContext
from amparo.people.models import Person, User
from amparo.people.views import org_view

# The authorities the dossier is for speak Spanish; English serves international partners.
DOSSIER_LANGUAGES = ("es", "en")


def dossier_language(report: ThreatReport, requested: str | None) -> str:
    """``?lang=`` when it is es or en, else the report's language when it is, else es."""
    for language in (requested, report.language):
        if language in DOSSIER_LANGUAGES:
            return str(language)
    return "es"


def build_dossier(
    report: ThreatReport,
    language: str,
    *,
    generated_by: Any = None,
    generated_at: datetime | None = None,
) -> bytes:
    """The dossier of ``report`` as PDF bytes, in ``language`` (es or en)."""
    # Imported here: WeasyPrint loads Pango and takes a second, which no other page needs.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    if language not in DOSSIER_LANGUAGES:
        raise ValueError(f"the dossier is written in es or en, not {language!r}")
    with translation.override(language):
        html = render_to_string(
            "incidents/dossier.html",
            dossier_context(report, language, generated_by, generated_at or timezone.now()),
        )
    # No URL is ever fetched: not a font, an image or a style sheet.
    refuse_all = URLFetcher(allowed_protocols=())
    return bytes(HTML(string=html, base_url=None, url_fetcher=refuse_all).write_pdf())


def export_dossier(actor: Any, report: ThreatReport, language: str) -> bytes:
    """Build the dossier and record its export: an EXPORT event in every file's custody
    log (DESIGN.md section 7) and a "threat.dossier_exported" audit entry. Rendering
    happens before the transaction, so the database is never locked while it runs."""
    now = timezone.now()
    pdf = build_dossier(report, language, generated_by=actor, generated_at=now)
    digest = hashlib.sha256(pdf).hexdigest()
    files = list(EvidenceFile.objects.filter(report=report))
    with transaction.atomic():
        for evidence in files:
            actions.record_custody(
                actor,
                evidence,
                CustodyAction.EXPORT,
                {"dossier_sha256": digest, "language": language},
            )
        audit.record(
            actor,
            "threat.dossier_exported",
            report,
            details={"language": language, "evidence": len(files), "sha256": digest},
        )
    return pdf


@org_view
@require_GET
def dossier_view(request: HttpRequest, ctx: OrgContext, report_id: str) -> HttpResponse:
    report = access.access_dossier(ctx, report_id)
    language = dossier_language(report, request.GET.get("lang"))
    pdf = export_dossier(request.user, report, language)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="dossier-{report.receipt}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


# What the template shows. Everything is turned into text here, in the dossier's
# language and the organisation's time zone, so the template only lays it out.


def dossier_context(
    report: ThreatReport, language: str, generated_by: Any, generated_at: datetime
) -> dict[str, Any]:
    organisation = report.organisation
    zone = _zone(organisation.time_zone)
    evidence = list(EvidenceFile.objects.filter(report=report))
    custody = list(CustodyEvent.objects.filter(evidence__report=report).order_by("at", "id"))
    entries = list(
        AuditEntry.objects.filter(
            object_type=ThreatReport._meta.label_lower, object_id=str(report.pk)
        ).order_by("seq")
    )
    items = list(ChecklistItem.objects.filter(report=report))
    users = [report.reported_by_id] + [item.done_by_id for item in items]
    names = _actor_names(
        organisation.pk,
        [e.actor for e in entries]
        + [c.actor for c in custody]
        + [audit.actor_label(generated_by)]
        + [f"user:{pk}" for pk in users if pk is not None],
    )

    def who(label: str) -> str:
        return names.get(label) or _actor_text(label)

    def when(moment: datetime | None) -> str:
        return _when(moment, zone)

    return {
        "language": language,
        "organisation": organisation,
        "report": report,
        "time_zone": organisation.time_zone,
        "person": report.person.display_name if report.person else "",
        "reported_by": who(f"user:{report.reported_by_id}") if report.reported_by_id else "",
        "source": _label(Source, report.source),
        "received_at": when(report.created_at),
        "status": _label(Status, report.status),
        "explanation": explanation(report.level, report.reasons),
        "rules_level": _label(Level, report.rules_level),
        "reported_level": _label(Level, report.reported_level),
        "level_reason": report.level_reason,
        "occurred_at": when(report.occurred_at),
        "channel": _label(ThreatChannel, report.channel),
        "location": report.location,
        # The questions as the reporter was asked them, with the answers given.
        "answers": step1_answers(report),
        "evidence": [_evidence_row(n, e, custody, who, when) for n, e in enumerate(evidence, 1)],
        "timeline": [(when(e.at), who(e.actor), _event_text(e.action, e.details)) for e in entries],
        "checklist": [_item_row(item, who, when) for item in items],
        "generated_at": when(generated_at),
        "generated_by": who(audit.actor_label(generated_by)),
    }


def _zone(name: str) -> tzinfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _when(moment: datetime | None, zone: tzinfo) -> str:
    """2026-05-01 18:30:05-05:00: local time with its offset from UTC."""
    if moment is None:
        return ""
    return moment.astimezone(zone).isoformat(sep=" ", timespec="seconds")


def _label(choices: Any, value: str) -> str:
    return str(choices(value).label) if value in choices.values else ""


def _actor_names(organisation_id: Any, labels: list[str]) -> dict[str, str]:
    """``user:<id>`` labels as the person's name in this organisation, or the e-mail of
    the account when it has no profile here."""
    ids = set()
    for label in labels:
        if label.startswith("user:"):
            try:
                ids.add(uuid.UUID(label[5:]))
            except ValueError:
                continue
    names = {f"user:{u.pk}": u.email for u in User.objects.filter(pk__in=ids)}
    for person in Person.objects.filter(organisation_id=organisation_id, user_id__in=ids):
        if person.display_name:
            names[f"user:{person.user_id}"] = person.display_name
    return names


def _actor_text(label: str) -> str:
    if label.startswith("report:"):
        return _("The reporter (receipt %(receipt)s)") % {"receipt": label[7:]}
    if label == "anonymous":
        return _("Anonymous reporter")
    if label in ("system", "cli"):
        return _("Amparo (automatic)")
    return label


def _evidence_row(
    number: int, evidence: EvidenceFile, custody: list[CustodyEvent], who: Any, when: Any
) -> dict[str, Any]:
    return {
        "number": number,
        "id": evidence.pk,
        "name": evidence.name,
        "content_type": evidence.content_type,
        "size": evidence.size,
        "sha256": evidence.sha256,
        "uploaded_at": when(evidence.uploaded_at),
        "custody": [
            {
                "at": when(event.at),
                "actor": who(event.actor),
                "action": _label(CustodyAction, event.action),
                "note": str(event.details.get("problem", "")),
            }
            for event in custody
            if event.evidence_id == evidence.pk
        ],
    }


def _event_text(action: str, details: dict[str, Any]) -> str:
    """An audit entry of the report in words."""
    if action == "threat.reported":
        count = int(details.get("evidence", 0))
        return ngettext(
            "Report received; level %(level)s; %(count)s evidence file",
            "Report received; level %(level)s; %(count)s evidence files",
            count,
        ) % {"level": _label(Level, details.get("level", "")), "count": count}
    if action == "threat.level_changed":
        return _("Level changed from %(before)s to %(after)s") % {
            "before": _label(Level, details.get("from", "")),
            "after": _label(Level, details.get("to", "")),
        }
    if action == "threat.status":
        return _("Status changed from %(before)s to %(after)s") % {
            "before": _label(Status, details.get("from", "")),
            "after": _label(Status, details.get("to", "")),
        }
    if action == "threat.checklist":
        item = BY_CODE.get(details.get("item", ""))
        title = str(item.title) if item else details.get("item", "")
        if "status" in details:
            return _("Checklist: %(item)s: %(status)s") % {
                "item": title,
                "status": _label(ItemStatus, details["status"]),
            }
        return _("Checklist: %(item)s: notes updated") % {"item": title}
    if action == "threat.dossier_exported":
        return _("Dossier exported (%(language)s), SHA-256 %(sha256)s") % {
            "language": details.get("language", ""),
            "sha256": details.get("sha256", ""),
        }
    return action


def _item_row(item: ChecklistItem, who: Any, when: Any) -> dict[str, Any]:
    known = BY_CODE.get(item.code)
    return {
        "step": item.step,
        "title": str(known.title) if known else item.code,
        "owner": _label(Owner, item.owner),
        "status": _label(ItemStatus, item.status),
        "due_at": when(item.due_at),
        "done_at": when(item.done_at),
        "done_by": who(f"user:{item.done_by_id}") if item.done_by_id else "",
        "superseded": item.superseded,
    }
