"""The risk forms: plain HTML forms with a fixed number of blank rows (formsets), so a
new assessment works without JavaScript on a phone. Blank rows are ignored."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from amparo.risk.models import (
    ActorType,
    CapacityRating,
    Endangers,
    Impact,
    Likelihood,
    ReassessEvery,
    SubjectKind,
    ThreatRating,
    VulnerabilityRating,
)

BLANK: list[tuple[Any, Any]] = [("", "—")]
ROWS = 3
TEXT = 4000


def _textarea(rows: int = 2) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class SubjectForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Whose risk"), choices=SubjectKind.choices, widget=forms.RadioSelect
    )
    person = forms.ChoiceField(label=_("Person"), required=False)
    community_name = forms.CharField(label=_("Community"), max_length=200, required=False)
    region = forms.CharField(label=_("Region"), max_length=120, required=False)
    reassess_every = forms.ChoiceField(
        label=_("Re-assess"), choices=ReassessEvery.choices, initial=ReassessEvery.QUARTER
    )

    def __init__(self, *args: Any, people: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = BLANK + people  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == SubjectKind.PERSON and not data.get("person"):
            self.add_error("person", _("Choose the person."))
        if data.get("kind") == SubjectKind.COMMUNITY and not data.get("community_name"):
            self.add_error("community_name", _("Name the community."))
        return data


class ReassessForm(forms.Form):
    reassess_every = forms.ChoiceField(label=_("Re-assess"), choices=ReassessEvery.choices)


class AssessmentForm(forms.Form):
    assessed_on = forms.DateField(
        label=_("Assessed on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    likelihood = forms.TypedChoiceField(
        label=_("Likelihood of an attack"),
        choices=BLANK + Likelihood.choices,
        coerce=int,
        help_text=_("How likely is an attack in the coming months?"),
    )
    impact = forms.TypedChoiceField(
        label=_("Impact if it happens"),
        choices=BLANK + Impact.choices,
        coerce=int,
        help_text=_("On the person, the community or the organisation."),
    )
    scenarios = forms.CharField(
        label=_("Scenario analysis"),
        required=False,
        max_length=TEXT,
        widget=_textarea(4),
        help_text=_("Possible escalations: what could happen next, and what would signal it."),
    )


class _Row(forms.Form):
    """A row that is either blank (ignored) or complete."""

    required_when_used: tuple[str, ...] = ()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in self.required_when_used:
            if data.get(name) in (None, ""):
                self.add_error(name, _("Fill this in, or leave the whole row blank."))
        return data


class ThreatForm(_Row):
    required_when_used = ("actor_type", "description", "rating")

    actor_type = forms.ChoiceField(
        label=_("Who is behind it"), choices=BLANK + ActorType.choices, required=False
    )
    description = forms.CharField(
        label=_("What happened or was said"), max_length=TEXT, required=False, widget=_textarea()
    )
    rating = forms.TypedChoiceField(
        label=_("Threat rating"),
        choices=BLANK + ThreatRating.choices,
        coerce=int,
        empty_value=None,
        required=False,
    )
    recurring = forms.BooleanField(
        label=_("It has happened more than once, or is ongoing"), required=False
    )
    endangers = forms.MultipleChoiceField(
        label=_("It endangers"),
        choices=Endangers.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    incident = forms.ChoiceField(label=_("Threat report"), required=False)

    def __init__(self, *args: Any, incidents: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["incident"].choices = BLANK + incidents  # type: ignore[attr-defined]


class VulnerabilityForm(_Row):
    required_when_used = ("description", "rating")

    description = forms.CharField(
        label=_("Vulnerability"), max_length=TEXT, required=False, widget=_textarea()
    )
    rating = forms.TypedChoiceField(
        label=_("Rating"),
        choices=BLANK + VulnerabilityRating.choices,
        coerce=int,
        empty_value=None,
        required=False,
    )


class CapacityForm(_Row):
    required_when_used = ("description", "rating")

    description = forms.CharField(
        label=_("Capacity"), max_length=TEXT, required=False, widget=_textarea()
    )
    rating = forms.TypedChoiceField(
        label=_("Rating"),
        choices=BLANK + CapacityRating.choices,
        coerce=int,
        empty_value=None,
        required=False,
    )


class ActionForm(_Row):
    required_when_used = ("description", "owner")

    description = forms.CharField(
        label=_("Mitigation action"), max_length=TEXT, required=False, widget=_textarea()
    )
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    due_on = forms.DateField(
        label=_("Due on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, people: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = BLANK + people  # type: ignore[attr-defined]


ThreatFormSet = forms.formset_factory(ThreatForm, extra=ROWS, max_num=20, validate_max=True)
VulnerabilityFormSet = forms.formset_factory(
    VulnerabilityForm, extra=ROWS, max_num=20, validate_max=True
)
CapacityFormSet = forms.formset_factory(CapacityForm, extra=ROWS, max_num=20, validate_max=True)
ActionFormSet = forms.formset_factory(ActionForm, extra=ROWS, max_num=20, validate_max=True)
