"""An organisation's channels page: outbound delivery channels (Apprise URLs, sealed) and
the inbound SMS webhooks with their credentials. Coordinators and admins only."""

from __future__ import annotations

import apprise
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from amparo.alerts import actions as alert_actions
from amparo.alerts.models import DeliveryChannel
from amparo.channels.forms import DeliveryChannelForm, TwilioForm
from amparo.channels.models import SmsGateway
from amparo.channels.sms import actions as sms_actions
from amparo.people import access
from amparo.people.access import OrgContext
from amparo.people.views import org_view


@org_view
def channels(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    access.require(ctx, ctx.can_manage_members)
    slug = ctx.organisation.slug
    new_token = None
    channel_form = DeliveryChannelForm(prefix="ch")
    twilio_form = TwilioForm(prefix="tw")
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "channel":
            channel_form = DeliveryChannelForm(request.POST, prefix="ch")
            if channel_form.is_valid():
                url = channel_form.cleaned_data["url"].strip()
                if url and not apprise.Apprise().add(url.replace("{to}", "x")):
                    channel_form.add_error("url", _("Apprise does not understand this URL."))
                else:
                    alert_actions.set_delivery_channel(
                        request.user, ctx.organisation, channel_form.cleaned_data["channel"], url
                    )
                    messages.success(request, _("Saved."))
                    return redirect("channels", slug=slug)
        elif action == "token":
            new_token = sms_actions.set_inbound_token(request.user, ctx.organisation)
        elif action == "twilio":
            twilio_form = TwilioForm(request.POST, prefix="tw")
            if twilio_form.is_valid():
                sms_actions.set_twilio_auth_token(
                    request.user, ctx.organisation, twilio_form.cleaned_data["auth_token"]
                )
                messages.success(request, _("Saved."))
                return redirect("channels", slug=slug)
    gateway = SmsGateway.objects.filter(organisation=ctx.organisation).first()
    configured = {
        c.channel: c for c in DeliveryChannel.objects.filter(organisation=ctx.organisation)
    }
    return render(
        request,
        "channels/channels.html",
        {
            "ctx": ctx,
            "configured": configured,
            "installation_channels": sorted(settings.AMPARO_CHANNEL_URLS),
            "channel_form": channel_form,
            "twilio_form": twilio_form,
            "new_token": new_token,
            "has_token": bool(gateway and gateway.token_hash),
            "has_twilio": bool(gateway and gateway.twilio_auth_token),
            "generic_url": settings.BASE_URL + reverse("sms-generic", args=[slug]),
            "twilio_url": settings.BASE_URL + reverse("sms-twilio", args=[slug]),
        },
    )
