"""``{% crisis_kinds as kinds %}``: the kinds of crisis, for the "open a crisis" form on
the alert page (the alerts app knows nothing of crisis, DESIGN.md section 4)."""

from __future__ import annotations

from django import template

from amparo.crisis.models import CrisisKind

register = template.Library()


@register.simple_tag
def crisis_kinds() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in CrisisKind.choices]
