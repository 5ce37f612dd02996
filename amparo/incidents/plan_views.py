"""The personal security plan page: the reference's thirteen measures as a checklist, the
contacts the plan links to, and how often the person is reminded. Plain form posts, so it
works on any phone without JavaScript; every write goes through ``incidents.plan``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from amparo.incidents import access, actions, plan
from amparo.incidents.models import Measure, PlanMeasure, SecurityPlan
from amparo.people.access import OrgContext, own_profile
from amparo.people.models import DirectoryEntry
from amparo.people.views import _form_errors_from, org_view


class MeasureForm(forms.Form):
    done = forms.BooleanField(label=gettext_lazy("Done"), required=False)
    notes = forms.CharField(
        label=gettext_lazy("Notes"),
        required=False,
        max_length=plan.MAX_NOTES,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class EntryChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} · {obj.get_category_display()} · {obj.region}"


class LinksForm(forms.Form):
    police = EntryChoiceField(
        queryset=DirectoryEntry.objects.none(),
        required=False,
        label=gettext_lazy("Police"),
    )
    health_service = EntryChoiceField(
        queryset=DirectoryEntry.objects.none(),
        required=False,
        label=gettext_lazy("Health service"),
    )
    meeting_point = EntryChoiceField(
        queryset=DirectoryEntry.objects.none(),
        required=False,
        label=gettext_lazy("Safe meeting point"),
    )

    def __init__(self, the_plan: SecurityPlan, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "police": the_plan.police_id,
                "health_service": the_plan.health_service_id,
                "meeting_point": the_plan.meeting_point_id,
            },
        )
        super().__init__(*args, **kwargs)
        for link in plan.LINK_CATEGORIES:
            field = self.fields[link]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = plan.link_choices(the_plan, link)
            field.empty_label = _("None")


class ReminderForm(forms.Form):
    days = forms.TypedChoiceField(
        label=gettext_lazy("Remind me to review the plan every"),
        coerce=int,
        choices=[
            (30, gettext_lazy("30 days")),
            (90, gettext_lazy("90 days")),
            (180, gettext_lazy("180 days")),
        ],
    )


def _measure_forms(
    measures: list[PlanMeasure], bound: PlanMeasure | None, data: Any
) -> list[tuple[PlanMeasure, Any, MeasureForm]]:
    rows = []
    for measure in measures:
        form = MeasureForm(
            data if bound is not None and measure.pk == bound.pk else None,
            prefix=measure.code,
            initial={"done": measure.done, "notes": measure.notes},
        )
        rows.append((measure, Measure(measure.code).label, form))
    return rows


@org_view
def security_plan(request: HttpRequest, ctx: OrgContext, person_id: str) -> HttpResponse:
    person = access.access_plan_person(ctx, person_id)
    the_plan = actions.plan_for(request.user, person)
    measures = list(the_plan.measures.all())
    posted = request.POST.get("form", "") if request.method == "POST" else ""
    bound_measure: PlanMeasure | None = None
    links_form = LinksForm(the_plan, request.POST if posted == "links" else None)
    reminder_form = ReminderForm(
        request.POST if posted == "reminders" else None,
        initial={"days": the_plan.reminder_days},
    )
    here = redirect("security-plan", slug=ctx.organisation.slug, person_id=person.pk)
    if posted == "measure":
        code = request.POST.get("measure", "")
        bound_measure = next((m for m in measures if m.code == code), None)
        if bound_measure is not None:
            form = MeasureForm(request.POST, prefix=code)
            if form.is_valid():
                plan.update_measure(
                    request.user,
                    bound_measure,
                    form.cleaned_data["done"],
                    form.cleaned_data["notes"],
                )
                messages.success(request, _("Saved. Checked today."))
                # Back to the same measure: on a phone the list is long.
                return redirect(f"{here.url}#measure-{code}")
    elif posted == "links" and links_form.is_valid():
        try:
            plan.set_links(request.user, the_plan, **links_form.cleaned_data)
        except ValidationError as exc:
            _form_errors_from(links_form, exc)
        else:
            messages.success(request, _("Contacts saved."))
            return here
    elif posted == "reminders" and reminder_form.is_valid():
        try:
            plan.set_reminders(request.user, the_plan, reminder_form.cleaned_data["days"])
        except ValidationError as exc:
            _form_errors_from(reminder_form, exc)
        else:
            messages.success(request, _("Reminders saved."))
            return here
    supervisor = person.supervisor if person.supervisor_id else None
    return render(
        request,
        "incidents/plan.html",
        {
            "ctx": ctx,
            "person": person,
            "own": own_profile(ctx) == person,
            "plan": the_plan,
            "rows": _measure_forms(measures, bound_measure, request.POST),
            "done": sum(1 for m in measures if m.done),
            "total": len(measures),
            "supervisor": supervisor,
            "contacts": [
                (_("Police"), the_plan.police),
                (_("Health service"), the_plan.health_service),
                (_("Safe meeting point"), the_plan.meeting_point),
            ],
            "links_form": links_form,
            "reminder_form": reminder_form,
        },
    )
