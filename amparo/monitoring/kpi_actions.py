"""Writes of the KPI framework (issue 8, point 7): an entered KPI's value for a period,
with its evidence, audited in the same transaction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from amparo.core import audit
from amparo.monitoring import kpis
from amparo.monitoring.models import KpiEntry


@transaction.atomic
def record_kpi_entry(
    actor: Any,
    organisation: Any,
    kpi_id: str,
    *,
    period_start: date,
    period_end: date,
    value: Decimal,
    evidence: str,
) -> KpiEntry:
    kpi = kpis.kpi_by_id(kpi_id)
    if kpi is None or kpi.method != kpis.Method.ENTERED:
        # A computed KPI is answered by the records; a typed value would contradict them.
        raise ValidationError(_("This KPI is not entered by hand."))
    if period_end < period_start:
        raise ValidationError(_("The period ends before it starts."))
    if not evidence.strip():
        # Reference, Strategy 4: figures rest on evidence; an entered one says which.
        raise ValidationError(_("Say what the figure rests on."))
    entry = KpiEntry.objects.create(
        organisation=organisation,
        kpi_id=kpi.id,
        period_start=period_start,
        period_end=period_end,
        value=value,
        evidence=evidence.strip(),
        entered_by=actor,
        entered_at=timezone.now(),
    )
    audit.record(
        actor,
        "monitoring.kpi_entered",
        entry,
        details={
            "kpi": kpi.id,
            "period_start": period_start.isoformat(),
            "period_end": period_end.isoformat(),
            "value": str(value),
        },
    )
    return entry
