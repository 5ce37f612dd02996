"""The source of the two XLSForms, kept as Python so that a change reads as a diff.

The threat report asks what the web form asks (incidents.forms.ThreatReportForm: the Step 1
answers, then the Step 2 record), with the web form's own words in Spanish, English and
Portuguese: labels are the same translated strings the web page shows. The hotspot
observation records a pressure mapped by a community (monitoring.models.HotspotKind).

Regenerate the workbooks in data/ after a change (a test fails until you do)::

    AMPARO_DEBUG=true .venv/bin/python -m amparo.channels.openrosa.xlsforms
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.utils import translation

DATA_DIR = Path(__file__).parent / "data"
LANGUAGES = (("es", "Español (es)"), ("en", "English (en)"), ("pt", "Português (pt)"))
DEFAULT_LANGUAGE = "Español (es)"

THREAT_FORM_ID = "amparo_threat_report"
HOTSPOT_FORM_ID = "amparo_hotspot_observation"
# Raise with every change to a form: ODK Collect compares versions and hashes.
VERSION = "2026112801"

Text = dict[str, str]


def said(text: Any) -> Text:
    """A label in each language: a triple as written, or a (lazy) gettext string as the
    web pages translate it."""
    if isinstance(text, dict):
        return text
    out = {}
    for code, _name in LANGUAGES:
        with translation.override(code):
            out[code] = str(text)
    return out


def _field(name: str) -> Any:
    from amparo.incidents.forms import ThreatReportForm

    return ThreatReportForm.base_fields[name]


# Words of the offline forms that the web pages do not have.
STEP1 = {"es": "Lo que pasó", "en": "What happened", "pt": "O que aconteceu"}
STEP2 = {"es": "El registro", "en": "The record", "pt": "O registro"}
LOCATION = {
    "es": "Ubicación (GPS, opcional)",
    "en": "Location (GPS, optional)",
    "pt": "Localização (GPS, opcional)",
}
EVIDENCE = {
    "evidence_photo": {"es": "Foto", "en": "Photo", "pt": "Foto"},
    "evidence_screenshot": {
        "es": "Captura de pantalla",
        "en": "Screenshot",
        "pt": "Captura de tela",
    },
    "evidence_audio": {
        "es": "Grabación de audio",
        "en": "Audio recording",
        "pt": "Gravação de áudio",
    },
    "evidence_video": {"es": "Video", "en": "Video", "pt": "Vídeo"},
}
EVIDENCE_TYPES = {
    "evidence_photo": "image",
    "evidence_screenshot": "image",
    "evidence_audio": "audio",
    "evidence_video": "video",
}
NONE_ALONE = {
    "es": "«Ninguna de estas» va sola.",
    "en": "“None of these” goes alone.",
    "pt": "«Nenhum destes» vai sozinho.",
}

HOTSPOT_KINDS = {
    "mining_camp": {
        "es": "Campamento de minería ilegal",
        "en": "Illegal mining camp",
        "pt": "Acampamento de garimpo ilegal",
    },
    "logging_route": {
        "es": "Ruta de tala",
        "en": "Logging route",
        "pt": "Rota de extração de madeira",
    },
    "airstrip": {
        "es": "Pista clandestina",
        "en": "Clandestine airstrip",
        "pt": "Pista clandestina",
    },
    "land_trafficking": {
        "es": "Tráfico de tierras",
        "en": "Land trafficking",
        "pt": "Grilagem de terras",
    },
    "coca": {"es": "Cultivo de coca", "en": "Coca cultivation", "pt": "Cultivo de coca"},
    "other": {"es": "Otra presión", "en": "Other pressure", "pt": "Outra pressão"},
}
HOTSPOT_WORDS = {
    "kind": {"es": "¿Qué se observó?", "en": "What was observed?", "pt": "O que foi observado?"},
    "observed_on": {"es": "Fecha", "en": "Date", "pt": "Data"},
    "shape": {
        "es": "¿Un punto o un recorrido?",
        "en": "A point or a route?",
        "pt": "Um ponto ou um percurso?",
    },
    "point": {"es": "Punto (GPS)", "en": "Point (GPS)", "pt": "Ponto (GPS)"},
    "trace": {
        "es": "Recorrido (GPS)",
        "en": "Route (GPS)",
        "pt": "Percurso (GPS)",
    },
    "photo": {"es": "Foto", "en": "Photo", "pt": "Foto"},
    "notes": {"es": "Notas", "en": "Notes", "pt": "Notas"},
}
SHAPES = {
    "point": {"es": "Un punto", "en": "A point", "pt": "Um ponto"},
    "line": {"es": "Un recorrido", "en": "A route", "pt": "Um percurso"},
}
TITLES = {
    THREAT_FORM_ID: {
        "es": "Amparo: reporte de amenaza",
        "en": "Amparo: threat report",
        "pt": "Amparo: relato de ameaça",
    },
    HOTSPOT_FORM_ID: {
        "es": "Amparo: observación de punto de presión",
        "en": "Amparo: hotspot observation",
        "pt": "Amparo: observação de ponto de pressão",
    },
}


def _row(kind: str, name: str = "", label: Any = None, **columns: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"type": kind, "name": name, **columns}
    if label is not None:
        row["label"] = said(label)
    if "hint" in row:
        row["hint"] = said(row["hint"])
    if "constraint_message" in row:
        row["constraint_message"] = said(row["constraint_message"])
    return row


def threat_report() -> dict[str, Any]:
    from amparo.incidents.forms import (
        ANSWER_CHOICES,
        ILLICIT_ORDER,
        NO_SIGN,
        QUESTIONS,
        ThreatReportForm,
    )
    from amparo.incidents.models import HarmSign, ThreatChannel

    # The web form's own "None of these" choice.
    NONE_OF_THESE = dict(ThreatReportForm.base_fields["imminent_harm_signs"].choices)[NO_SIGN]  # type: ignore[attr-defined]
    answer = "select_one yes_no_unknown"
    survey = [
        _row("begin_group", "step1", STEP1),
        _row(answer, "physical_violence", QUESTIONS["physical_violence"]),
        _row(answer, "attempted_assault", QUESTIONS["attempted_assault"]),
        _row(
            "select_multiple harm_sign",
            "imminent_harm_signs",
            QUESTIONS["imminent_harm_signs"],
            hint=_field("imminent_harm_signs").help_text,
            constraint=f"not(selected(., '{NO_SIGN}') and count-selected(.) > 1)",
            constraint_message=NONE_ALONE,
        ),
        _row(
            "select_one illicit_activity",
            "source_illicit_activity",
            QUESTIONS["source_illicit_activity"],
        ),
        _row(answer, "shows_knowledge_of_work", QUESTIONS["shows_knowledge_of_work"]),
        _row(answer, "source_known", QUESTIONS["source_known"]),
        _row("end_group", "step1"),
        _row("begin_group", "step2", STEP2),
        _row("date", "occurred_date", _field("occurred_date").label),
        _row("time", "occurred_time", _field("occurred_time").label),
        _row("text", "place", _field("place").label, hint=_field("place").help_text),
        _row("geopoint", "location", LOCATION),
        _row("text", "region", _field("region").label),
        _row("text", "community", _field("community").label),
        _row(
            "text",
            "perpetrator_description",
            _field("perpetrator_description").label,
            hint=_field("perpetrator_description").help_text,
            appearance="multiline",
        ),
        _row("select_one threat_channel", "channel", _field("channel").label),
        _row("text", "verbatim", _field("verbatim").label, appearance="multiline"),
        *[_row(EVIDENCE_TYPES[name], name, label) for name, label in EVIDENCE.items()],
        _row("end_group", "step2"),
    ]
    choices = [
        *[
            {"list_name": "yes_no_unknown", "name": value, "label": said(label)}
            for value, label in ANSWER_CHOICES
        ],
        *[
            {"list_name": "harm_sign", "name": value, "label": said(label)}
            for value, label in [*HarmSign.choices, (NO_SIGN, NONE_OF_THESE)]
        ],
        *[
            {"list_name": "illicit_activity", "name": a.value, "label": said(a.label)}
            for a in ILLICIT_ORDER
        ],
        *[
            {"list_name": "threat_channel", "name": value, "label": said(label)}
            for value, label in ThreatChannel.choices
        ],
    ]
    return _workbook(THREAT_FORM_ID, survey, choices)


def hotspot_observation() -> dict[str, Any]:
    words = HOTSPOT_WORDS
    survey = [
        _row("select_one hotspot_kind", "kind", words["kind"], required="yes"),
        _row("date", "observed_on", words["observed_on"], required="yes", default="today()"),
        _row("select_one shape", "shape", words["shape"], required="yes"),
        _row("geopoint", "point", words["point"], required="yes", relevant="${shape} = 'point'"),
        _row("geotrace", "trace", words["trace"], required="yes", relevant="${shape} = 'line'"),
        _row("image", "photo", words["photo"]),
        _row("text", "notes", words["notes"], appearance="multiline"),
    ]
    choices = [
        *[
            {"list_name": "hotspot_kind", "name": value, "label": label}
            for value, label in HOTSPOT_KINDS.items()
        ],
        *[{"list_name": "shape", "name": value, "label": label} for value, label in SHAPES.items()],
    ]
    return _workbook(HOTSPOT_FORM_ID, survey, choices)


def _workbook(form_id: str, survey: list[Any], choices: list[Any]) -> dict[str, Any]:
    settings = {
        "form_title": TITLES[form_id]["es"],
        "form_id": form_id,
        "version": VERSION,
        "default_language": DEFAULT_LANGUAGE,
    }
    return {"survey": survey, "choices": choices, "settings": settings}


FORMS = {THREAT_FORM_ID: threat_report, HOTSPOT_FORM_ID: hotspot_observation}


def sheet_rows(workbook: dict[str, Any]) -> dict[str, list[list[str]]]:
    """The workbook as the rows of its three sheets, translated columns spelled
    ``label::Español (es)`` as XLSForm wants them."""
    translated = ("label", "hint", "constraint_message")
    plain = ("required", "relevant", "constraint", "appearance", "default")

    def table(rows: list[dict[str, Any]], first: tuple[str, ...]) -> list[list[str]]:
        columns = [
            *first,
            *[f"{c}::{name}" for c in translated for _code, name in LANGUAGES],
            *plain,
        ]
        used = [c for c in columns if any(_cell(row, c) for row in rows) or c in first]
        return [used, *[[_cell(row, c) for c in used] for row in rows]]

    settings = workbook["settings"]
    return {
        "survey": table(workbook["survey"], ("type", "name")),
        "choices": table(workbook["choices"], ("list_name", "name")),
        "settings": [list(settings), list(settings.values())],
    }


def _cell(row: dict[str, Any], column: str) -> str:
    if "::" in column:
        key, language = column.split("::")
        code = language[-3:-1]
        value = row.get(key)
        return value.get(code, "") if isinstance(value, dict) else ""
    value = row.get(column, "")
    return "" if isinstance(value, dict) else str(value)


def path_of(form_id: str) -> Path:
    return DATA_DIR / f"{form_id}.xlsx"


def write(form_id: str, path: Path | None = None) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, rows in sheet_rows(FORMS[form_id]()).items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    target = path or path_of(form_id)
    book.save(target)
    return target


def read(path: Path) -> dict[str, list[list[str]]]:
    """The rows of a workbook on disk, to compare with the source."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    return {
        sheet.title: [
            ["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)
        ]
        for sheet in book.worksheets
    }


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amparo.settings")
    django.setup()
    for form_id in FORMS:
        print(write(form_id))
