"""Organisations created before the alerts app get the reference's default policies."""

from django.db import migrations


def add_defaults(apps, schema_editor):
    from amparo.alerts.policies import DEFAULTS

    Organisation = apps.get_model("people", "Organisation")
    EscalationPolicy = apps.get_model("alerts", "EscalationPolicy")
    PolicyTier = apps.get_model("alerts", "PolicyTier")
    for organisation in Organisation.objects.all():
        if EscalationPolicy.objects.filter(organisation=organisation).exists():
            continue
        for spec in DEFAULTS:
            policy = EscalationPolicy.objects.create(
                organisation=organisation,
                name=spec["name"],
                description=spec["description"],
                kinds=[str(k) for k in spec["kinds"]],
                severities=[str(s) for s in spec["severities"]],
                priority=spec["priority"],
            )
            for position, tier in enumerate(spec["tiers"]):
                PolicyTier.objects.create(
                    policy=policy,
                    position=position,
                    level=str(tier["level"]),
                    targets=[{k: str(v) for k, v in t.items()} for t in tier["targets"]],
                    channels=[str(c) for c in tier["channels"]],
                    delay_minutes=tier["delay_minutes"],
                    repeat_count=tier["repeat_count"],
                    repeat_interval_minutes=tier["repeat_interval_minutes"],
                )


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
