"""The audit chain's head row, and the triggers of amparo.core.guards."""

from django.db import migrations

from amparo.core import guards


def create_head(apps, schema_editor):
    AuditHead = apps.get_model("core", "AuditHead")
    AuditHead.objects.using(schema_editor.connection.alias).get_or_create(pk=1)


def add_guards(apps, schema_editor):
    guards.install(schema_editor.connection, ("core_auditentry",))


def remove_guards(apps, schema_editor):
    guards.remove(schema_editor.connection, ("core_auditentry",))


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(create_head, migrations.RunPython.noop),
        migrations.RunPython(add_guards, remove_guards),
    ]
