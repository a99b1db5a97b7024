"""Evaluation schemes as rows that pages can edit, and the publication of their results.

A scheme is stored relationally (groups, categories, items, per-unit targets)
and turned into the engine's frozen ``Scheme`` by ``builder.scheme_to_engine``;
scores are never stored except as the frozen snapshot of a publication.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from duban.audit.models import AuditedModel
from duban.orgs.models import OrgUnit


class Named(models.Model):
    name_zh = models.CharField(_("Chinese name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)

    class Meta:
        abstract = True

    @property
    def name(self) -> str:
        """The name in the active language; Chinese when no English name is set."""
        lang = get_language() or "zh-hans"
        return self.name_en if lang.startswith("en") and self.name_en else self.name_zh


class SchemeStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class SchemeQuerySet(models.QuerySet["Scheme"]):
    def published(self) -> SchemeQuerySet:
        return self.filter(status=SchemeStatus.PUBLISHED)


class Scheme(Named, AuditedModel):
    """One year's evaluation scheme (考评方案) of one issuing unit.

    A what-if copy is a draft with ``based_on`` pointing at the scheme it copies;
    editing it never touches the original.
    """

    code = models.CharField(_("code"), max_length=64, unique=True)
    year = models.PositiveSmallIntegerField(_("year"))
    issuer = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="issued_schemes", verbose_name=_("issuer")
    )
    # The statistical year starts on this day of the previous or same calendar year (12/21).
    start_month = models.PositiveSmallIntegerField(_("statistical year starts: month"), default=1)
    start_day = models.PositiveSmallIntegerField(_("statistical year starts: day"), default=1)
    status = models.CharField(
        _("status"), max_length=12, choices=SchemeStatus.choices, default=SchemeStatus.DRAFT
    )
    based_on = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="what_ifs",
        verbose_name=_("what-if copy of"),
    )
    # Engine-shaped lists, validated through the engine when saved by the services.
    grades = models.JSONField(_("grades"), default=list, blank=True)
    max_items_per_level = models.JSONField(_("item limit per level"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SchemeQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "code"]
        verbose_name = _("evaluation scheme")
        verbose_name_plural = _("evaluation schemes")

    def __str__(self) -> str:
        return f"{self.code} {self.name_zh}"

    def audit_unit_id(self) -> int | None:
        return self.issuer_id

    @property
    def is_what_if(self) -> bool:
        return self.based_on_id is not None


class PeerGroup(Named, AuditedModel):
    """Units ranked together; ``sequences`` ([{code, name_zh, name_en}]) split it into A/B groups."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="groups")
    code = models.CharField(_("code"), max_length=64)
    sequences = models.JSONField(_("sequences"), default=list, blank=True)
    sort_order = models.IntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "code"], name="evaluation_peergroup_scheme_code_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scheme.code}/{self.code}"

    def audit_unit_id(self) -> int | None:
        return self.scheme.issuer_id


class GroupMember(AuditedModel):
    """A unit scored by the scheme, in one peer group (and one of its sequences, if any)."""

    group = models.ForeignKey(PeerGroup, on_delete=models.CASCADE, related_name="members")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    sequence = models.CharField(_("sequence"), max_length=64, blank=True)
    sort_order = models.IntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "unit"], name="evaluation_groupmember_group_unit_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.group} {self.unit.code}"

    def audit_unit_id(self) -> int | None:
        return self.unit_id


class Category(Named, AuditedModel):
    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="categories")
    code = models.CharField(_("code"), max_length=64)
    points = models.DecimalField(_("points"), max_digits=12, decimal_places=4)
    sort_order = models.IntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "code"], name="evaluation_category_scheme_code_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scheme.code}/{self.code}"

    def audit_unit_id(self) -> int | None:
        return self.scheme.issuer_id


class SchemeItem(Named, AuditedModel):
    """A scheme item (考核项目): an indicator scored by a rule; the published rule text verbatim."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="items")
    code = models.CharField(_("code"), max_length=64)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="items")
    indicator = models.CharField(_("indicator code"), max_length=64)
    points = models.DecimalField(_("points"), max_digits=12, decimal_places=4)
    # {"kind": ..., parameters...}: always read through the engine's rule_from_dict.
    rule = models.JSONField(_("rule"))
    rule_text = models.TextField(_("rule as published"), blank=True)
    direction = models.CharField(_("direction"), max_length=8, default="higher")
    cumulative = models.BooleanField(_("year to date"), default=False)
    target = models.DecimalField(
        _("default target"), null=True, blank=True, max_digits=18, decimal_places=6
    )
    levels = models.JSONField(_("levels"), default=list, blank=True)
    groups = models.JSONField(_("peer groups"), default=list, blank=True)
    not_ranked_levels = models.JSONField(_("shown, not ranked at"), default=list, blank=True)
    sort_order = models.IntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "code"], name="evaluation_schemeitem_scheme_code_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scheme.code}/{self.code}"

    def audit_unit_id(self) -> int | None:
        return self.scheme.issuer_id


class Target(AuditedModel):
    """A unit's own target on an item, beating the item's default."""

    item = models.ForeignKey(SchemeItem, on_delete=models.CASCADE, related_name="targets")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    value = models.DecimalField(_("target"), max_digits=18, decimal_places=6)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["item", "unit"], name="evaluation_target_item_unit_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item} {self.unit.code}={self.value}"

    def audit_unit_id(self) -> int | None:
        return self.unit_id


class PublicationState(models.TextChoices):
    REVIEW = "review", _("Published for review")
    FINAL = "final", _("Final")


class Publication(AuditedModel):
    """The results of one scheme and period, frozen as published (公示, then final).

    ``snapshot`` is ``result_to_dict`` in Chinese and English; ``values`` the figures
    it was computed from. Neither is ever rewritten silently: a refresh during review
    is its own recorded step, and a final publication never changes.
    """

    audit_exclude: ClassVar[frozenset[str]] = frozenset({"snapshot", "values"})

    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="publications")
    period = models.CharField(_("period"), max_length=16)
    state = models.CharField(
        _("state"), max_length=8, choices=PublicationState.choices, default=PublicationState.REVIEW
    )
    objection_deadline = models.DateField(_("objections accepted until"))
    snapshot = models.JSONField(default=dict)
    values = models.JSONField(default=list)
    published_at = models.DateTimeField(_("published"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    finalised_at = models.DateTimeField(_("finalised"), null=True, blank=True)
    finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-period", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "period"], name="evaluation_publication_scheme_period_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scheme.code} {self.period} ({self.state})"

    def audit_unit_id(self) -> int | None:
        return self.scheme.issuer_id

    def snapshot_for(self, lang: str) -> dict[str, Any]:
        data: dict[str, Any] = self.snapshot.get(lang) or self.snapshot.get("zh") or {}
        return data


class ObjectionState(models.TextChoices):
    OPEN = "open", pgettext_lazy("objection state", "Open")
    UPHELD = "upheld", _("Upheld")
    REJECTED = "rejected", _("Rejected")


def evidence_path(instance: Objection, filename: str) -> str:
    return f"evaluation/objections/{instance.publication_id}/{instance.sha256}"


class Objection(AuditedModel):
    """A unit's objection (异议) to a published result, with evidence, and the office's ruling."""

    audit_exclude: ClassVar[frozenset[str]] = frozenset({"evidence"})

    publication = models.ForeignKey(
        Publication, on_delete=models.CASCADE, related_name="objections"
    )
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    item = models.CharField(_("item"), max_length=64, blank=True)
    text = models.TextField(_("objection"))
    evidence = models.FileField(upload_to=evidence_path, max_length=300, blank=True)
    evidence_name = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=ObjectionState.choices, default=ObjectionState.OPEN
    )
    lodged_at = models.DateTimeField(_("lodged"))
    lodged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ruling = models.TextField(_("reason for the ruling"), blank=True)
    ruled_at = models.DateTimeField(_("ruled"), null=True, blank=True)
    ruled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["lodged_at", "id"]

    def __str__(self) -> str:
        return f"{self.publication} {self.unit.code} {self.item} ({self.state})"

    def audit_unit_id(self) -> int | None:
        return self.unit_id


class StoredResult(models.Model):
    """A computed result of one scheme and period (``cache.compact``), kept so that a page
    reading twelve months of ranks does not score twelve times.

    Derived data, not a record: it is not audited and may be deleted at any time.
    ``stamp`` names the inputs it was computed from (``cache.input_stamp``); an entry whose
    stamp differs from the inputs' current one is stale and never shown as current.
    """

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="stored_results")
    period = models.CharField(_("period"), max_length=16)
    stamp = models.CharField(max_length=200)
    as_of = models.DateField()  # the day expected progress was measured at
    data = models.JSONField(default=dict)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "period"], name="evaluation_storedresult_scheme_period_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scheme_id} {self.period} @{self.stamp}"
