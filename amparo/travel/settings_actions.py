"""Writes of an organisation's travel settings: who signs, and the code of conduct's
versions. Audited like every write (core.audit); the deployment writes are in
``travel.actions``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from amparo.core import audit
from amparo.people.models import Membership, Organisation, User
from amparo.travel.models import CodeOfConduct, SignatoryRole, TravelSettings


def _member(organisation: Organisation, user: User | None, field: str) -> None:
    if user is None:
        return
    if not Membership.objects.filter(organisation=organisation, user=user).exists():
        raise ValidationError({field: _("That account is not a member of this organisation.")})


@transaction.atomic
def set_signatories(
    actor: Any,
    organisation: Organisation,
    *,
    executive_director: User | None,
    head_of_finance: User | None,
    other_trips_signed_by: str,
) -> TravelSettings:
    _member(organisation, executive_director, "executive_director")
    _member(organisation, head_of_finance, "head_of_finance")
    if other_trips_signed_by not in SignatoryRole.values:
        raise ValidationError({"other_trips_signed_by": _("Unknown signatory.")})
    settings, _created = TravelSettings.objects.select_for_update().get_or_create(
        organisation=organisation
    )
    settings.executive_director = executive_director
    settings.head_of_finance = head_of_finance
    settings.other_trips_signed_by = other_trips_signed_by
    settings.save()
    audit.record(
        actor,
        "travel.signatories_set",
        settings,
        organisation_id=organisation.pk,
        details={
            "executive_director": str(executive_director.pk) if executive_director else None,
            "head_of_finance": str(head_of_finance.pk) if head_of_finance else None,
            "other_trips_signed_by": other_trips_signed_by,
        },
    )
    return settings


@transaction.atomic
def write_code_of_conduct(actor: Any, organisation: Organisation, text: str) -> CodeOfConduct:
    """A new version; travellers who accepted an older one accept again (the gate reads
    the version)."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write the code of conduct.")})
    # Lock the settings row so two writers cannot take the same version number.
    TravelSettings.objects.select_for_update().get_or_create(organisation=organisation)
    latest = CodeOfConduct.objects.filter(organisation=organisation).aggregate(v=Max("version"))
    code = CodeOfConduct.objects.create(
        organisation=organisation, version=(latest["v"] or 0) + 1, text=text[:20000]
    )
    audit.record(
        actor,
        "travel.code_of_conduct_written",
        code,
        organisation_id=organisation.pk,
        details={"version": code.version},
    )
    return code
