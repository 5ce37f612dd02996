"""Demo data: one closed crisis with its after-action review, so the protocols page has a
lesson to show. Idempotent: an organisation that has a closed case is left as it is."""

from __future__ import annotations

from amparo.crisis import actions
from amparo.crisis.models import CaseState, ContinuityStatus, CrisisCase, CrisisKind
from amparo.people.models import Membership, Organisation, Role


def build_closed_case(organisation: Organisation) -> CrisisCase | None:
    if CrisisCase.objects.filter(organisation=organisation, state=CaseState.CLOSED).exists():
        return None
    membership = (
        Membership.objects.filter(organisation=organisation, role=Role.COORDINATOR)
        .select_related("user")
        .first()
    )
    if membership is None:
        return None
    lead = membership.user
    case = actions.open_crisis(
        lead,
        organisation,
        CrisisKind.EVICTION,
        title="Desalojo en la comunidad (demo)",
        region=organisation.region,
        media_blackout=False,
    )
    for task in case.tasks.order_by("due_at")[:3]:
        actions.complete_task(lead, task, note="Hecho (demo)")
    actions.append_to_timeline(lead, case, "Las familias están en el punto de encuentro (demo).")
    actions.file_review(
        lead,
        case,
        what_worked="El punto de encuentro seguro era conocido por todos.",
        what_failed="La Defensoría no contestó de noche; no había un segundo contacto.",
        lessons="Tener siempre dos contactos de la Defensoría y de la red, uno de guardia 24 h.",
        protocol_changes="El protocolo de desalojo pide dos contactos por institución.",
        continuity_status=ContinuityStatus.IN_PLACE,
    )
    return case
