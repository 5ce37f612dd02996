"""Reading a submitted form instance: the XML parsed with DTDs, entities and external
references refused (XXE and "billion laughs" never expand), then its answers mapped to
what the domain actions take."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from xml.etree.ElementTree import Element, ParseError  # noqa: S405 - types only
from zoneinfo import ZoneInfo

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from django.utils.translation import gettext as _


class MalformedSubmission(Exception):
    """The submission cannot be read; the message says why, for the phone to show."""


@dataclass
class Instance:
    form_id: str
    version: str
    instance_id: str
    answers: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str:
        return self.answers.get(name, "").strip()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse(xml: bytes) -> Instance:
    try:
        root: Element = SafeET.fromstring(xml, forbid_dtd=True)
    except DefusedXmlException:
        raise MalformedSubmission(
            _("The submission declares a DTD or entities, which are not accepted.")
        ) from None
    except (ParseError, ValueError):
        raise MalformedSubmission(_("The submission is not well-formed XML.")) from None
    form_id = root.get("id", "")
    answers: dict[str, str] = {}
    instance_id = ""
    for element in root.iter():
        name = _local(element.tag)
        if len(element) == 0:
            # Leaves only: a group's name is not an answer. Names are unique in the
            # forms served here (pyxform requires it), so groups can be flattened.
            answers.setdefault(name, element.text or "")
        if name == "instanceID" and not instance_id:
            instance_id = (element.text or "").strip()
    instance_id = instance_id or root.get("instanceID", "")
    if not form_id:
        raise MalformedSubmission(_("The submission does not name its form."))
    if not instance_id or len(instance_id) > 200:
        raise MalformedSubmission(_("The submission has no instanceID."))
    return Instance(form_id, root.get("version", ""), instance_id, answers)


def attachment_names(instance: Instance) -> set[str]:
    """File names the answers refer to: only these attachment parts are kept."""
    return {value.strip() for value in instance.answers.values() if value.strip()}


# The threat report (xlsforms.threat_report)

ANSWERS = {"yes": True, "no": False}
EVIDENCE_FIELDS = ("evidence_photo", "evidence_screenshot", "evidence_audio", "evidence_video")
# ODK Collect writes a time as 14:30:00.000-05:00, with the phone's offset.
TIME = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


def _offset(text: str) -> Any:
    from datetime import timedelta, timezone

    if text in ("", None):
        return None
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def occurred_at(day_text: str, time_text: str, time_zone: str) -> datetime | None:
    if not day_text:
        if time_text:
            raise MalformedSubmission(_("A time was given without a date."))
        return None
    try:
        day = date.fromisoformat(day_text[:10])
    except ValueError:
        raise MalformedSubmission(_("The date is not a date.")) from None
    at, zone = time(0, 0), None
    if time_text:
        match = TIME.match(time_text)
        if match is None:
            raise MalformedSubmission(_("The time is not a time."))
        hours, minutes, seconds, offset = match.groups()
        try:
            at = time(int(hours), int(minutes), int(seconds or 0))
        except ValueError:
            raise MalformedSubmission(_("The time is not a time.")) from None
        zone = _offset(offset or "")
    return datetime.combine(day, at, tzinfo=zone or ZoneInfo(time_zone))


def geopoint(text: str) -> tuple[float, float] | None:
    """ "lat lon altitude accuracy" as ODK writes a geopoint."""
    if not text:
        return None
    parts = text.split()
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except (IndexError, ValueError):
        raise MalformedSubmission(_("The location is not a GPS point.")) from None
    return lat, lon


def threat_data(instance: Instance, *, time_zone: str, language: str) -> dict[str, Any]:
    """The fields incidents.actions.report_threat takes, read as the web form reads its
    own (incidents.forms.ThreatReportForm.report_data): "I do not know" is unanswered,
    no sign ticked is unanswered, "none of these" alone is an answered empty list."""
    from amparo.incidents.forms import NO_SIGN

    data: dict[str, Any] = {}
    for key in (
        "physical_violence",
        "attempted_assault",
        "shows_knowledge_of_work",
        "source_known",
    ):
        data[key] = ANSWERS.get(instance.get(key))
    ticked = instance.get("imminent_harm_signs").split()
    data["imminent_harm_signs"] = [s for s in ticked if s != NO_SIGN] if ticked else None
    data["source_illicit_activity"] = instance.get("source_illicit_activity") or None
    point = geopoint(instance.get("location"))
    data.update(
        {
            "occurred_at": occurred_at(
                instance.get("occurred_date"), instance.get("occurred_time"), time_zone
            ),
            "place": instance.get("place"),
            "lat": point[0] if point else None,
            "lon": point[1] if point else None,
            "region": instance.get("region"),
            "community": instance.get("community"),
            "perpetrator_description": instance.get("perpetrator_description"),
            "channel": instance.get("channel") or "other",
            "verbatim": instance.get("verbatim"),
            "language": language,
        }
    )
    return data


def evidence_names(instance: Instance) -> list[str]:
    return [instance.get(name) for name in EVIDENCE_FIELDS if instance.get(name)]


# The hotspot observation (xlsforms.hotspot_observation)


def geometry(instance: Instance) -> dict[str, Any]:
    """A GeoJSON geometry ([lon, lat] order) from the point or the trace."""
    shape = instance.get("shape")
    if shape == "line":
        coordinates = []
        for vertex in instance.get("trace").split(";"):
            point = geopoint(vertex.strip())
            if point is not None:
                coordinates.append([point[1], point[0]])
        if len(coordinates) < 2:
            raise MalformedSubmission(_("A route needs at least two points."))
        return {"type": "LineString", "coordinates": coordinates}
    point = geopoint(instance.get("point"))
    if point is None:
        raise MalformedSubmission(_("The observation has no GPS point."))
    return {"type": "Point", "coordinates": [point[1], point[0]]}


def observed_on(instance: Instance) -> date:
    try:
        return date.fromisoformat(instance.get("observed_on")[:10])
    except ValueError:
        raise MalformedSubmission(_("The date is not a date.")) from None
