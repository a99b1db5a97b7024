"""Official documents the office issues (通报, 点评, 调度简报): series, drafts, issued copies.

A ``Series`` is one issuer's run of numbered documents (陕公改办通〔2017〕N号). A ``Bulletin``
is generated as a draft from the data (``content``, a JSON snapshot of the figures and
tables), its text parts edited by the office (``texts``), and issued: numbered, dated, its
files rendered once and kept (``IssuedFile``), and from then on immutable — a correction is a
new document that names the one it corrects.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from duban.audit.models import AuditedModel
from duban.orgs.models import OrgUnit


class DocumentKind(models.TextChoices):
    MONTHLY = "monthly", _("Monthly bulletin (月度通报)")
    QUARTERLY = "quarterly", _("Quarterly review (季度点评)")
    DISPATCH = "dispatch", _("Dispatch brief (调度简报)")


class BulletinState(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("document state", "Draft")
    ISSUED = "issued", pgettext_lazy("document state", "Issued")


class Series(AuditedModel):
    """One issuer's numbered run of one kind of document and what its documents print.

    ``prefix`` is the 机关代字 before the year (陕公改办通 → 陕公改办通〔2017〕7号); numbers run
    per issuer, prefix and year. ``index_code`` is the first part of the disclosure index
    number (索引号 431100051/2017-04796); its running number is per issuer and year."""

    issuer = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("issuing unit")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=DocumentKind.choices)
    authority = models.CharField(_("issuing authority"), max_length=100)
    prefix = models.CharField(_("number prefix"), max_length=30)
    index_code = models.CharField(_("index code"), max_length=30, blank=True)
    category = models.CharField(_("disclosure category"), max_length=60, blank=True)
    addressees = models.CharField(_("addressees"), max_length=300, blank=True)
    copy_to = models.CharField(_("copied to"), max_length=300, blank=True)
    scheme = models.ForeignKey(
        "evaluation.Scheme",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("evaluation scheme"),
    )
    progress_item = models.CharField(_("progress item"), max_length=64, blank=True)

    class Meta:
        ordering = ["issuer__path", "kind"]
        verbose_name = _("document series")
        verbose_name_plural = _("document series")
        constraints = [
            models.UniqueConstraint(fields=["issuer", "kind"], name="bulletins_series_issuer_kind")
        ]

    def __str__(self) -> str:
        return f"{self.authority} {self.prefix}"

    def audit_unit_id(self) -> int | None:
        return self.issuer_id


class Bulletin(AuditedModel):
    """One document: a draft the office edits, or an issued, numbered, immutable copy."""

    audit_exclude = frozenset({"content"})

    series = models.ForeignKey(
        Series, on_delete=models.PROTECT, related_name="bulletins", verbose_name=_("series")
    )
    issuer = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("issuing unit")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=DocumentKind.choices)
    period = models.CharField(_("period"), max_length=16, blank=True)
    meeting = models.ForeignKey(
        "meetings.Meeting",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("meeting"),
    )
    state = models.CharField(
        _("state"), max_length=8, choices=BulletinState.choices, default=BulletinState.DRAFT
    )
    title = models.CharField(_("title"), max_length=200)
    content = models.JSONField(
        _("figures as generated"), default=dict
    )  # the generated figures and tables
    texts = models.JSONField(
        _("text parts"), default=dict
    )  # the text parts as the office edited them
    date_written = models.DateField(_("date written"))
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    seq = models.PositiveIntegerField(_("serial number"), null=True, blank=True)
    number = models.CharField(_("document number"), max_length=60, blank=True)
    index_seq = models.PositiveIntegerField(_("index serial"), null=True, blank=True)
    index_number = models.CharField(_("index number"), max_length=60, blank=True)
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("corrects"),
    )
    generated_at = models.DateTimeField(_("generated"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("drafted by"),
    )
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
    )

    class Meta:
        ordering = ["-date_written", "-id"]
        verbose_name = _("bulletin")
        verbose_name_plural = _("bulletins")
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "series", "year", "seq"],
                condition=models.Q(seq__isnull=False),
                name="bulletins_bulletin_number_unique",
            ),
            models.UniqueConstraint(
                fields=["issuer", "year", "index_seq"],
                condition=models.Q(index_seq__isnull=False),
                name="bulletins_bulletin_index_unique",
            ),
        ]
        indexes = [models.Index(fields=["issuer", "state"], name="bulletins_issuer_state_idx")]

    def __str__(self) -> str:
        return self.number or f"{self.title} ({self.get_state_display()})"

    def audit_unit_id(self) -> int | None:
        return self.issuer_id

    @property
    def is_issued(self) -> bool:
        return self.state == BulletinState.ISSUED

    def save(self, *args: Any, **kwargs: Any) -> None:
        """An issued document never changes: the row as loaded decides, not the caller."""
        loaded = self._audit_loaded
        if loaded is not None and loaded.get("state") == BulletinState.ISSUED:
            raise ValueError("an issued document cannot change: issue a correction instead")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.is_issued:
            raise ValueError("an issued document cannot be deleted")
        return super().delete(*args, **kwargs)


class FileFormat(models.TextChoices):
    DOCX = "docx", "DOCX"
    PDF = "pdf", "PDF"
    XLSX = "xlsx", "XLSX"


class IssuedFile(models.Model):
    """A file of an issued document, rendered once at issue and kept as issued (in the
    database, so a backup holds it and any application server can hand it out)."""

    bulletin = models.ForeignKey(Bulletin, on_delete=models.PROTECT, related_name="files")
    format = models.CharField(max_length=4, choices=FileFormat.choices)
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bulletin", "format"], name="bulletins_file_unique")
        ]

    def __str__(self) -> str:
        return f"{self.bulletin} {self.format}"


class Reading(models.Model):
    """That a reader opened an issued document, and when he first did (the to-do list's
    "bulletins to read" leaves out what he has read). A receipt, not a change: not audited."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("reader"),
    )
    bulletin = models.ForeignKey(
        Bulletin,
        on_delete=models.CASCADE,
        related_name="readings",
        verbose_name=_("issued document"),
    )
    read_at = models.DateTimeField(_("first read"), auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "bulletin"], name="bulletins_reading_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.bulletin_id}"
