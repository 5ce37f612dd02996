"""Forms of the community protocol, evacuation plan, drill and institutional policy pages
(issue 8, points 1-3). They shape input; the rules live in the actions
(protocols.community, protocols.evacuation, protocols.institutional)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from amparo.protocols import community as protocol_actions
from amparo.protocols.models import (
    CoCreator,
    ComplianceStatus,
    DrillScenario,
    PlanStatus,
    ProtocolStatus,
    ProtocolVersion,
)


class DateInput(forms.DateInput):
    input_type = "date"


def _date(label: Any, required: bool = True) -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=DateInput)


def _area(label: Any, help_text: Any = "", rows: int = 3) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        help_text=help_text,
        max_length=protocol_actions.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


def _set_choices(field: forms.Field, choices: list[tuple[str, str]]) -> None:
    assert isinstance(field, forms.ChoiceField)
    field.choices = [("", "—"), *choices]


def parse_pairs(text: str, first: str, second: str) -> list[dict[str, str]]:
    """One pair per line, "left = right"."""
    pairs = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        left, sep, right = line.partition("=")
        if not sep:
            raise ValidationError(
                _("Write each line as: %(a)s = %(b)s") % {"a": first, "b": second}
            )
        pairs.append({first: left.strip(), second: right.strip()})
    return pairs


def format_pairs(pairs: list[dict[str, str]], first: str, second: str) -> str:
    return "\n".join(f"{p.get(first, '')} = {p.get(second, '')}" for p in pairs or [])


SEALED = gettext_lazy("(sealed)")
SECTION_LABELS = {
    "risk_identification": gettext_lazy("Risk identification"),
    "preventive_measures": gettext_lazy("Preventive measures"),
    "safe_routes": gettext_lazy("Safe travel routes"),
    protocol_actions.ALERT_SIGNALS: gettext_lazy("Community alert system: signals and codes"),
    protocol_actions.EMERGENCY_CONTACTS: gettext_lazy("Emergency contacts"),
    "gathering_points": gettext_lazy("Safe gathering points"),
    "external_coordination": gettext_lazy("Procedures for external coordination"),
}


class ProtocolForm(forms.Form):
    title = forms.CharField(
        label=gettext_lazy("Title"),
        max_length=160,
        help_text=gettext_lazy("No names of people or places."),
    )
    community = forms.CharField(
        label=gettext_lazy("Community (sealed)"), max_length=200, required=False
    )
    language = forms.CharField(
        label=gettext_lazy("Language"),
        max_length=protocol_actions.LANGUAGE_MAX,
        help_text=gettext_lazy("Language code: es, en, pt, or an Indigenous language's code"),
    )
    co_creators = forms.MultipleChoiceField(
        label=gettext_lazy("Co-created with"),
        choices=CoCreator.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    risk_identification = _area(SECTION_LABELS["risk_identification"])
    preventive_measures = _area(SECTION_LABELS["preventive_measures"])
    safe_routes = _area(format_lazy("{} {}", SECTION_LABELS["safe_routes"], SEALED))
    alert_signals = _area(
        SECTION_LABELS[protocol_actions.ALERT_SIGNALS],
        gettext_lazy("One per line: signal = what it means (sealed)"),
    )
    emergency_contacts = _area(
        SECTION_LABELS[protocol_actions.EMERGENCY_CONTACTS],
        gettext_lazy("One per line: who = phone number (sealed)"),
    )
    gathering_points = _area(format_lazy("{} {}", SECTION_LABELS["gathering_points"], SEALED))
    external_coordination = _area(SECTION_LABELS["external_coordination"])
    report_numbers = _area(
        gettext_lazy("Numbers to call or text to report"),
        gettext_lazy("One per line; printed on the card beside the QR code (sealed)"),
        rows=2,
    )
    change_note = forms.CharField(
        label=gettext_lazy("What changed"),
        max_length=300,
        required=False,
        help_text=gettext_lazy("No names or places."),
    )

    def clean_alert_signals(self) -> list[dict[str, str]]:
        return parse_pairs(self.cleaned_data["alert_signals"], "signal", "meaning")

    def clean_emergency_contacts(self) -> list[dict[str, str]]:
        return parse_pairs(self.cleaned_data["emergency_contacts"], "name", "phone")

    def clean_report_numbers(self) -> list[str]:
        return [n.strip() for n in self.cleaned_data["report_numbers"].splitlines() if n.strip()]

    def sections(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            **{name: d[name] for name in protocol_actions.TEXT_SECTIONS},
            protocol_actions.ALERT_SIGNALS: d["alert_signals"],
            protocol_actions.EMERGENCY_CONTACTS: d["emergency_contacts"],
            protocol_actions.REPORT_NUMBERS: d["report_numbers"],
        }

    @classmethod
    def initial_from(cls, version: ProtocolVersion) -> dict[str, Any]:
        s = version.sections or {}
        return {
            "title": version.title,
            "community": version.protocol.community,
            "language": version.language,
            "co_creators": list(version.co_creators or []),
            **{name: s.get(name, "") for name in protocol_actions.TEXT_SECTIONS},
            "alert_signals": format_pairs(
                s.get(protocol_actions.ALERT_SIGNALS, []), "signal", "meaning"
            ),
            "emergency_contacts": format_pairs(
                s.get(protocol_actions.EMERGENCY_CONTACTS, []), "name", "phone"
            ),
            "report_numbers": "\n".join(s.get(protocol_actions.REPORT_NUMBERS, [])),
        }


class ProtocolStatusForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=ProtocolStatus.choices)
    adopted_on = _date(gettext_lazy("Adopted on"), required=False)


class TrainingForm(forms.Form):
    person = forms.ChoiceField(label=gettext_lazy("Member trained"))
    trained_on = _date(gettext_lazy("Trained on"))
    workshop_id = forms.UUIDField(label=gettext_lazy("Workshop id"), required=False)

    def __init__(self, *args: Any, people: list[tuple[str, str]], **kw: Any):
        super().__init__(*args, **kw)
        _set_choices(self.fields["person"], people)


class EvacuationPlanForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"), max_length=160, help_text=gettext_lazy("No names of places.")
    )
    community = forms.CharField(
        label=gettext_lazy("Community (sealed)"), max_length=200, required=False
    )
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=PlanStatus.choices)
    protocol = forms.ChoiceField(label=gettext_lazy("Community protocol"), required=False)
    safe_routes = _area(gettext_lazy("Safe routes (sealed)"))
    transport = _area(gettext_lazy("Transport means (sealed)"))
    temporary_shelters = _area(gettext_lazy("Temporary shelters (sealed)"))
    by_local_authorities = forms.BooleanField(
        label=gettext_lazy("Coordinated with local authorities"), required=False
    )
    by_human_rights_organisations = forms.BooleanField(
        label=gettext_lazy("Coordinated with human rights organisations"), required=False
    )
    by_health_services = forms.BooleanField(
        label=gettext_lazy("Coordinated with health services"), required=False
    )
    coordination_contacts = _area(gettext_lazy("Coordination contacts (sealed)"))
    children = forms.IntegerField(label=gettext_lazy("Children"), min_value=0, initial=0)
    provisions_children = _area(gettext_lazy("Provisions for children (sealed)"))
    elderly = forms.IntegerField(label=gettext_lazy("Elderly people"), min_value=0, initial=0)
    provisions_elderly = _area(gettext_lazy("Provisions for elderly people (sealed)"))
    with_disabilities = forms.IntegerField(
        label=gettext_lazy("People with disabilities"), min_value=0, initial=0
    )
    provisions_disabilities = _area(
        gettext_lazy("Provisions for people with disabilities (sealed)")
    )

    def __init__(self, *args: Any, protocols: list[tuple[str, str]], **kw: Any):
        super().__init__(*args, **kw)
        _set_choices(self.fields["protocol"], protocols)


class DrillForm(forms.Form):
    held_on = _date(gettext_lazy("Held on"))
    scenario = forms.ChoiceField(label=gettext_lazy("Scenario"), choices=DrillScenario.choices)
    protocol = forms.ChoiceField(label=gettext_lazy("Protocol tested"), required=False)
    evacuation_plan = forms.ChoiceField(
        label=gettext_lazy("Evacuation plan tested"), required=False
    )
    participants = forms.IntegerField(label=gettext_lazy("Participants"), min_value=1)
    followed_protocol = forms.IntegerField(
        label=gettext_lazy("Participants who followed the protocol"), min_value=0
    )
    evacuation_minutes = forms.DecimalField(
        label=gettext_lazy("Evacuation time (minutes)"),
        required=False,
        min_value=0,
        max_digits=7,
        decimal_places=2,
    )
    critical_errors = forms.IntegerField(
        label=gettext_lazy("Critical errors"), min_value=0, initial=0
    )
    notes = _area(gettext_lazy("Observations (sealed)"))

    def __init__(
        self,
        *args: Any,
        protocols: list[tuple[str, str]],
        plans: list[tuple[str, str]],
        **kw: Any,
    ):
        super().__init__(*args, **kw)
        _set_choices(self.fields["protocol"], protocols)
        _set_choices(self.fields["evacuation_plan"], plans)

    def evacuation_seconds(self) -> int | None:
        minutes = self.cleaned_data.get("evacuation_minutes")
        return None if minutes is None else round(float(minutes) * 60)


class InstitutionalPolicyForm(forms.Form):
    has_security_manual = forms.BooleanField(
        label=gettext_lazy("The organisation has a security manual"), required=False
    )
    security_manual_adopted_on = _date(gettext_lazy("Security manual adopted on"), required=False)
    risk_plan_updated_on = _date(
        gettext_lazy("Risk management plan last updated on"), required=False
    )
    digital_security_standards = _area(
        gettext_lazy("Digital security standards (sealed)"),
        gettext_lazy("How sensitive data and communications are handled"),
        rows=5,
    )
    chain_of_command = _area(
        gettext_lazy("Crisis chain of command and staff responsibilities (sealed)"), rows=5
    )


class ComplianceCheckForm(forms.Form):
    checked_on = _date(gettext_lazy("Checked on"))
    status = forms.ChoiceField(
        label=gettext_lazy("Result"),
        choices=[
            (ComplianceStatus.COMPLIANT.value, ComplianceStatus.COMPLIANT.label),
            (ComplianceStatus.GAPS_FOUND.value, ComplianceStatus.GAPS_FOUND.label),
        ],
    )
    checker = forms.ChoiceField(label=gettext_lazy("Checked by"), required=False)
    findings = _area(gettext_lazy("Findings (sealed)"), rows=4)

    def __init__(self, *args: Any, checkers: list[tuple[str, str]], **kw: Any):
        super().__init__(*args, **kw)
        _set_choices(self.fields["checker"], checkers)


class ResolveForm(forms.Form):
    resolved_on = _date(gettext_lazy("Gaps resolved on"))
