"""Forms of the referral pages. Plain fields posted to their own URLs, so the pages work
without JavaScript on a phone."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
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


# Trainings, the emergency fund and legal accompaniment (issue 8, points 4 to 6).


class WorkshopForm(forms.Form):
    line = forms.ChoiceField(label=_("Line of action (reference, Strategy 1)"), choices=[])
    topic = forms.CharField(label=_("Topic"), max_length=200)
    held_on = forms.DateField(label=_("Date"), widget=DateInput)
    duration_hours = forms.DecimalField(
        label=_("Duration (hours)"),
        min_value=Decimal("0.5"),
        max_value=Decimal("99"),
        decimal_places=1,
        help_text=_("The reference asks for 6 to 8 hours for a rights workshop."),
    )
    language = forms.CharField(label=_("Language"), max_length=60)
    community = forms.CharField(label=_("Community"), max_length=120)
    facilitator = forms.CharField(label=_("Facilitator"), max_length=200, help_text=_("Sealed."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from amparo.programmes.models import TrainingLine

        super().__init__(*args, **kwargs)
        self.fields["line"].choices = TrainingLine.choices  # type: ignore[attr-defined]


class ParticipantForm(forms.Form):
    gender = forms.ChoiceField(label=_("Gender"), choices=[])
    age_band = forms.ChoiceField(label=_("Age"), choices=[])
    indigenous = forms.ChoiceField(label=_("Indigenous identity"), choices=[])
    role = forms.ChoiceField(label=_("Role"), choices=[])
    pre_score = forms.IntegerField(
        label=_("Pre-workshop score (0 to 100)"), min_value=0, max_value=100, required=False
    )
    post_score = forms.IntegerField(
        label=_("Post-workshop score (0 to 100)"), min_value=0, max_value=100, required=False
    )
    name = forms.CharField(
        label=_("Name (optional)"),
        max_length=200,
        required=False,
        help_text=_("Not needed for the counts. Sealed when given."),
    )
    phone = forms.CharField(
        label=_("Phone for SMS follow-ups (optional)"), max_length=40, required=False
    )
    follow_up_consent = forms.BooleanField(
        label=_("Agrees to receive follow-up SMS"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from amparo.programmes.models import AgeBand, Gender, IndigenousIdentity, ParticipantRole

        super().__init__(*args, **kwargs)
        self.fields["gender"].choices = Gender.choices  # type: ignore[attr-defined]
        self.fields["age_band"].choices = AgeBand.choices  # type: ignore[attr-defined]
        self.fields["indigenous"].choices = IndigenousIdentity.choices  # type: ignore[attr-defined]
        self.fields["role"].choices = ParticipantRole.choices  # type: ignore[attr-defined]


class ScoresForm(forms.Form):
    pre_score = forms.IntegerField(label=_("Pre"), min_value=0, max_value=100, required=False)
    post_score = forms.IntegerField(label=_("Post"), min_value=0, max_value=100, required=False)


class FollowUpForm(forms.Form):
    message = forms.CharField(
        label=_("Follow-up message"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Sent by SMS to the participants who agreed and gave a phone."),
    )
    # A fresh key per form shown: the same form sent twice queues the messages once.
    request_key = forms.UUIDField(widget=forms.HiddenInput)


class FundRequestForm(forms.Form):
    category = forms.ChoiceField(label=_("What the money is for"), choices=[])
    amount = forms.DecimalField(
        label=_("Amount"), min_value=Decimal("0.01"), max_digits=12, decimal_places=2
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="PEN")
    beneficiary = forms.ChoiceField(label=_("Beneficiary"), required=False)
    beneficiary_name = forms.CharField(
        label=_("Or the beneficiary's name"),
        max_length=200,
        required=False,
        help_text=_("When the person has no record here. Sealed."),
    )
    justification = forms.CharField(
        label=_("Why the fund is needed"),
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Sealed."),
    )

    def __init__(self, *args: Any, people: Choices, **kwargs: Any) -> None:
        from amparo.programmes.models import FundCategory

        super().__init__(*args, **kwargs)
        self.fields["category"].choices = FundCategory.choices  # type: ignore[attr-defined]
        self.fields["beneficiary"].choices = [("", "—"), *people]  # type: ignore[attr-defined]


class FundRefusalForm(forms.Form):
    note = forms.CharField(
        label=_("Why the request is refused"),
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DisbursementForm(forms.Form):
    reference = forms.CharField(
        label=_("Payment reference"),
        max_length=60,
        required=False,
        help_text=_("A transfer or receipt code. No names or places."),
    )


class SatisfactionForm(forms.Form):
    satisfaction = forms.TypedChoiceField(
        label=_("The beneficiary's satisfaction"),
        coerce=int,
        choices=[
            (1, _("1: very unsatisfied")),
            (2, "2"),
            (3, "3"),
            (4, "4"),
            (5, _("5: very satisfied")),
        ],
    )


class LegalCaseForm(forms.Form):
    matter = forms.ChoiceField(label=_("Matter"), choices=[])
    person = forms.ChoiceField(label=_("Defender accompanied"), required=False)
    summary = forms.CharField(
        label=_("Summary of the case"),
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Sealed. Read by the coordinators and the assigned lawyer."),
    )
    strategic_litigation = forms.BooleanField(label=_("Strategic litigation"), required=False)
    lawyer = forms.ChoiceField(label=_("Assigned lawyer"), required=False)
    threat_report = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, people: Choices, lawyers: Choices, **kwargs: Any) -> None:
        from amparo.programmes.models import LegalMatter

        super().__init__(*args, **kwargs)
        self.fields["matter"].choices = LegalMatter.choices  # type: ignore[attr-defined]
        self.fields["person"].choices = [("", "—"), *people]  # type: ignore[attr-defined]
        self.fields["lawyer"].choices = [("", "—"), *lawyers]  # type: ignore[attr-defined]


class LawyerForm(forms.Form):
    lawyer = forms.ChoiceField(label=_("Assigned lawyer"), required=False)

    def __init__(self, *args: Any, lawyers: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lawyer"].choices = [("", "—"), *lawyers]  # type: ignore[attr-defined]


class ComplaintForm(forms.Form):
    body = forms.ChoiceField(label=_("Filed with"), choices=[])
    filed_on = forms.DateField(label=_("Filed on"), widget=DateInput)
    file_number = forms.CharField(label=_("File number"), max_length=60, required=False)
    notes = forms.CharField(
        label=_("Notes"),
        max_length=8000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Sealed."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from amparo.programmes.models import ComplaintBody

        super().__init__(*args, **kwargs)
        self.fields["body"].choices = ComplaintBody.choices  # type: ignore[attr-defined]


class ComplaintStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=[])
    status_on = forms.DateField(label=_("Since"), widget=DateInput)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[])
    sanctions = forms.IntegerField(
        label=_("Sanctions applied"), min_value=0, max_value=1000, initial=0
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from amparo.programmes.models import ComplaintOutcome, ComplaintStatus

        super().__init__(*args, **kwargs)
        self.fields["status"].choices = ComplaintStatus.choices  # type: ignore[attr-defined]
        self.fields["outcome"].choices = ComplaintOutcome.choices  # type: ignore[attr-defined]


class CloseCaseForm(forms.Form):
    resolved = forms.TypedChoiceField(
        label=_("How the case ends"),
        coerce=lambda v: v == "yes",
        choices=[
            ("yes", _("Resolved")),
            ("no", _("Closed without resolution (counted as impunity)")),
        ],
    )
