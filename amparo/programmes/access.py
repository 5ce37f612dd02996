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
from amparo.programmes.models import PsychosocialReferral, ReferralStatus

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
