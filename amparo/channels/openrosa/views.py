"""The OpenRosa endpoints under /openrosa/<org-slug>/ (formList, form download, manifest,
submission) and the coordinators' page of app users. The endpoints are the only CSRF
exempt views of this package: phones authenticate every request with Digest or Basic,
and carry no cookies."""

from __future__ import annotations

import base64
import functools
import json
import logging
import zlib
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

import segno
from django.contrib import messages
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent, ValidationError
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from amparo.channels.models import OpenRosaDevice
from amparo.channels.openrosa import actions, auth, upload, xforms
from amparo.channels.openrosa.forms import DeviceForm
from amparo.channels.openrosa.instance import MalformedSubmission
from amparo.core import ratelimit
from amparo.core.access import not_found
from amparo.people import access
from amparo.people.access import OrgContext
from amparo.people.models import Organisation
from amparo.people.views import org_view

log = logging.getLogger("amparo.channels.openrosa")

XML = "text/xml; charset=utf-8"
FORM_LIST_NS = "http://openrosa.org/xforms/xformsList"
MANIFEST_NS = "http://openrosa.org/xforms/xformsManifest"
RESPONSE_NS = "http://openrosa.org/http/response"

Endpoint = Callable[..., HttpResponse]


def openrosa_response(status: int, message: str) -> HttpResponse:
    body = (
        "<?xml version='1.0' encoding='UTF-8' ?>"
        f'<OpenRosaResponse xmlns="{RESPONSE_NS}">'
        f'<message nature="{"submit_success" if status < 300 else "submit_error"}">'
        f"{escape(message)}</message></OpenRosaResponse>"
    )
    return HttpResponse(body, status=status, content_type=XML)


def endpoint(view: Endpoint) -> Endpoint:
    """Authenticate the app user of this organisation, or answer 401 with a challenge.
    An unknown organisation is answered like a wrong password."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
        organisation = Organisation.objects.filter(slug=slug).first()
        outcome = auth.authenticate(request, organisation) if organisation else auth.Outcome()
        if outcome.device is None:
            response = HttpResponse(_("Authentication required."), status=401)
            realm = auth.realm_of(organisation) if organisation else f"Amparo {slug}"
            response["WWW-Authenticate"] = auth.challenge(
                realm, secure=request.is_secure(), stale=outcome.stale
            )
        else:
            response = view(request, outcome.device, *args, **kwargs)
        response["X-OpenRosa-Version"] = "1.0"
        language = translation.get_language()
        if language:
            response.setdefault("Content-Language", language[:2])
        return response

    return wrapper


def _absolute(request: HttpRequest, name: str, *args: Any) -> str:
    return escape(request.build_absolute_uri(reverse(name, args=args)))


@endpoint
def form_list(request: HttpRequest, device: OpenRosaDevice) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    slug = device.organisation.slug
    wanted = request.GET.get("formID")
    language = (translation.get_language() or "es")[:2]
    entries = []
    for form_id in xforms.FORM_IDS:
        if wanted and wanted != form_id:
            continue
        form = xforms.xform(form_id)
        entries.append(
            "<xform>"
            f"<formID>{escape(form.form_id)}</formID>"
            f"<name>{escape(form.title(language))}</name>"
            f"<version>{escape(form.version)}</version>"
            f"<hash>md5:{form.md5}</hash>"
            f"<downloadUrl>{_absolute(request, 'openrosa-form', slug, form_id)}</downloadUrl>"
            f"<manifestUrl>{_absolute(request, 'openrosa-manifest', slug, form_id)}</manifestUrl>"
            "</xform>"
        )
    body = f"<?xml version='1.0' encoding='UTF-8' ?><xforms xmlns=\"{FORM_LIST_NS}\">"
    return HttpResponse(body + "".join(entries) + "</xforms>", content_type=XML)


def _known(form_id: str) -> xforms.XForm | None:
    return xforms.xform(form_id) if form_id in xforms.FORM_IDS else None


@endpoint
def form_download(request: HttpRequest, device: OpenRosaDevice, form_id: str) -> HttpResponse:
    form = _known(form_id)
    if form is None:
        return HttpResponse(_("No such form."), status=404)
    return HttpResponse(form.xml, content_type=XML)


@endpoint
def manifest(request: HttpRequest, device: OpenRosaDevice, form_id: str) -> HttpResponse:
    if _known(form_id) is None:
        return HttpResponse(_("No such form."), status=404)
    # The forms use no media files: an empty manifest.
    body = f"<?xml version='1.0' encoding='UTF-8' ?><manifest xmlns=\"{MANIFEST_NS}\"/>"
    return HttpResponse(body, content_type=XML)


def _too_many(request: HttpRequest, seconds: int) -> HttpResponse:
    response = openrosa_response(
        429, _("Too many submissions from this network. The phone will send them again later.")
    )
    response["Retry-After"] = str(seconds)
    response["X-OpenRosa-Version"] = "1.0"
    return response


@ratelimit.rate_limited(ratelimit.OPENROSA_SUBMISSIONS, _too_many)
@endpoint
def submission(request: HttpRequest, device: OpenRosaDevice) -> HttpResponse:
    if request.method == "HEAD":
        response = HttpResponse(status=204)
    elif request.method == "POST":
        response = _submit(request, device)
    else:
        response = HttpResponse(status=405, headers={"Allow": "HEAD, POST"})
    response["X-OpenRosa-Accept-Content-Length"] = str(upload.advertised_bytes())
    return response


def _submit(request: HttpRequest, device: OpenRosaDevice) -> HttpResponse:
    handler = upload.SubmissionUploadHandler(request, device.organisation_id)
    try:
        post, _files = upload.parse_body(request, handler)
    except (upload.TooLarge, RequestDataTooBig, TooManyFilesSent):
        handler.discard_all()
        return openrosa_response(413, _("The submission is too large."))
    except upload.LengthRequired:
        handler.discard_all()
        return openrosa_response(411, _("Send a Content-Length or a chunked body."))
    except MultiPartParserError:
        handler.discard_all()
        return openrosa_response(400, _("The submission is not a multipart form."))
    except BaseException:
        handler.discard_all()
        raise
    xml = bytes(handler.xml) if handler.xml is not None else post.get(upload.XML_PART, "").encode()
    if not xml:
        handler.discard_all()
        return openrosa_response(400, _("The submission has no xml_submission_file part."))
    incomplete = post.get(upload.INCOMPLETE_PART, "").strip().lower() == "yes"
    try:
        received = actions.receive_submission(
            device,
            xml,
            handler.staged,
            incomplete=incomplete,
            language=(translation.get_language() or "es")[:2],
        )
    except MalformedSubmission as exc:
        return openrosa_response(400, str(exc))
    except ValidationError as exc:
        return openrosa_response(400, " ".join(exc.messages))
    except actions.UnknownForm:
        return openrosa_response(404, _("This server does not know that form."))
    except actions.Conflict:
        return openrosa_response(
            409, _("Another submission with the same instanceID was already received.")
        )
    return openrosa_response(201, received.message)


# The coordinators' page


def access_device_by_id(ctx: OrgContext, device_id: Any) -> OpenRosaDevice:
    """An app user of the context's organisation, for a coordinator; 404 otherwise."""
    access.require(ctx, ctx.can_manage_members)
    device = OpenRosaDevice.objects.filter(pk=_uuid(device_id)).first()
    if device is None:
        not_found()
    if device.organisation_id != ctx.organisation.pk:
        not_found()
    return device


def _uuid(value: Any) -> Any:
    import uuid

    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def collect_settings(server_url: str, username: str, password: str) -> str:
    """What ODK Collect's "Configure with QR code" reads: JSON, zlib, base64."""
    settings = {
        "general": {"server_url": server_url, "username": username, "password": password},
        "admin": {},
    }
    packed = zlib.compress(json.dumps(settings).encode("utf-8"))
    return base64.b64encode(packed).decode("ascii")


@org_view
def devices(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    access.require(ctx, ctx.can_manage_members)
    slug = ctx.organisation.slug
    people = [(str(p.pk), p.display_name) for p in access.people_visible_to(ctx).order_by("pk")]
    form = DeviceForm(people=people)
    created = None
    server_url = request.build_absolute_uri(reverse("openrosa-root", args=[slug])).rstrip("/")
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            device = access_device_by_id(ctx, request.POST.get("device"))
            actions.revoke_device(request.user, device)
            messages.success(request, _("The device can no longer connect."))
            return redirect("openrosa-devices", slug=slug)
        form = DeviceForm(request.POST, people=people)
        if form.is_valid():
            chosen = form.cleaned_data["person"]
            person = access.access_person_by_id(ctx, chosen) if chosen else None
            device, password = actions.create_device(
                request.user, ctx.organisation, label=form.cleaned_data["label"], person=person
            )
            payload = collect_settings(server_url, device.username, password)
            created = {
                "device": device,
                "password": password,
                "qr_data_uri": segno.make(payload, error="l").svg_data_uri(scale=4),
            }
            form = DeviceForm(people=people)
    return render(
        request,
        "channels/openrosa_devices.html",
        {
            "ctx": ctx,
            "form": form,
            "created": created,
            "server_url": server_url,
            "devices": OpenRosaDevice.objects.filter(organisation=ctx.organisation)
            .select_related("person")
            .order_by("revoked_at", "label"),
        },
    )
