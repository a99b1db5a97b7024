import django.db.models.deletion
from django.db import migrations, models


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
    ]
