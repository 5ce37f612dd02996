"""Every write of the alerts app: raise, execute a step, acknowledge, resolve, share, and
policy edits. Each validates, saves and audits in one transaction."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from amparo.alerts.messages import alert_text
from amparo.alerts.models import (
    AckLink,
    Alert,
    AlertKind,
    AlertShare,
    AlertState,
    AlertStep,
    Channel,
    EscalationPolicy,
    Level,
    OutboxMessage,
    OutboxState,
    PolicyTier,
    Severity,
    StepState,
)
from amparo.core import audit
from amparo.core.db import prepared as db_prepared
from amparo.core.db.loader import Loader
from amparo.people.models import DirectoryEntry, Membership, Organisation, Person, Role, User

CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY3479"  # no look-alikes (0/O, 1/I/L, 5/S, 8/B)
ACK_LINK_HOURS = 72
ACK_SALT = "amparo.alerts.ack"


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


# Read for every alert raised: with SQL written once (amparo/core/db/loader.py).
_POLICIES = Loader(EscalationPolicy)


def choose_policy(organisation: Organisation, kind: str, severity: str) -> EscalationPolicy:
    """The first matching policy by priority. An alert must never die for want of a
    policy: with no match it takes the organisation's first policy, and an organisation
    without any gets the reference's defaults."""
    from amparo.alerts.policies import create_default_policies

    policies = _POLICIES.all(
        "t0.organisation_id = %s ORDER BY t0.priority, t0.name",
        [_POLICIES.param("organisation", organisation.pk)],
    )
    if not policies:
        policies = create_default_policies(organisation)
    for policy in policies:
        if policy.matches(kind, severity):
            return policy
    return policies[0]


def plan_steps(snapshot: dict[str, Any], raised_at: datetime) -> list[dict[str, Any]]:
    """Every step of every tier with its absolute due time, fixed at raise time."""
    steps = []
    for tier in snapshot["tiers"]:
        first = raised_at + timedelta(minutes=tier["delay_minutes"])
        for repeat in range(tier["repeat_count"] + 1):
            steps.append(
                {
                    "tier_position": tier["position"],
                    "level": tier["level"],
                    "repeat_index": repeat,
                    "due_at": first + timedelta(minutes=repeat * tier["repeat_interval_minutes"]),
                }
            )
    return steps


@transaction.atomic
def raise_alert(
    actor: Any,
    organisation: Organisation,
    *,
    kind: str,
    severity: str,
    message: str = "",
    person: Person | None = None,
    location: dict[str, float] | None = None,
    subject: Any = None,
    policy: EscalationPolicy | None = None,
    snapshot: dict[str, Any] | None = None,
    source: str = "web",
    unverified: bool = False,
    audit_batch: list[audit.Pending] | None = None,
) -> Alert:
    """DESIGN.md section 5: snapshot the policy and write every step with a fixed due_at.
    ``snapshot``: the policy's, taken by the caller before its transaction (a read that
    need not hold the write lock). ``audit_batch``: the caller appends the audit entry
    with its own, at the end of its transaction, so the chain's head is locked briefly."""
    prepared = prepare_alert(
        actor,
        organisation,
        kind=kind,
        severity=severity,
        message=message,
        person=person,
        location=location,
        subject=subject,
        policy=policy,
        snapshot=snapshot,
        source=source,
        unverified=unverified,
    )
    return raise_alerts(actor, [prepared], audit_batch=audit_batch)[0]


@dataclass(frozen=True)
class PreparedAlert:
    """An alert checked and built, with the policy it snapshots; not yet written."""

    alert: Alert
    policy: EscalationPolicy


def prepare_alert(
    actor: Any,
    organisation: Organisation,
    *,
    kind: str,
    severity: str,
    message: str = "",
    person: Person | None = None,
    location: dict[str, float] | None = None,
    subject: Any = None,
    policy: EscalationPolicy | None = None,
    snapshot: dict[str, Any] | None = None,
    source: str = "web",
    unverified: bool = False,
) -> PreparedAlert:
    """Check an alert's values and build it (``raise_alert``'s arguments); nothing is
    written until ``raise_alerts``."""
    if kind not in AlertKind.values:
        raise ValidationError({"kind": _("Unknown alert kind.")})
    if severity not in Severity.values:
        raise ValidationError({"severity": _("Unknown severity.")})
    if kind in (AlertKind.PANIC, AlertKind.DURESS):
        severity = Severity.HIGH  # a panic or duress alert is always life-threatening
    if person is not None and person.organisation_id != organisation.pk:
        raise ValidationError({"person": _("That person is not in this organisation.")})
    if location is not None:
        try:
            location = {"lat": float(location["lat"]), "lon": float(location["lon"])}
        except (KeyError, TypeError, ValueError):
            raise ValidationError({"location": _("Give latitude and longitude.")}) from None
        if not (-90 <= location["lat"] <= 90 and -180 <= location["lon"] <= 180):
            raise ValidationError({"location": _("That latitude or longitude is out of range.")})
    policy = policy or choose_policy(organisation, kind, severity)
    if snapshot is None:
        snapshot = policy.snapshot()
    alert = Alert(
        organisation=organisation,
        kind=kind,
        severity=severity,
        code=new_code(),
        message=message[:2000],
        location=location,  # type: ignore[misc]  # sealed JSON, typed as text by the stubs
        person=person,
        raised_by=actor if isinstance(actor, User) else None,
        source=source,
        unverified=unverified,
        policy_snapshot=snapshot,
        raised_at=timezone.now(),
    )
    if subject is not None:
        alert.subject_type = subject._meta.label_lower
        alert.subject_id = str(subject.pk)
    return PreparedAlert(alert, policy)


@transaction.atomic
def raise_alerts(
    actor: Any,
    prepared: Sequence[PreparedAlert],
    *,
    audit_batch: list[audit.Pending] | None = None,
) -> list[Alert]:
    """Write prepared alerts with every step of each (DESIGN.md section 5), in one
    statement per table whatever their number: the worker's sweep raises a burst of
    missed check-ins this way (travel.checkins.sweep_missed)."""
    writes, entries = compile_alerts(actor, prepared)
    db_prepared.run(*writes)
    if audit_batch is not None:
        audit_batch.extend(entries)
    else:
        audit.record_many(entries)
    return [p.alert for p in prepared]


def compile_alerts(
    actor: Any, prepared: Sequence[PreparedAlert]
) -> tuple[list[db_prepared.Statements], list[audit.Pending]]:
    """The statements that write prepared alerts and all their steps, compiled now, and
    their audit entries: a caller that writes an alert with other rows compiles them all
    before its transaction and runs them inside (incidents.actions.report_threat)."""
    alerts = [p.alert for p in prepared]
    steps = [
        AlertStep(alert_id=alert.pk, **step)  # the key only: nothing reads the steps' alert
        for alert in alerts
        for step in plan_steps(alert.policy_snapshot, alert.raised_at)
    ]
    writes = [db_prepared.insert(alerts), db_prepared.insert(steps, generated_keys=True)]
    entries = [
        audit.Pending(
            actor,
            "alert.raised",
            p.alert,
            details={
                "kind": p.alert.kind,
                "severity": p.alert.severity,
                "source": p.alert.source,
                "policy": str(p.policy.pk),
            },
        )
        for p in prepared
    ]
    return writes, entries


# Recipients


@dataclass(frozen=True)
class Recipient:
    key: str  # stable id for the idempotency key: "person:<id>", "directory:<id>"
    label: str
    language: str
    phone: str
    email: str
    person: Person | None = None
    user: User | None = None
    role: str = ""


def _person_recipient(person: Person, role: str = "") -> Recipient:
    phones = person.phone_numbers or []
    email = person.email or (person.user.email if person.user_id and person.user else "")
    return Recipient(
        key=f"person:{person.pk}",
        label=person.display_name[:80],
        language=person.preferred_language,
        phone=phones[0] if phones else "",
        email=email,
        person=person,
        user=person.user,
        role=role,
    )


def resolve_targets(alert: Alert, tier: dict[str, Any]) -> tuple[list[Recipient], list[str]]:
    """Who a tier reaches now, and which partner organisations it shares the alert with."""
    recipients: dict[str, Recipient] = {}
    partners: list[str] = []
    org = alert.organisation
    for target in tier["targets"]:
        kind = target.get("type")
        if kind == "role":
            user_ids = Membership.objects.filter(organisation=org, role=target["role"]).values_list(
                "user_id", flat=True
            )
            for person in Person.objects.filter(
                organisation=org, user_id__in=list(user_ids), archived_at__isnull=True
            ).select_related("user"):
                recipients.setdefault(
                    f"person:{person.pk}", _person_recipient(person, target["role"])
                )
            for user in User.objects.filter(pk__in=list(user_ids)).exclude(
                profiles__organisation=org
            ):
                recipients.setdefault(
                    f"user:{user.pk}",
                    Recipient(
                        f"user:{user.pk}",
                        user.email[:80],
                        user.language,
                        "",
                        user.email,
                        user=user,
                        role=target["role"],
                    ),
                )
        elif kind == "person":
            named = Person.objects.filter(
                organisation=org, pk=target.get("id"), archived_at__isnull=True
            ).first()
            if named is not None:
                recipients.setdefault(f"person:{named.pk}", _person_recipient(named))
        elif kind == "directory":
            entries = DirectoryEntry.objects.filter(organisation=org, archived_at__isnull=True)
            if "id" in target:
                entries = entries.filter(pk=target["id"])
            else:
                entries = entries.filter(category=target.get("category", ""))
            for entry in entries:
                recipients.setdefault(
                    f"directory:{entry.pk}",
                    Recipient(
                        f"directory:{entry.pk}",
                        entry.get_category_display()[:80],
                        "es",
                        entry.phone,
                        entry.email,
                    ),
                )
        elif kind == "partner":
            partners.append(target.get("slug", ""))
    return list(recipients.values()), partners


def _address(recipient: Recipient, channel: str) -> str:
    if channel in (Channel.SMS, Channel.SIGNAL, Channel.TELEGRAM):
        return recipient.phone
    if channel == Channel.EMAIL:
        return recipient.email
    return ""


def make_ack_link(alert: Alert, recipient: Recipient, level: str) -> str:
    link = AckLink.objects.create(
        organisation_id=alert.organisation_id,
        alert=alert,
        person=recipient.person,
        user=recipient.user,
        label=recipient.label,
        role=recipient.role,
        level=level,
        expires_at=timezone.now() + timedelta(hours=ACK_LINK_HOURS),
    )
    token = signing.dumps(str(link.pk), salt=ACK_SALT)
    return settings.BASE_URL + reverse("alert-ack-link", args=[token])


class StepBatch:
    """What the steps of one claimed batch share: the recipients a tier's targets resolve
    to (the same people for every step of a policy's tier within the batch, which runs in
    one transaction) and the audit entries, appended together at the end of the batch."""

    def __init__(self, steps: Sequence[AlertStep] = ()) -> None:
        self.targets: dict[tuple[Any, str], tuple[list[Recipient], list[str]]] = {}
        self.audit: list[audit.Pending] = []
        # The outbox rows already written for these steps, read in one query (none while
        # a step commits whole: the check keeps a second run from writing twice).
        self.written: dict[Any, set[str]] = {step.pk: set() for step in steps}
        if steps:
            for step_id, key in OutboxMessage.objects.filter(
                step_id__in=list(self.written)
            ).values_list("step_id", "idempotency_key"):
                self.written[step_id].add(key)

    def written_for(self, step: AlertStep) -> set[str]:
        if step.pk in self.written:
            return self.written[step.pk]
        return _written(step)

    def resolve(self, alert: Alert, tier: dict[str, Any]) -> tuple[list[Recipient], list[str]]:
        key = (alert.organisation_id, json.dumps(tier["targets"], sort_keys=True))
        if key not in self.targets:
            self.targets[key] = resolve_targets(alert, tier)
        return self.targets[key]


def execute_step(step: AlertStep, worker: str = "", batch: StepBatch | None = None) -> int:
    """Write the outbox rows of one claimed step; returns how many. Runs inside the
    claiming transaction, so a crash leaves the step pending and nothing half-written.
    With ``batch`` (the clock), its audit entry joins the batch's, written at its end."""
    alert = step.alert
    now = timezone.now()
    if alert.state != AlertState.RAISED:
        step.state = StepState.CANCELLED
        step.save(update_fields=["state"])
        return 0
    tier = next(t for t in alert.policy_snapshot["tiers"] if t["position"] == step.tier_position)
    recipients, partners = batch.resolve(alert, tier) if batch else resolve_targets(alert, tier)
    # Written by an earlier run of this step (none, while a step commits whole; the check
    # keeps a second run from making a second message or link).
    written = batch.written_for(step) if batch else _written(step)
    for slug in partners:
        partner = Organisation.objects.filter(slug=slug).exclude(pk=alert.organisation_id).first()
        if partner is not None:
            _share(None, alert, partner)
    created = 0
    quiet = 0
    for recipient in recipients:
        if recipient.person is not None and recipient.person.pk == alert.person_id:
            continue  # the person at risk is not told of their own alert (duress stays silent)
        if (
            recipient.person is not None
            and not alert.life_safety
            and recipient.person.in_quiet_hours(now)
        ):
            quiet += 1  # DESIGN.md section 6: quiet hours mute only what is not life-safety
            continue
        for channel in tier["channels"]:
            if channel == Channel.WEBHOOK:
                continue
            address = _address(recipient, channel)
            if not address:
                continue
            if f"{step.pk}:{recipient.key}:{channel}" in written:
                continue
            ack_url = make_ack_link(alert, recipient, step.level) if channel != Channel.SMS else ""
            _title, body = alert_text(alert, channel, recipient.language, ack_url)
            created += _enqueue(
                alert,
                step,
                channel,
                recipient.key,
                recipient.label,
                address,
                body,
                recipient.language,
                now,
            )
    if Channel.WEBHOOK in tier["channels"] and f"{step.pk}:webhook:webhook" not in written:
        _title, body = alert_text(alert, Channel.WEBHOOK, "es")
        created += _enqueue(alert, step, Channel.WEBHOOK, "webhook", "webhook", "", body, "es", now)
    step.state = StepState.DONE
    step.executed_at = now
    step.claimed_by = worker[:64]
    step.recipients = len(recipients)
    step.skipped_quiet = quiet
    step.save(update_fields=["state", "executed_at", "claimed_by", "recipients", "skipped_quiet"])
    entry = audit.Pending(
        worker or "worker",
        "alert.step_executed",
        alert,
        details={"step": step.pk, "level": step.level, "messages": created, "quiet": quiet},
    )
    if batch is not None:
        batch.audit.append(entry)
    else:
        audit.record_many([entry])
    return created


def _written(step: AlertStep) -> set[str]:
    return set(OutboxMessage.objects.filter(step=step).values_list("idempotency_key", flat=True))


def _enqueue(
    alert: Alert,
    step: AlertStep,
    channel: str,
    key: str,
    label: str,
    address: str,
    body: str,
    language: str,
    now: datetime,
) -> int:
    idempotency_key = f"{step.pk}:{key}:{channel}"
    OutboxMessage.objects.create(
        organisation_id=alert.organisation_id,
        alert=alert,
        step=step,
        idempotency_key=idempotency_key,
        channel=channel,
        recipient_label=label,
        address=address,
        body=body,
        language=language,
        next_attempt_at=now,
    )
    return 1


# Acknowledgement and resolution


@transaction.atomic
def acknowledge_alert(
    actor: Any, alert: Alert, *, via: str, label: str = "", role: str = "", level: str = ""
) -> bool:
    """A person takes responsibility: the remaining steps stop. Returns False when the
    alert was already acknowledged (the first acknowledgement counts)."""
    locked = Alert.objects.select_for_update().get(pk=alert.pk)
    if locked.state != AlertState.RAISED:
        return False
    if is_subject(locked, actor):
        # A seized phone must not be able to stop its own alert (DESIGN.md section 6:
        # acknowledging is a person taking responsibility for someone at risk).
        raise ValidationError(_("The person at risk cannot take their own alert."))
    now = timezone.now()
    user = actor if isinstance(actor, User) else None
    if not level:
        done = locked.steps.filter(state=StepState.DONE).order_by("-tier_position").first()
        level = done.level if done else Level.LOCAL
    locked.state = AlertState.ACKNOWLEDGED
    locked.acknowledged_at = now
    locked.acknowledged_by = user
    locked.acknowledged_by_label = (label or (user.email if user else ""))[:200]
    locked.acknowledged_role = role[:40]
    locked.acknowledged_via = via[:20]
    locked.acknowledged_level = level
    locked.save(
        update_fields=[
            "state",
            "acknowledged_at",
            "acknowledged_by",
            "acknowledged_by_label",
            "acknowledged_role",
            "acknowledged_via",
            "acknowledged_level",
        ]
    )
    cancelled = locked.steps.filter(state=StepState.PENDING).update(state=StepState.CANCELLED)
    OutboxMessage.objects.filter(alert=locked, state=OutboxState.PENDING).update(
        state=OutboxState.CANCELLED
    )
    alert.refresh_from_db()
    audit.record(
        actor,
        "alert.acknowledged",
        alert,
        details={
            "via": via,
            "role": role,
            "level": level,
            "steps_cancelled": cancelled,
            "response_seconds": alert.response_seconds,
        },
    )
    return True


def is_subject(alert: Alert, actor: Any) -> bool:
    if alert.person_id is None:
        return False
    if isinstance(actor, Person):
        return actor.pk == alert.person_id
    if isinstance(actor, User):
        return alert.person is not None and alert.person.user_id == actor.pk
    return False


def ack_link_from_token(token: str) -> AckLink | None:
    try:
        link_id = signing.loads(token, salt=ACK_SALT)
    except signing.BadSignature:
        return None
    link = AckLink.objects.select_related("alert", "alert__organisation").filter(pk=link_id).first()
    if link is None or link.used_at is not None or link.expires_at <= timezone.now():
        return None
    return link


@transaction.atomic
def acknowledge_by_link(token: str) -> Alert | None:
    link = ack_link_from_token(token)
    if link is None:
        return None
    used = AckLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=timezone.now())
    if not used:
        return None
    acknowledge_alert(
        link.user or f"link:{link.pk}",
        link.alert,
        via="link",
        label=link.label,
        role=link.role,
        level=link.level,
    )
    return link.alert


@transaction.atomic
def resolve_alert(actor: Any, alert: Alert, note: str = "") -> None:
    if alert.state == AlertState.RESOLVED:
        raise ValidationError(_("This alert is already resolved."))
    if alert.state == AlertState.RAISED:
        acknowledge_alert(actor, alert, via="resolve")
        alert.refresh_from_db()
    alert.state = AlertState.RESOLVED
    alert.resolved_at = timezone.now()
    alert.resolved_by = actor if isinstance(actor, User) else None
    alert.resolution_note = note[:4000]
    alert.save(update_fields=["state", "resolved_at", "resolved_by", "resolution_note"])
    audit.record(actor, "alert.resolved", alert)


def _share(actor: Any, alert: Alert, partner: Organisation) -> bool:
    _share_row, created = AlertShare.objects.get_or_create(
        alert=alert,
        partner=partner,
        defaults={"shared_by": actor if isinstance(actor, User) else None},
    )
    if created:
        audit.record(actor, "alert.shared", alert, details={"partner": str(partner.pk)})
    return created


@transaction.atomic
def share_alert(actor: Any, alert: Alert, partner: Organisation) -> bool:
    """Share one alert with a partner organisation, explicitly and audited."""
    if partner.pk == alert.organisation_id:
        raise ValidationError(_("An alert is already visible to its own organisation."))
    return _share(actor, alert, partner)


# Policies


TIER_FIELDS = (
    "level",
    "targets",
    "channels",
    "delay_minutes",
    "repeat_count",
    "repeat_interval_minutes",
)


@transaction.atomic
def save_policy(
    actor: Any,
    organisation: Organisation,
    *,
    policy: EscalationPolicy | None,
    name: str,
    description: str,
    kinds: list[str],
    severities: list[str],
    priority: int,
    tiers: list[dict[str, Any]],
) -> EscalationPolicy:
    """Create or replace a policy with its tiers. Running alerts keep their snapshot."""
    if not tiers:
        raise ValidationError(_("A policy needs at least one tier."))
    if any(k not in AlertKind.values for k in kinds):
        raise ValidationError({"kinds": _("Unknown alert kind.")})
    if any(s not in Severity.values for s in severities):
        raise ValidationError({"severities": _("Unknown severity.")})
    for tier in tiers:
        _check_tier(organisation, tier)
    if policy is None:
        policy = EscalationPolicy(organisation=organisation)
    elif policy.organisation_id != organisation.pk:
        raise ValidationError(_("Unknown policy."))
    else:
        policy.version += 1
    policy.name = name
    policy.description = description
    policy.kinds = kinds
    policy.severities = severities
    policy.priority = priority
    policy.full_clean()
    policy.save()
    policy.tiers.all().delete()
    for position, tier in enumerate(tiers):
        PolicyTier.objects.create(
            policy=policy, position=position, **{f: tier[f] for f in TIER_FIELDS}
        )
    audit.record(
        actor,
        "escalation_policy.saved",
        policy,
        details={"version": policy.version, "tiers": len(tiers)},
    )
    return policy


def _check_tier(organisation: Organisation, tier: dict[str, Any]) -> None:
    if tier.get("level") not in Level.values:
        raise ValidationError({"tiers": _("Unknown level.")})
    if not tier.get("channels") or any(c not in Channel.values for c in tier["channels"]):
        raise ValidationError({"tiers": _("Each tier needs known channels.")})
    if not tier.get("targets"):
        raise ValidationError({"tiers": _("Each tier needs at least one target.")})
    for field in ("delay_minutes", "repeat_count", "repeat_interval_minutes"):
        value = tier.get(field)
        if not isinstance(value, int) or value < 0 or value > 100_000:
            raise ValidationError({"tiers": _("Delays and repeats are whole minutes.")})
    for target in tier["targets"]:
        kind = target.get("type")
        if kind == "role" and target.get("role") in Role.values:
            continue
        if (
            kind == "person"
            and Person.objects.filter(
                organisation=organisation, pk=target.get("id"), archived_at__isnull=True
            ).exists()
        ):
            continue
        if kind == "directory" and (target.get("category") or target.get("id")):
            continue
        if kind == "partner" and Organisation.objects.filter(slug=target.get("slug")).exists():
            continue
        raise ValidationError({"tiers": _("Unknown target: %(target)s") % {"target": target}})


@transaction.atomic
def set_delivery_channel(actor: Any, organisation: Organisation, channel: str, url: str) -> None:
    """Set (or with an empty URL remove) an organisation's own delivery channel."""
    from amparo.alerts.models import DeliveryChannel

    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")})
    existing = DeliveryChannel.objects.filter(organisation=organisation, channel=channel).first()
    if not url:
        if existing is not None:
            existing.delete()
        audit.record(actor, "delivery_channel.removed", organisation, details={"channel": channel})
        return
    if existing is None:
        existing = DeliveryChannel(organisation=organisation, channel=channel)
    existing.url = url
    existing.enabled = True
    existing.save()
    audit.record(
        actor,
        "delivery_channel.set",
        existing,
        organisation_id=organisation.pk,
        details={"channel": channel},
    )
