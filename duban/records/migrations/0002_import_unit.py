import django.db.models.deletion
from django.db import migrations, models


def drop_like_index(apps, schema_editor):
    """PostgreSQL: the import looks record numbers up by equality, never by LIKE; the second
    index Django makes for a unique text column (varchar_pattern_ops) only slows the COPY of
    millions of rows."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'records_businessrecord' "
            "AND indexname LIKE 'records_businessrecord_record_id_%%_like'"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):

    dependencies = [
        ("orgs", "0002_lines"),
        ("records", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="recordimport",
            name="unit",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="orgs.orgunit",
                verbose_name="unit",
            ),
        ),
        migrations.RunPython(drop_like_index, migrations.RunPython.noop),
    ]
