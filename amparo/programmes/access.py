"""Reads of psychosocial referrals (DESIGN.md section 1: psychologists "work only the
cases they are assigned"; section 7: medical data is sealed, missing and forbidden are
the same 404). Tenancy first, then role, one condition per line.

- The security coordinator makes referrals and sees every referral of the organisation:
  the reason, the healing practices and the sessions' dates, durations and attendance,
  never the clinical notes.
- The assigned psychologist (a member with the psychologist role, named on the referral)
  sees the referrals assigned to them, records sessions and reads the clinical notes;
  each reading of the notes is audited.
- The person referred, when they have an account, sees their own referral: the
  professional's contact, the status, the next session and how many sessions were held.
  Not the reason nor the notes: phones are often shared (DESIGN.md section 2, point 4),
  and the clinical record is the professional's, asked of them in person.
- Everyone else, and every user of another organisation: 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from amparo.core.access import not_found
from amparo.people.access import OrgContext, _uuid, own_profile
from amparo.people.models import DirectoryCategory, DirectoryEntry, Membership, Role, User
from amparo.programmes.models import (
    Complaint,
    FundRequest,
    LegalCase,
    PsychosocialReferral,
    ReferralStatus,
    Workshop,
    WorkshopParticipant,
)

# Least data: psychosocial records are for the security coordinator, not every admin.
REFERRAL_MANAGERS = frozenset({Role.COORDINATOR})
PSYCHOLOGISTS = frozenset({Role.PSYCHOLOGIST})


def can_manage_referrals(ctx: OrgContext) -> bool:
    return ctx.has_any(REFERRAL_MANAGERS)


def is_psychologist(ctx: OrgContext) -> bool:
    return ctx.has_any(PSYCHOLOGISTS)


def is_assigned_psychologist(ctx: OrgContext, referral: PsychosocialReferral) -> bool:
    if not is_psychologist(ctx):
        return False
    return referral.psychologist_id is not None and referral.psychologist_id == ctx.user.pk


def is_referred_person(ctx: OrgContext, referral: PsychosocialReferral) -> bool:
    profile = own_profile(ctx)
    return profile is not None and referral.person_id == profile.pk


def referrals_visible_to(ctx: OrgContext) -> QuerySet[PsychosocialReferral]:
    referrals = PsychosocialReferral.objects.filter(organisation=ctx.organisation)
    if can_manage_referrals(ctx):
        return referrals
    mine = Q(pk__in=[])
    if is_psychologist(ctx):
        mine |= Q(psychologist=ctx.user)
    profile = own_profile(ctx)
    if profile is not None:
        mine |= Q(person=profile)
    return referrals.filter(mine)


def access_referral_by_id(ctx: OrgContext, referral_id: Any) -> PsychosocialReferral:
    referral = (
        PsychosocialReferral.objects.select_related("organisation", "person", "professional")
        .filter(pk=_uuid(referral_id))
        .first()
    )
    if referral is None:
        not_found()
    if referral.organisation_id != ctx.organisation.pk:
        not_found()
    if not referrals_visible_to(ctx).filter(pk=referral.pk).exists():
        not_found()
    return referral


def may_read_reason(ctx: OrgContext, referral: PsychosocialReferral) -> bool:
    """The reason and the healing practices: the coordinator and the psychologist."""
    return can_manage_referrals(ctx) or is_assigned_psychologist(ctx, referral)


def may_record_sessions(ctx: OrgContext, referral: PsychosocialReferral) -> bool:
    """The assigned psychologist, and the coordinator (for an outside professional who
    reports attendance): the coordinator's sessions carry no clinical notes."""
    if referral.status == ReferralStatus.CLOSED:
        return False
    return can_manage_referrals(ctx) or is_assigned_psychologist(ctx, referral)


def may_close(ctx: OrgContext, referral: PsychosocialReferral) -> bool:
    if referral.status == ReferralStatus.CLOSED:
        return False
    return can_manage_referrals(ctx) or is_assigned_psychologist(ctx, referral)


def access_referral_to_manage(ctx: OrgContext, referral_id: Any) -> PsychosocialReferral:
    referral = access_referral_by_id(ctx, referral_id)
    if not can_manage_referrals(ctx):
        not_found()
    return referral


def access_referral_for_sessions(ctx: OrgContext, referral_id: Any) -> PsychosocialReferral:
    referral = access_referral_by_id(ctx, referral_id)
    if not may_record_sessions(ctx, referral):
        not_found()
    return referral


def access_referral_to_close(ctx: OrgContext, referral_id: Any) -> PsychosocialReferral:
    referral = access_referral_by_id(ctx, referral_id)
    if not may_close(ctx, referral):
        not_found()
    return referral


def access_clinical_notes(ctx: OrgContext, referral_id: Any) -> PsychosocialReferral:
    """The clinical notes: the assigned psychologist only, not the coordinator."""
    referral = access_referral_by_id(ctx, referral_id)
    if not is_assigned_psychologist(ctx, referral):
        not_found()
    return referral


def professionals_for(ctx: OrgContext, specialty: str = "") -> list[DirectoryEntry]:
    """The directory's mental-health professionals (reference, Step 3: "a database of
    mental health professionals experienced in trauma, threats, violence, kidnapping,
    or sexual assault"), optionally those with one specialty."""
    entries = DirectoryEntry.objects.filter(
        organisation=ctx.organisation,
        category=DirectoryCategory.MENTAL_HEALTH,
        archived_at__isnull=True,
    )
    if specialty:
        # Specialties are a JSON list; filtered here so that SQLite and PostgreSQL agree.
        return [e for e in entries if specialty in (e.specialties or [])]
    return list(entries)


def access_professional_by_id(ctx: OrgContext, entry_id: Any) -> DirectoryEntry:
    entry = DirectoryEntry.objects.filter(pk=_uuid(entry_id)).first()
    if entry is None:
        not_found()
    if entry.organisation_id != ctx.organisation.pk:
        not_found()
    if entry.category != DirectoryCategory.MENTAL_HEALTH:
        not_found()
    if entry.archived_at is not None:
        not_found()
    return entry


def psychologists_of(ctx: OrgContext) -> list[User]:
    ids = Membership.objects.filter(
        organisation=ctx.organisation, role=Role.PSYCHOLOGIST
    ).values_list("user_id", flat=True)
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("email"))


# Trainings, the emergency fund and legal accompaniment (issue 8, points 4 to 6).
#
# - Coordinators and administrators manage trainings, fund requests and legal cases.
# - Fund approvers are coordinators and administrators; the two approvals come from two
#   different people, neither of them the requester (programmes.fund says why).
# - The fund's public summary (anonymised by construction) is also for partners
#   (DESIGN.md section 1: partners receive anonymised data).
# - A lawyer sees and works only the legal cases assigned to them.
# - Everyone else, and every user of another organisation: 404.

PROGRAMME_MANAGERS = frozenset({Role.COORDINATOR, Role.ADMIN})
FUND_APPROVERS = frozenset({Role.COORDINATOR, Role.ADMIN})
FUND_SUMMARY_READERS = frozenset({Role.COORDINATOR, Role.ADMIN, Role.PARTNER})
LAWYERS = frozenset({Role.LAWYER})


def can_manage_programmes(ctx: OrgContext) -> bool:
    return ctx.has_any(PROGRAMME_MANAGERS)


def can_approve_fund(ctx: OrgContext) -> bool:
    return ctx.has_any(FUND_APPROVERS)


def can_read_fund_summary(ctx: OrgContext) -> bool:
    return ctx.has_any(FUND_SUMMARY_READERS)


def is_lawyer(ctx: OrgContext) -> bool:
    return ctx.has_any(LAWYERS)


def workshops_visible_to(ctx: OrgContext) -> QuerySet[Workshop]:
    if not can_manage_programmes(ctx):
        return Workshop.objects.none()
    return Workshop.objects.filter(organisation=ctx.organisation)


def access_workshop_by_id(ctx: OrgContext, workshop_id: Any) -> Workshop:
    workshop = Workshop.objects.filter(pk=_uuid(workshop_id)).first()
    if workshop is None:
        not_found()
    if workshop.organisation_id != ctx.organisation.pk:
        not_found()
    if not can_manage_programmes(ctx):
        not_found()
    return workshop


def access_participant_by_id(
    ctx: OrgContext, workshop: Workshop, participant_id: Any
) -> WorkshopParticipant:
    participant = WorkshopParticipant.objects.filter(pk=_uuid(participant_id)).first()
    if participant is None:
        not_found()
    if participant.organisation_id != ctx.organisation.pk:
        not_found()
    if participant.workshop_id != workshop.pk:
        not_found()
    if not can_manage_programmes(ctx):
        not_found()
    return participant


def fund_requests_visible_to(ctx: OrgContext) -> QuerySet[FundRequest]:
    if not can_manage_programmes(ctx):
        return FundRequest.objects.none()
    return FundRequest.objects.filter(organisation=ctx.organisation)


def access_fund_request_by_id(ctx: OrgContext, request_id: Any) -> FundRequest:
    fund_request = (
        FundRequest.objects.select_related("organisation").filter(pk=_uuid(request_id)).first()
    )
    if fund_request is None:
        not_found()
    if fund_request.organisation_id != ctx.organisation.pk:
        not_found()
    if not can_manage_programmes(ctx):
        not_found()
    return fund_request


def access_fund_request_to_approve(ctx: OrgContext, request_id: Any) -> FundRequest:
    fund_request = access_fund_request_by_id(ctx, request_id)
    if not can_approve_fund(ctx):
        not_found()
    return fund_request


def legal_cases_visible_to(ctx: OrgContext) -> QuerySet[LegalCase]:
    cases = LegalCase.objects.filter(organisation=ctx.organisation)
    if can_manage_programmes(ctx):
        return cases
    if is_lawyer(ctx):
        return cases.filter(lawyer=ctx.user)
    return LegalCase.objects.none()


def is_assigned_lawyer(ctx: OrgContext, case: LegalCase) -> bool:
    if not is_lawyer(ctx):
        return False
    return case.lawyer_id is not None and case.lawyer_id == ctx.user.pk


def access_legal_case_by_id(ctx: OrgContext, case_id: Any) -> LegalCase:
    """The case for a coordinator or administrator, or for the lawyer assigned to it."""
    case = LegalCase.objects.select_related("organisation").filter(pk=_uuid(case_id)).first()
    if case is None:
        not_found()
    if case.organisation_id != ctx.organisation.pk:
        not_found()
    if not (can_manage_programmes(ctx) or is_assigned_lawyer(ctx, case)):
        not_found()
    return case


def access_legal_case_to_manage(ctx: OrgContext, case_id: Any) -> LegalCase:
    """Assigning the lawyer and closing: coordinators and administrators."""
    case = access_legal_case_by_id(ctx, case_id)
    if not can_manage_programmes(ctx):
        not_found()
    return case


def access_complaint_by_id(ctx: OrgContext, case: LegalCase, complaint_id: Any) -> Complaint:
    complaint = Complaint.objects.filter(pk=_uuid(complaint_id)).first()
    if complaint is None:
        not_found()
    if complaint.organisation_id != ctx.organisation.pk:
        not_found()
    if complaint.case_id != case.pk:
        not_found()
    return complaint


def lawyers_of(ctx: OrgContext) -> list[User]:
    ids = Membership.objects.filter(organisation=ctx.organisation, role=Role.LAWYER).values_list(
        "user_id", flat=True
    )
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("email"))
