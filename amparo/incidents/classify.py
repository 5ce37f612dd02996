"""Step 1 of the reference's "Procedure for responding to a threat": assess credibility
and risk level. The rules as DESIGN.md section 5 writes them down:

- High: "a threat accompanied by physical violence, attempted assault, or credible signs of
  imminent harm".
- Medium: "a threat from individuals connected to illicit activities in your area,
  demonstrating knowledge of your work".
- Low: "a vague or implausible threat from an unknown person not linked to illicit
  activity".
- Whatever the rules cannot place is medium, never low, until a coordinator decides.

The reporter's own assessment (an SMS "AMENAZA ALTA", say) can raise the level, never
lower it: a person who feels in danger is not told otherwise by a rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from amparo.incidents.models import (
    ILLICIT,
    LEVEL_ORDER,
    HarmSign,
    IllicitActivity,
    Level,
)

# What each reason says to the reporter, in plain words ("High: physical violence was
# reported").
REASONS: dict[str, Any] = {
    "physical_violence": _("physical violence was reported"),
    "attempted_assault": _("an attempted assault was reported"),
    "imminent_harm": _("there are signs of imminent harm"),
    "illicit_with_knowledge": _(
        "the source is linked to an illicit activity and shows knowledge of your work"
    ),
    "unknown_not_linked": _(
        "the threat came from an unknown person not linked to an illicit activity"
    ),
    "unplaced": _(
        "the answers do not place it, so it counts as medium until a coordinator reviews it"
    ),
    "reported_high": _("the reporter assessed the risk as high"),
    "reported_medium": _("the reporter assessed the risk as medium"),
    "coordinator": _("a coordinator set the level"),
}

ANSWER_KEYS = (
    "physical_violence",
    "attempted_assault",
    "imminent_harm_signs",
    "source_illicit_activity",
    "shows_knowledge_of_work",
    "source_known",
)


def normalise_answers(raw: dict[str, Any]) -> dict[str, Any]:
    """The Step 1 answers as stored: booleans or None (not answered), a list of known
    harm signs, an illicit activity code or None."""
    answers: dict[str, Any] = {}
    for key in (
        "physical_violence",
        "attempted_assault",
        "shows_knowledge_of_work",
        "source_known",
    ):
        value = raw.get(key)
        answers[key] = value if isinstance(value, bool) else None
    signs = raw.get("imminent_harm_signs")
    if signs is None:
        answers["imminent_harm_signs"] = None
    else:
        answers["imminent_harm_signs"] = sorted(
            {s for s in signs if s in HarmSign.values}, key=HarmSign.values.index
        )
    activity = raw.get("source_illicit_activity")
    answers["source_illicit_activity"] = activity if activity in IllicitActivity.values else None
    return answers


@dataclass(frozen=True)
class Classification:
    rules_level: str
    level: str
    reasons: list[str]


def classify(answers: dict[str, Any], reported_level: str = "") -> Classification:
    """Level and reasons from normalised answers (``normalise_answers``)."""
    reasons: list[str] = []
    if answers.get("physical_violence"):
        reasons.append("physical_violence")
    if answers.get("attempted_assault"):
        reasons.append("attempted_assault")
    if answers.get("imminent_harm_signs"):
        reasons.append("imminent_harm")
    activity = answers.get("source_illicit_activity")
    if reasons:
        rules_level = Level.HIGH
    elif activity in ILLICIT and answers.get("shows_knowledge_of_work") is True:
        rules_level, reasons = Level.MEDIUM, ["illicit_with_knowledge"]
    elif (
        answers.get("source_known") is False
        and activity == IllicitActivity.NONE
        and answers.get("shows_knowledge_of_work") is False
        and answers.get("physical_violence") is False
        and answers.get("attempted_assault") is False
        and answers.get("imminent_harm_signs") == []
    ):
        # Every question answered, and each answer points to a vague threat from a
        # stranger: the only way to low.
        rules_level, reasons = Level.LOW, ["unknown_not_linked"]
    else:
        rules_level, reasons = Level.MEDIUM, ["unplaced"]
    level = rules_level
    if reported_level in LEVEL_ORDER and LEVEL_ORDER[reported_level] > LEVEL_ORDER[level]:  # type: ignore[index]
        level = Level(reported_level)
        reasons = [f"reported_{reported_level}", *[r for r in reasons if r != "unplaced"]]
    return Classification(str(rules_level), str(level), reasons)


def explanation(level: str, reasons: list[str]) -> str:
    """ "High: physical violence was reported; there are signs of imminent harm." In the
    active language."""
    said = "; ".join(str(REASONS[r]) for r in reasons if r in REASONS)
    return f"{Level(level).label}: {said}." if said else f"{Level(level).label}."
