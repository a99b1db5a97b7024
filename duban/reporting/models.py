"""Reporting: opened periods, figures, the submission of a form and its approval, evidence.

A figure (DataValue) is keyed by unit, indicator and DHIS2 period id; NULL means
"no value", never zero. The Submission of (data set, unit, period) carries the
state machine draft → submitted → approved → locked (with "returned" back to the
reporter); every figure of the form mirrors that state so a write can be refused
without a join.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from duban.audit.models import AuditedModel
from duban.indicators.models import DECIMAL_PLACES, MAX_DIGITS, DataSet, Indicator
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action
from duban.periods import Period, parse_period

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from duban.orgs.policy import Actor


class State(models.TextChoices):
    DRAFT = "draft", _("Draft")
    RETURNED = "returned", _("Returned")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    LOCKED = "locked", _("Locked")


EDITABLE_STATES = frozenset({State.DRAFT, State.RETURNED})
DONE_STATES = frozenset({State.APPROVED, State.LOCKED})


class ReportingPeriodQuerySet(models.QuerySet["ReportingPeriod"]):
    def visible_to(self, user: Actor | AnonymousUser) -> ReportingPeriodQuerySet:
        return self.filter(data_set__in=DataSet.objects.visible_to(user))


class ReportingPeriod(AuditedModel):
    """A data set opened for one period: entry from `opens_on`, on time until `deadline`,
    closed after `closes_on` (the DHIS2 expiry) or when the office closes it."""

    data_set = models.ForeignKey(
        DataSet, on_delete=models.PROTECT, related_name="reporting_periods"
    )
    period = models.CharField(_("period"), max_length=16)
    opens_on = models.DateField(_("opens on"))
    deadline = models.DateField(_("deadline"))
    closes_on = models.DateField(_("entry closes after"), null=True, blank=True)
    is_closed = models.BooleanField(_("closed by the office"), default=False)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)

    objects = ReportingPeriodQuerySet.as_manager()

    class Meta:
        ordering = ["data_set", "-period"]
        verbose_name = _("reporting period")
        verbose_name_plural = _("reporting periods")
        constraints = [
            models.UniqueConstraint(
                fields=["data_set", "period"],
                name="reporting_reportingperiod_dataset_period_unique",
            ),
            models.CheckConstraint(
                condition=Q(deadline__gte=models.F("opens_on")),
                name="reporting_reportingperiod_deadline_after_opening",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.data_set.code} {self.period}"

    def audit_unit_id(self) -> int | None:
        return self.data_set.owner_id

    @property
    def parsed(self) -> Period:
        return parse_period(self.period)

    def entry_state(self, today: date) -> str:
        """'not_open', 'open', 'expired' or 'closed' on a given day."""
        if self.is_closed:
            return "closed"
        if today < self.opens_on:
            return "not_open"
        if self.closes_on is not None and today > self.closes_on:
            return "expired"
        return "open"

    def is_late(self, submitted_on: date | None, today: date) -> bool:
        return (submitted_on or today) > self.deadline


class SubmissionQuerySet(models.QuerySet["Submission"]):
    def for_period(self, period: str) -> SubmissionQuerySet:
        return self.filter(period=period)

    def visible_to(self, user: Actor | AnonymousUser) -> SubmissionQuerySet:
        return self.filter(unit__in=policy.visible_units(user, Action.VIEW_DATA))


class Submission(AuditedModel):
    """The form of one unit for one period of one data set, and where it stands."""

    data_set = models.ForeignKey(DataSet, on_delete=models.PROTECT, related_name="submissions")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="submissions")
    period = models.CharField(_("period"), max_length=16)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.DRAFT)
    # Timeliness counts the first submission: a return for correction does not make it late.
    first_submitted_at = models.DateTimeField(_("first submitted"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    locked_at = models.DateTimeField(_("locked"), null=True, blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    return_reason = models.TextField(_("reason for return"), blank=True)
    # Every write that changes a figure or comment on the form adds one; a save made from an
    # older version is refused (two people on one form never overwrite each other unseen).
    version = models.PositiveIntegerField(_("version"), default=0)

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        ordering = ["data_set", "period", "unit__path"]
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        constraints = [
            models.UniqueConstraint(
                fields=["data_set", "unit", "period"],
                name="reporting_submission_dataset_unit_period_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["data_set", "period", "state"], name="reporting_sub_ds_period_idx")
        ]

    def __str__(self) -> str:
        return f"{self.data_set.code} {self.unit.code} {self.period} ({self.state})"

    def audit_unit_id(self) -> int | None:
        return self.unit_id

    @property
    def is_editable(self) -> bool:
        return self.state in EDITABLE_STATES


# Figures are written by `duban.reporting.values` alone, which keeps the year-to-date totals in
# the same transaction. It lifts this guard while it writes; any other save, delete or queryset
# write of a DataValue is refused, so no path can change a figure and forget the totals.
figure_writer: ContextVar[bool] = ContextVar("reporting_figure_writer", default=False)


class FigureWriteRefused(RuntimeError):
    """A DataValue written outside `duban.reporting.values` (a programming error, not input)."""


def require_writer() -> None:
    if not figure_writer.get():
        raise FigureWriteRefused(
            "figures are written through duban.reporting.values only "
            "(write_values, put_figures, remove_figures, set_form_state), "
            "which keep the year-to-date totals"
        )


class DataValueQuerySet(models.QuerySet["DataValue"]):
    def update(self, **kwargs: Any) -> int:
        require_writer()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        require_writer()
        return super().delete()

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        require_writer()
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs: Any, fields: Any, *args: Any, **kwargs: Any) -> int:
        require_writer()
        return super().bulk_update(objs, fields, *args, **kwargs)

    def for_period(self, period: str | Period) -> DataValueQuerySet:
        return self.filter(period=str(period))

    def for_units(self, units: models.QuerySet[OrgUnit]) -> DataValueQuerySet:
        return self.filter(unit__in=units)

    def visible_to(self, user: Actor | AnonymousUser) -> DataValueQuerySet:
        """Figures of the units the user reaches, and of his division's line (条线)."""
        return self.filter(policy.data_filter(user, Action.VIEW_DATA))

    def with_value(self) -> DataValueQuerySet:
        return self.filter(value__isnull=False)


class DataValue(AuditedModel):
    """One figure. Written only by `duban.reporting.values` (see `figure_writer`), which
    records compact audit entries listing every (unit, indicator, period, before, after)."""

    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="data_values")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="data_values")
    period = models.CharField(_("period"), max_length=16)
    # NULL: no value (never zero). A value once entered and then cleared stays as a NULL row.
    value = models.DecimalField(
        _("value"), max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True, blank=True
    )
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.DRAFT)
    # The form's version at which this figure last changed: what changed since a version.
    version = models.PositiveIntegerField(_("version"), default=0)
    updated_at = models.DateTimeField(_("updated"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = DataValueQuerySet.as_manager()

    class Meta:
        ordering = ["period", "unit_id", "indicator_id"]
        verbose_name = _("data value")
        verbose_name_plural = _("data values")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "indicator", "period"],
                name="reporting_datavalue_unit_indicator_period_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["indicator", "period"], name="reporting_value_ind_per_idx"),
            models.Index(fields=["period", "unit"], name="reporting_value_per_unit_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id}/{self.indicator_id}/{self.period}={self.value}"

    def audit_unit_id(self) -> int | None:
        return self.unit_id

    def save(self, *args: Any, **kwargs: Any) -> None:
        require_writer()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        require_writer()
        return super().delete(*args, **kwargs)


def is_month(period: str) -> bool:
    """A monthly DHIS2 period id (`201712`): the only periods year-to-date totals cover."""
    return len(period) == 6 and period.isdigit()


def year_to_date_key(
    unit_id: int, indicator_id: int, period: str, state: str
) -> set[tuple[int, int, str]]:
    """{(unit, indicator, month)} when a figure in `state` enters year-to-date totals."""
    if state not in DONE_STATES or not is_month(period):
        return set()
    return {(unit_id, indicator_id, period)}


class YearToDateTotal(models.Model):
    """A unit's running total of one indicator's monthly figures from January of the named year.

    Scoring sums each unit's months from the start of the year; at national scale a
    `SUM … GROUP BY` over the raw monthly rows took seconds, so the totals are kept here
    and a window of months costs one to three rows per (unit, indicator).

    `total` is the sum of the non-null approved or locked values of `YYYY01` … `month`,
    `months` how many of those months have one. Rows run from the first month of the year
    with such a value through `YYYY12`: an absent row means nothing was given up to then
    (total 0, months 0), and a year without any such value has no rows. Only monthly period
    ids are covered; a quarter or year given directly is not. Names count, not dates: a
    statistical calendar changes the days of `201701`, not its name.

    Derived from the audited DataValue rows, so it is not audited itself: the one writer of
    figures (`duban.reporting.values`) calls `reporting.year_to_date.refresh` in the same
    transaction whenever an approved or locked monthly figure changes, and `duban year_to_date verify` compares it with a recomputation.
    """

    # The unique constraint's index starts with the unit: no second index for it.
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", db_index=False)
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="+")
    month = models.CharField(_("month"), max_length=6)
    # Two more digits than a figure: twelve of the largest figures still fit.
    total = models.DecimalField(
        _("total"), max_digits=MAX_DIGITS + 2, decimal_places=DECIMAL_PLACES
    )
    months = models.PositiveSmallIntegerField(_("months with a value"))

    class Meta:
        verbose_name = _("year-to-date total")
        verbose_name_plural = _("year-to-date totals")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "indicator", "month"],
                name="reporting_yeartodatetotal_unit_indicator_month_unique",
            ),
        ]
        indexes = [
            # Covers the scoring read (one month, many indicators and units) without the table.
            models.Index(
                fields=["month", "indicator", "unit", "total", "months"],
                name="reporting_ytd_read_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id}/{self.indicator_id}/{self.month}: {self.total} ({self.months})"


def evidence_path(instance: Evidence, filename: str) -> str:
    today = date.today()
    return f"evidence/{today:%Y/%m}/{instance.sha256[:2]}/{instance.sha256}"


class Evidence(AuditedModel):
    """A file supporting a form or one figure on it (a case list, a photo of a vehicle removal).

    The audit trail keeps name, size and SHA-256 of the content; the storage path is
    derived from the hash, so it is left out of the snapshot.
    """

    audit_exclude: ClassVar[frozenset[str]] = frozenset({"file"})

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="evidence")
    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    file = models.FileField(upload_to=evidence_path, max_length=300)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")

    def __str__(self) -> str:
        return self.original_name

    def audit_unit_id(self) -> int | None:
        return self.submission.unit_id


class LockException(AuditedModel):
    """The office lets one unit enter one period after entry has expired or closed (DHIS2)."""

    data_set = models.ForeignKey(DataSet, on_delete=models.PROTECT, related_name="lock_exceptions")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="lock_exceptions")
    period = models.CharField(_("period"), max_length=16)
    reason = models.TextField(_("reason"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-granted_at"]
        verbose_name = _("lock exception")
        verbose_name_plural = _("lock exceptions")
        constraints = [
            models.UniqueConstraint(
                fields=["data_set", "unit", "period"],
                name="reporting_lockexception_dataset_unit_period_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.data_set.code} {self.unit.code} {self.period}"

    def audit_unit_id(self) -> int | None:
        return self.unit_id


def default_dates(data_set: DataSet, period: Period) -> tuple[date, date, date | None]:
    """Opening, deadline and expiry as DHIS2 derives them from the data set."""
    deadline = period.end + timedelta(days=data_set.timely_days)
    closes = period.end + timedelta(days=data_set.expiry_days) if data_set.expiry_days else None
    if closes is not None and closes < deadline:
        closes = deadline
    return period.start, deadline, closes
