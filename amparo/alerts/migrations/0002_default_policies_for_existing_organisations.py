"""Organisations created before the alerts app get the reference's default policies."""

from django.db import migrations


def add_defaults(apps, schema_editor):
    from amparo.alerts.policies import create_default_policies

    Organisation = apps.get_model("people", "Organisation")
    EscalationPolicy = apps.get_model("alerts", "EscalationPolicy")
    PolicyTier = apps.get_model("alerts", "PolicyTier")
    for organisation in Organisation.objects.all():
        if not EscalationPolicy.objects.filter(organisation=organisation).exists():
            create_default_policies(organisation, EscalationPolicy, PolicyTier)


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
