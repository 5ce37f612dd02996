from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from amparo.crisis import advocacy
from amparo.crisis.models import ContinuityStatus, CrisisKind, CrisisRole
from amparo.people.models import DirectoryEntry, Person

TEXT = 20000


class OpenCrisisForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of crisis"), choices=CrisisKind.choices)
    title = forms.CharField(label=_("Title"), max_length=500, required=False)
    person = forms.ModelChoiceField(
        label=_("Person concerned"), queryset=Person.objects.none(), required=False
    )
    region = forms.CharField(label=_("Region"), max_length=120, required=False)
    exact_place = forms.CharField(
        label=_("Exact place"),
        max_length=2000,
        required=False,
        help_text=_("Sealed; it never leaves the organisation unless you include it."),
    )
    summary = forms.CharField(
        label=_("What happened"),
        max_length=TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, people: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if people is not None:
            self.fields["person"].queryset = people  # type: ignore[attr-defined]


class FromAlertForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind of crisis"), choices=CrisisKind.choices, initial=CrisisKind.KIDNAPPING
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Add to the timeline"), max_length=TEXT, widget=forms.Textarea(attrs={"rows": 2})
    )


class TaskDoneForm(forms.Form):
    note = forms.CharField(
        label=_("Note (optional)"),
        max_length=TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 1}),
    )
    checked = forms.TypedMultipleChoiceField(
        label=_("Done items"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, items: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["checked"].choices = list(enumerate(items or []))  # type: ignore[attr-defined]


class AdvocacyForm(forms.Form):
    appeal = forms.CharField(
        label=_("Appeal"),
        max_length=TEXT,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Names, contacts and exact places the case knows of are withheld unless you "
            "include them below. Check the preview: it is exactly what leaves."
        ),
    )
    include = forms.MultipleChoiceField(
        label=_("Include explicitly"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[
            (advocacy.NAME, _("The name of the person concerned")),
            (advocacy.PLACE, _("The exact place")),
            (advocacy.CONTACT, _("Contacts (your e-mail, and any in the appeal)")),
        ],
    )
    language = forms.ChoiceField(
        label=_("Language"), choices=[("en", "English"), ("es", "Español")], initial="en"
    )
    recipients = forms.MultipleChoiceField(
        label=_("Partner contacts"), widget=forms.CheckboxSelectMultiple
    )
    override_reason = forms.CharField(
        label=_("Reason to override the media blackout (crisis lead only)"),
        max_length=TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(
        self, *args: Any, contacts: list[DirectoryEntry] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        entries = contacts or []
        self.fields["recipients"].choices = [  # type: ignore[attr-defined]
            (str(e.pk), f"{e.name} · {e.get_category_display()} ({e.region})") for e in entries
        ]
        if not self.is_bound:
            self.initial["recipients"] = [str(e.pk) for e in entries]


class ReviewForm(forms.Form):
    what_worked = forms.CharField(
        label=_("What worked"), max_length=TEXT, widget=forms.Textarea(attrs={"rows": 3})
    )
    what_failed = forms.CharField(
        label=_("What failed"), max_length=TEXT, widget=forms.Textarea(attrs={"rows": 3})
    )
    lessons = forms.CharField(
        label=_("Lessons"),
        max_length=TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Shown to every member on the protocols page: write them without names or places."
        ),
    )
    protocol_changes = forms.CharField(
        label=_("Protocol changes"),
        max_length=TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    continuity_status = forms.ChoiceField(
        label=_("Continuity plan"), choices=ContinuityStatus.choices
    )


class PlaybookForm(forms.Form):
    media_blackout = forms.BooleanField(
        label=_("Cases of this kind start under a media blackout"), required=False
    )


class PlaybookTaskForm(forms.Form):
    """One task of a playbook, edited in one language (the others keep their text)."""

    role = forms.ChoiceField(label=_("Role"), choices=CrisisRole.choices)
    offset_minutes = forms.IntegerField(
        label=_("Due (minutes after activation)"), min_value=0, max_value=60 * 24 * 60
    )
    title = forms.CharField(label=_("Task"), max_length=300)
    guidance = forms.CharField(
        label=_("Guidance"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    remove = forms.BooleanField(label=_("Remove this task"), required=False)
