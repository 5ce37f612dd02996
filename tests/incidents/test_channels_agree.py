"""One report, two channels, one answer (DESIGN.md section 5: every channel calls
incidents.actions.report_threat). The same words through the API and through an SMS
posted to the real generic webhook give the same level, reasons and checklist."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from amparo.channels.models import InboundSms
from amparo.channels.sms import actions as sms_actions
from amparo.incidents.models import Level, ThreatReport

TEXT = "Dijeron que si seguimos denunciando la minería nos van a quemar la casa"
STRANGER = "+51 999 000 111"  # nobody's number: the report is about nobody known


def by_api(client: Client, **fields: Any) -> ThreatReport:
    response = client.post(
        "/api/v1/threats",
        json.dumps({"organisation": "org-a", "verbatim": TEXT, **fields}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return ThreatReport.objects.get(pk=response.json()["id"])


def by_sms(client: Client, token: str, body: str) -> tuple[ThreatReport, str]:
    before = set(ThreatReport.objects.values_list("pk", flat=True))
    response = client.post(
        f"/channels/sms/generic/org-a/?token={token}", {"From": STRANGER, "Body": body}
    )
    assert response.status_code == 200
    report = ThreatReport.objects.exclude(pk__in=before).get()
    return report, response.content.decode("utf-8")


def checklist_codes(report: ThreatReport) -> list[str]:
    return list(report.checklist.order_by("step", "position").values_list("code", flat=True))


@pytest.mark.parametrize(
    ("api_fields", "sms", "level"),
    [
        ({}, f"AMENAZA {TEXT}", Level.MEDIUM),
        ({"reported_level": "high"}, f"AMENAZA ALTA {TEXT}", Level.HIGH),
        ({"reported_level": "medium"}, f"AMENAZA MEDIA {TEXT}", Level.MEDIUM),
        # The reporter's "low" cannot lower the rules' medium, on either channel.
        ({"reported_level": "low"}, f"AMENAZA BAJA {TEXT}", Level.MEDIUM),
    ],
)
def test_the_api_and_sms_give_the_same_level_and_checklist(
    world, api_client, client, api_fields, sms, level
):
    token = sms_actions.set_inbound_token("test", world.org_a)
    from_api = by_api(api_client(world.coordinator), **api_fields)
    from_sms, reply = by_sms(client, token, sms)

    assert from_api.level == from_sms.level == level
    assert from_api.rules_level == from_sms.rules_level == Level.MEDIUM
    assert from_api.reasons == from_sms.reasons
    assert checklist_codes(from_api) == checklist_codes(from_sms)
    assert checklist_codes(from_api)  # not trivially equal
    assert from_api.alert.severity == from_sms.alert.severity == level
    assert (from_api.person, from_sms.person) == (None, None)
    assert from_sms.verbatim == TEXT
    assert (from_api.source, from_sms.source) == ("api", "sms")
    # The SMS reply gives the receipt and the level, in the sender's language.
    assert from_sms.receipt in reply
    with translation.override("es"):
        assert str(Level(level).label) in reply
    inbound = InboundSms.objects.get()
    assert (inbound.outcome, inbound.alert_id) == ("threat_reported", from_sms.alert_id)
