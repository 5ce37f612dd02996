"""The risk method on worked examples (docs/risk-method.md), thresholds included: a
score equal to a threshold is in the higher level, one just below it is not."""

from __future__ import annotations

from fractions import Fraction

import pytest

from amparo.risk import method
from amparo.risk.method import Level, ThreatFacts

L, M, H, VH = Level.LOW, Level.MEDIUM, Level.HIGH, Level.VERY_HIGH


def test_it_takes_the_highest_threat_and_the_mean_of_the_rest():
    assert method.threat_factor([2, 5, 1]) == 5
    assert method.vulnerability_factor([4, 3, 3]) == Fraction(10, 3)
    assert method.capacity_factor([2, 3]) == Fraction(5, 2)
    assert method.capacity_factor([]) == 1  # nothing written down protects nobody


def test_it_never_lowers_the_risk_for_one_more_minor_threat():
    one = method.assess([ThreatFacts(4)], [3], [2], 2, 2)
    more = method.assess([ThreatFacts(4), ThreatFacts(1)], [3], [2], 2, 2)
    assert more.score == one.score == 6


@pytest.mark.parametrize(
    ("t", "v", "c", "score", "level"),
    [
        # Worked examples of docs/risk-method.md.
        (3, [3], [3], Fraction(3), M),  # the middle of every scale is medium
        (5, [4, 4], [2], Fraction(10), VH),
        (2, [2], [3], Fraction(4, 3), L),
        (4, [4, 3, 2], [4, 2], Fraction(4), H),
        (5, [5], [1], Fraction(25), VH),
        (1, [1], [5], Fraction(1, 5), L),
    ],
)
def test_it_scores_the_worked_examples(t, v, c, score, level):
    s = method.formula_score(
        method.threat_factor([t]), method.vulnerability_factor(v), method.capacity_factor(c)
    )
    assert s == score
    assert method.formula_level(s) == level


@pytest.mark.parametrize(
    ("t", "v", "c", "level"),
    [
        (5, 1, 3, M),  # 5/3: exactly the medium threshold
        (4, 2, 5, L),  # 8/5 = 1.6, just below 5/3
        (5, 2, 3, H),  # 10/3: exactly the high threshold
        (3, 2, 2, M),  # 3, below 10/3
        (5, 4, 3, VH),  # 20/3: exactly the very-high threshold
        (4, 5, 3, VH),  # 20/3 the other way round
        (5, 4, 4, H),  # 5, below 20/3
        (4, 5, 4, H),
    ],
)
def test_it_places_formula_scores_on_the_thresholds(t, v, c, level):
    s = method.formula_score(Fraction(t), Fraction(v), Fraction(c))
    assert method.formula_level(s) == level


@pytest.mark.parametrize(
    ("likelihood", "impact", "score", "level"),
    [
        (1, 1, 1, L),
        (2, 2, 4, L),  # the top of low
        (1, 5, 5, M),  # exactly the medium threshold
        (5, 1, 5, M),
        (3, 3, 9, M),  # the top of medium
        (2, 5, 10, H),  # exactly the high threshold
        (4, 4, 16, H),  # the top of high
        (4, 5, 20, VH),  # exactly the very-high threshold
        (5, 5, 25, VH),
    ],
)
def test_it_places_matrix_scores_on_the_thresholds(likelihood, impact, score, level):
    assert method.matrix_score(likelihood, impact) == score
    assert method.matrix_level(likelihood, impact) == level


def test_it_draws_the_matrix_with_likelihood_five_on_top():
    grid = method.matrix_grid()
    assert [cell[2] for cell in grid[0]] == [5, 10, 15, 20, 25]
    assert [cell[3] for cell in grid[4]] == [L, L, L, L, M]


def test_it_takes_the_higher_of_the_two_levels():
    # Formula: 2 x 2 / 4 = 1 (low). Matrix: 3 x 4 = 12 (high).
    result = method.assess([ThreatFacts(2)], [2], [4], 3, 4)
    assert (result.formula_level, result.matrix_level, result.level) == (L, H, H)
    # Formula: 4 x 5 / 2 = 10 (very high). Matrix: 2 x 2 = 4 (low).
    result = method.assess([ThreatFacts(4)], [5], [2], 2, 2)
    assert (result.formula_level, result.matrix_level, result.level) == (VH, L, VH)


def test_it_makes_a_threat_rated_five_at_least_high():
    # Reference, Step 1: physical violence is high risk, whatever the capacities.
    result = method.assess([ThreatFacts(5)], [1], [5], 1, 2)
    assert result.formula_level == L and result.matrix_level == L
    assert result.level == H
    assert result.floors == ("step1_high_threat",)


def test_it_refuses_ratings_off_the_scale():
    for bad in (0, 6, True, 2.5):
        with pytest.raises(method.MethodError):
            method.check_rating(bad, "threat")  # type: ignore[arg-type]
    with pytest.raises(method.MethodError):
        method.threat_factor([])
    with pytest.raises(method.MethodError):
        method.vulnerability_factor([])


# Serious and imminent risk, clause by clause (reference, Definitions).

BODY = frozenset({method.LIFE})


def flag(threats, likelihood=3, impact=3):
    return method.serious_and_imminent(threats, likelihood, impact)


def test_clause_1_no_threat_no_flag():
    assert not flag([], likelihood=5, impact=5).flagged


def test_clause_2_a_threat_not_likely_to_recur_is_not_flagged():
    assert not flag([ThreatFacts(5, recurring=False, endangers=BODY)], 3, 5).flagged


def test_clause_2_recurring_or_likely_is_enough():
    assert flag([ThreatFacts(3, recurring=True, endangers=BODY)], 1, 4).reasons == (
        "recurring",
        "life",
    )
    assert flag([ThreatFacts(3, endangers=BODY)], 4, 4).reasons == ("likely", "life")


def test_clause_3a_needs_life_integrity_or_freedom_and_a_serious_impact():
    for harm in (method.LIFE, method.PHYSICAL_INTEGRITY, method.PERSONAL_FREEDOM):
        assert flag([ThreatFacts(3, True, frozenset({harm}))], 2, 4).flagged, harm
    # "Seriously": an impact of 3 is not enough.
    assert not flag([ThreatFacts(3, True, BODY)], 2, 3).flagged
    # Endangering nothing named by the definition is not enough either.
    assert not flag([ThreatFacts(5, True, frozenset())], 5, 5).flagged


def test_clause_3b_compromising_the_work_is_enough_without_serious_impact():
    result = flag([ThreatFacts(2, True, frozenset({method.DEFENDER_ROLE}))], 1, 1)
    assert result.flagged
    assert result.reasons == ("recurring", "defender_role")


def test_the_clauses_must_hold_for_the_same_threat():
    # One recurring threat that endangers nothing, another that endangers life but will
    # not recur: no single threat meets the definition.
    threats = [ThreatFacts(2, recurring=True), ThreatFacts(5, endangers=BODY)]
    assert not flag(threats, likelihood=3, impact=5).flagged


def test_a_serious_and_imminent_risk_is_at_least_high():
    result = method.assess(
        [ThreatFacts(2, True, frozenset({method.DEFENDER_ROLE}))], [1], [5], 1, 1
    )
    assert result.imminence.flagged
    assert result.level == H
    assert result.floors == ("serious_and_imminent",)


def test_it_adds_months_clamped_to_the_month_end():
    assert method.add_months(2025, 1, 15, 3) == (2025, 4, 15)
    assert method.add_months(2025, 11, 30, 3) == (2026, 2, 28)
    assert method.add_months(2023, 11, 30, 3) == (2024, 2, 29)
    assert method.add_months(2025, 8, 31, 6) == (2026, 2, 28)
    assert method.add_months(2025, 10, 1, 3) == (2026, 1, 1)
