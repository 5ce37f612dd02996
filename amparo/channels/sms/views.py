"""Inbound SMS webhooks: a Twilio-compatible one (signature checked with the twilio
package's validator) and a generic one authenticated by a per-organisation token."""

from __future__ import annotations

import hmac
from xml.sax.saxutils import escape

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from amparo.channels.models import SmsGateway
from amparo.channels.sms.actions import hash_token, receive_sms
from amparo.core import ratelimit
from amparo.people.models import Organisation


def _organisation(slug: str) -> Organisation | None:
    # An unknown organisation answers like a bad token, so the webhook does not tell an
    # outsider which organisations exist.
    return Organisation.objects.filter(slug=slug).first()


@csrf_exempt
@require_POST
@ratelimit.rate_limited(ratelimit.SMS_WEBHOOKS, ratelimit.refuse_plain)
def generic(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = _organisation(slug)
    if organisation is None:
        return HttpResponseForbidden("bad token")
    gateway = SmsGateway.objects.filter(organisation=organisation).first()
    token = request.GET.get("token", "")
    if (
        gateway is None
        or not gateway.token_hash
        or not hmac.compare_digest(gateway.token_hash, hash_token(token))
    ):
        return HttpResponseForbidden("bad token")
    reply = receive_sms(
        organisation,
        sender=request.POST.get("From", ""),
        body=request.POST.get("Body", ""),
        via="generic",
    )
    return HttpResponse(reply, content_type="text/plain; charset=utf-8")


@csrf_exempt
@require_POST
@ratelimit.rate_limited(ratelimit.SMS_WEBHOOKS, ratelimit.refuse_plain)
def twilio(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = _organisation(slug)
    if organisation is None:
        return HttpResponseForbidden("bad signature")
    gateway = SmsGateway.objects.filter(organisation=organisation).first()
    auth_token = gateway.twilio_auth_token if gateway is not None else ""
    if not auth_token:
        return HttpResponseForbidden("no Twilio account is configured")
    url = settings.BASE_URL + request.get_full_path()
    signature = request.headers.get("X-Twilio-Signature", "")
    # The QueryDict itself, not .dict(): Twilio signs every value of a repeated parameter.
    if not RequestValidator(auth_token).validate(url, request.POST, signature):
        return HttpResponseForbidden("bad signature")
    reply = receive_sms(
        organisation,
        sender=request.POST.get("From", ""),
        body=request.POST.get("Body", ""),
        via="twilio",
    )
    twiml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Response><Message>{escape(reply)}</Message></Response>"
    )
    return HttpResponse(twiml, content_type="application/xml")
