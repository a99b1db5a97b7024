"""Business records (业务记录): one row per case filed or solved, arrest, fugitive caught,
vehicle removed or complaint, as the case and business systems hold them.

Record indicators count or sum these rows by unit and period, so that a figure the case system
already holds is never typed again (基层减负, 一网考). Records arrive by the million: they are
not rows of this database but Parquet files of the record store (duban.records.store), one per
applied import, written by DuckDB; the database keeps the imports that name them, and the audit
trail records each import (its file, hash, counts and decision) rather than each row.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from duban.audit.models import AuditedModel
from duban.orgs.models import OrgUnit


class RecordType(AuditedModel):
    """What a record is (立案, 破案, 抓获逃犯 …); the import refuses a type it does not know."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=150, blank=True)
    sort_order = models.IntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("record type")
        verbose_name_plural = _("record types")

    def __str__(self) -> str:
        return self.name_zh


class ImportState(models.TextChoices):
    WAITING = "waiting", _("Waiting for a decision")
    APPLIED = "applied", _("Applied")
    REFUSED = "refused", _("Refused")


class RecordImport(AuditedModel):
    """One file of records as it was read: counts, the bad rows with their lines, and the
    decision taken on them. Nothing is written to the records until the file is applied."""

    # The bad rows may run to thousands: the trail keeps the counts and the hash of the file
    # (and `records.import.*` entries name the decision), not the list itself.
    audit_exclude: ClassVar[frozenset[str]] = frozenset({"problems"})

    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    file_format = models.CharField(_("format"), max_length=16)
    encoding = models.CharField(_("encoding"), max_length=16, blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=ImportState.choices, default=ImportState.WAITING
    )
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    rows_new = models.PositiveIntegerField(_("new records"), default=0)
    rows_known = models.PositiveIntegerField(_("records already held"), default=0)
    rows_bad = models.PositiveIntegerField(_("bad rows"), default=0)
    problems = models.JSONField(_("problems"), default=list, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("imported by"),
    )
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # The unit whose subtree the file may hold (the importer's choice); its office sees the
    # import. Null only for imports made before it was kept.
    unit = models.ForeignKey(
        OrgUnit,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("unit"),
    )

    # The Parquet file of the record store (records.store) holding the records this import
    # wrote; blank while it waits, when refused, or when it brought nothing new.
    stored_as = models.CharField(_("stored as"), max_length=64, blank=True)

    class Meta:
        ordering = ["-imported_at", "-pk"]
        verbose_name = _("record import")
        verbose_name_plural = _("record imports")

    def __str__(self) -> str:
        return self.file_name

    def audit_unit_id(self) -> int | None:
        return self.unit_id


class ProposalPeriod(models.Model):
    """A period whose proposals of one record indicator have been computed, and the file of the
    record store's `proposals/` folder holding them (duban.records.proposals): a unit without
    a row there has no records (0), not an unknown figure. Blank `stored_as`: computed, and no
    unit had a record."""

    indicator = models.ForeignKey(
        "indicators.Indicator",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("indicator"),
    )
    period = models.CharField(_("period"), max_length=16)
    computed_at = models.DateTimeField(_("computed at"))
    stored_as = models.CharField(_("stored as"), max_length=80, blank=True)

    class Meta:
        verbose_name = _("computed period of proposals")
        verbose_name_plural = _("computed periods of proposals")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "period"], name="records_proposalperiod_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id}:{self.period}"
