"""Forms of the deployment pages: one per record, each posted to its own URL. Plain
fields and fixed rows (three relatives, three destinations, chain-of-command rows), so
the pages work without JavaScript."""

from __future__ import annotations

import functools
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from django import forms
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from amparo.travel import gates
from amparo.travel.models import (
    Advisory,
    DeploymentStatus,
    Leg,
    SignatoryRole,
    TravelDocument,
    TripType,
)

DESTINATION_ROWS = 3
RELATIVE_ROWS = 3
CHAIN_ROWS = 4


class DateInput(forms.DateInput):
    input_type = "date"


def _date(label: Any, required: bool = False) -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=DateInput)


def _choices(field: forms.Field) -> forms.ChoiceField:
    assert isinstance(field, forms.ChoiceField)
    return field


def _lines(value: str) -> list[str]:
    return [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]


class DeploymentForm(forms.Form):
    traveller = forms.ChoiceField(label=_("Traveller"))
    trip_type = forms.ChoiceField(label=_("Kind of trip"), choices=TripType.choices)
    starts_on = _date(_("Departure"), required=True)
    returns_on = _date(_("Return"), required=True)
    purpose = forms.CharField(
        label=_("Purpose"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    lead = forms.ChoiceField(label=_("Designated lead"), required=False)
    traveller_danish = forms.BooleanField(
        label=_("The traveller is a Danish citizen"), required=False
    )

    def __init__(self, *args: Any, people: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self.fields["traveller"]).choices = people
        _choices(self.fields["lead"]).choices = [("", "—"), *people]
        for i in range(DESTINATION_ROWS):
            required = i == 0
            self.fields[f"dest{i}_country"] = forms.CharField(
                label=_("Country (two letters)"), required=required, max_length=2
            )
            self.fields[f"dest{i}_region"] = forms.CharField(
                label=_("Region"), required=False, max_length=80
            )
            self.fields[f"dest{i}_places"] = forms.CharField(
                label=_("Places"), required=False, max_length=2000
            )
            self.fields[f"dest{i}_advisory"] = forms.ChoiceField(
                label=_("Travel advisory"),
                required=False,
                choices=[("", "—"), *Advisory.choices],
            )
            self.fields[f"dest{i}_reviewed_on"] = _date(_("Advisory reviewed on"))
            self.fields[f"dest{i}_source"] = forms.CharField(
                label=_("Advisory source"), required=False, max_length=200
            )

    def destinations(self) -> list[dict[str, Any]]:
        d = self.cleaned_data
        return [
            {
                "country": d[f"dest{i}_country"],
                "region": d[f"dest{i}_region"],
                "places": d[f"dest{i}_places"],
                "advisory": d[f"dest{i}_advisory"],
                "advisory_reviewed_on": d[f"dest{i}_reviewed_on"],
                "advisory_source": d[f"dest{i}_source"],
            }
            for i in range(DESTINATION_ROWS)
            if d.get(f"dest{i}_country")
        ]


class DeclarationForm(forms.Form):
    international_flights = forms.CharField(
        label=_("International flights"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    domestic_flights = forms.CharField(
        label=_("Domestic flights"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    no_domestic_flights = forms.BooleanField(label=_("No domestic flights"), required=False)
    accommodation = forms.CharField(
        label=_("Accommodation"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    partner_contacts = forms.CharField(
        label=_("Contacts of the partners to be visited"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def values(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class NextOfKinForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(RELATIVE_ROWS):
            self.fields[f"kin{i}_name"] = forms.CharField(
                label=_("Name"), required=False, max_length=200
            )
            self.fields[f"kin{i}_relation"] = forms.CharField(
                label=_("Relation"), required=False, max_length=200
            )
            self.fields[f"kin{i}_phone"] = forms.CharField(
                label=_("Phone"), required=False, max_length=200
            )
            self.fields[f"kin{i}_email"] = forms.EmailField(label=_("Email"), required=False)

    @staticmethod
    def initial_from(relatives: list[dict[str, str]]) -> dict[str, str]:
        initial = {}
        for i, relative in enumerate(relatives[:RELATIVE_ROWS]):
            for key in ("name", "relation", "phone", "email"):
                initial[f"kin{i}_{key}"] = relative.get(key, "")
        return initial

    def relatives(self) -> list[dict[str, str]]:
        d = self.cleaned_data
        return [
            {key: d[f"kin{i}_{key}"] for key in ("name", "relation", "phone", "email")}
            for i in range(RELATIVE_ROWS)
        ]


class InsuranceForm(forms.Form):
    insurer = forms.CharField(label=_("Insurer"), max_length=120)
    policy_number = forms.CharField(label=_("Policy number"), max_length=200)
    emergency_number = forms.CharField(label=_("Emergency number"), max_length=200)
    medical = forms.BooleanField(label=_("Covers medical care"), required=False)
    evacuation = forms.BooleanField(label=_("Covers evacuation"), required=False)
    repatriation = forms.BooleanField(label=_("Covers repatriation"), required=False)
    kidnap_ransom = forms.BooleanField(label=_("Covers kidnap and ransom"), required=False)
    valid_from = _date(_("Valid from"), required=True)
    valid_to = _date(_("Valid to"), required=True)
    countries = forms.CharField(
        label=_("Countries (two letters, comma separated; empty for worldwide)"), required=False
    )
    valid_orange_red = forms.BooleanField(
        label=_("Confirmed valid under orange and red advisories"), required=False
    )

    def values(self) -> dict[str, Any]:
        values = dict(self.cleaned_data)
        values["countries"] = _lines(values["countries"])
        return values


class HealthForm(forms.Form):
    vaccinations_required = forms.CharField(
        label=_("Vaccinations required for the destination (comma separated)"), required=False
    )
    vaccinations_done = forms.CharField(
        label=_("Vaccinations done (comma separated)"), required=False
    )
    health_check_on = _date(_("Health check"))
    first_aid_on = _date(_("First aid training"))

    def values(self) -> dict[str, Any]:
        values = dict(self.cleaned_data)
        values["vaccinations_required"] = _lines(values["vaccinations_required"])
        values["vaccinations_done"] = _lines(values["vaccinations_done"])
        return values


class TrainingForm(forms.Form):
    training_on = _date(_("Training in risk assessment and situational awareness"))
    local_procedures_briefed_on = _date(_("Briefing on the local security procedures (binding)"))
    ransom_policy_briefed_on = _date(
        _("Briefing on the ransom, negotiation and communication policy")
    )

    def values(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class ChainOfCommandForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(CHAIN_ROWS):
            self.fields[f"chain{i}_role"] = forms.CharField(
                label=_("Role"), required=False, max_length=200
            )
            self.fields[f"chain{i}_name"] = forms.CharField(
                label=_("Name"), required=False, max_length=200
            )
            self.fields[f"chain{i}_phone"] = forms.CharField(
                label=_("Phone"), required=False, max_length=200
            )

    @staticmethod
    def initial_from(rows: list[dict[str, str]]) -> dict[str, str]:
        initial = {}
        for i, row in enumerate(rows[:CHAIN_ROWS]):
            for key in ("role", "name", "phone"):
                initial[f"chain{i}_{key}"] = row.get(key, "")
        return initial

    def values(self) -> dict[str, Any]:
        d = self.cleaned_data
        rows = [
            {key: d[f"chain{i}_{key}"].strip() for key in ("role", "name", "phone")}
            for i in range(CHAIN_ROWS)
        ]
        return {"chain_of_command": [r for r in rows if r["role"] or r["name"]]}


class NecessityForm(forms.Form):
    strictly_necessary = forms.TypedChoiceField(
        label=_("Is the trip strictly necessary?"),
        choices=[("", "—"), ("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda v: v == "yes",
        empty_value=None,
        required=False,
    )
    necessity_reason = forms.CharField(
        label=_("Why"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def values(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class RegistrationsForm(forms.Form):
    embassy_registered = forms.BooleanField(label=_("Registered with the embassy"), required=False)
    danskerliste = forms.BooleanField(label=_("Registered on the Danskerliste"), required=False)
    rejseklar = forms.BooleanField(label=_("Rejseklar app set up"), required=False)
    embassy_contact_saved = forms.BooleanField(label=_("Embassy contact saved"), required=False)
    emergency_centre_contact_saved = forms.BooleanField(
        label=_("Global Emergency Centre contact saved"), required=False
    )

    def values(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=DeploymentStatus.choices)


class ExceptionForm(forms.Form):
    gate = forms.ChoiceField(label=_("Gate"))
    reason = forms.CharField(
        label=_("Why the trip may go without it"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, failing: list[gates.Gate] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self.fields["gate"]).choices = [(g, str(gates.TITLES[g])) for g in gates.GATES]
        if failing is not None:
            _choices(self.fields["gate"]).choices = [(g.code, g.title) for g in failing]


class TravelSettingsForm(forms.Form):
    executive_director = forms.ChoiceField(label=_("Executive Director"), required=False)
    head_of_finance = forms.ChoiceField(label=_("Head of Finance & Programmes"), required=False)
    other_trips_signed_by = forms.ChoiceField(
        label=_("Who signs other trips"), choices=SignatoryRole.choices
    )

    def __init__(self, *args: Any, members: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("executive_director", "head_of_finance"):
            _choices(self.fields[name]).choices = [("", "—"), *members]


class CodeOfConductForm(forms.Form):
    text = forms.CharField(
        label=_("Code of conduct (a new version)"), widget=forms.Textarea(attrs={"rows": 8})
    )


# The traveller's pages during the trip (travel.trip_views): the itinerary, PINs,
# check-in, the lost-communications plan, proof of life and the annexes.

PROOF_OF_LIFE_ROWS = 5


@functools.cache
def _time_zone_choices() -> list[tuple[str, str]]:
    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))
    return [("", "—"), *((z, z.replace("_", " ")) for z in zones), ("UTC", "UTC")]


class LocalDateTimeInput(forms.DateTimeInput):
    """A browser date-time picker; without one (or without JavaScript) a text box that
    takes "2026-03-01 08:00" as well."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class LocalDateTimeField(forms.DateTimeField):
    """A wall-clock time, naive: the form reads it in the time zone chosen beside it,
    not in the server's (``LegForm.clean``)."""

    widget = LocalDateTimeInput

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        try:
            parsed = parse_datetime(str(value).strip())
        except ValueError:
            parsed = None
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed.replace(tzinfo=None)


def _aware(local: datetime, zone: tzinfo) -> datetime | None:
    """``local`` on the wall clock of ``zone``, or None when that time does not exist
    there (the hour skipped when the clocks go forward)."""
    aware = local.replace(tzinfo=zone)
    back = aware.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)
    return aware if back == local else None


class LegForm(forms.Form):
    """One stay of the itinerary. Times are read on the leg's own wall clock: the
    traveller writes them as the local timetable shows them."""

    place = forms.CharField(
        label=_("Place (town, lodging)"),
        required=False,
        max_length=2000,
        help_text=_("Sealed: only the people who can read this trip see it."),
    )
    country = forms.CharField(label=_("Country (two letters)"), max_length=2, min_length=2)
    region = forms.CharField(label=_("Region"), required=False, max_length=80)
    time_zone = forms.ChoiceField(label=_("Time zone of the place"))
    starts_local = LocalDateTimeField(label=_("Arrives (local time)"))
    ends_local = LocalDateTimeField(label=_("Leaves (local time)"))
    checkin_every_hours = forms.IntegerField(
        label=_("Check in every (hours)"), min_value=1, max_value=168, initial=24
    )
    grace_minutes = forms.IntegerField(
        label=_("Grace before a check-in counts as missed (minutes)"),
        min_value=0,
        max_value=24 * 60,
        initial=60,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self.fields["time_zone"]).choices = _time_zone_choices()

    @staticmethod
    def initial_from(leg: Leg) -> dict[str, Any]:
        zone = ZoneInfo(leg.time_zone)
        return {
            "place": leg.place,
            "country": leg.country,
            "region": leg.region,
            "time_zone": leg.time_zone,
            "starts_local": leg.starts_at.astimezone(zone).replace(tzinfo=None),
            "ends_local": leg.ends_at.astimezone(zone).replace(tzinfo=None),
            "checkin_every_hours": leg.checkin_every_hours,
            "grace_minutes": leg.grace_minutes,
        }

    def clean_country(self) -> str:
        country = self.cleaned_data["country"].strip().upper()
        if not (country.isascii() and country.isalpha() and len(country) == 2):
            raise forms.ValidationError(_("Give the two-letter country code, such as PE."))
        return country

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        if not d.get("time_zone"):
            return d
        zone = ZoneInfo(d["time_zone"])
        for local, aware in (("starts_local", "starts_at"), ("ends_local", "ends_at")):
            if d.get(local) is None:
                continue
            d[aware] = _aware(d[local], zone)
            if d[aware] is None:
                self.add_error(
                    local, _("That time does not exist there: the clocks skip it that day.")
                )
        return d

    def values(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "place": d["place"].strip(),
            "country": d["country"],
            "region": d["region"].strip(),
            "time_zone": d["time_zone"],
            "starts_at": d["starts_at"],
            "ends_at": d["ends_at"],
            "checkin_every_hours": d["checkin_every_hours"],
            "grace_minutes": d["grace_minutes"],
        }


def _pin_field(label: Any, required: bool = True) -> forms.CharField:
    # Never rendered back (render_value=False); a number pad on a phone.
    return forms.CharField(
        label=label,
        required=required,
        max_length=8,
        strip=True,
        widget=forms.PasswordInput(
            render_value=False,
            attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]*"},
        ),
    )


class PinsForm(forms.Form):
    checkin_pin = _pin_field(_("Check-in PIN (4 to 8 digits)"))
    checkin_pin_again = _pin_field(_("Check-in PIN again"))
    duress_pin = _pin_field(_("Duress PIN (4 to 8 digits, optional)"), required=False)
    duress_pin_again = _pin_field(_("Duress PIN again"), required=False)

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        if d.get("checkin_pin") != d.get("checkin_pin_again"):
            self.add_error("checkin_pin_again", _("The two check-in PINs differ."))
        if (d.get("duress_pin") or "") != (d.get("duress_pin_again") or ""):
            self.add_error("duress_pin_again", _("The two duress PINs differ."))
        return d


class CheckInForm(forms.Form):
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    lat = forms.FloatField(
        label=_("Latitude (optional)"), required=False, min_value=-90, max_value=90
    )
    lon = forms.FloatField(
        label=_("Longitude (optional)"), required=False, min_value=-180, max_value=180
    )
    pin = _pin_field(_("PIN (if you use one)"), required=False)

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        if (d.get("lat") is None) != (d.get("lon") is None):
            self.add_error(None, _("Give both the latitude and the longitude, or neither."))
        return d

    def location(self) -> dict[str, float] | None:
        d = self.cleaned_data
        if d.get("lat") is None or d.get("lon") is None:
            return None
        return {"lat": d["lat"], "lon": d["lon"]}

    def pin_given(self) -> str | None:
        return self.cleaned_data.get("pin") or None


class LostCommsPlanForm(forms.Form):
    traveller_will = forms.CharField(
        label=_("If I cannot check in, I will"),
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Where you would go, whom you would call, how you would get word out, and "
            "after how long."
        ),
    )
    organisation_should = forms.CharField(
        label=_("If I do not check in, the organisation should"),
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Whom to call first, what to wait for, and what never to do."),
    )


class ProofOfLifeForm(forms.Form):
    """Up to five question and answer pairs. Saving replaces every earlier pair, and the
    answers are never shown back, so each is written again."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(PROOF_OF_LIFE_ROWS):
            self.fields[f"q{i}_question"] = forms.CharField(
                label=_("Question %(n)s") % {"n": i + 1}, required=False, max_length=500
            )
            self.fields[f"q{i}_answer"] = forms.CharField(
                label=_("Answer %(n)s") % {"n": i + 1},
                required=False,
                max_length=500,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
            )

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        for i in range(PROOF_OF_LIFE_ROWS):
            question = (d.get(f"q{i}_question") or "").strip()
            answer = (d.get(f"q{i}_answer") or "").strip()
            if question and not answer:
                self.add_error(f"q{i}_answer", _("Write the answer to this question."))
            if answer and not question:
                self.add_error(f"q{i}_question", _("Write the question to this answer."))
        return d

    def questions(self) -> list[dict[str, str]]:
        d = self.cleaned_data
        return [
            {"question": d[f"q{i}_question"].strip(), "answer": d[f"q{i}_answer"].strip()}
            for i in range(PROOF_OF_LIFE_ROWS)
            if d.get(f"q{i}_question", "").strip()
        ]


class ProofOfLifeReadForm(forms.Form):
    justification = forms.CharField(
        label=_("Why you need the answers now"),
        min_length=10,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Recorded in the audit log with your name."),
    )


class TravelDocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of document"))
    file = forms.FileField(
        label=_("File (PDF or photo)"),
        help_text=_("Stored encrypted in the evidence vault."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self.fields["kind"]).choices = TravelDocument.Kind.choices
