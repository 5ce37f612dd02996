"""The contacts panel of a case: directory entries of the categories its playbook names
(read through ``people.access``), and for deployed staff, the deployment's embassy and
emergency centre, the insurer's emergency number and, for the crisis lead and the
coordinators only, the next of kin (reference, "Preparation of Danish personnel":
emergency contacts saved; next-of-kin declaration)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from amparo.crisis import access
from amparo.crisis.models import CrisisCase
from amparo.people import access as people_access
from amparo.people.access import OrgContext
from amparo.people.models import DirectoryCategory, DirectoryEntry
from amparo.travel.models import Insurance, NextOfKinDeclaration

DEPLOYED = (
    DirectoryCategory.EMBASSY,
    DirectoryCategory.CONSULATE,
    DirectoryCategory.EMERGENCY_CENTRE,
)


@dataclass
class Contact:
    label: str
    name: str
    phone: str = ""
    email: str = ""


@dataclass
class ContactsPanel:
    directory: list[DirectoryEntry] = field(default_factory=list)
    insurer: Contact | None = None
    next_of_kin: list[Contact] = field(default_factory=list)
    next_of_kin_withheld: bool = False


def panel_for(ctx: OrgContext, case: CrisisCase) -> ContactsPanel:
    categories: set[str] = set()
    for task in case.playbook.tasks.all():
        categories.update(task.contact_categories)
    if case.deployment_id is not None:
        categories.update(str(c) for c in DEPLOYED)
    panel = ContactsPanel(
        directory=list(
            people_access.directory_visible_to(ctx)
            .filter(category__in=sorted(categories))
            .order_by("category", "region")
        )
    )
    if case.deployment_id is None:
        return panel
    insurance = Insurance.objects.filter(deployment_id=case.deployment_id).first()
    if insurance is not None:
        panel.insurer = Contact(
            label=_("Insurer's emergency number"),
            name=insurance.insurer,
            phone=insurance.emergency_number,
        )
    kin = NextOfKinDeclaration.objects.filter(deployment_id=case.deployment_id).first()
    if kin is not None and kin.relatives:
        if access.can_see_next_of_kin(ctx, case):
            panel.next_of_kin = [
                Contact(
                    label=str(r.get("relation", "")),
                    name=str(r.get("name", "")),
                    phone=str(r.get("phone", "")),
                    email=str(r.get("email", "")),
                )
                for r in kin.relatives
            ]
        else:
            panel.next_of_kin_withheld = True
    return panel
