"""Import pages (issue 7, point 6): upload a CSV and pick a preset, map its columns (and
save the mapping as a preset), then follow the background import on a progress page that
refreshes itself with a meta refresh, so it works without JavaScript. Coordinators only
(monitoring.access). Thin: reads through monitoring.access, writes through
monitoring.imports."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from amparo.incidents.models import Level
from amparo.monitoring import access, imports
from amparo.monitoring.models import ActorType, ImportJob, ImportState, IncidentKind
from amparo.people.access import OrgContext
from amparo.people.views import org_view

REFRESH_SECONDS = 2


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"))
    preset = forms.ChoiceField(label=gettext_lazy("Column mapping"), required=False)

    def __init__(self, *args: Any, presets: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        preset = cast(forms.ChoiceField, self.fields["preset"])
        preset.choices = [("", _("Map the columns myself")), *presets]


class MappingForm(forms.Form):
    """One select per target field and identity part, listing the file's columns."""

    def __init__(self, *args: Any, header: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        columns = [("", "—"), *((name, name) for name in header)]
        for target, label in imports.TARGETS.items():
            self.fields[f"col_{target}"] = forms.ChoiceField(
                label=label, choices=columns, required=False
            )
        for part, label in imports.IDENTITY_PARTS.items():
            self.fields[f"id_{part}"] = forms.ChoiceField(
                label=label, choices=columns, required=False
            )
        self.fields["default_kind"] = forms.ChoiceField(
            label=_("Kind for rows without one"),
            choices=[("", "—"), *IncidentKind.choices],
            required=False,
        )
        self.fields["default_level"] = forms.ChoiceField(
            label=_("Level for rows without one"),
            choices=[("", "—"), *Level.choices],
            required=False,
        )
        self.fields["default_actor_type"] = forms.ChoiceField(
            label=_("Actor type for rows without one"),
            choices=[("", "—"), *ActorType.choices],
            required=False,
        )
        self.fields["date_format"] = forms.CharField(
            label=_("Date format"),
            required=False,
            max_length=20,
            help_text=_("For example %Y-%m-%d or %d/%m/%Y. Empty: the common formats."),
        )
        self.fields["save_as"] = forms.CharField(
            label=_("Save this mapping as a preset named"), required=False, max_length=120
        )

    @classmethod
    def initial_from(cls, mapping: dict[str, Any]) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        for target, column in (mapping.get("columns") or {}).items():
            initial[f"col_{target}"] = column
        for part, column in (mapping.get("identity") or {}).items():
            initial[f"id_{part}"] = column
        for target, value in (mapping.get("defaults") or {}).items():
            initial[f"default_{target}"] = value
        initial["date_format"] = mapping.get("date_format", "")
        return initial

    def mapping(self, value_maps: dict[str, Any]) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "columns": {t: data[f"col_{t}"] for t in imports.TARGETS if data[f"col_{t}"]},
            "identity": {p: data[f"id_{p}"] for p in imports.IDENTITY_PARTS if data[f"id_{p}"]},
            "defaults": {
                t: data[f"default_{t}"] for t in imports.DEFAULTABLE if data[f"default_{t}"]
            },
            "values": value_maps,
            "date_format": data["date_format"],
        }


def _presets(ctx: OrgContext) -> list[tuple[str, str]]:
    imports.ensure_builtin_presets(ctx.organisation)
    return [(str(p.pk), p.name) for p in access.presets_visible_to(ctx)]


@org_view
def import_list(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    access.require_importer(ctx)
    presets = _presets(ctx)
    form = UploadForm(request.POST or None, request.FILES or None, presets=presets)
    if request.method == "POST" and form.is_valid():
        preset = None
        if form.cleaned_data["preset"]:
            preset = access.access_import_preset_by_id(ctx, form.cleaned_data["preset"])
        upload = form.cleaned_data["file"]
        try:
            job = imports.upload(
                request.user,
                ctx.organisation,
                filename=upload.name,
                raw=upload.read(imports.MAX_FILE_BYTES + 1),
                preset=preset,
                created_by=request.user,
            )
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            return redirect("monitoring-import-mapping", ctx.organisation.slug, job.pk)
    jobs = access.import_jobs_visible_to(ctx).select_related("created_by")[:50]
    return render(request, "monitoring/import_list.html", {"ctx": ctx, "form": form, "jobs": jobs})


@org_view
def import_mapping(request: HttpRequest, ctx: OrgContext, job_id: str) -> HttpResponse:
    job = access.access_import_job_by_id(ctx, job_id)
    if job.state != ImportState.MAPPING:
        return redirect("monitoring-import", ctx.organisation.slug, job.pk)
    header = imports.header_of(job.content)
    form = MappingForm(
        request.POST or None, header=header, initial=MappingForm.initial_from(job.mapping)
    )
    if request.method == "POST" and form.is_valid():
        try:
            imports.queue_import(
                request.user,
                job,
                form.mapping(job.mapping.get("values") or {}),
                save_as=form.cleaned_data["save_as"],
            )
        except ValidationError as exc:
            _errors_onto(form, exc)
        else:
            return redirect("monitoring-import", ctx.organisation.slug, job.pk)
    return render(
        request,
        "monitoring/import_mapping.html",
        {
            "ctx": ctx,
            "job": job,
            "form": form,
            "header": header,
            "value_maps": job.mapping.get("values") or {},
        },
    )


def _errors_onto(form: MappingForm, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, errors in exc.error_dict.items():
        for name in (f"col_{key}", f"id_{key}", key):
            if name in form.fields:
                form.add_error(name, errors)
                break
        else:
            form.add_error(None, errors)


@org_view
def import_progress(request: HttpRequest, ctx: OrgContext, job_id: str) -> HttpResponse:
    job: ImportJob = access.access_import_job_by_id(ctx, job_id)
    if job.state == ImportState.MAPPING:
        return redirect("monitoring-import-mapping", ctx.organisation.slug, job.pk)
    working = job.state in (ImportState.QUEUED, ImportState.RUNNING)
    return render(
        request,
        "monitoring/import_progress.html",
        {
            "ctx": ctx,
            "job": job,
            "working": working,
            "refresh_seconds": REFRESH_SECONDS,
            "rejected": [] if working else job.rejected,
        },
    )
