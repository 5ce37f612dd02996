"""Readiness gates of a deployment (issue 5; DESIGN.md section 5, "Deployment"; the
reference's "Preparation of Danish personnel").

Each gate is computed from the records, never ticked by hand. This module is the rule
book: pure functions over plain facts, so that every rule can be shown with its edge
dates; the travel app's models hand it their records (``TripFacts``).

What the reference asks before departure, and the gate that checks it:

- "Travel Declaration (Rejseerklæring) ... travel dates, flight information (international
  and domestic), accommodation details, and contact information of partners ... The
  travel program must be attached as an annex ... signed by either the Executive Director
  (for PRI-related travel) or the Head of Finance & Programmes (for M&E and supervision
  visits)": ``travel_declaration``.
- "Next-of-Kin Declaration (Pårørendeerklæring): ... three close relatives": ``next_of_kin``.
- "comprehensive travel insurance, including evacuation and repatriation. Coverage must be
  confirmed for validity in countries under orange or red advisory status": ``insurance``.
- "all required vaccinations, health checks, and, where possible, first aid training":
  ``health`` (first aid is advised, not required: "where possible").
- "qualified travel preparation, including risk assessment and situational awareness
  training": ``training``; "fully briefed on ... the local security procedures":
  ``local_procedures``; the ransom, negotiation and communication policy (Crisis
  scenarios, "Staff must be briefed on the organization's ransom policy"): ``ransom_policy``.
- "commit to a code of conduct": ``code_of_conduct``.
- "A clear chain of command must be established before departure": ``chain_of_command``.
- "Review the Danish Ministry of Foreign Affairs' travel advisories": ``advisory``.
- "Conduct an internal assessment of whether the trip is strictly necessary": ``necessity``.
- "Register as a traveler with the local embassy", and for Danish citizens "Download the
  Rejseklar app and register on the Danskerliste": ``registrations``.
- "Save emergency contacts for the Danish embassy and the Global Emergency Centre":
  ``emergency_contacts``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.utils.translation import gettext_lazy as _

# Trip types and who signs their travel declaration (an organisation setting; these are
# the reference's defaults).
PRI = "pri"
ME_SUPERVISION = "me_supervision"
OTHER = "other"
EXECUTIVE_DIRECTOR = "executive_director"
HEAD_OF_FINANCE = "head_of_finance"
DEFAULT_SIGNATORIES = {
    PRI: EXECUTIVE_DIRECTOR,
    ME_SUPERVISION: HEAD_OF_FINANCE,
    OTHER: EXECUTIVE_DIRECTOR,
}

# Danish Ministry of Foreign Affairs' travel advisory levels.
GREEN, YELLOW, ORANGE, RED = "green", "yellow", "orange", "red"
ADVISORIES = (GREEN, YELLOW, ORANGE, RED)

# How fresh a review or a check must be at departure (documented in
# docs/architecture.md; an organisation's gate template can be stricter, not looser).
ADVISORY_REVIEW_DAYS = 14
HEALTH_CHECK_DAYS = 365
RELATIVES_REQUIRED = 3

GATES = (
    "travel_declaration",
    "next_of_kin",
    "insurance",
    "health",
    "training",
    "local_procedures",
    "ransom_policy",
    "code_of_conduct",
    "chain_of_command",
    "advisory",
    "necessity",
    "registrations",
    "emergency_contacts",
)

TITLES: dict[str, Any] = {
    "travel_declaration": _("Travel declaration (Rejseerklæring) signed"),
    "next_of_kin": _("Next-of-kin declaration (Pårørendeerklæring)"),
    "insurance": _("Travel insurance with evacuation and repatriation"),
    "health": _("Vaccinations and health check"),
    "training": _("Pre-deployment training in risk assessment and situational awareness"),
    "local_procedures": _("Briefing on the local security procedures"),
    "ransom_policy": _("Briefing on the ransom, negotiation and communication policy"),
    "code_of_conduct": _("Code of conduct accepted"),
    "chain_of_command": _("Chain of command for the trip"),
    "advisory": _("Travel advisories reviewed"),
    "necessity": _("Necessity of the trip assessed"),
    "registrations": _("Registrations with the embassy (and Danskerliste, Rejseklar)"),
    "emergency_contacts": _("Emergency contacts saved (embassy, Global Emergency Centre)"),
}


@dataclass(frozen=True)
class Destination:
    country: str  # ISO 3166 alpha-2
    advisory: str = ""  # one of ADVISORIES, "" when not recorded
    advisory_reviewed_on: date | None = None


@dataclass(frozen=True)
class Declaration:
    international_flights: bool = False
    domestic_flights_or_none: bool = False  # given, or stated that there are none
    accommodation: bool = False
    partner_contacts: bool = False
    programme_annex: bool = False
    signed_as: str = ""  # the signatory role of the account that signed, "" unsigned


@dataclass(frozen=True)
class Relative:
    name: str
    contact: str


@dataclass(frozen=True)
class Insurance:
    valid_from: date
    valid_to: date
    medical: bool = False
    evacuation: bool = False
    repatriation: bool = False
    kidnap_ransom: bool = False
    countries: frozenset[str] = frozenset()  # empty: worldwide
    valid_orange_red: bool = False


@dataclass(frozen=True)
class TripFacts:
    """What the records of one deployment say, as the gates read it."""

    trip_type: str
    starts_on: date
    returns_on: date
    destinations: tuple[Destination, ...] = ()
    traveller_danish: bool = False
    declaration: Declaration | None = None
    signatories: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_SIGNATORIES))
    relatives: tuple[Relative, ...] = ()
    insurance: Insurance | None = None
    vaccinations_required: frozenset[str] = frozenset()
    vaccinations_done: frozenset[str] = frozenset()
    health_check_on: date | None = None
    first_aid_on: date | None = None
    training_on: date | None = None
    local_procedures_briefed_on: date | None = None
    ransom_policy_briefed_on: date | None = None
    code_of_conduct_version: int = 0  # the current version of the organisation's code
    code_of_conduct_accepted: int = 0  # the version the traveller accepted (0: none)
    chain_of_command: int = 0  # how many people in it
    strictly_necessary: bool | None = None
    necessity_reason: str = ""
    embassy_registered: bool = False
    danskerliste: bool = False
    rejseklar: bool = False
    embassy_contact_saved: bool = False
    emergency_centre_contact_saved: bool = False


@dataclass(frozen=True)
class Gate:
    code: str
    passed: bool
    reasons: tuple[str, ...] = ()  # what is missing or wrong, in plain words
    advice: tuple[str, ...] = ()  # not blocking ("where possible")

    @property
    def title(self) -> str:
        return str(TITLES[self.code])


def evaluate(facts: TripFacts, template: tuple[str, ...] = GATES) -> list[Gate]:
    """Every gate of ``template`` (the organisation's, by default the reference's)."""
    return [RULES[code](facts) for code in template]


def failing(facts: TripFacts, template: tuple[str, ...] = GATES) -> list[Gate]:
    return [gate for gate in evaluate(facts, template) if not gate.passed]


def _gate(code: str, reasons: list[Any], advice: list[Any] | None = None) -> Gate:
    return Gate(
        code, not reasons, tuple(str(r) for r in reasons), tuple(str(a) for a in advice or ())
    )


def travel_declaration(f: TripFacts) -> Gate:
    d = f.declaration
    if d is None:
        return _gate("travel_declaration", [_("The travel declaration is not filled in.")])
    reasons: list[Any] = []
    if not d.international_flights:
        reasons.append(_("The international flights are missing."))
    if not d.domestic_flights_or_none:
        reasons.append(_("The domestic flights are missing (or say there are none)."))
    if not d.accommodation:
        reasons.append(_("The accommodation is missing."))
    if not d.partner_contacts:
        reasons.append(_("The contacts of the partners to be visited are missing."))
    if not d.programme_annex:
        reasons.append(_("The travel programme is not attached."))
    wanted = f.signatories.get(f.trip_type, EXECUTIVE_DIRECTOR)
    if not d.signed_as:
        reasons.append(_("It is not signed."))
    elif d.signed_as != wanted:
        reasons.append(_("It was signed by the wrong signatory for this kind of trip."))
    return _gate("travel_declaration", reasons)


def next_of_kin(f: TripFacts) -> Gate:
    # Three different people: the same relative entered twice counts once.
    complete = {
        (r.name.strip().casefold(), r.contact.strip().casefold())
        for r in f.relatives
        if r.name.strip() and r.contact.strip()
    }
    names = {name for name, _contact in complete}
    if len(names) < RELATIVES_REQUIRED:
        return _gate(
            "next_of_kin",
            [
                _("%(n)s of %(required)s close relatives are given with a name and a contact.")
                % {"n": len(names), "required": RELATIVES_REQUIRED}
            ],
        )
    return _gate("next_of_kin", [])


def insurance(f: TripFacts) -> Gate:
    i = f.insurance
    if i is None:
        return _gate("insurance", [_("No insurance is recorded.")])
    reasons: list[Any] = []
    if i.valid_from > f.starts_on:
        reasons.append(_("The policy starts after the departure."))
    if i.valid_to < f.returns_on:
        reasons.append(_("The policy ends before the return date."))
    if not i.evacuation:
        reasons.append(_("It does not cover evacuation."))
    if not i.repatriation:
        reasons.append(_("It does not cover repatriation."))
    if i.countries:
        missing = sorted({d.country for d in f.destinations} - i.countries)
        if missing:
            reasons.append(
                _("It does not cover %(countries)s.") % {"countries": ", ".join(missing)}
            )
    if not i.valid_orange_red and any(d.advisory in (ORANGE, RED) for d in f.destinations):
        reasons.append(_("It is not confirmed valid under an orange or red advisory."))
    return _gate("insurance", reasons)


def health(f: TripFacts) -> Gate:
    reasons: list[Any] = []
    missing = sorted(f.vaccinations_required - f.vaccinations_done)
    if missing:
        reasons.append(_("Vaccinations still to do: %(list)s.") % {"list": ", ".join(missing)})
    if f.health_check_on is None:
        reasons.append(_("No health check is recorded."))
    elif f.health_check_on > f.starts_on:
        reasons.append(_("The health check is dated after the departure."))
    elif f.health_check_on < f.starts_on - timedelta(days=HEALTH_CHECK_DAYS):
        reasons.append(_("The health check is older than a year at departure."))
    advice = [] if f.first_aid_on else [_("First aid training is advised where possible.")]
    return _gate("health", reasons, advice)


def _done_by_departure(when: date | None, starts_on: date) -> bool:
    return when is not None and when <= starts_on


def training(f: TripFacts) -> Gate:
    if not _done_by_departure(f.training_on, f.starts_on):
        return _gate("training", [_("The pre-deployment training is not recorded.")])
    return _gate("training", [])


def local_procedures(f: TripFacts) -> Gate:
    if not _done_by_departure(f.local_procedures_briefed_on, f.starts_on):
        return _gate(
            "local_procedures",
            [
                _(
                    "The briefing on the local security procedures (illegal miners or "
                    "loggers, robbery or assault, vehicle accidents, acute illness) is not "
                    "recorded."
                )
            ],
        )
    return _gate("local_procedures", [])


def ransom_policy(f: TripFacts) -> Gate:
    if not _done_by_departure(f.ransom_policy_briefed_on, f.starts_on):
        return _gate("ransom_policy", [_("The briefing on the ransom policy is not recorded.")])
    return _gate("ransom_policy", [])


def code_of_conduct(f: TripFacts) -> Gate:
    if not f.code_of_conduct_version:
        return _gate(
            "code_of_conduct", [_("The organisation has not written its code of conduct yet.")]
        )
    if f.code_of_conduct_accepted == f.code_of_conduct_version:
        return _gate("code_of_conduct", [])
    if f.code_of_conduct_accepted:
        return _gate(
            "code_of_conduct", [_("The accepted version is not the current code of conduct.")]
        )
    return _gate("code_of_conduct", [_("The code of conduct is not accepted.")])


def chain_of_command(f: TripFacts) -> Gate:
    if f.chain_of_command < 2:
        return _gate(
            "chain_of_command",
            [_("Name at least whom the traveller reports to and who decides in an emergency.")],
        )
    return _gate("chain_of_command", [])


def advisory(f: TripFacts) -> Gate:
    if not f.destinations:
        return _gate("advisory", [_("No destination is recorded.")])
    reasons: list[Any] = []
    oldest = f.starts_on - timedelta(days=ADVISORY_REVIEW_DAYS)
    for d in f.destinations:
        if d.advisory not in ADVISORIES:
            reasons.append(_("No advisory level for %(country)s.") % {"country": d.country})
        elif d.advisory_reviewed_on is None or not (
            oldest <= d.advisory_reviewed_on <= f.starts_on
        ):
            reasons.append(
                _(
                    "The advisory for %(country)s was not reviewed in the %(days)s days "
                    "before departure."
                )
                % {"country": d.country, "days": ADVISORY_REVIEW_DAYS}
            )
        elif d.advisory == RED:
            # The ministry advises against all travel: only an exception, signed and
            # reasoned, lets such a trip go (actions, not this rule).
            reasons.append(
                _("The ministry advises against all travel to %(country)s (red).")
                % {"country": d.country}
            )
    return _gate("advisory", reasons)


def necessity(f: TripFacts) -> Gate:
    if f.strictly_necessary is None:
        return _gate("necessity", [_("The necessity of the trip is not assessed.")])
    if not f.strictly_necessary:
        return _gate("necessity", [_("The trip was assessed as not strictly necessary.")])
    if len(f.necessity_reason.strip()) < 10:
        return _gate("necessity", [_("Write why the trip is strictly necessary.")])
    return _gate("necessity", [])


def registrations(f: TripFacts) -> Gate:
    reasons: list[Any] = []
    if not f.embassy_registered:
        reasons.append(_("Not registered as a traveller with the embassy."))
    if f.traveller_danish and not f.danskerliste:
        reasons.append(_("Not registered on the Danskerliste."))
    if f.traveller_danish and not f.rejseklar:
        reasons.append(_("The Rejseklar app is not set up."))
    return _gate("registrations", reasons)


def emergency_contacts(f: TripFacts) -> Gate:
    reasons: list[Any] = []
    if not f.embassy_contact_saved:
        reasons.append(_("The embassy's emergency contact is not saved."))
    if not f.emergency_centre_contact_saved:
        reasons.append(_("The Global Emergency Centre's contact is not saved."))
    return _gate("emergency_contacts", reasons)


RULES = {
    "travel_declaration": travel_declaration,
    "next_of_kin": next_of_kin,
    "insurance": insurance,
    "health": health,
    "training": training,
    "local_procedures": local_procedures,
    "ransom_policy": ransom_policy,
    "code_of_conduct": code_of_conduct,
    "chain_of_command": chain_of_command,
    "advisory": advisory,
    "necessity": necessity,
    "registrations": registrations,
    "emergency_contacts": emergency_contacts,
}
