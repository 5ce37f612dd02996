"""Forms of the threat report pages. The report form asks the Step 1 questions of the
reference's "Procedure for responding to a threat" as plain yes / no / I do not know
choices (I do not know is stored as unanswered), then the Step 2 record."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from amparo.incidents.classify import ANSWER_KEYS
from amparo.incidents.models import (
    HarmSign,
    IllicitActivity,
    ItemStatus,
    Level,
    Status,
    ThreatChannel,
    ThreatReport,
)

YES, NO, UNKNOWN = "yes", "no", "unknown"
ANSWER_CHOICES = [(YES, _("Yes")), (NO, _("No")), (UNKNOWN, _("I do not know"))]
NO_SIGN = "none"


def _answer(value: str) -> bool | None:
    return {YES: True, NO: False}.get(value)


class AnswerField(forms.TypedChoiceField):
    """Yes, no or I do not know: True, False or None (not answered)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            choices=ANSWER_CHOICES,
            coerce=_answer,
            empty_value=None,
            required=False,
            widget=forms.RadioSelect,
            **kwargs,
        )


# Illicit activities first, then "none" and "I do not know", as a person would read them.
ILLICIT_ORDER = [
    IllicitActivity.ILLEGAL_MINING,
    IllicitActivity.ILLEGAL_LOGGING,
    IllicitActivity.DRUG_TRAFFICKING,
    IllicitActivity.LAND_TRAFFICKING,
    IllicitActivity.OTHER,
    IllicitActivity.NONE,
    IllicitActivity.UNKNOWN,
]

# Step 1 questions, by answer key (incidents.classify.ANSWER_KEYS).
QUESTIONS: dict[str, Any] = {
    "physical_violence": _("Was there physical violence?"),
    "attempted_assault": _("Was there an attempted assault?"),
    "imminent_harm_signs": _("Are there signs that harm is about to happen?"),
    "source_illicit_activity": _(
        "Is whoever threatened linked to an illicit activity in the area?"
    ),
    "shows_knowledge_of_work": _(
        "Does the threat show that they know the person's work, routine or family?"
    ),
    "source_known": _("Do you know who made the threat?"),
}


class ThreatReportForm(forms.Form):
    """Step 1 (what happened: the questions that set the level) and Step 2 (the record).
    Evidence files are not fields here: the vault takes them while the body streams in."""

    person = forms.ChoiceField(label=_("Who was threatened?"), required=False)
    # Step 1
    physical_violence = AnswerField(label=QUESTIONS["physical_violence"])
    attempted_assault = AnswerField(label=QUESTIONS["attempted_assault"])
    imminent_harm_signs = forms.MultipleChoiceField(
        label=QUESTIONS["imminent_harm_signs"],
        choices=[*HarmSign.choices, (NO_SIGN, _("None of these"))],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick every one that applies. Leave all empty if you do not know."),
    )
    source_illicit_activity = forms.TypedChoiceField(
        label=QUESTIONS["source_illicit_activity"],
        choices=[(a.value, a.label) for a in ILLICIT_ORDER],
        required=False,
        empty_value=None,
        widget=forms.RadioSelect,
    )
    shows_knowledge_of_work = AnswerField(label=QUESTIONS["shows_knowledge_of_work"])
    source_known = AnswerField(label=QUESTIONS["source_known"])
    # Step 2
    occurred_date = forms.DateField(
        label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    occurred_time = forms.TimeField(
        label=_("Time"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    place = forms.CharField(
        label=_("Place"),
        required=False,
        max_length=500,
        help_text=_("Where it happened: a street, a path, a river, a building."),
    )
    lat = forms.FloatField(
        label=_("Latitude (optional)"),
        required=False,
        min_value=-90,
        max_value=90,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    lon = forms.FloatField(
        label=_("Longitude (optional)"),
        required=False,
        min_value=-180,
        max_value=180,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    region = forms.CharField(label=_("Region"), required=False, max_length=80)
    community = forms.CharField(label=_("Community"), required=False, max_length=200)
    perpetrator_description = forms.CharField(
        label=_("Who made the threat?"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Names if known, what they looked like, vehicles, how many they were."),
    )
    channel = forms.ChoiceField(
        label=_("How did the threat reach you?"),
        choices=[("", "—"), *ThreatChannel.choices],
        required=False,
    )
    verbatim = forms.CharField(
        label=_("What was said or written, word for word"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    STEP1 = ANSWER_KEYS

    def __init__(
        self,
        *args: Any,
        people: list[tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        """``people``: (id, name) of whom the reporter may report for; None when they
        report only for themselves (then the field is not shown)."""
        super().__init__(*args, **kwargs)
        if people is None:
            del self.fields["person"]
        else:
            field: Any = self.fields["person"]
            field.choices = [("", _("Someone not in the list, or nobody in particular")), *people]

    def clean_imminent_harm_signs(self) -> list[str] | None:
        ticked = self.cleaned_data["imminent_harm_signs"]
        if not ticked:
            return None  # not answered
        return [sign for sign in ticked if sign != NO_SIGN]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if (data.get("lat") is None) != (data.get("lon") is None):
            self.add_error("lat", _("Give both latitude and longitude, or neither."))
        if data.get("occurred_time") is not None and data.get("occurred_date") is None:
            self.add_error("occurred_date", _("Give the date too."))
        return data

    def occurred_at(self, time_zone: str) -> datetime | None:
        """The date and time as the reporter gave them, in their time zone. A date with no
        time is taken as the start of that day."""
        day: date | None = self.cleaned_data.get("occurred_date")
        if day is None:
            return None
        at: time = self.cleaned_data.get("occurred_time") or time(0, 0)
        return datetime.combine(day, at, tzinfo=ZoneInfo(time_zone))

    def report_data(self, *, time_zone: str, language: str) -> dict[str, Any]:
        """What incidents.actions.report_threat takes."""
        data = self.cleaned_data
        fields = {key: data.get(key) for key in self.STEP1}
        fields.update(
            {
                "occurred_at": self.occurred_at(time_zone),
                "place": data.get("place", ""),
                "lat": data.get("lat"),
                "lon": data.get("lon"),
                "region": data.get("region", ""),
                "community": data.get("community", ""),
                "perpetrator_description": data.get("perpetrator_description", ""),
                "channel": data.get("channel") or ThreatChannel.OTHER,
                "verbatim": data.get("verbatim", ""),
                "language": language,
            }
        )
        return fields

    # The action names its fields; these are the form's.
    ACTION_FIELDS = {"occurred_at": "occurred_date", "person": "person"}

    def add_action_errors(self, errors: dict[str, list[str]]) -> None:
        for key, messages in errors.items():
            name = self.ACTION_FIELDS.get(key, key)
            self.add_error(name if name in self.fields else None, messages)

    @property
    def step1_fields(self) -> list[Any]:
        return [self[name] for name in self.STEP1]


class ReceiptForm(forms.Form):
    code = forms.CharField(
        label=_("Receipt code"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )


class CaseFilterForm(forms.Form):
    level = forms.ChoiceField(
        label=_("Level"), choices=[("", _("Any level")), *Level.choices], required=False
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any status")), *Status.choices], required=False
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[("", _("Any channel")), *ThreatChannel.choices],
        required=False,
    )
    region = forms.CharField(label=_("Region"), required=False, max_length=80)
    date_from = forms.DateField(
        label=_("Reported from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("Reported until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def filter(self, reports: QuerySet[ThreatReport], time_zone: str) -> QuerySet[ThreatReport]:
        """The reports that match; days are the organisation's local days."""
        data = self.cleaned_data
        for key in ("level", "status", "channel"):
            if data.get(key):
                reports = reports.filter(**{key: data[key]})
        if data.get("region"):
            reports = reports.filter(region__icontains=data["region"].strip())
        zone = ZoneInfo(time_zone)
        if data.get("date_from"):
            start = datetime.combine(data["date_from"], time(0, 0), tzinfo=zone)
            reports = reports.filter(created_at__gte=start)
        if data.get("date_to"):
            end = datetime.combine(data["date_to"] + timedelta(days=1), time(0, 0), tzinfo=zone)
            reports = reports.filter(created_at__lt=end)
        return reports


class LevelForm(forms.Form):
    level = forms.ChoiceField(label=_("New level"), choices=Level.choices)
    reason = forms.CharField(
        label=_("Why (required, kept in the record)"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)


class ItemForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ItemStatus.choices, required=False)
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )


# Reading the answers back (the case view and the dossier)


def answer_text(value: Any) -> str:
    if value is True:
        return str(_("Yes"))
    if value is False:
        return str(_("No"))
    return str(_("Not answered"))


def step1_answers(report: ThreatReport) -> list[tuple[str, str]]:
    """The Step 1 questions as the reporter was asked them, with the answers given."""
    answers = report.answers or {}
    rows = []
    for key, question in QUESTIONS.items():
        value = answers.get(key)
        if key == "imminent_harm_signs":
            if value is None:
                text = str(_("Not answered"))
            elif not value:
                text = str(_("None of these"))
            else:
                text = "; ".join(str(HarmSign(s).label) for s in value if s in HarmSign.values)
        elif key == "source_illicit_activity":
            text = str(IllicitActivity(value).label) if value else str(_("Not answered"))
        else:
            text = answer_text(value)
        rows.append((str(question), text))
    return rows
