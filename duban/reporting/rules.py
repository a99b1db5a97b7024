"""A data set's validation rules over a form's figures, as they would be after a write."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from duban.errors import Problem
from duban.indicators.formula import evaluate_all
from duban.indicators.models import Indicator, fmt
from duban.reporting.errors import Problems
from duban.reporting.locking import LockedForm, chunks
from duban.reporting.models import DataValue, Submission

# (unit, indicator, period) → (pk, value, comment, state)
Stored = dict[tuple[int, int, str], tuple[int, Decimal | None, str, str]]


def stored_values(
    unit_ids: Iterable[int], indicator_ids: Iterable[int], periods: Iterable[str]
) -> Stored:
    """(unit, indicator, period) → (pk, value, comment, state), read as plain tuples."""
    units, inds, pers = sorted(set(unit_ids)), sorted(set(indicator_ids)), sorted(set(periods))
    found: Stored = {}
    if not (units and inds and pers):
        return found
    for unit_chunk in chunks(units):
        for ind_chunk in chunks(inds):
            rows = DataValue.objects.filter(
                unit_id__in=unit_chunk, indicator_id__in=ind_chunk, period__in=pers
            ).values_list("unit_id", "indicator_id", "period", "id", "value", "comment", "state")
            for u, i, p, pk, v, c, s in rows.iterator(chunk_size=5000):
                found[(u, i, p)] = (pk, v, c, s)
    return found


@dataclass(frozen=True)
class RuleContext:
    """A data set's rules with what evaluating them needs, worked out once per data set."""

    entered: tuple[tuple[str, int], ...]
    formulas: dict[str, Any]
    rules: tuple[Any, ...]

    @staticmethod
    def of(members: list[Indicator], rules: list[Any]) -> RuleContext:
        return RuleContext(
            tuple((i.code, i.pk) for i in members if not i.is_computed),
            {i.code: i.parsed_formula for i in members if i.parsed_formula is not None},
            tuple(rules),
        )


def check_rules(
    form: LockedForm,
    ctx: RuleContext,
    stored: Stored,
    given: Mapping[tuple[int, int, str], Decimal | None],
    problems: Problems,
) -> None:
    """Add a problem for each rule the form's figures break: `given` (the figures a write
    sets) over `stored` (the rest)."""
    values: dict[str, Decimal | None] = {}
    unit_id, period = form.unit.pk, form.period
    for code, ind_id in ctx.entered:
        key = (unit_id, ind_id, period)
        if key in given:
            values[code] = given[key]
        else:
            old = stored.get(key)
            if old is not None:
                values[code] = old[1]
    if ctx.formulas:
        values.update(evaluate_all(ctx.formulas, values))
    for rule in ctx.rules:
        if rule.parsed.evaluate(values) is False:
            code_where = {code: form.wheres[i] for code, i in ctx.entered if i in form.wheres}
            refs = sorted(rule.parsed.references)
            places = [code_where[c] for c in refs if c in code_where]
            shown = ", ".join(f"{c} = {fmt(values.get(c)) or '—'}" for c in refs)
            message = rule.message or f"rule '{rule.name}' is broken: {rule.expression}"
            problems.add(
                ", ".join(places) or f"{form.unit.code} {form.period}",
                _("%(code)s %(period)s: %(message)s (%(shown)s)")
                % {
                    "code": form.unit.code,
                    "period": form.period,
                    "message": message,
                    "shown": shown,
                },
            )


def check_stored_rules(submission: Submission) -> list[Problem]:
    """The data set's rules over the stored figures of one form (run again on submit)."""
    ds = submission.data_set
    rules = ds.rules()
    if not rules:
        return []
    members = ds.members()
    stored = stored_values([submission.unit_id], [i.pk for i in members], [submission.period])
    form = LockedForm(
        ds, submission.unit, submission.period, submission.pk, submission.state, submission.version
    )
    problems = Problems()
    check_rules(form, RuleContext.of(members, rules), stored, {}, problems)
    return problems.items
