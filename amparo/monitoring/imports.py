"""CSV imports of incidents (issue 7, point 6; DESIGN.md section 8).

Three steps, each an action that audits in its own transaction:

1. ``upload`` keeps the file, sealed, in an ``ImportJob`` waiting for its mapping.
2. ``queue_import`` fixes the column mapping (optionally saved as a preset) and enqueues
   ``run_import_task`` on the django-tasks database backend, in the same transaction: a
   queued job always has its task. The worker command runs the task queue in a thread
   (``amparo worker``; ``amparo demo`` starts one).
3. ``run_import`` claims the job with a conditional UPDATE (a second worker that picks
   the same task does nothing), converts the rows in batches, commits each batch and its
   progress, and ends with every row either imported or listed with the reason.

A mapping is JSON, the same in a job and in a preset::

    {"columns": {"occurred_on": "date", "country": "country", ...},  # target -> column
     "identity": {"name": "name", "gender": "gender", ...},         # sealed parts
     "defaults": {"kind": "killing"},                               # when no column
     "values": {"actor_type": {"Hitmen": "hitmen", ...}},           # value maps
     "date_format": "%Y-%m-%d"}

Re-importing a file updates the incidents it brought before: a row's own id in its file
(``external_id``) is unique per organisation among imported incidents.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks import task

from amparo.core import audit
from amparo.incidents.models import Level
from amparo.monitoring import countries, grid, tallies
from amparo.monitoring.models import (
    ActorType,
    ImportJob,
    ImportPreset,
    ImportState,
    Incident,
    IncidentKind,
    IncidentOrigin,
    month_of,
)
from amparo.people.models import Organisation

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
BATCH = 250
EARLIEST = dt.date(1900, 1, 1)

# The fields a column can fill, in the order the mapping screen shows them.
TARGETS: dict[str, Any] = {
    "external_id": gettext_lazy("Row id in the file (re-imports update, never duplicate)"),
    "occurred_on": gettext_lazy("Date"),
    "country": gettext_lazy("Country (name or ISO code)"),
    "region": gettext_lazy("Region"),
    "kind": gettext_lazy("Kind of incident"),
    "level": gettext_lazy("Level (low, medium, high)"),
    "actor_type": gettext_lazy("Actor type"),
    "sector": gettext_lazy("Sector"),
    "victims": gettext_lazy("Number of victims"),
    "latitude": gettext_lazy("Latitude"),
    "longitude": gettext_lazy("Longitude"),
    "description": gettext_lazy("Description (sealed)"),
}
# Who it happened to: stored sealed as the incident's identity (DESIGN.md section 7).
IDENTITY_PARTS: dict[str, Any] = {
    "name": gettext_lazy("Name (sealed)"),
    "gender": gettext_lazy("Gender (sealed)"),
    "age": gettext_lazy("Age (sealed)"),
    "characteristics": gettext_lazy("Characteristics (sealed)"),
}
DEFAULTABLE = ("kind", "level", "actor_type")
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%d.%m.%Y")

GLOBAL_WITNESS = "global_witness"
GLOBAL_WITNESS_MAPPING: dict[str, Any] = {
    "columns": {
        "external_id": "id",
        "occurred_on": "date",
        "country": "country",
        "region": "local_region",
        "actor_type": "perpetrator_type",
        "sector": "industry_driver",
        "victims": "number_of_victims",
    },
    "identity": {
        "name": "name",
        "gender": "gender",
        "age": "age",
        "characteristics": "person_characteristics",
    },
    # Every row of the file is a defender killed; reference, Section 1, Step 1: physical
    # violence makes the risk high.
    "defaults": {"kind": IncidentKind.KILLING, "level": Level.HIGH},
    "values": {
        "actor_type": {
            "Hitmen": ActorType.HITMEN,
            "Private military actors": ActorType.PRIVATE_SECURITY,
            "Private security guards": ActorType.PRIVATE_SECURITY,
            "Police": ActorType.POLICE,
            "Armed forces": ActorType.ARMED_FORCES,
            "Organised crime / mafias": ActorType.ORGANISED_CRIME,
            "Landowners": ActorType.LANDOWNERS,
            "Government officials/entities": ActorType.OFFICIALS,
            "Corporations": ActorType.COMPANY,
            "Poachers": ActorType.OTHER,
            "Unspecified": ActorType.UNKNOWN,
        },
        "sector": {"Sector could not be confirmed*": ""},
    },
    "date_format": "%Y-%m-%d",
}
BUILTIN_PRESETS = {
    GLOBAL_WITNESS: ("Global Witness (land defenders killed)", GLOBAL_WITNESS_MAPPING)
}


class RowRejected(Exception):
    """A row that cannot be imported, with the reason shown to the coordinator."""


# Presets and files


def ensure_builtin_presets(organisation: Organisation) -> list[ImportPreset]:
    """The presets that ship with Amparo, made for an organisation on first use."""
    presets = []
    for builtin, (name, mapping) in BUILTIN_PRESETS.items():
        preset, _created = ImportPreset.objects.get_or_create(
            organisation=organisation, builtin=builtin, defaults={"name": name, "mapping": mapping}
        )
        if preset.mapping != mapping:  # a new release may improve a built-in preset
            preset.mapping = mapping
            preset.save(update_fields=["mapping"])
        presets.append(preset)
    return presets


def decode(raw: bytes) -> str:
    if len(raw) > MAX_FILE_BYTES:
        raise ValidationError(_("The file is larger than 20 MB."))
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError(_("The file is not UTF-8 or Windows-1252 text."))  # pragma: no cover


def _reader(text: str) -> csv.DictReader[str]:
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)


def header_of(text: str) -> list[str]:
    return [name for name in (_reader(text).fieldnames or []) if name]


def count_rows(text: str) -> int:
    return sum(1 for _row in _reader(text))


def guess_mapping(header: list[str]) -> dict[str, Any]:
    """Columns named like a target (``date``, ``country`` ...) are mapped to it."""
    by_name = {name.strip().lower(): name for name in header}
    aliases = {
        "external_id": ("id", "external_id"),
        "occurred_on": ("date", "occurred_on", "fecha"),
        "country": ("country", "pais", "país"),
        "region": ("region", "región", "local_region"),
        "kind": ("kind", "type", "tipo"),
        "level": ("level", "nivel"),
        "actor_type": ("actor_type", "perpetrator_type", "actor"),
        "sector": ("sector", "industry_driver"),
        "victims": ("victims", "number_of_victims", "victimas", "víctimas"),
        "latitude": ("lat", "latitude", "latitud"),
        "longitude": ("lon", "lng", "longitude", "longitud"),
        "description": ("description", "descripcion", "descripción"),
    }
    columns = {}
    for target, names in aliases.items():
        for name in names:
            if name in by_name:
                columns[target] = by_name[name]
                break
    identity = {part: by_name[part] for part in IDENTITY_PARTS if part in by_name}
    return {"columns": columns, "identity": identity, "defaults": {}, "values": {}}


def validate_mapping(mapping: dict[str, Any], header: list[str]) -> dict[str, Any]:
    columns = {k: v for k, v in (mapping.get("columns") or {}).items() if v}
    identity = {k: v for k, v in (mapping.get("identity") or {}).items() if v}
    defaults = {k: v for k, v in (mapping.get("defaults") or {}).items() if v}
    errors: dict[str, str] = {}
    for target, column in columns.items():
        if target not in TARGETS:
            errors[target] = _("Unknown field %(field)s.") % {"field": target}
        elif column not in header:
            errors[target] = _("The file has no column %(column)s.") % {"column": column}
    for part, column in identity.items():
        if part not in IDENTITY_PARTS or column not in header:
            errors[part] = _("The file has no column %(column)s.") % {"column": column}
    if "occurred_on" not in columns:
        errors["occurred_on"] = _("Choose the column that holds the date.")
    if "kind" not in columns and not defaults.get("kind"):
        errors["kind"] = _("Choose the column of the kind of incident, or a kind for all rows.")
    if ("latitude" in columns) != ("longitude" in columns):
        errors["latitude"] = _("Choose both the latitude and the longitude columns, or neither.")
    for target, value in defaults.items():
        if target not in DEFAULTABLE or _choice(target, value) is None:
            errors[target] = _("%(value)s is not a known value.") % {"value": value}
    if errors:
        raise ValidationError(errors)
    date_format = mapping.get("date_format") or ""
    return {
        "columns": columns,
        "identity": identity,
        "defaults": defaults,
        "values": mapping.get("values") or {},
        "date_format": date_format,
    }


# Actions


def upload(
    actor: Any,
    organisation: Organisation,
    *,
    filename: str,
    raw: bytes,
    preset: ImportPreset | None = None,
    created_by: Any = None,
) -> ImportJob:
    text = decode(raw)
    header = header_of(text)
    if not header:
        raise ValidationError(_("The file has no header row."))
    total = count_rows(text)
    if total == 0:
        raise ValidationError(_("The file has no rows."))
    if total > MAX_ROWS:
        raise ValidationError(_("The file has more than %(max)d rows.") % {"max": MAX_ROWS})
    mapping = dict(preset.mapping) if preset is not None else guess_mapping(header)
    with transaction.atomic():
        job = ImportJob.objects.create(
            organisation=organisation,
            filename=filename[:200],
            content=text,
            mapping=mapping,
            state=ImportState.MAPPING,
            total_rows=total,
            created_by=created_by,
        )
        audit.record(
            actor,
            "monitoring.import_uploaded",
            job,
            details={"rows": total, "preset": preset.name if preset else ""},
        )
    return job


def queue_import(
    actor: Any, job: ImportJob, mapping: dict[str, Any], *, save_as: str = ""
) -> ImportJob:
    if job.state != ImportState.MAPPING:
        raise ValidationError(_("This import has already been queued."))
    cleaned = validate_mapping(mapping, header_of(job.content))
    # The reasons of rejected rows are written in the language of who started the import.
    cleaned["language"] = translation.get_language() or settings.LANGUAGE_CODE
    with transaction.atomic():
        job.mapping = cleaned
        job.state = ImportState.QUEUED
        job.save(update_fields=["mapping", "state"])
        if save_as.strip():
            preset = ImportPreset.objects.filter(
                organisation_id=job.organisation_id, name=save_as.strip()
            ).first()
            if preset is not None and preset.builtin:
                raise ValidationError({"save_as": _("A built-in preset has this name.")})
            ImportPreset.objects.update_or_create(
                organisation_id=job.organisation_id,
                name=save_as.strip()[:120],
                defaults={"mapping": {k: v for k, v in cleaned.items() if k != "language"}},
            )
        audit.record(
            actor,
            "monitoring.import_queued",
            job,
            details={"rows": job.total_rows, "preset_saved": save_as.strip()},
        )
        # Same transaction: the job and its task commit together, or neither does.
        run_import_task.enqueue(str(job.pk))
    return job


@task()
def run_import_task(job_id: str) -> dict[str, int]:
    job = run_import(job_id)
    if job is None:
        return {}
    return {"imported": job.imported_rows, "rejected": len(job.rejected)}


def run_import(job_id: str) -> ImportJob | None:
    """Run a queued import; None when another worker has it or it is not queued."""
    claimed = ImportJob.objects.filter(pk=job_id, state=ImportState.QUEUED).update(
        state=ImportState.RUNNING, processed_rows=0, imported_rows=0
    )
    if not claimed:
        return None
    job = ImportJob.objects.select_related("organisation").get(pk=job_id)
    try:
        with translation.override(job.mapping.get("language") or settings.LANGUAGE_CODE):
            _run(job)
    except Exception as exc:
        # The reason is the kind of failure only: a message could quote the file.
        with transaction.atomic():
            ImportJob.objects.filter(pk=job.pk).update(
                state=ImportState.FAILED, error=type(exc).__name__, finished_at=timezone.now()
            )
            audit.record(
                "worker", "monitoring.import_failed", job, details={"error": type(exc).__name__}
            )
        raise
    return job


@dataclass
class _Converted:
    external_id: str
    fields: dict[str, Any]


def _run(job: ImportJob) -> None:
    mapping = job.mapping
    rejected: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    processed = imported = 0
    batch: list[_Converted] = []
    rows = list(_reader(job.content))
    ImportJob.objects.filter(pk=job.pk).update(total_rows=len(rows))
    for index, row in enumerate(rows):
        line = index + 2  # the header is line 1, as a spreadsheet numbers them
        try:
            converted = convert_row(row, mapping)
            if converted.external_id:
                if converted.external_id in seen:
                    raise RowRejected(
                        _("the id %(id)s is already on row %(row)d")
                        % {"id": converted.external_id, "row": seen[converted.external_id]}
                    )
                seen[converted.external_id] = line
            batch.append(converted)
        except RowRejected as exc:
            rejected.append({"row": line, "reason": str(exc)})
        processed += 1
        if len(batch) >= BATCH or processed == len(rows):
            imported += _save_batch(job, batch)
            batch = []
            ImportJob.objects.filter(pk=job.pk).update(
                processed_rows=processed, imported_rows=imported
            )
    with transaction.atomic():
        job.refresh_from_db()
        job.rejected = rejected
        job.processed_rows = processed
        job.imported_rows = imported
        job.state = ImportState.DONE
        job.finished_at = timezone.now()
        job.content = ""  # the rows now live in incidents; keep no second copy
        job.save()
        audit.record(
            "worker",
            "monitoring.import_done",
            job,
            details={"rows": processed, "imported": imported, "rejected": len(rejected)},
        )


@transaction.atomic
def _save_batch(job: ImportJob, batch: list[_Converted]) -> int:
    ids = [item.external_id for item in batch if item.external_id]
    existing = {
        incident.external_id: incident
        for incident in Incident.objects.filter(
            organisation_id=job.organisation_id,
            origin=IncidentOrigin.IMPORT,
            external_id__in=ids,
        )
    }
    new = []
    changes = tallies.Changes()  # the batch's tallies, written by one statement
    for item in batch:
        incident = existing.get(item.external_id) if item.external_id else None
        if incident is None:
            incident = Incident(
                organisation_id=job.organisation_id,
                origin=IncidentOrigin.IMPORT,
                import_job=job,
                external_id=item.external_id,
                **item.fields,
            )
            new.append(incident)
            changes.count(tallies.values_of(incident))
            continue
        before = tallies.values_of(incident)
        for name, value in item.fields.items():
            setattr(incident, name, value)
        incident.import_job = job
        incident.save()
        changes.move(before, tallies.values_of(incident))
    Incident.objects.bulk_create(new)
    changes.save()
    return len(batch)


# Rows


def convert_row(row: dict[str, Any], mapping: dict[str, Any]) -> _Converted:
    """The incident fields of one CSV row, or RowRejected with the reason."""
    columns = mapping.get("columns", {})
    defaults = mapping.get("defaults", {})
    values = mapping.get("values", {})

    def cell(target: str) -> str:
        column = columns.get(target)
        raw = (row.get(column) or "") if column else ""
        text = str(raw).strip()
        return str(values.get(target, {}).get(text, text))

    occurred_on = _date(cell("occurred_on"), mapping.get("date_format") or "")
    fields: dict[str, Any] = {
        "occurred_on": occurred_on,
        "month": month_of(occurred_on),
        "country": _country(cell("country")),
        "region": cell("region")[:120],
        "kind": _required_choice("kind", cell("kind") or defaults.get("kind", "")),
        "level": _level(cell("level") or defaults.get("level", "")),
        "actor_type": _actor(cell("actor_type") or defaults.get("actor_type", "")),
        "sector": cell("sector")[:60],
        "victims": _victims(cell("victims")),
        "description": cell("description"),
    }
    fields.update(_place(cell("latitude"), cell("longitude")))
    identity = {}
    for part, column in (mapping.get("identity") or {}).items():
        value = str(row.get(column) or "").strip()
        if value:
            identity[part] = value
    fields["identity"] = identity or None
    return _Converted(external_id=cell("external_id")[:100], fields=fields)


def _date(text: str, date_format: str) -> dt.date:
    if not text:
        raise RowRejected(_("no date"))
    for fmt in ((date_format,) if date_format else ()) + DATE_FORMATS:
        try:
            day = dt.datetime.strptime(text[:10], fmt).date()  # noqa: DTZ007 - a date only
        except ValueError:
            continue
        if day < EARLIEST or day > timezone.now().date():
            raise RowRejected(_("the date %(date)s is out of range") % {"date": text})
        return day
    raise RowRejected(_("the date %(date)s cannot be read") % {"date": text})


def _country(text: str) -> str:
    if not text:
        return ""
    code = countries.alpha2_of(text)
    if code is None:
        raise RowRejected(_("the country %(country)s is not known") % {"country": text})
    return code


def _choice(target: str, text: str) -> str | None:
    """A value of a choice field from its code or its English label, any case."""
    choices = {"kind": IncidentKind, "level": Level, "actor_type": ActorType}[target]
    folded = text.strip().lower()
    with translation.override("en"):
        for value, label in choices.choices:
            if folded in (value, str(label).lower()):
                return str(value)
    return None


def _required_choice(target: str, text: str) -> str:
    value = _choice(target, text) if text else None
    if value is None:
        raise RowRejected(_("the kind %(kind)s is not known") % {"kind": text or "-"})
    return value


def _level(text: str) -> str:
    if not text:
        return ""
    value = _choice("level", text)
    if value is None:
        raise RowRejected(_("the level %(level)s is not known") % {"level": text})
    return value


def _actor(text: str) -> str:
    if not text:
        return str(ActorType.UNKNOWN)
    # Someone the list does not name is still someone: "other", not "unknown".
    return _choice("actor_type", text) or str(ActorType.OTHER)


def _victims(text: str) -> int:
    if not text:
        return 1
    try:
        number = int(text)
    except ValueError:
        raise RowRejected(_("the number of victims %(n)s is not a number") % {"n": text}) from None
    if number < 0 or number > 10_000:
        raise RowRejected(_("the number of victims %(n)s is out of range") % {"n": text})
    return number


def _place(lat_text: str, lon_text: str) -> dict[str, Any]:
    if not lat_text and not lon_text:
        return {"location": None, "cell": ""}
    try:
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        raise RowRejected(_("the coordinates cannot be read")) from None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise RowRejected(_("the coordinates cannot be read"))
    try:
        cell = grid.cell_of(lat, lon)
    except ValueError:
        raise RowRejected(_("the coordinates are out of range")) from None
    return {"location": {"lat": round(lat, 6), "lon": round(lon, 6)}, "cell": cell.id}
