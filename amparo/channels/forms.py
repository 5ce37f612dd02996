from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from amparo.alerts.models import Channel


class DeliveryChannelForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    url = forms.CharField(
        label=_("Apprise URL"),
        max_length=2000,
        required=False,
        help_text=_("{to} is replaced by the recipient's number or address. Empty: remove."),
    )


class TwilioForm(forms.Form):
    auth_token = forms.CharField(
        label=_("Twilio auth token"), max_length=200, widget=forms.PasswordInput
    )
