"""The organisation tree (a materialised path of unit codes) and membership with roles."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from duban.audit.models import AuditedModel

SEP = "/"
code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$",
    _("Use 1–32 letters, digits, '.', '_' or '-', starting with a letter or digit."),
)


class Level(models.TextChoices):
    PROVINCE = "province", _("Province")
    CITY = "city", _("City")
    COUNTY = "county", _("County or district")
    STATION = "station", _("Police station")

    @classmethod
    def rank(cls, value: str) -> int:
        return [c.value for c in cls].index(value)


class Kind(models.TextChoices):
    TERRITORIAL = "territorial", _("Territorial bureau")
    DIVISION = "division", _("Police division")
    OFFICE = "office", _("Office")


class Line(models.TextChoices):
    """A line of police work (条线): the division heading it at a city (支队) or province (总队)
    follows its indicators, figures, scores and tasks in every territorial unit under its
    parent. An indicator or task belongs to at most one line."""

    TRAFFIC = "traffic", _("Traffic police")
    CRIMINAL = "criminal", _("Criminal investigation")
    PUBLIC_ORDER = "public_order", _("Public order")
    NARCOTICS = "narcotics", _("Narcotics control")
    ECONOMIC = "economic", _("Economic crime investigation")
    CYBER = "cyber", _("Cyber security")
    IMMIGRATION = "immigration", _("Exit and entry administration")
    DETENTION = "detention", _("Detention supervision")


class OrgUnitQuerySet(models.QuerySet["OrgUnit"]):
    def subtree_of(self, unit: OrgUnit) -> OrgUnitQuerySet:
        """The unit and every unit below it, in one query on the path index."""
        return self.filter(path__startswith=unit.path)

    def ancestors_of(self, unit: OrgUnit) -> OrgUnitQuerySet:
        """The units above this one, root first (the path names them all)."""
        return self.filter(code__in=unit.ancestor_codes()).order_by("depth")

    def under_paths(self, paths: list[str]) -> OrgUnitQuerySet:
        if not paths:
            return self.none()
        q = models.Q()
        for path in paths:
            q |= models.Q(path__startswith=path)
        return self.filter(q)


class OrgUnit(AuditedModel):
    """A bureau, division or office. `path` is `/ROOT/…/CODE/`, so a subtree is a prefix."""

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=150, blank=True)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent unit"),
    )
    path = models.CharField(max_length=600, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    sort_order = models.IntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    # A division heading a line (交警支队: traffic); empty for every other unit.
    line = models.CharField(_("line"), max_length=20, choices=Line.choices, blank=True)
    # Units loaded by `duban demo`: every page showing their figures says they are invented.
    is_demo = models.BooleanField(_("demo unit"), default=False, editable=False)

    objects = OrgUnitQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = _("organisation unit")
        verbose_name_plural = _("organisation units")
        indexes = [
            models.Index(
                fields=["path"], name="orgs_orgunit_path_idx", opclasses=["varchar_pattern_ops"]
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["path"], name="orgs_orgunit_path_unique"),
            models.CheckConstraint(
                condition=Q(line="") | Q(kind="division"),
                name="orgs_orgunit_line_on_divisions",
                violation_error_message=_("only a police division heads a line"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The name in the active language; Chinese when no English name is set."""
        lang = get_language() or "zh-hans"
        if lang.startswith("en") and self.name_en:
            return self.name_en
        return self.name_zh

    def ancestor_codes(self) -> list[str]:
        return [c for c in self.path.split(SEP) if c][:-1]

    def is_within(self, other: OrgUnit) -> bool:
        """True when this unit is `other` or lies below it."""
        return self.path.startswith(other.path)

    def compute_path(self) -> str:
        parent_path = self.parent.path if self.parent_id and self.parent else SEP
        return f"{parent_path}{self.code}{SEP}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.path = self.compute_path()
        self.depth = self.path.count(SEP) - 2
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def audit_unit_id(self) -> int | None:
        return self.pk


class UnitMove(AuditedModel):
    """A unit moved under another parent: its figures and history stay with it."""

    unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="moves")
    from_parent = models.ForeignKey(
        OrgUnit, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_parent = models.ForeignKey(
        OrgUnit, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    old_path = models.CharField(max_length=600)
    new_path = models.CharField(max_length=600)
    moved_at = models.DateTimeField(auto_now_add=True)
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-moved_at", "-id"]
        verbose_name = _("unit move")
        verbose_name_plural = _("unit moves")

    def __str__(self) -> str:
        return f"{self.unit.code}: {self.old_path} → {self.new_path}"

    def audit_unit_id(self) -> int | None:
        return self.unit_id


class Role(models.TextChoices):
    SYSTEM_ADMIN = "system_admin", _("System administrator")
    SECURITY_ADMIN = "security_admin", _("Security administrator")
    AUDIT_ADMIN = "audit_admin", _("Audit administrator")
    OFFICE = "office", _("Evaluation office")
    REPORTER = "reporter", _("Reporter")
    APPROVER = "approver", _("Approver")
    LEADER = "leader", _("Leader")


ADMIN_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})


class MembershipQuerySet(models.QuerySet["Membership"]):
    def active(self) -> MembershipQuerySet:
        return self.filter(user__is_active=True, unit__is_active=True)


class Membership(AuditedModel):
    """A user holds a role at a unit; the role reaches the unit's whole subtree."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "unit", "role"], name="orgs_membership_user_unit_role_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.unit.code}: {self.get_role_display()}"

    def audit_unit_id(self) -> int | None:
        return self.unit_id
