"""Step 1 of the reference's "Procedure for responding to a threat" (issue 4, point 3):
each rule with the reference's own examples, the medium default for whatever the rules
cannot place, the reporter's own level, and the plain-words explanation."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from amparo.incidents.classify import REASONS, classify, explanation, normalise_answers
from amparo.incidents.models import ILLICIT, HarmSign, IllicitActivity, Level

# Every question answered, each answer pointing to "a vague or implausible threat from an
# unknown person not linked to illicit activity": the reference's low risk.
LOW_ANSWERS: dict[str, Any] = {
    "physical_violence": False,
    "attempted_assault": False,
    "imminent_harm_signs": [],
    "source_illicit_activity": IllicitActivity.NONE.value,
    "shows_knowledge_of_work": False,
    "source_known": False,
}


def level_of(raw: dict[str, Any], reported_level: str = "") -> tuple[str, list[str]]:
    result = classify(normalise_answers(raw), reported_level)
    return result.level, result.reasons


def low_but(**changes: Any) -> dict[str, Any]:
    return {**LOW_ANSWERS, **changes}


# High: "a threat accompanied by physical violence, attempted assault, or credible signs
# of imminent harm".


def test_it_rates_a_threat_with_physical_violence_high():
    assert level_of({"physical_violence": True}) == (Level.HIGH, ["physical_violence"])


def test_it_rates_an_attempted_assault_high():
    assert level_of({"attempted_assault": True}) == (Level.HIGH, ["attempted_assault"])


@pytest.mark.parametrize("sign", HarmSign.values)
def test_it_rates_each_credible_sign_of_imminent_harm_high(sign):
    # Weapons shown, surveillance, a deadline, vehicles watching, another sign.
    assert level_of({"imminent_harm_signs": [sign]}) == (Level.HIGH, ["imminent_harm"])


def test_it_rates_violence_high_even_from_a_stranger_with_no_illicit_link():
    level, reasons = level_of(low_but(physical_violence=True))
    assert level == Level.HIGH
    assert reasons == ["physical_violence"]


def test_it_gives_every_high_reason_found():
    level, reasons = level_of(
        {
            "physical_violence": True,
            "attempted_assault": True,
            "imminent_harm_signs": [HarmSign.WEAPONS_SHOWN, HarmSign.DEADLINE_GIVEN],
        }
    )
    assert level == Level.HIGH
    assert reasons == ["physical_violence", "attempted_assault", "imminent_harm"]


# Medium: "a threat from individuals connected to illicit activities in your area,
# demonstrating knowledge of your work".


@pytest.mark.parametrize("activity", sorted(ILLICIT))
def test_it_rates_an_illicit_source_that_knows_the_work_medium(activity):
    # Illegal mining, illegal logging, drug trafficking, land trafficking, another.
    raw = low_but(source_illicit_activity=activity, shows_knowledge_of_work=True)
    assert level_of(raw) == (Level.MEDIUM, ["illicit_with_knowledge"])


@pytest.mark.parametrize("source_known", [True, False, None])
def test_it_rates_an_illicit_source_medium_whether_or_not_it_is_known(source_known):
    raw = {
        "source_illicit_activity": IllicitActivity.ILLEGAL_MINING,
        "shows_knowledge_of_work": True,
        "source_known": source_known,
    }
    assert level_of(raw) == (Level.MEDIUM, ["illicit_with_knowledge"])


# Low: "a vague or implausible threat from an unknown person not linked to illicit
# activity", and only with every answer given.


def test_it_rates_a_vague_threat_from_an_unlinked_stranger_low():
    result = classify(normalise_answers(LOW_ANSWERS))
    assert (result.rules_level, result.level) == (Level.LOW, Level.LOW)
    assert result.reasons == ["unknown_not_linked"]


# Medium, never low, for whatever the rules cannot place (DESIGN.md section 5).


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param({}, id="no answers"),
        pytest.param(
            low_but(
                source_illicit_activity=IllicitActivity.DRUG_TRAFFICKING,
                shows_knowledge_of_work=False,
            ),
            id="illicit but no knowledge of the work",
        ),
        pytest.param(
            low_but(shows_knowledge_of_work=True), id="unknown source but knowledge of the work"
        ),
        pytest.param(low_but(source_known=None), id="source_known not answered"),
        pytest.param(low_but(source_known=True), id="a known person"),
        pytest.param(low_but(physical_violence=None), id="violence not answered"),
        pytest.param(low_but(attempted_assault=None), id="assault not answered"),
        pytest.param(low_but(imminent_harm_signs=None), id="signs not answered"),
        pytest.param(low_but(shows_knowledge_of_work=None), id="knowledge not answered"),
        pytest.param(low_but(source_illicit_activity=None), id="activity not answered"),
        pytest.param(
            low_but(source_illicit_activity=IllicitActivity.UNKNOWN), id="activity not known"
        ),
        pytest.param(
            {"source_illicit_activity": IllicitActivity.ILLEGAL_LOGGING}, id="illicit only"
        ),
        pytest.param(low_but(physical_violence="no"), id="an answer that is not yes or no"),
    ],
)
def test_it_rates_what_the_rules_cannot_place_medium(raw):
    assert level_of(raw) == (Level.MEDIUM, ["unplaced"])


def test_it_keeps_unknown_answers_as_not_answered():
    answers = normalise_answers(
        {
            "physical_violence": "true",
            "imminent_harm_signs": ["weapons_shown", "a dragon", "weapons_shown"],
            "source_illicit_activity": "piracy",
            "extra": "ignored",
        }
    )
    assert answers == {
        "physical_violence": None,
        "attempted_assault": None,
        "shows_knowledge_of_work": None,
        "source_known": None,
        "imminent_harm_signs": ["weapons_shown"],
        "source_illicit_activity": None,
    }


# The reporter's own level raises, never lowers.


def test_it_lets_the_reporter_raise_a_low_threat_to_high():
    result = classify(normalise_answers(LOW_ANSWERS), reported_level=Level.HIGH)
    assert result.rules_level == Level.LOW
    assert result.level == Level.HIGH
    assert result.reasons == ["reported_high", "unknown_not_linked"]


def test_it_lets_the_reporter_raise_an_unplaced_threat_to_high():
    result = classify(normalise_answers({}), reported_level=Level.HIGH)
    assert result.level == Level.HIGH
    assert result.reasons == ["reported_high"]


def test_it_lets_the_reporter_raise_a_low_threat_to_medium():
    result = classify(normalise_answers(LOW_ANSWERS), reported_level=Level.MEDIUM)
    assert result.level == Level.MEDIUM
    assert result.reasons == ["reported_medium", "unknown_not_linked"]


@pytest.mark.parametrize("reported", [Level.LOW, Level.MEDIUM])
def test_it_never_lets_the_reporter_lower_a_high_threat(reported):
    result = classify(normalise_answers({"physical_violence": True}), reported_level=reported)
    assert result.level == Level.HIGH
    assert result.reasons == ["physical_violence"]


def test_it_never_lets_the_reporter_lower_an_unplaced_threat_to_low():
    result = classify(normalise_answers({}), reported_level=Level.LOW)
    assert result.level == Level.MEDIUM
    assert result.reasons == ["unplaced"]


def test_it_ignores_a_reported_level_it_does_not_know():
    assert classify(normalise_answers(LOW_ANSWERS), reported_level="extreme").level == Level.LOW


# The explanation, in the reporter's language.


def test_it_explains_in_english():
    with translation.override("en"):
        assert explanation(Level.HIGH, ["physical_violence"]) == (
            "High: physical violence was reported."
        )
        assert explanation(Level.HIGH, ["physical_violence", "imminent_harm"]) == (
            "High: physical violence was reported; there are signs of imminent harm."
        )
        assert explanation(Level.LOW, ["unknown_not_linked"]) == (
            "Low: the threat came from an unknown person not linked to an illicit activity."
        )
        assert explanation(Level.MEDIUM, ["unplaced"]) == (
            "Medium: the answers do not place it, so it counts as medium until a "
            "coordinator reviews it."
        )
        assert explanation(Level.MEDIUM, []) == "Medium."


def test_every_reason_the_rules_give_has_words():
    for raw in ({"physical_violence": True}, LOW_ANSWERS, {}):
        for reported in ("", Level.MEDIUM, Level.HIGH):
            assert set(classify(normalise_answers(raw), reported).reasons) <= set(REASONS)


@pytest.mark.parametrize(("language", "label"), [("es", "Alta"), ("pt", "Alta")])
def test_it_explains_in_spanish_and_portuguese(language, label):
    english = "High: physical violence was reported."
    with translation.override(language):
        text = explanation(Level.HIGH, ["physical_violence"])
        # The level's own label is translated already; the reasons follow it.
        assert text.startswith(f"{label}: ")
        assert text.startswith(f"{Level.HIGH.label}: ")
    assert text != english


@pytest.mark.parametrize("language", ["es", "pt"])
def test_its_reasons_read_in_spanish_and_portuguese(language):
    with translation.override(language):
        said = explanation(Level.HIGH, ["physical_violence"]).split(": ", 1)[1]
    assert said != "physical violence was reported."


# Properties over any answers.

answers_strategy = st.fixed_dictionaries(
    {
        "physical_violence": st.sampled_from([True, False, None]),
        "attempted_assault": st.sampled_from([True, False, None]),
        "imminent_harm_signs": st.none() | st.lists(st.sampled_from(HarmSign.values), max_size=3),
        "source_illicit_activity": st.none() | st.sampled_from(IllicitActivity.values),
        "shows_knowledge_of_work": st.sampled_from([True, False, None]),
        "source_known": st.sampled_from([True, False, None]),
    }
)
reported_strategy = st.sampled_from(["", *Level.values])
ORDER = {Level.LOW: 0, Level.MEDIUM: 1, Level.HIGH: 2}


@given(answers=answers_strategy, reported=reported_strategy)
def test_physical_violence_is_always_high(answers, reported):
    answers["physical_violence"] = True
    assert classify(normalise_answers(answers), reported).level == Level.HIGH


@given(answers=answers_strategy, reported=reported_strategy)
def test_it_is_never_low_unless_every_answer_fits_the_low_rule(answers, reported):
    result = classify(normalise_answers(answers), reported)
    if result.level == Level.LOW:
        assert normalise_answers(answers) == normalise_answers(LOW_ANSWERS)
        assert reported in ("", Level.LOW)
    if normalise_answers(answers) == normalise_answers(LOW_ANSWERS):
        assert result.rules_level == Level.LOW


@given(answers=answers_strategy, reported=reported_strategy)
def test_the_reporter_never_lowers_the_rules(answers, reported):
    result = classify(normalise_answers(answers), reported)
    assert ORDER[Level(result.level)] >= ORDER[Level(result.rules_level)]
    if reported:
        assert ORDER[Level(result.level)] >= ORDER[Level(reported)]
