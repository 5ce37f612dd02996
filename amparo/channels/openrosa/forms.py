from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class DeviceForm(forms.Form):
    label = forms.CharField(
        label=_("Device"),
        max_length=100,
        help_text=_("Whose phone, or where it is kept: it names the device in this list."),
    )
    person = forms.ChoiceField(label=_("Reports from this device are about"), required=False)

    def __init__(self, *args: Any, people: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["person"]
        field.choices = [("", _("Nobody in particular")), *people]
