from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from amparo.people.models import (
    TIME_ZONE_CHOICES,
    CommunityRole,
    DirectoryCategory,
    MentalHealthSpecialty,
    Person,
    Role,
)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Six-digit code from your authenticator app"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}
        ),
    )

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].replace(" ", "")
        if not token.isdigit():
            raise forms.ValidationError(_("The code has only digits."))
        return token


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class PersonForm(forms.Form):
    given_names = forms.CharField(label=_("Given names"), max_length=200)
    family_names = forms.CharField(label=_("Family names"), max_length=200, required=False)
    phone_numbers = forms.CharField(
        label=_("Phone numbers"),
        required=False,
        help_text=_("One per line"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    home_area = forms.CharField(label=_("Home area"), max_length=500, required=False)
    languages = forms.CharField(
        label=_("Languages spoken"), required=False, help_text=_("Separated by commas")
    )
    community_role = forms.ChoiceField(
        label=_("Role in the community"), choices=CommunityRole.choices
    )
    preferred_language = forms.ChoiceField(
        label=_("Preferred language"), choices=settings.LANGUAGES
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"), choices=TIME_ZONE_CHOICES, initial="America/Lima"
    )
    quiet_hours_start = forms.TimeField(
        label=_("Quiet hours from"),
        required=False,
        help_text=_("Local time. Life-threatening alerts still reach this person."),
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    quiet_hours_end = forms.TimeField(
        label=_("Quiet hours until"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("quiet_hours_start") is None) != (data.get("quiet_hours_end") is None):
            raise forms.ValidationError(_("Give both ends of the quiet hours, or neither."))
        return data

    @classmethod
    def initial_from(cls, person: Person) -> dict[str, Any]:
        return {
            "given_names": person.given_names,
            "family_names": person.family_names,
            "phone_numbers": "\n".join(person.phone_numbers or []),
            "email": person.email,
            "home_area": person.home_area,
            "languages": ", ".join(person.languages or []),
            "community_role": person.community_role,
            "preferred_language": person.preferred_language,
            "time_zone": person.time_zone,
            "quiet_hours_start": person.quiet_hours_start,
            "quiet_hours_end": person.quiet_hours_end,
        }

    def clean_phone_numbers(self) -> list[str]:
        return _lines(self.cleaned_data["phone_numbers"])

    def clean_languages(self) -> list[str]:
        return _lines(self.cleaned_data["languages"])


class ChainOfCommandForm(forms.Form):
    supervisor = forms.ModelChoiceField(
        label=_("Supervisor"), queryset=Person.objects.none(), required=False
    )
    emergency_rank = forms.IntegerField(
        label=_("Order of authority in an emergency"),
        min_value=1,
        max_value=50,
        required=False,
        help_text=_("1 decides first in an emergency; leave empty if this person does not decide."),
    )

    def __init__(self, *args: Any, people: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if people is not None:
            self.fields["supervisor"].queryset = people  # type: ignore[attr-defined]
            self.fields["supervisor"].label_from_instance = lambda p: p.display_name  # type: ignore[attr-defined]


class DirectoryEntryForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=DirectoryCategory.choices)
    region = forms.CharField(label=_("Region"), max_length=120)
    name = forms.CharField(label=_("Name"), max_length=300)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    address = forms.CharField(label=_("Address or place"), max_length=500, required=False)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    specialties = forms.MultipleChoiceField(
        label=_("Specialties (mental health)"),
        choices=MentalHealthSpecialty.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    available_24h = forms.BooleanField(label=_("Available 24 hours"), required=False)


class SafeHouseForm(forms.Form):
    region = forms.CharField(label=_("Region"), max_length=120)
    name = forms.CharField(label=_("Name"), max_length=300)
    address = forms.CharField(label=_("Address"), max_length=500)
    latitude = forms.FloatField(label=_("Latitude"), min_value=-90, max_value=90, required=False)
    longitude = forms.FloatField(
        label=_("Longitude"), min_value=-180, max_value=180, required=False
    )
    contact = forms.CharField(label=_("Contact"), max_length=300, required=False)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    capacity = forms.IntegerField(
        label=_("Capacity (people)"), min_value=1, max_value=500, initial=1
    )
    available = forms.BooleanField(label=_("Available now"), required=False, initial=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        lat, lon = data.get("latitude"), data.get("longitude")
        if (lat is None) != (lon is None):
            raise forms.ValidationError(_("Give both latitude and longitude, or neither."))
        return data

    def action_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        lat, lon = data.pop("latitude"), data.pop("longitude")
        data["location"] = {"lat": lat, "lon": lon} if lat is not None else None
        return data


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class AcceptInvitationForm(forms.Form):
    password = forms.CharField(
        label=_("Choose a password"), widget=forms.PasswordInput, min_length=10
    )
    password_again = forms.CharField(label=_("The password again"), widget=forms.PasswordInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") != data.get("password_again"):
            raise forms.ValidationError(_("The two passwords are not the same."))
        return data


class DuressPasswordForm(forms.Form):
    duress_password = forms.CharField(
        label=_("Duress password"),
        required=False,
        widget=forms.PasswordInput,
        help_text=_(
            "If someone forces you to sign in, use this password instead: you will see an "
            "empty account, and your organisation gets a silent high alert. Leave empty to "
            "remove it."
        ),
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("What the token is for"), max_length=100)
