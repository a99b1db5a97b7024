"""Fill the year-to-date totals from the approved and locked monthly figures already stored."""

from django.db import migrations


def build(apps, schema_editor):
    from duban.reporting.year_to_date import rebuild

    rebuild(apps.get_model("reporting", "DataValue"), apps.get_model("reporting", "YearToDateTotal"))


class Migration(migrations.Migration):

    dependencies = [
        ('reporting', '0002_year_to_date_total'),
    ]

    operations = [
        migrations.RunPython(build, migrations.RunPython.noop),
    ]
