"""Forms of the deployment pages: one per record, each posted to its own URL. Plain
fields and fixed rows (three relatives, three destinations, chain-of-command rows), so
the pages work without JavaScript."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from amparo.travel import gates
from amparo.travel.models import Advisory, DeploymentStatus, SignatoryRole, TripType

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
