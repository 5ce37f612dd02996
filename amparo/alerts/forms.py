from __future__ import annotations

from typing import Any

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from amparo.alerts.models import AlertKind, Channel, Level, Severity
from amparo.people.models import DirectoryCategory, Person, Role


class PanicForm(forms.Form):
    latitude = forms.FloatField(
        required=False, min_value=-90, max_value=90, widget=forms.HiddenInput
    )
    longitude = forms.FloatField(
        required=False, min_value=-180, max_value=180, widget=forms.HiddenInput
    )
    message = forms.CharField(
        label=_("What is happening? (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def location(self) -> dict[str, float] | None:
        lat, lon = self.cleaned_data.get("latitude"), self.cleaned_data.get("longitude")
        if lat is None or lon is None:
            return None
        return {"lat": lat, "lon": lon}


class RaiseAlertForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=AlertKind.choices, initial=AlertKind.MANUAL)
    severity = forms.ChoiceField(
        label=_("Severity"), choices=Severity.choices, initial=Severity.HIGH
    )
    person = forms.ModelChoiceField(
        label=_("Person at risk"), queryset=Person.objects.none(), required=False
    )
    message = forms.CharField(
        label=_("Message"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, people: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if people is not None:
            self.fields["person"].queryset = people  # type: ignore[attr-defined]
            self.fields["person"].label_from_instance = lambda p: p.display_name  # type: ignore[attr-defined]


class ResolveForm(forms.Form):
    note = forms.CharField(
        label=_("What was done"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ShareForm(forms.Form):
    partner = forms.SlugField(label=_("Partner organisation (short name)"))


class PolicyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    kinds = forms.MultipleChoiceField(
        label=_("For alert kinds (none: all)"),
        choices=AlertKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    severities = forms.MultipleChoiceField(
        label=_("For severities (none: all)"),
        choices=Severity.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    priority = forms.IntegerField(
        label=_("Priority (lower is chosen first)"), min_value=0, max_value=1000, initial=100
    )


class TierForm(forms.Form):
    level = forms.ChoiceField(label=_("Level"), choices=Level.choices, initial=Level.LOCAL)
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=Role.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    directory = forms.MultipleChoiceField(
        label=_("Directory contacts"),
        choices=DirectoryCategory.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    people = forms.ModelMultipleChoiceField(
        label=_("People"),
        queryset=Person.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    partners = forms.CharField(
        label=_("Partner organisations (short names, comma-separated)"),
        required=False,
        max_length=500,
    )
    channels = forms.MultipleChoiceField(
        label=_("Channels"), choices=Channel.choices, widget=forms.CheckboxSelectMultiple
    )
    delay_minutes = forms.IntegerField(
        label=_("Minutes after the alert"), min_value=0, max_value=100000, initial=0
    )
    repeat_count = forms.IntegerField(label=_("Repeats"), min_value=0, max_value=20, initial=0)
    repeat_interval_minutes = forms.IntegerField(
        label=_("Minutes between repeats"), min_value=1, max_value=10000, initial=5
    )

    def __init__(self, *args: Any, people: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if people is not None:
            self.fields["people"].queryset = people  # type: ignore[attr-defined]
            self.fields["people"].label_from_instance = lambda p: p.display_name  # type: ignore[attr-defined]

    def tier(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        if not data or data.get("DELETE"):
            return None
        targets: list[dict[str, str]] = [{"type": "role", "role": r} for r in data["roles"]]
        targets += [{"type": "directory", "category": c} for c in data["directory"]]
        targets += [{"type": "person", "id": str(p.pk)} for p in data["people"]]
        targets += [
            {"type": "partner", "slug": s.strip()} for s in data["partners"].split(",") if s.strip()
        ]
        return {
            "level": data["level"],
            "targets": targets,
            "channels": data["channels"],
            "delay_minutes": data["delay_minutes"],
            "repeat_count": data["repeat_count"],
            "repeat_interval_minutes": data["repeat_interval_minutes"],
        }

    @staticmethod
    def initial_from(tier: Any) -> dict[str, Any]:
        targets = tier.targets
        return {
            "level": tier.level,
            "roles": [t["role"] for t in targets if t.get("type") == "role"],
            "directory": [
                t["category"] for t in targets if t.get("type") == "directory" and "category" in t
            ],
            "people": [t["id"] for t in targets if t.get("type") == "person"],
            "partners": ", ".join(t["slug"] for t in targets if t.get("type") == "partner"),
            "channels": tier.channels,
            "delay_minutes": tier.delay_minutes,
            "repeat_count": tier.repeat_count,
            "repeat_interval_minutes": tier.repeat_interval_minutes,
        }


TierFormSet = formset_factory(TierForm, extra=1, can_delete=True, max_num=10)
