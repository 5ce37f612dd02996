"""The rate limiter's counter table (issue 10; amparo/core/ratelimit.py): Django's
database cache table, made here so that ``migrate`` is enough. An installation that
already ran ``createcachetable`` keeps its table."""

from django.core.management import call_command
from django.db import migrations

# settings.CACHES["ratelimit"]["LOCATION"] and amparo.core.ratelimit.TABLE name it too.
TABLE = "core_ratelimit_cache"


def create(apps, schema_editor):
    call_command("createcachetable", TABLE, database=schema_editor.connection.alias, verbosity=0)


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_benchping"),
    ]

    operations = [migrations.RunPython(create, drop)]
