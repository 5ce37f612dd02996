"""The readiness gates of a deployment (amparo/travel/gates.py), rule by rule.

The reference's "Preparation of Danish personnel": a travel declaration signed by the right
person, three next of kin, insurance with evacuation and repatriation that is valid under an
orange or red advisory, vaccinations and a health check, training and briefings, a code of
conduct, a chain of command, reviewed advisories, a necessity assessment, registrations and
emergency contacts. Pure functions over plain facts: no database.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from amparo.travel import gates
from amparo.travel.gates import (
    EXECUTIVE_DIRECTOR,
    GATES,
    GREEN,
    HEAD_OF_FINANCE,
    ME_SUPERVISION,
    ORANGE,
    OTHER,
    PRI,
    RED,
    YELLOW,
    Declaration,
    Destination,
    Gate,
    Insurance,
    Relative,
    TripFacts,
)

DEPARTS = date(2025, 3, 10)
RETURNS = date(2025, 3, 24)
DAY = timedelta(days=1)


def days_before_departure(n: int) -> date:
    return DEPARTS - timedelta(days=n)


def destination(**overrides) -> Destination:
    base = Destination(country="BR", advisory=YELLOW, advisory_reviewed_on=days_before_departure(3))
    return replace(base, **overrides)


def declaration(**overrides) -> Declaration:
    base = Declaration(
        international_flights=True,
        domestic_flights_or_none=True,
        accommodation=True,
        partner_contacts=True,
        programme_annex=True,
        signed_as=EXECUTIVE_DIRECTOR,
    )
    return replace(base, **overrides)


def policy(**overrides) -> Insurance:
    base = Insurance(
        valid_from=days_before_departure(1),
        valid_to=RETURNS + 7 * DAY,
        medical=True,
        evacuation=True,
        repatriation=True,
        countries=frozenset(),
        valid_orange_red=True,
    )
    return replace(base, **overrides)


RELATIVES = (
    Relative("Anne Jensen", "+45 11 11 11 11"),
    Relative("Bo Jensen", "+45 22 22 22 22"),
    Relative("Carl Hansen", "carl@example.org"),
)


def ready(**overrides) -> TripFacts:
    """A PRI trip to Brazil whose records satisfy every gate; override one fact at a time."""
    base = TripFacts(
        trip_type=PRI,
        starts_on=DEPARTS,
        returns_on=RETURNS,
        destinations=(destination(),),
        traveller_danish=True,
        declaration=declaration(),
        relatives=RELATIVES,
        insurance=policy(),
        vaccinations_required=frozenset({"yellow_fever", "hepatitis_a"}),
        vaccinations_done=frozenset({"yellow_fever", "hepatitis_a"}),
        health_check_on=days_before_departure(30),
        first_aid_on=days_before_departure(60),
        training_on=days_before_departure(20),
        local_procedures_briefed_on=days_before_departure(2),
        ransom_policy_briefed_on=days_before_departure(2),
        code_of_conduct_version=3,
        code_of_conduct_accepted=3,
        chain_of_command=2,
        strictly_necessary=True,
        necessity_reason="Partner visit that cannot be done remotely.",
        embassy_registered=True,
        danskerliste=True,
        rejseklar=True,
        embassy_contact_saved=True,
        emergency_centre_contact_saved=True,
    )
    return replace(base, **overrides)


def assert_passes(gate: Gate) -> None:
    assert gate.passed, gate.reasons
    assert gate.reasons == ()


def assert_fails(gate: Gate, *fragments: str) -> None:
    assert not gate.passed
    assert gate.reasons
    text = " ".join(gate.reasons)
    for fragment in fragments:
        assert fragment in text, text


# A fully ready trip and the shape of every gate ------------------------------------------


def test_it_passes_every_gate_of_a_ready_trip():
    results = gates.evaluate(ready())
    assert [gate.code for gate in results] == list(GATES)
    assert len(results) == 13
    assert all(gate.passed for gate in results), [g for g in results if not g.passed]


def test_it_has_nothing_failing_for_a_ready_trip():
    assert gates.failing(ready()) == []


def test_it_has_a_rule_and_a_title_for_every_gate():
    assert set(gates.RULES) == set(GATES)
    assert set(gates.TITLES) == set(GATES)


@pytest.mark.parametrize("code", GATES)
def test_it_gives_each_gate_a_non_empty_title(code):
    assert Gate(code, True).title.strip()


def test_it_evaluates_only_an_organisations_template_in_its_order():
    template = ("emergency_contacts", "insurance", "next_of_kin")
    assert [gate.code for gate in gates.evaluate(ready(), template)] == list(template)


def test_it_lists_only_the_failing_gates_of_a_template_in_its_order():
    facts = ready(insurance=None, relatives=(), embassy_contact_saved=False)
    template = ("emergency_contacts", "training", "insurance", "next_of_kin")
    assert [gate.code for gate in gates.failing(facts, template)] == [
        "emergency_contacts",
        "insurance",
        "next_of_kin",
    ]


def test_it_fails_every_gate_of_an_empty_record():
    empty = TripFacts(trip_type=PRI, starts_on=DEPARTS, returns_on=RETURNS)
    assert [gate.code for gate in gates.failing(empty)] == list(GATES)


@pytest.mark.parametrize(
    "facts", [ready(), TripFacts(PRI, DEPARTS, RETURNS)], ids=["ready", "empty"]
)
def test_it_gives_reasons_exactly_when_a_gate_fails(facts):
    for gate in gates.evaluate(facts):
        assert gate.passed == (gate.reasons == ()), gate
        assert all(isinstance(r, str) and r.strip() for r in gate.reasons), gate
        assert all(isinstance(a, str) and a.strip() for a in gate.advice), gate


# Travel declaration ----------------------------------------------------------------------


def test_it_fails_the_declaration_when_it_is_missing():
    assert_fails(gates.travel_declaration(ready(declaration=None)), "not filled in")


@pytest.mark.parametrize(
    ("field", "fragment"),
    [
        ("international_flights", "international flights"),
        ("domestic_flights_or_none", "domestic flights"),
        ("accommodation", "accommodation"),
        ("partner_contacts", "partners"),
        ("programme_annex", "programme"),
    ],
)
def test_it_fails_the_declaration_for_each_missing_field(field, fragment):
    gate = gates.travel_declaration(ready(declaration=declaration(**{field: False})))
    assert_fails(gate, fragment)
    assert len(gate.reasons) == 1


def test_it_fails_the_declaration_until_it_is_signed():
    assert_fails(
        gates.travel_declaration(ready(declaration=declaration(signed_as=""))), "not signed"
    )


def test_it_fails_a_pri_declaration_signed_by_the_head_of_finance():
    facts = ready(trip_type=PRI, declaration=declaration(signed_as=HEAD_OF_FINANCE))
    assert_fails(gates.travel_declaration(facts), "wrong signatory")


def test_it_fails_an_me_declaration_signed_by_the_executive_director():
    facts = ready(trip_type=ME_SUPERVISION, declaration=declaration(signed_as=EXECUTIVE_DIRECTOR))
    assert_fails(gates.travel_declaration(facts), "wrong signatory")


@pytest.mark.parametrize(
    ("trip_type", "signatory"),
    [(PRI, EXECUTIVE_DIRECTOR), (ME_SUPERVISION, HEAD_OF_FINANCE), (OTHER, EXECUTIVE_DIRECTOR)],
)
def test_it_passes_a_declaration_signed_by_the_right_signatory(trip_type, signatory):
    facts = ready(trip_type=trip_type, declaration=declaration(signed_as=signatory))
    assert_passes(gates.travel_declaration(facts))


def test_it_follows_an_organisations_own_signatories():
    own = {PRI: HEAD_OF_FINANCE, ME_SUPERVISION: EXECUTIVE_DIRECTOR, OTHER: "board_chair"}
    signed_by_finance = ready(signatories=own, declaration=declaration(signed_as=HEAD_OF_FINANCE))
    signed_by_director = ready(
        signatories=own, declaration=declaration(signed_as=EXECUTIVE_DIRECTOR)
    )
    assert_passes(gates.travel_declaration(signed_by_finance))
    assert_fails(gates.travel_declaration(signed_by_director), "wrong signatory")


def test_it_follows_an_organisations_own_signatory_for_other_trips():
    own = {**gates.DEFAULT_SIGNATORIES, OTHER: "board_chair"}
    facts = ready(trip_type=OTHER, signatories=own)
    assert_fails(gates.travel_declaration(facts), "wrong signatory")
    signed = replace(facts, declaration=declaration(signed_as="board_chair"))
    assert_passes(gates.travel_declaration(signed))


def test_it_asks_the_executive_director_for_a_trip_type_without_a_signatory():
    facts = ready(trip_type="conference", signatories={})
    assert_passes(gates.travel_declaration(facts))
    wrong = replace(facts, declaration=declaration(signed_as=HEAD_OF_FINANCE))
    assert_fails(gates.travel_declaration(wrong), "wrong signatory")


# Next of kin -----------------------------------------------------------------------------


def test_it_fails_next_of_kin_without_relatives():
    assert_fails(gates.next_of_kin(ready(relatives=())), "0 of 3")


def test_it_fails_next_of_kin_with_two_relatives():
    assert_fails(gates.next_of_kin(ready(relatives=RELATIVES[:2])), "2 of 3")


def test_it_passes_next_of_kin_with_three_relatives():
    assert_passes(gates.next_of_kin(ready(relatives=RELATIVES)))


def test_it_passes_next_of_kin_with_four_relatives():
    four = (*RELATIVES, Relative("Dorte Holm", "+45 44 44 44 44"))
    assert_passes(gates.next_of_kin(ready(relatives=four)))


@pytest.mark.parametrize(
    "incomplete",
    [
        Relative("Carl Hansen", ""),
        Relative("Carl Hansen", "   "),
        Relative("", "c@example.org"),
        Relative("  ", "c@example.org"),
    ],
    ids=["no contact", "blank contact", "no name", "blank name"],
)
def test_it_fails_next_of_kin_with_three_relatives_when_one_is_incomplete(incomplete):
    assert_fails(gates.next_of_kin(ready(relatives=(*RELATIVES[:2], incomplete))), "2 of 3")


# Insurance -------------------------------------------------------------------------------


def test_it_fails_insurance_when_none_is_recorded():
    assert_fails(gates.insurance(ready(insurance=None)), "No insurance")


def test_it_passes_a_policy_ending_on_the_return_date():
    assert_passes(gates.insurance(ready(insurance=policy(valid_to=RETURNS))))


def test_it_fails_a_policy_ending_the_day_before_the_return_date():
    assert_fails(gates.insurance(ready(insurance=policy(valid_to=RETURNS - DAY))), "ends before")


def test_it_passes_a_policy_ending_the_day_after_the_return_date():
    assert_passes(gates.insurance(ready(insurance=policy(valid_to=RETURNS + DAY))))


def test_it_passes_a_policy_starting_on_the_departure_day():
    assert_passes(gates.insurance(ready(insurance=policy(valid_from=DEPARTS))))


def test_it_fails_a_policy_starting_the_day_after_departure():
    assert_fails(gates.insurance(ready(insurance=policy(valid_from=DEPARTS + DAY))), "starts after")


def test_it_fails_a_policy_without_evacuation():
    assert_fails(gates.insurance(ready(insurance=policy(evacuation=False))), "evacuation")


def test_it_fails_a_policy_without_repatriation():
    assert_fails(gates.insurance(ready(insurance=policy(repatriation=False))), "repatriation")


@pytest.mark.parametrize("level", [GREEN, YELLOW, ORANGE, RED])
def test_it_passes_a_policy_confirmed_under_orange_or_red_at_any_level(level):
    facts = ready(
        destinations=(destination(advisory=level),), insurance=policy(valid_orange_red=True)
    )
    assert_passes(gates.insurance(facts))


@pytest.mark.parametrize("level", [GREEN, YELLOW])
def test_it_passes_an_unconfirmed_policy_for_a_green_or_yellow_destination(level):
    facts = ready(
        destinations=(destination(advisory=level),), insurance=policy(valid_orange_red=False)
    )
    assert_passes(gates.insurance(facts))


@pytest.mark.parametrize("level", [ORANGE, RED])
def test_it_fails_an_unconfirmed_policy_for_an_orange_or_red_destination(level):
    facts = ready(
        destinations=(destination(advisory=level),), insurance=policy(valid_orange_red=False)
    )
    assert_fails(gates.insurance(facts), "orange or red")


def test_it_fails_an_unconfirmed_policy_when_one_of_two_destinations_is_orange():
    facts = ready(
        destinations=(destination(country="BR"), destination(country="CO", advisory=ORANGE)),
        insurance=policy(valid_orange_red=False),
    )
    assert_fails(gates.insurance(facts), "orange or red")


def test_it_fails_a_policy_whose_countries_miss_a_destination():
    facts = ready(
        destinations=(destination(country="BR"), destination(country="PE")),
        insurance=policy(countries=frozenset({"BR", "CO"})),
    )
    gate = gates.insurance(facts)
    assert_fails(gate, "PE")
    assert "BR" not in " ".join(gate.reasons)


def test_it_passes_a_policy_whose_countries_include_every_destination():
    facts = ready(
        destinations=(destination(country="BR"), destination(country="PE")),
        insurance=policy(countries=frozenset({"BR", "PE", "CO"})),
    )
    assert_passes(gates.insurance(facts))


def test_it_reads_a_policy_without_countries_as_worldwide():
    facts = ready(
        destinations=(destination(country="BR"), destination(country="PE")),
        insurance=policy(countries=frozenset()),
    )
    assert_passes(gates.insurance(facts))


def test_it_gives_every_insurance_shortcoming_as_its_own_reason():
    facts = ready(
        destinations=(destination(country="CO", advisory=RED),),
        insurance=policy(
            valid_from=DEPARTS + DAY,
            valid_to=RETURNS - DAY,
            evacuation=False,
            repatriation=False,
            countries=frozenset({"BR"}),
            valid_orange_red=False,
        ),
    )
    assert len(gates.insurance(facts).reasons) == 6


# Health ----------------------------------------------------------------------------------


def test_it_fails_health_with_a_vaccination_still_to_do():
    facts = ready(vaccinations_done=frozenset({"hepatitis_a"}))
    gate = gates.health(facts)
    assert_fails(gate, "yellow_fever")
    assert "hepatitis_a" not in " ".join(gate.reasons)


def test_it_passes_health_with_no_vaccination_required():
    facts = ready(vaccinations_required=frozenset(), vaccinations_done=frozenset())
    assert_passes(gates.health(facts))


def test_it_passes_a_health_check_on_the_departure_day():
    assert_passes(gates.health(ready(health_check_on=DEPARTS)))


def test_it_passes_a_health_check_exactly_365_days_before_departure():
    assert_passes(gates.health(ready(health_check_on=days_before_departure(365))))


def test_it_fails_a_health_check_366_days_before_departure():
    assert_fails(gates.health(ready(health_check_on=days_before_departure(366))), "health check")


def test_it_fails_a_health_check_after_departure():
    assert_fails(gates.health(ready(health_check_on=DEPARTS + DAY)), "health check")


def test_it_fails_health_without_a_health_check():
    assert_fails(gates.health(ready(health_check_on=None)), "No health check")


def test_it_advises_first_aid_training_but_does_not_require_it():
    gate = gates.health(ready(first_aid_on=None))
    assert_passes(gate)
    assert gate.advice
    assert "First aid" in gate.advice[0]


def test_it_gives_no_advice_once_first_aid_training_is_done():
    assert gates.health(ready()).advice == ()


# Training and briefings ------------------------------------------------------------------

DONE_BY_DEPARTURE = [
    ("training", "training_on"),
    ("local_procedures", "local_procedures_briefed_on"),
    ("ransom_policy", "ransom_policy_briefed_on"),
]


@pytest.mark.parametrize(("code", "field"), DONE_BY_DEPARTURE)
def test_it_fails_a_training_or_briefing_that_is_not_recorded(code, field):
    assert_fails(gates.RULES[code](ready(**{field: None})), "not recorded")


@pytest.mark.parametrize(("code", "field"), DONE_BY_DEPARTURE)
def test_it_passes_a_training_or_briefing_on_the_departure_day(code, field):
    assert_passes(gates.RULES[code](ready(**{field: DEPARTS})))


@pytest.mark.parametrize(("code", "field"), DONE_BY_DEPARTURE)
def test_it_fails_a_training_or_briefing_after_departure(code, field):
    assert_fails(gates.RULES[code](ready(**{field: DEPARTS + DAY})))


# Code of conduct -------------------------------------------------------------------------


def test_it_fails_the_code_of_conduct_when_none_is_accepted():
    assert_fails(gates.code_of_conduct(ready(code_of_conduct_accepted=0)), "not accepted")


def test_it_fails_the_code_of_conduct_when_an_older_version_is_accepted():
    facts = ready(code_of_conduct_version=3, code_of_conduct_accepted=2)
    assert_fails(gates.code_of_conduct(facts), "not the current code")


def test_it_passes_the_code_of_conduct_when_the_current_version_is_accepted():
    facts = ready(code_of_conduct_version=3, code_of_conduct_accepted=3)
    assert_passes(gates.code_of_conduct(facts))


# Chain of command ------------------------------------------------------------------------


@pytest.mark.parametrize("people", [0, 1])
def test_it_fails_a_chain_of_command_of_fewer_than_two(people):
    assert_fails(gates.chain_of_command(ready(chain_of_command=people)), "reports to")


@pytest.mark.parametrize("people", [2, 3])
def test_it_passes_a_chain_of_command_of_two_or_more(people):
    assert_passes(gates.chain_of_command(ready(chain_of_command=people)))


# Travel advisory -------------------------------------------------------------------------


def test_it_fails_the_advisory_without_a_destination():
    assert_fails(gates.advisory(ready(destinations=())), "No destination")


def test_it_fails_the_advisory_without_a_level():
    facts = ready(destinations=(destination(country="PE", advisory=""),))
    assert_fails(gates.advisory(facts), "No advisory level for PE")


def test_it_fails_the_advisory_with_an_unknown_level():
    facts = ready(destinations=(destination(country="PE", advisory="purple"),))
    assert_fails(gates.advisory(facts), "No advisory level for PE")


def test_it_passes_an_advisory_reviewed_14_days_before_departure():
    facts = ready(destinations=(destination(advisory_reviewed_on=days_before_departure(14)),))
    assert_passes(gates.advisory(facts))


def test_it_passes_an_advisory_reviewed_on_the_departure_day():
    facts = ready(destinations=(destination(advisory_reviewed_on=DEPARTS),))
    assert_passes(gates.advisory(facts))


def test_it_fails_an_advisory_reviewed_15_days_before_departure():
    facts = ready(destinations=(destination(advisory_reviewed_on=days_before_departure(15)),))
    assert_fails(gates.advisory(facts), "not reviewed in the 14 days")


def test_it_fails_an_advisory_reviewed_after_departure():
    facts = ready(destinations=(destination(advisory_reviewed_on=DEPARTS + DAY),))
    assert_fails(gates.advisory(facts), "not reviewed")


def test_it_fails_an_advisory_that_was_never_reviewed():
    facts = ready(destinations=(destination(advisory_reviewed_on=None),))
    assert_fails(gates.advisory(facts), "not reviewed")


@pytest.mark.parametrize("level", [GREEN, YELLOW, ORANGE])
def test_it_passes_a_reviewed_green_yellow_or_orange_advisory(level):
    assert_passes(gates.advisory(ready(destinations=(destination(advisory=level),))))


def test_it_fails_a_reviewed_red_advisory():
    facts = ready(destinations=(destination(country="CO", advisory=RED),))
    assert_fails(gates.advisory(facts), "advises against all travel to CO")


def test_it_fails_the_advisory_when_one_of_two_destinations_is_stale():
    facts = ready(
        destinations=(
            destination(country="BR"),
            destination(country="PE", advisory_reviewed_on=days_before_departure(30)),
        )
    )
    gate = gates.advisory(facts)
    assert_fails(gate, "PE")
    assert len(gate.reasons) == 1
    assert "BR" not in gate.reasons[0]


# Necessity -------------------------------------------------------------------------------


def test_it_fails_necessity_that_is_not_assessed():
    assert_fails(gates.necessity(ready(strictly_necessary=None)), "not assessed")


def test_it_fails_a_trip_assessed_as_not_strictly_necessary():
    assert_fails(gates.necessity(ready(strictly_necessary=False)), "not strictly necessary")


@pytest.mark.parametrize("reason", ["", "   ", "Needed", "  123456789  "])
def test_it_fails_a_necessary_trip_with_a_short_reason(reason):
    facts = ready(strictly_necessary=True, necessity_reason=reason)
    assert_fails(gates.necessity(facts), "Write why")


@pytest.mark.parametrize("reason", ["1234567890", "Partner visit that cannot be done remotely."])
def test_it_passes_a_necessary_trip_with_a_reason(reason):
    assert_passes(gates.necessity(ready(strictly_necessary=True, necessity_reason=reason)))


# Registrations ---------------------------------------------------------------------------


@pytest.mark.parametrize("danish", [True, False])
def test_it_fails_registrations_without_the_embassy(danish):
    facts = ready(traveller_danish=danish, embassy_registered=False)
    assert_fails(gates.registrations(facts), "embassy")


def test_it_fails_a_danish_traveller_without_the_danskerliste():
    assert_fails(gates.registrations(ready(danskerliste=False)), "Danskerliste")


def test_it_fails_a_danish_traveller_without_rejseklar():
    assert_fails(gates.registrations(ready(rejseklar=False)), "Rejseklar")


def test_it_passes_a_non_danish_traveller_without_danskerliste_or_rejseklar():
    facts = ready(traveller_danish=False, danskerliste=False, rejseklar=False)
    assert_passes(gates.registrations(facts))


# Emergency contacts ----------------------------------------------------------------------


def test_it_fails_emergency_contacts_without_the_embassy():
    gate = gates.emergency_contacts(ready(embassy_contact_saved=False))
    assert_fails(gate, "embassy")
    assert len(gate.reasons) == 1


def test_it_fails_emergency_contacts_without_the_global_emergency_centre():
    gate = gates.emergency_contacts(ready(emergency_centre_contact_saved=False))
    assert_fails(gate, "Global Emergency Centre")
    assert len(gate.reasons) == 1


def test_it_gives_both_missing_emergency_contacts():
    facts = ready(embassy_contact_saved=False, emergency_centre_contact_saved=False)
    assert len(gates.emergency_contacts(facts).reasons) == 2


def test_it_fails_the_code_of_conduct_when_the_organisation_has_none():
    facts = ready(code_of_conduct_version=0, code_of_conduct_accepted=0)
    assert_fails(gates.code_of_conduct(facts), "not written its code")


def test_it_counts_the_same_relative_entered_twice_once():
    twice = (
        gates.Relative("Karen Holm", "+4512345678"),
        gates.Relative("karen holm ", "+4512345678"),
        gates.Relative("Jens Holm", "+4587654321"),
    )
    assert_fails(gates.next_of_kin(ready(relatives=twice)), "2 of 3")


def test_it_names_a_health_check_dated_after_departure():
    facts = ready(health_check_on=ready().starts_on + timedelta(days=1))
    assert_fails(gates.health(facts), "after the departure")


def test_it_gives_its_reasons_in_the_readers_language():
    from django.utils import translation

    facts = ready(relatives=())
    with translation.override("es"):
        spanish = gates.next_of_kin(facts).reasons
    with translation.override("pt"):
        portuguese = gates.next_of_kin(facts).reasons
    english = gates.next_of_kin(facts).reasons
    assert english == ("0 of 3 close relatives are given with a name and a contact.",)
    assert spanish != english and portuguese != english
    assert "0" in spanish[0] and "3" in spanish[0]
