"""The response checklist of a threat report, item by item from the reference's Section 1,
"Procedure for responding to a threat". Step 1's five actions apply to medium and high
risk; Steps 2, 3 and 4 always, with "direct relatives should do the same" for medium and
high only (Step 4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils.translation import gettext_lazy as _

from amparo.incidents.models import Level, Owner


@dataclass(frozen=True)
class Item:
    code: str
    step: int
    owner: str
    levels: frozenset[str]
    title: Any
    guidance: Any
    # Due this long after the report, per level (none: no deadline).
    due: dict[str, timedelta]


ALL = frozenset({Level.LOW, Level.MEDIUM, Level.HIGH})
RAISED = frozenset({Level.MEDIUM, Level.HIGH})
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

ITEMS: tuple[Item, ...] = (
    # Step 1: for medium or high-risk threats.
    Item(
        "step1_police_report",
        1,
        Owner.REPORTER,
        RAISED,
        _("File a report at the nearest police station"),
        _("Take this record and the evidence with you. Ask for a copy of the report."),
        {Level.HIGH: DAY, Level.MEDIUM: 3 * DAY},
    ),
    Item(
        "step1_inform_supervisor",
        1,
        Owner.REPORTER,
        RAISED,
        _("Inform your supervisor or most trusted colleague and ask for support"),
        _("Tell them what happened and ask the organisation for support."),
        {Level.HIGH: HOUR, Level.MEDIUM: DAY},
    ),
    Item(
        "step1_watch_surveillance",
        1,
        Owner.REPORTER,
        RAISED,
        _("Watch for surveillance near your home, workplace and field sites"),
        _(
            "Look out for unknown vehicles, especially with several men inside, suspicious "
            "motorcycles, or taxis taking unusual routes."
        ),
        {},
    ),
    Item(
        "step1_avoid_public_transport",
        1,
        Owner.REPORTER,
        RAISED,
        _("Avoid public transport and driving at night"),
        _(
            "Do not take motor-taxis. If you drive, do not travel at night, and look around "
            "before you enter or leave a place. Neighbours and security cameras help."
        ),
        {},
    ),
    Item(
        "step1_evaluate_relocation",
        1,
        Owner.COORDINATOR,
        RAISED,
        _("Evaluate whether relocation out of the city or the country is needed"),
        _("Decide with the person whether they should move, for how long, and where to."),
        {Level.HIGH: DAY, Level.MEDIUM: 7 * DAY},
    ),
    # Step 2: always.
    Item(
        "step2_record_to_supervisor",
        2,
        Owner.REPORTER,
        ALL,
        _("Send the record to your immediate supervisor"),
        _(
            "The record holds the date, time and place, the perpetrators, the channel, the "
            "exact words and the evidence. It may be needed for a complaint to the police, "
            "the public prosecutor or, in Peru, the Intersectoral Mechanism for the "
            "Protection of Human Rights Defenders."
        ),
        {Level.HIGH: HOUR, Level.MEDIUM: DAY, Level.LOW: 3 * DAY},
    ),
    # Step 3: always.
    Item(
        "step3_psychological_support",
        3,
        Owner.COORDINATOR,
        ALL,
        _("Offer psychological support"),
        _(
            "Threats can harm the person, their family and colleagues. Put them in touch "
            "with a mental-health professional experienced in threats and violence."
        ),
        {Level.HIGH: DAY, Level.MEDIUM: 3 * DAY, Level.LOW: 7 * DAY},
    ),
    # Step 4: always; relatives for medium and high.
    Item(
        "step4_suspend_social_media",
        4,
        Owner.REPORTER,
        ALL,
        _("Suspend your social media accounts for a while"),
        _("So that nobody can reach your personal or family information through them."),
        {},
    ),
    Item(
        "step4_relatives_social_media",
        4,
        Owner.RELATIVES,
        RAISED,
        _("Ask your direct relatives to suspend their social media too"),
        _("In medium and high-risk cases your family's accounts can expose you."),
        {},
    ),
    Item(
        "step4_encrypted_communications",
        4,
        Owner.REPORTER,
        ALL,
        _("Use encrypted communications with colleagues and family"),
        _("Signal for messages and ProtonMail for e-mail."),
        {},
    ),
    Item(
        "step4_no_sensitive_information",
        4,
        Owner.REPORTER,
        ALL,
        _("Carry no sensitive information when you travel"),
        _("No personal, family or work information that others could use."),
        {},
    ),
)

BY_CODE = {item.code: item for item in ITEMS}


def items_for(level: str) -> list[Item]:
    return [item for item in ITEMS if level in item.levels]
