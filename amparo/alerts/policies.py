"""The default escalation policies every new organisation gets, built from the reference:
community focal point, then the organisation's security coordinator, then the regional
defender network or ombudsman office, then the national protection mechanism or embassy,
then an international network (Strategy 2, line 2: "escalating alerts from local to
regional and national levels"; Strategy 6, line 2: rapid response networks)."""

from __future__ import annotations

from typing import Any

from amparo.alerts.models import AlertKind, Channel, EscalationPolicy, Level, PolicyTier, Severity
from amparo.people.models import DirectoryCategory, Organisation, Role

SMS_EMAIL = [Channel.SMS, Channel.EMAIL]


def _tiers(delays: list[int], repeat_interval: int) -> list[dict[str, Any]]:
    targets = [
        (Level.LOCAL, [{"type": "role", "role": Role.FOCAL_POINT}]),
        (Level.LOCAL, [{"type": "role", "role": Role.COORDINATOR}]),
        (
            Level.REGIONAL,
            [
                {"type": "directory", "category": DirectoryCategory.DEFENDER_NETWORK},
                {"type": "directory", "category": DirectoryCategory.OMBUDSMAN},
                {"type": "role", "role": Role.PARTNER},
            ],
        ),
        (
            Level.NATIONAL,
            [
                {"type": "directory", "category": DirectoryCategory.PROTECTION_MECHANISM},
                {"type": "directory", "category": DirectoryCategory.EMBASSY},
                {"type": "directory", "category": DirectoryCategory.EMERGENCY_CENTRE},
            ],
        ),
        (
            Level.INTERNATIONAL,
            [{"type": "directory", "category": DirectoryCategory.INTERNATIONAL_NETWORK}],
        ),
    ]
    return [
        {
            "level": level,
            "targets": target,
            "channels": SMS_EMAIL + ([Channel.WEBHOOK] if position == 1 else []),
            "delay_minutes": delay,
            "repeat_count": 2 if position < 2 else 1,
            "repeat_interval_minutes": repeat_interval,
        }
        for position, ((level, target), delay) in enumerate(zip(targets, delays, strict=True))
    ]


DEFAULTS: list[dict[str, Any]] = [
    {
        "name": "Vida en riesgo / Life at risk",
        "description": "Panic, duress, missed check-in and high-risk threats: every tier "
        "within the hour.",
        "kinds": [],
        "severities": [Severity.HIGH],
        "priority": 10,
        "tiers": _tiers([0, 5, 15, 30, 60], 5),
    },
    {
        "name": "Vida en riesgo (pánico) / Panic and duress",
        "description": "Always the fastest policy, whatever severity is given.",
        "kinds": [AlertKind.PANIC, AlertKind.DURESS, AlertKind.MISSED_CHECKIN],
        "severities": [],
        "priority": 5,
        "tiers": _tiers([0, 5, 15, 30, 60], 5),
    },
    {
        "name": "Riesgo medio / Medium risk",
        "description": "Medium-risk threats and community alerts: the coordinator within "
        "the hour, outside allies the same day.",
        "kinds": [],
        "severities": [Severity.MEDIUM],
        "priority": 20,
        "tiers": _tiers([0, 30, 240, 720, 1440], 30),
    },
    {
        "name": "Riesgo bajo / Low risk",
        "description": "Low-risk alerts stay within the organisation.",
        "kinds": [],
        "severities": [Severity.LOW],
        "priority": 30,
        "tiers": _tiers([0, 60, 1440, 2880, 4320], 60)[:2],
    },
]


def create_default_policies(
    organisation: Organisation, policy_model: Any = None, tier_model: Any = None
) -> list[EscalationPolicy]:
    """The reference's policies for one organisation. A data migration passes its
    historical models; everything else uses the current ones."""
    policy_model = policy_model or EscalationPolicy
    tier_model = tier_model or PolicyTier
    policies = []
    for spec in DEFAULTS:
        policy = policy_model.objects.create(
            organisation=organisation,
            name=spec["name"],
            description=spec["description"],
            kinds=[str(k) for k in spec["kinds"]],
            severities=[str(s) for s in spec["severities"]],
            priority=spec["priority"],
        )
        for position, tier in enumerate(spec["tiers"]):
            tier_model.objects.create(
                policy=policy,
                position=position,
                level=str(tier["level"]),
                targets=[{k: str(v) for k, v in t.items()} for t in tier["targets"]],
                channels=[str(c) for c in tier["channels"]],
                delay_minutes=tier["delay_minutes"],
                repeat_count=tier["repeat_count"],
                repeat_interval_minutes=tier["repeat_interval_minutes"],
            )
        policies.append(policy)
    return policies
