from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from amparo.alerts.policies import create_default_policies
from amparo.people.actions import organisation_created
from amparo.people.auth import duress_signed_in


@receiver(organisation_created)
def give_default_policies(sender: Any, organisation: Any, **kwargs: Any) -> None:
    """Every new organisation starts with the reference's escalation policies."""
    create_default_policies(organisation)


@receiver(duress_signed_in)
def raise_duress_alert(sender: Any, user: Any, **kwargs: Any) -> None:
    """DESIGN.md section 7: the duress password silently raises a high alert in every
    organisation the person belongs to."""
    from amparo.alerts.actions import raise_alert
    from amparo.alerts.models import AlertKind, Severity
    from amparo.people.models import Organisation, Person

    for organisation in Organisation.objects.filter(memberships__user=user).distinct():
        person = Person.objects.filter(organisation=organisation, user=user).first()
        raise_alert(
            user,
            organisation,
            kind=AlertKind.DURESS,
            severity=Severity.HIGH,
            person=person,
            source="duress",
        )
