"""What is measured (Indicator), the forms that group it (DataSet) and their checks (ValidationRule)."""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import TYPE_CHECKING

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from duban.audit.models import AuditedModel
from duban.indicators.formula import CODE_PATTERN, Formula, parse_formula
from duban.orgs import policy
from duban.orgs.models import Kind, Level, Line, OrgUnit, code_validator
from duban.orgs.policy import Action
from duban.periods import PeriodType, StatisticalCalendar

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from duban.orgs.policy import Actor

indicator_code_validator = RegexValidator(
    rf"^{CODE_PATTERN}$",
    _("Use letters, digits and '_', in dot-separated parts, starting with a letter (case.filed)."),
)

# Figures are stored with 6 decimal places; 12 whole digits is far beyond any police figure
# and keeps every value exact on SQLite, which keeps 15 significant digits.
MAX_DIGITS = 18
DECIMAL_PLACES = 6
MAX_WHOLE_DIGITS = 12
MAX_ABS = Decimal(10) ** MAX_WHOLE_DIGITS
# Entry for a period stays open, and its deadline falls, at most a year after it ends
# (0 = never closes): a bound at input, so opening a period never adds 10**16 days.
MAX_DAYS_AFTER_PERIOD = 366


class ValueType(models.TextChoices):
    INTEGER = "integer", _("Whole number")
    DECIMAL = "decimal", _("Decimal number")
    PERCENTAGE = "percentage", _("Percentage")
    BOOLEAN = "boolean", _("Yes / no")


class Direction(models.TextChoices):
    HIGHER = "higher", _("Higher is better")
    LOWER = "lower", _("Lower is better")


class TimeAggregation(models.TextChoices):
    SUM = "sum", _("Sum")
    AVERAGE = "average", _("Average")
    LAST = "last", _("Last value")


class RecordMeasure(models.TextChoices):
    """How a record indicator turns its business records into a figure."""

    COUNT = "count", _("Number of records")
    SUM = "sum", _("Sum of the quantities")


class RecordClass(models.TextChoices):
    """The class a business record carries (`BusinessRecord.grade`), as the import writes it:
    fugitives caught are class A, class B or local (the scheme's 抓获A级逃犯每名计10分)."""

    A = "A", _("Class A")
    B = "B", _("Class B")
    LOCAL = "local", _("Local")


class UnitAggregation(models.TextChoices):
    SUM = "sum", _("Sum")
    AVERAGE = "average", _("Average")
    NONE = "none", _("Not aggregated")


PERIOD_TYPE_LABELS = {
    PeriodType.DAILY: _("Daily"),
    PeriodType.WEEKLY: _("Weekly"),
    PeriodType.MONTHLY: _("Monthly"),
    PeriodType.QUARTERLY: _("Quarterly"),
    PeriodType.SIXMONTHLY: _("Six-monthly"),
    PeriodType.YEARLY: _("Yearly"),
}
PERIOD_TYPE_CHOICES = [(p.value, PERIOD_TYPE_LABELS[p]) for p in PeriodType]
# Thousands separators only in groups of three (1,500 and 12,345.6; full-width ， too);
# "1,5" is not fifteen, and a figure is never guessed.
GROUPED = re.compile(r"[+-]?\d{1,3}(?:[,，]\d{3})+(?:\.\d*)?%?")


def without_grouping(text: str) -> str:
    """The figure without its thousands separators; ValueError if they are not in groups."""
    if "," not in text and "，" not in text:
        return text
    if not GROUPED.fullmatch(text):
        raise ValueError(
            gettext('"%(text)s": commas only between groups of three digits (1,500)')
            % {"text": text[:40]}
        )
    return text.replace(",", "").replace("，", "")


TRUE_WORDS = frozenset({"1", "yes", "y", "true", "是", "有"})
FALSE_WORDS = frozenset({"0", "no", "n", "false", "否", "无"})


def _scope_filter(user: Actor | AnonymousUser, field: str) -> Q:
    """Definitions issued at a unit apply to its subtree: visible from inside it and from above."""
    roots = policy.roots(user, Action.VIEW_DATA)
    if not roots:
        return Q(pk__in=[])
    q = Q()
    for root in roots:
        q |= Q(**{f"{field}__path__startswith": root})
        prefixes = [p for p in root.split("/") if p]
        q |= Q(**{f"{field}__code__in": prefixes})
    return q


class IndicatorQuerySet(models.QuerySet["Indicator"]):
    def visible_to(self, user: Actor | AnonymousUser) -> IndicatorQuerySet:
        return self.filter(_scope_filter(user, "issuer"))

    def active(self) -> IndicatorQuerySet:
        return self.filter(is_active=True)


class Indicator(AuditedModel):
    """Something measured per unit and period; computed when it has a formula.

    NULL figures mean "no value", never zero. A computed indicator is never
    entered or stored: it is evaluated from its inputs whenever it is shown.
    """

    code = models.CharField(
        _("code"), max_length=64, unique=True, validators=[indicator_code_validator]
    )
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=150, blank=True)
    description = models.TextField(_("description"), blank=True)
    unit_of_measure = models.CharField(_("unit of measure"), max_length=20, blank=True)
    value_type = models.CharField(_("value type"), max_length=12, choices=ValueType.choices)
    decimals = models.PositiveSmallIntegerField(_("decimal places"), default=2)
    direction = models.CharField(
        _("direction"), max_length=8, choices=Direction.choices, default=Direction.HIGHER
    )
    period_type = models.CharField(
        _("period type"), max_length=12, choices=PERIOD_TYPE_CHOICES, default=PeriodType.MONTHLY
    )
    time_aggregation = models.CharField(
        _("aggregation over time"),
        max_length=8,
        choices=TimeAggregation.choices,
        default=TimeAggregation.SUM,
    )
    unit_aggregation = models.CharField(
        _("aggregation over units"),
        max_length=8,
        choices=UnitAggregation.choices,
        default=UnitAggregation.SUM,
    )
    min_value = models.DecimalField(
        _("lowest value"),
        max_digits=MAX_DIGITS,
        decimal_places=DECIMAL_PLACES,
        null=True,
        blank=True,
    )
    max_value = models.DecimalField(
        _("highest value"),
        max_digits=MAX_DIGITS,
        decimal_places=DECIMAL_PLACES,
        null=True,
        blank=True,
    )
    levels = models.JSONField(_("reporting levels"), default=list, blank=True)
    kinds = models.JSONField(_("reporting kinds"), default=list, blank=True)
    issuer = models.ForeignKey(
        OrgUnit,
        on_delete=models.PROTECT,
        related_name="issued_indicators",
        verbose_name=_("issuing unit"),
    )
    division = models.ForeignKey(
        OrgUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_indicators",
        verbose_name=_("owning division"),
    )
    # Divisions report "their line": the owning division reports this indicator for its own work.
    division_reports = models.BooleanField(_("owning division reports it"), default=False)
    # The line of work (条线) it belongs to: the division heading the line follows it in every
    # territorial unit under the division's parent. Taken from the owning division when unset.
    line = models.CharField(_("line"), max_length=20, choices=Line.choices, blank=True)
    formula = models.TextField(_("formula"), blank=True)
    # A record indicator (业务记录指标): its figure is proposed from the business records of
    # the unit and every unit below it (records.proposals), and the reporter confirms or
    # corrects it. Named by string: the records app sits above indicators and is not imported.
    record_type = models.ForeignKey(
        "records.RecordType",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("counted record type"),
    )
    record_measure = models.CharField(
        _("measure of the records"),
        max_length=8,
        choices=RecordMeasure.choices,
        default=RecordMeasure.COUNT,
    )
    record_class = models.CharField(
        _("class of the records"), max_length=16, choices=RecordClass.choices, blank=True
    )
    # The statistical year the records are counted over (12/21: 201702 is 01-21..02-20); the
    # scheme scoring the indicator states the same in its calendar.
    record_start_month = models.PositiveSmallIntegerField(
        _("statistical year starts in month"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    record_start_day = models.PositiveSmallIntegerField(
        _("statistical year starts on day"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
    )
    sort_order = models.IntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    objects = IndicatorQuerySet.as_manager()

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        constraints = [
            models.CheckConstraint(
                condition=Q(min_value__isnull=True)
                | Q(max_value__isnull=True)
                | Q(min_value__lte=models.F("max_value")),
                name="indicators_indicator_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(decimals__lte=DECIMAL_PLACES), name="indicators_indicator_decimals_max"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def name(self) -> str:
        lang = get_language() or "zh-hans"
        if lang.startswith("en") and self.name_en:
            return self.name_en
        return self.name_zh

    @property
    def is_computed(self) -> bool:
        return bool(self.formula.strip())

    @property
    def is_record(self) -> bool:
        """Whether its figure is proposed from business records (it is still entered)."""
        return self.record_type_id is not None

    @property
    def record_calendar(self) -> StatisticalCalendar:
        return StatisticalCalendar(self.record_start_month, self.record_start_day)

    @cached_property
    def parsed_formula(self) -> Formula | None:
        return parse_formula(self.formula) if self.is_computed else None

    def audit_unit_id(self) -> int | None:
        return self.issuer_id

    def reported_by(self, unit: OrgUnit) -> bool:
        """Whether `unit` enters this indicator itself (as opposed to seeing an aggregate)."""
        if self.is_computed or not self.is_active or not unit.is_active:
            return False
        if not unit.path.startswith(self._issuer_path()):
            return False
        if self.division_reports and self.division_id == unit.pk:
            return True
        return unit.kind != Kind.DIVISION and unit.level in self.levels and unit.kind in self.kinds

    def _issuer_path(self) -> str:
        return self.issuer.path

    def effective_range(self) -> tuple[Decimal | None, Decimal | None]:
        """The stated range, with the natural bounds of the type where none is stated."""
        low, high = self.min_value, self.max_value
        if self.value_type == ValueType.BOOLEAN:
            return Decimal(0), Decimal(1)
        if self.value_type == ValueType.PERCENTAGE:
            low = Decimal(0) if low is None else low
            high = Decimal(100) if high is None else high
        if self.value_type == ValueType.INTEGER and low is None:
            low = Decimal(0)
        return low, high

    def clean_value(self, raw: object) -> Decimal | None:
        """Read one entered figure; raise ValueError with a message for the form or file.

        Empty means "no value" (stored as NULL). Floats from spreadsheets are read
        through their shortest repr so 0.1 stays 0.1.
        """
        if raw is None:
            return None
        if type(raw) is int:  # most cells of a sheet: a whole number, judged on ints alone
            low, high = self._int_limits
            if low <= raw <= high:
                return Decimal(raw)
        if isinstance(raw, bool):
            if self.value_type != ValueType.BOOLEAN:
                raise ValueError(gettext("a yes/no value where a number is expected"))
            return Decimal(int(raw))
        if isinstance(raw, Decimal):
            value = raw
        elif isinstance(raw, int):
            value = Decimal(raw)
        elif isinstance(raw, float):
            value = Decimal(repr(raw))
        elif isinstance(raw, str):
            text = without_grouping(raw.strip())
            if not text:
                return None
            if self.value_type == ValueType.BOOLEAN and text.lower() in TRUE_WORDS | FALSE_WORDS:
                return Decimal(1 if text.lower() in TRUE_WORDS else 0)
            if text.startswith("="):
                raise ValueError(gettext("a formula is not accepted: type the figure itself"))
            if self.value_type == ValueType.PERCENTAGE and text.endswith("%"):
                text = text[:-1].strip()
            try:
                value = Decimal(text)
            except InvalidOperation:
                raise ValueError(
                    gettext("%(text)s is not a number") % {"text": repr(raw.strip()[:40])}
                ) from None
        else:
            raise ValueError(gettext("a %(kind)s is not a figure") % {"kind": type(raw).__name__})
        return self._check(value)

    @cached_property
    def _limits(self) -> tuple[Decimal | None, Decimal | None, bool, bool]:
        """(low, high, whole numbers only, check decimal places), worked out once per instance."""
        low, high = self.effective_range()
        whole = self.value_type in (ValueType.INTEGER, ValueType.BOOLEAN)
        return low, high, whole, self.value_type in (ValueType.DECIMAL, ValueType.PERCENTAGE)

    @cached_property
    def _int_limits(self) -> tuple[int, int]:
        """The whole numbers `_check` accepts as they are, as ints (an empty range for yes/no,
        whose 0 and 1 go the long way); any other int is judged by `_check`, which words why."""
        if self.value_type == ValueType.BOOLEAN:
            return 1, 0
        low, high, _whole, _places = self._limits
        bound = 10**MAX_WHOLE_DIGITS - 1  # below both limits of `_check`: too large, MAX_ABS
        lo = -bound if low is None else max(-bound, math.ceil(low))
        hi = bound if high is None else min(bound, math.floor(high))
        return lo, hi

    def _check(self, value: Decimal) -> Decimal:
        if not value.is_finite():
            raise ValueError(gettext("not a finite number"))
        # Judged on the exponent alone first: arithmetic on 1e999999999 (abs, rounding)
        # raises decimal.Overflow, a 500, where the figure is simply too large.
        if value.is_zero():
            value = Decimal(0)  # 0E+999999999 is zero; its exponent must not travel on
        elif value.adjusted() >= MAX_WHOLE_DIGITS:
            raise ValueError(gettext("the number is too large"))
        if abs(value) >= MAX_ABS:
            raise ValueError(gettext("the number is too large"))
        low, high, whole, places = self._limits
        if whole and value != value.to_integral_value():
            raise ValueError(gettext("must be a whole number"))
        if self.value_type == ValueType.BOOLEAN and value not in (0, 1):
            raise ValueError(gettext("must be yes (1) or no (0)"))
        if places:
            exponent = value.as_tuple().exponent
            if isinstance(exponent, int) and -exponent > self.decimals:
                shown = -value.normalize().as_tuple().exponent  # type: ignore[operator]
                if shown > self.decimals:
                    raise ValueError(gettext("at most %(n)s decimal places") % {"n": self.decimals})
        if low is not None and value < low:
            raise ValueError(gettext("must be at least %(minimum)s") % {"minimum": fmt(low)})
        if high is not None and value > high:
            raise ValueError(gettext("must be at most %(maximum)s") % {"maximum": fmt(high)})
        return value


def fmt(value: Decimal | None) -> str:
    """A figure as plain text without trailing zeros ('' for no value); never '1E+2'."""
    if value is None:
        return ""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


class DataSetQuerySet(models.QuerySet["DataSet"]):
    def visible_to(self, user: Actor | AnonymousUser) -> DataSetQuerySet:
        return self.filter(_scope_filter(user, "owner"))


class DataSet(AuditedModel):
    """The indicators a unit reports together for one period type: one form, one submission.

    Entry for a period closes `expiry_days` after the period ends (0 = never),
    as in DHIS2; a submission is on time when first made by the deadline,
    `timely_days` after the period ends unless the opening sets another date.
    """

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=150, blank=True)
    period_type = models.CharField(
        _("period type"), max_length=12, choices=PERIOD_TYPE_CHOICES, default=PeriodType.MONTHLY
    )
    owner = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="data_sets", verbose_name=_("issuing unit")
    )
    timely_days = models.PositiveSmallIntegerField(
        _("days to the deadline after the period"),
        default=5,
        validators=[MaxValueValidator(MAX_DAYS_AFTER_PERIOD)],
    )
    expiry_days = models.PositiveSmallIntegerField(
        _("days entry stays open after the period"),
        default=15,
        validators=[MaxValueValidator(MAX_DAYS_AFTER_PERIOD)],
    )
    indicators = models.ManyToManyField(
        Indicator, through="DataSetMember", related_name="data_sets"
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = DataSetQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("data set")
        verbose_name_plural = _("data sets")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def name(self) -> str:
        lang = get_language() or "zh-hans"
        if lang.startswith("en") and self.name_en:
            return self.name_en
        return self.name_zh

    def audit_unit_id(self) -> int | None:
        return self.owner_id

    def members(self) -> list[Indicator]:
        """The indicators of the form in their order, computed ones included."""
        return [
            m.indicator
            for m in self.memberships.select_related("indicator", "indicator__issuer").order_by(
                "sort_order", "indicator__sort_order", "indicator__code"
            )
        ]

    def reported_by(self, unit: OrgUnit) -> bool:
        return any(ind.reported_by(unit) for ind in self.members())

    def reporting_units(self, under: OrgUnit | None = None) -> list[OrgUnit]:
        """Units in the owner's subtree (or `under`'s) that report at least one indicator."""
        members = [i for i in self.members() if not i.is_computed]
        scope = under or self.owner
        units = OrgUnit.objects.subtree_of(scope).filter(is_active=True).exclude(kind=Kind.OFFICE)
        return [u for u in units if any(i.reported_by(u) for i in members)]

    def rules(self) -> list[ValidationRule]:
        return list(self.validation_rules.filter(is_active=True).order_by("id"))


class DataSetMember(AuditedModel):
    """An indicator on a data set's form. An indicator sits on one data set only, so each
    figure has exactly one submission whose state governs it."""

    data_set = models.ForeignKey(DataSet, on_delete=models.CASCADE, related_name="memberships")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="memberships")
    sort_order = models.IntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["sort_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator"], name="indicators_datasetmember_indicator_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.data_set_id}:{self.indicator_id}"

    def audit_unit_id(self) -> int | None:
        return self.data_set.owner_id


class ValidationRule(AuditedModel):
    """A condition over a form's figures ("solved <= filed"), checked per unit and period.

    A rule whose inputs are missing is unknown and passes: completeness is shown
    separately. A rule that is false blocks saving and submitting.
    """

    data_set = models.ForeignKey(DataSet, on_delete=models.CASCADE, related_name="validation_rules")
    name = models.CharField(_("name"), max_length=200)
    expression = models.TextField(_("condition"))
    message = models.CharField(_("message when broken"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("validation rule")
        verbose_name_plural = _("validation rules")

    def __str__(self) -> str:
        return f"{self.name}: {self.expression}"

    def audit_unit_id(self) -> int | None:
        return self.data_set.owner_id

    @cached_property
    def parsed(self) -> Formula:
        return parse_formula(self.expression)


__all__ = [
    "DataSet",
    "DataSetMember",
    "Direction",
    "Indicator",
    "Kind",
    "Level",
    "RecordClass",
    "RecordMeasure",
    "TimeAggregation",
    "UnitAggregation",
    "ValidationRule",
    "ValueType",
    "fmt",
]
