"""Business records move from the table `records_businessrecord` to the record store's
Parquet files (duban.records.store): each applied import's rows become its file, named on the
import, before the table goes."""

from django.db import migrations, models

BATCH = 100_000


def records_to_store(apps, schema_editor):
    import json

    from duban.records import store

    RecordImport = apps.get_model("records", "RecordImport")
    BusinessRecord = apps.get_model("records", "BusinessRecord")
    for imp in RecordImport.objects.filter(pk__in=BusinessRecord.objects.values("source_id")):
        rows = []
        qs = BusinessRecord.objects.filter(source_id=imp.pk).values_list(
            "record_id", "record_type_id", "unit_id", "occurred_on", "grade", "quantity",
            "attributes",
        )
        for row in qs.iterator(chunk_size=BATCH):
            attributes = row[6] if isinstance(row[6], str) else json.dumps(row[6] or {}, ensure_ascii=False)
            rows.append((*row[:6], attributes))
        imp.stored_as = store.write_rows(rows, imp.pk)
        imp.save(update_fields=["stored_as"])


class Migration(migrations.Migration):

    dependencies = [
        ('records', '0003_proposals'),
    ]

    operations = [
        migrations.AddField(
            model_name='recordimport',
            name='stored_as',
            field=models.CharField(blank=True, max_length=64, verbose_name='stored as'),
        ),
        migrations.RunPython(records_to_store, migrations.RunPython.noop),
        migrations.DeleteModel(
            name='BusinessRecord',
        ),
    ]
