"""The risk method as pure functions (no Django): the rating scales, the formula
risk = threats x vulnerabilities / capacities, the likelihood x impact matrix, their
thresholds, and the reference's "serious and imminent risk". docs/risk-method.md explains
every number here with worked examples; tests/risk/test_method.py checks them.

Arithmetic is exact (``Fraction``), so a score that lands on a threshold is on it, never
a rounding error below it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from fractions import Fraction

RATINGS = (1, 2, 3, 4, 5)


class Level(IntEnum):
    """Ordered, so that "the higher of two levels" is ``max``. The reference's Step 1 has
    low, medium and high; "very high" is the top band of the 5 x 5 matrix."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    VERY_HIGH = 4

    @property
    def code(self) -> str:
        return self.name.lower()


# The 1 to 5 scales. The labels are the anchors a coordinator rates against; the
# translated wording lives in risk.models (these are the canonical English).
THREAT_SCALE = {
    1: "Vague or implausible, from an unknown source not linked to illicit activity",
    2: "Indirect hostility: rumours, stigmatisation, generic warnings",
    3: "Direct threat from a source linked to illicit activity who knows the defender's work",
    4: "Repeated or specific threats, surveillance, or attacks on people close to the defender",
    5: "Physical violence, attempted assault or credible signs of imminent harm",
}
VULNERABILITY_SCALE = {
    1: "Very low: the factor barely exposes the subject",
    2: "Low",
    3: "Moderate",
    4: "High",
    5: "Very high: the factor leaves the subject exposed and unable to avoid the threat",
}
CAPACITY_SCALE = {
    1: "None or very weak: nothing in place",
    2: "Weak",
    3: "Moderate",
    4: "Strong",
    5: "Very strong: in place, practised and reliable",
}
LIKELIHOOD_SCALE = {
    1: "Rare: not expected in the next three months",
    2: "Unlikely",
    3: "Possible",
    4: "Likely: has happened before or is being prepared",
    5: "Almost certain: expected within days or already happening",
}
IMPACT_SCALE = {
    1: "Negligible: no lasting harm",
    2: "Minor: fear, short disruption of the work",
    3: "Moderate: damage to property, reputation or the work; psychological harm",
    4: "Major: injury, detention, forced displacement, criminal prosecution",
    5: "Severe: death, disappearance, kidnapping, sexual violence",
}

# Thresholds: the lowest score of each level (a score equal to a threshold is in the
# higher level). The matrix bands are the usual 5 x 5 ones: 1-4, 5-9, 10-16, 20-25.
MATRIX_THRESHOLDS = {Level.MEDIUM: 5, Level.HIGH: 10, Level.VERY_HIGH: 20}
# The formula's bands are the matrix's divided by 3, the middle of the capacity scale:
# with capacities rated 3, threats T and vulnerabilities V give the same level as a
# likelihood T and an impact V on the matrix.
FORMULA_THRESHOLDS = {
    Level.MEDIUM: Fraction(5, 3),
    Level.HIGH: Fraction(10, 3),
    Level.VERY_HIGH: Fraction(20, 3),
}

# "Likely to recur" (serious and imminent risk): likelihood Likely or Almost certain.
RECUR_LIKELIHOOD = 4
# "Seriously endanger": impact Major or Severe.
SERIOUS_IMPACT = 4
# Reference, Section 1, Step 1: "a threat accompanied by physical violence, attempted
# assault, or credible signs of imminent harm" is high risk; on the threat scale that is 5.
STEP1_HIGH_THREAT = 5

# What a threat may endanger, in the words of the reference's definition.
LIFE = "life"
PHYSICAL_INTEGRITY = "physical_integrity"
PERSONAL_FREEDOM = "personal_freedom"
DEFENDER_ROLE = "defender_role"
BODILY = frozenset({LIFE, PHYSICAL_INTEGRITY, PERSONAL_FREEDOM})


class MethodError(ValueError):
    """Ratings the method cannot combine (missing, or off the 1 to 5 scale)."""


def check_rating(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in RATINGS:
        raise MethodError(f"{what} must be rated 1 to 5, not {value!r}")
    return value


def mean(ratings: Iterable[int], what: str) -> Fraction:
    values = [check_rating(r, what) for r in ratings]
    if not values:
        raise MethodError(f"rate at least one {what}")
    return Fraction(sum(values), len(values))


def threat_factor(ratings: Iterable[int]) -> Fraction:
    """T: the highest threat rating. Not the mean: recording one more minor threat must
    never lower the risk of a subject facing a serious one."""
    values = [check_rating(r, "threat") for r in ratings]
    if not values:
        raise MethodError("rate at least one threat")
    return Fraction(max(values))


def vulnerability_factor(ratings: Iterable[int]) -> Fraction:
    """V: the mean of the vulnerability ratings (each rating is one factor)."""
    return mean(ratings, "vulnerability")


def capacity_factor(ratings: Iterable[int]) -> Fraction:
    """C: the mean of the capacity ratings. None recorded counts as 1 (no capacity
    known): the formula never assumes protection nobody wrote down."""
    values = list(ratings)
    if not values:
        return Fraction(1)
    return mean(values, "capacity")


def formula_score(threat: Fraction, vulnerability: Fraction, capacity: Fraction) -> Fraction:
    """Risk = T x V / C (Protection International, "New Protection Manual for Human
    Rights Defenders"; Front Line Defenders' workbook): from 1 x 1 / 5 = 0.2 to 25."""
    if capacity <= 0:
        raise MethodError("capacity must be positive")
    return threat * vulnerability / capacity


def level_for(score: Fraction | int, thresholds: dict[Level, Fraction] | dict[Level, int]) -> Level:
    level = Level.LOW
    for candidate in (Level.MEDIUM, Level.HIGH, Level.VERY_HIGH):
        if score >= thresholds[candidate]:
            level = candidate
    return level


def formula_level(score: Fraction) -> Level:
    return level_for(score, FORMULA_THRESHOLDS)


def matrix_score(likelihood: int, impact: int) -> int:
    return check_rating(likelihood, "likelihood") * check_rating(impact, "impact")


def matrix_level(likelihood: int, impact: int) -> Level:
    return level_for(matrix_score(likelihood, impact), MATRIX_THRESHOLDS)


# Serious and imminent risk


@dataclass(frozen=True)
class ThreatFacts:
    """What the definition asks of one threat or attack."""

    rating: int
    recurring: bool = False  # has happened more than once, or is ongoing
    endangers: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Imminence:
    flagged: bool
    reasons: tuple[str, ...] = ()


def serious_and_imminent(threats: Sequence[ThreatFacts], likelihood: int, impact: int) -> Imminence:
    """Reference, Definitions, "Serious and Imminent Risk": "The existence of threats or
    attacks [1] likely to recur [2], which could seriously endanger the life, physical
    integrity, or personal freedom of the defender [3a], or otherwise compromise their
    ability to exercise their role as a human rights defender [3b]."

    One threat must meet 1, 2 and 3 together:
    1. it exists (is recorded in the assessment);
    2. it is likely to recur: it is marked recurring, or the assessed likelihood is 4 or 5;
    3a. it endangers life, physical integrity or personal freedom, and the assessed impact
        is 4 or 5 ("seriously"); or
    3b. it compromises the defender's ability to do their work (the definition puts no
        "seriously" on this clause).
    The reasons name the clauses met, for the page."""
    check_rating(likelihood, "likelihood")
    check_rating(impact, "impact")
    reasons: list[str] = []
    for threat in threats:
        recurs = threat.recurring or likelihood >= RECUR_LIKELIHOOD
        bodily = bool(threat.endangers & BODILY) and impact >= SERIOUS_IMPACT
        role = DEFENDER_ROLE in threat.endangers
        if not recurs or not (bodily or role):
            continue
        reasons.append("recurring" if threat.recurring else "likely")
        if bodily:
            reasons.extend(sorted(threat.endangers & BODILY))
        if role:
            reasons.append(DEFENDER_ROLE)
    if not reasons:
        return Imminence(False)
    return Imminence(True, tuple(dict.fromkeys(reasons)))


# The whole assessment


@dataclass(frozen=True)
class Result:
    threat: Fraction
    vulnerability: Fraction
    capacity: Fraction
    score: Fraction
    formula_level: Level
    matrix_score: int
    matrix_level: Level
    level: Level
    imminence: Imminence
    floors: tuple[str, ...] = field(default=())


def assess(
    threats: Sequence[ThreatFacts],
    vulnerabilities: Sequence[int],
    capacities: Sequence[int],
    likelihood: int,
    impact: int,
) -> Result:
    """The level is the higher of the formula's and the matrix's (the two methods look
    at the same risk from two sides; the worse reading wins), raised to at least high
    when a threat is rated 5 (reference, Step 1) or the risk is serious and imminent."""
    t = threat_factor(th.rating for th in threats)
    v = vulnerability_factor(vulnerabilities)
    c = capacity_factor(capacities)
    score = formula_score(t, v, c)
    f_level = formula_level(score)
    m_score = matrix_score(likelihood, impact)
    m_level = level_for(m_score, MATRIX_THRESHOLDS)
    imminence = serious_and_imminent(threats, likelihood, impact)
    level = max(f_level, m_level)
    floors: list[str] = []
    if t >= STEP1_HIGH_THREAT and level < Level.HIGH:
        floors.append("step1_high_threat")
    if imminence.flagged and level < Level.HIGH:
        floors.append("serious_and_imminent")
    if floors:
        level = Level.HIGH
    return Result(
        threat=t,
        vulnerability=v,
        capacity=c,
        score=score,
        formula_level=f_level,
        matrix_score=m_score,
        matrix_level=m_level,
        level=level,
        imminence=imminence,
        floors=tuple(floors),
    )


def matrix_grid() -> list[list[tuple[int, int, int, Level]]]:
    """The 5 x 5 matrix, likelihood 5 on top: rows of (likelihood, impact, score, level)."""
    return [
        [(lk, im, lk * im, level_for(lk * im, MATRIX_THRESHOLDS)) for im in RATINGS]
        for lk in reversed(RATINGS)
    ]


def add_months(year: int, month: int, day: int, months: int) -> tuple[int, int, int]:
    """The same day ``months`` later, clamped to the month's end (30 November + 3 months
    is 28 or 29 February)."""
    index = year * 12 + (month - 1) + months
    y, m = divmod(index, 12)
    m += 1
    days_in = [31, 29 if _leap(y) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
    return y, m, min(day, days_in)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
