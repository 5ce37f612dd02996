"""Forms of the referral pages. Plain fields posted to their own URLs, so the pages work
without JavaScript on a phone."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django import forms
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from amparo.people.models import MentalHealthSpecialty
from amparo.programmes.models import ReferralUrgency

Choices = list[tuple[str, str]]


class DateInput(forms.DateInput):
    input_type = "date"


class SpecialtyFilterForm(forms.Form):
    """A GET form: narrows the professionals offered by the referral form below it."""

    specialty = forms.ChoiceField(
        label=_("Experienced in"),
        required=False,
        choices=[("", _("Any specialty")), *MentalHealthSpecialty.choices],
    )


class ReferralForm(forms.Form):
    person = forms.ChoiceField(label=_("Person referred"))
    professional = forms.ChoiceField(
        label=_("Mental-health professional"),
        help_text=_("From the organisation's directory."),
    )
    urgency = forms.ChoiceField(
        label=_("Urgency"), choices=ReferralUrgency.choices, initial=ReferralUrgency.URGENT
    )
    reason = forms.CharField(
        label=_("Reason for the referral"),
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Sealed. Seen by the security coordinator and the assigned psychologist only."),
    )
    community_healing_practices = forms.CharField(
        label=_("Culturally relevant, community-based healing practices"),
        required=False,
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "What the person and their community turn to for healing: ceremonies, elders, "
            "traditional medicine, collective spaces. Sealed."
        ),
    )
    psychologist = forms.ChoiceField(label=_("Assigned psychologist"), required=False)
    consent = forms.BooleanField(
        label=_("The person agreed to be referred"),
        required=True,
        error_messages={"required": _("The person must agree to the referral.")},
    )
    threat_report = forms.UUIDField(widget=forms.HiddenInput, required=False)
    crisis_case = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        people: Choices,
        professionals: Choices,
        psychologists: Choices,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [("", "—"), *people]  # type: ignore[attr-defined]
        self.fields["professional"].choices = [("", "—"), *professionals]  # type: ignore[attr-defined]
        self.fields["psychologist"].choices = [  # type: ignore[attr-defined]
            ("", _("None: the outside professional only")),
            *psychologists,
        ]


class SessionForm(forms.Form):
    held_on = forms.DateField(label=_("Date of the session"), widget=DateInput)
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), min_value=1, max_value=600, initial=60
    )
    attended = forms.BooleanField(label=_("The person attended"), required=False, initial=True)
    clinical_notes = forms.CharField(
        label=_("Clinical notes"),
        required=False,
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Sealed. Only you, the assigned psychologist, can read them."),
    )

    def __init__(self, *args: Any, with_notes: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not with_notes:
            del self.fields["clinical_notes"]


class NextSessionForm(forms.Form):
    next_session = forms.CharField(
        label=_("Next session (organisation's local time)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Leave empty when no session is planned."),
    )

    def __init__(self, *args: Any, time_zone: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.time_zone = ZoneInfo(time_zone)

    def clean_next_session(self) -> datetime | None:
        raw = (self.cleaned_data.get("next_session") or "").strip()
        if not raw:
            return None
        try:
            parsed = parse_datetime(raw)
        except ValueError:
            parsed = None
        if parsed is None:
            raise forms.ValidationError(_("Write the date and time as 2026-03-01 08:00."))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=self.time_zone)
        return parsed


class PsychologistForm(forms.Form):
    psychologist = forms.ChoiceField(label=_("Assigned psychologist"), required=False)

    def __init__(self, *args: Any, psychologists: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["psychologist"].choices = [("", "—"), *psychologists]  # type: ignore[attr-defined]


class HealingPracticesForm(forms.Form):
    community_healing_practices = forms.CharField(
        label=_("Culturally relevant, community-based healing practices"),
        required=False,
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def uuid_or_none(value: Any) -> UUID | None:
    if not value:
        return None
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except ValueError:
        return None
