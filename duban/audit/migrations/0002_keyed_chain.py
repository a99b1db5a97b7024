"""Key the chain: every entry gets its position (`seq`) and an HMAC under the audit key in
place of the plain SHA-256, the head gets its MAC, and an `audit.chain.rekeyed` entry records
that it happened.

The old chain is checked first, by the old rules but over every row (ids below 1 included):
re-keying a broken chain would sign whatever was forged in it. A broken chain stops the
migration with its problems listed; set DUBAN_AUDIT_REKEY_BROKEN=1 to re-key it anyway, and the
problems found are written into the `audit.chain.rekeyed` entry so the break stays on record.
Going back re-hashes the chain the old way, after checking it the new way.
"""

import os

from django.db import migrations, models
from django.utils import timezone

from duban.audit import chain

BATCH = 1000


def _problems(entries, head, *, keyed):
    problems, prev, count, last_id = [], chain.GENESIS, 0, 0
    for e in entries.iterator(chunk_size=BATCH):
        count += 1
        if e.prev_hash != prev:
            problems.append(f"entry #{e.pk}: link broken (an entry before it removed or inserted)")
        expected = chain.entry_mac(e) if keyed else chain.legacy_hash(e)
        if e.hash != expected or (keyed and e.seq != count):
            problems.append(f"entry #{e.pk}: does not match its hash (edited)")
        prev, last_id = e.hash, e.pk
    if head is None or (head.count, head.last_entry_id, head.last_hash) != (count, last_id, prev):
        problems.append(f"chain head disagrees with the {count} entries found")
    return problems, count


def _refuse_or_allow(problems, direction):
    if problems and os.environ.get("DUBAN_AUDIT_REKEY_BROKEN") != "1":
        listed = "\n  ".join(problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise RuntimeError(
            f"the audit trail is broken, so it is not {direction}:\n  {listed}{more}\n"
            "Restore the database from a backup taken before the damage, or set "
            "DUBAN_AUDIT_REKEY_BROKEN=1 to re-sign it anyway (the problems are then kept in an "
            "audit.chain.rekeyed entry)."
        )


def _rewrite(Entry, sign, seqs):
    prev, batch, last = chain.GENESIS, [], None
    for n, e in enumerate(Entry.objects.order_by("pk").iterator(chunk_size=BATCH), start=1):
        if seqs:
            e.seq = n
        e.prev_hash = prev
        e.hash = sign(e)
        prev, last = e.hash, e
        batch.append(e)
        if len(batch) >= BATCH:
            Entry.objects.bulk_update(batch, ["seq", "prev_hash", "hash"])
            batch = []
    if batch:
        Entry.objects.bulk_update(batch, ["seq", "prev_hash", "hash"])
    return last


def rekey(apps, schema_editor):
    Entry = apps.get_model("audit", "AuditEntry")
    Head = apps.get_model("audit", "AuditHead")
    entries = Entry.objects.order_by("pk")
    if not entries.exists():
        return
    head = Head.objects.filter(pk=1).first()
    problems, count = _problems(entries, head, keyed=False)
    _refuse_or_allow(problems, "re-keyed")
    last = _rewrite(Entry, chain.entry_mac, seqs=True)
    rekeyed = Entry(
        id=max(last.pk, 0) + 1,
        seq=last.seq + 1,
        at=timezone.now().replace(microsecond=0),
        actor_name="duban migrate",
        source="duban migrate",
        action="audit.chain.rekeyed",
        object_type="audit.auditentry",
        object_repr=f"{count} entries signed with the audit key",
        after={
            "entries": count,
            "sha256_head": head.last_hash if head else None,
            "problems": problems,
        },
        reason="the chain is keyed (HMAC-SHA256) and numbered from here on",
        prev_hash=last.hash,
    )
    rekeyed.hash = chain.entry_mac(rekeyed)
    rekeyed.save(force_insert=True)
    head = head or Head(pk=1)
    head.count, head.last_entry_id, head.last_hash = rekeyed.seq, rekeyed.pk, rekeyed.hash
    head.mac = chain.head_mac(head.count, head.last_entry_id, head.last_hash)
    head.save()


def unkey(apps, schema_editor):
    Entry = apps.get_model("audit", "AuditEntry")
    Head = apps.get_model("audit", "AuditHead")
    entries = Entry.objects.order_by("pk")
    if not entries.exists():
        return
    head = Head.objects.filter(pk=1).first()
    problems, _ = _problems(entries, head, keyed=True)
    _refuse_or_allow(problems, "turned back to plain SHA-256")
    last = _rewrite(Entry, chain.legacy_hash, seqs=False)
    head = head or Head(pk=1)
    head.last_hash = last.hash
    head.save()


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="seq",
            field=models.BigIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="audithead",
            name="mac",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(rekey, unkey, elidable=False),
        migrations.AlterField(
            model_name="auditentry",
            name="seq",
            field=models.BigIntegerField(unique=True),
        ),
    ]
