"""`duban audit verify --data` for reporting: replay the trail's record of every figure and
form, and name each row of the tables that differs from it or that the trail never wrote.

The entries each write path leaves, and what the replay takes from them:

- `write_values` (form, API, Excel, CSV, DHIS2, the demo): compact entries of object type
  `reporting.datavalue` whose `after` lists `columns` and `changes` rows (unit code, indicator
  code, period, before, after[, comment before, comment after]). A figure written there takes
  its form's state (or the entry's own `state`, for figures on no form, such as the office's
  assessments in the evaluation demo); new forms are listed first by
  `reporting.submissions.created` (drafts).
- `transitions.transition` (submit, return, approve, unapprove, lock, unlock): ONE entry,
  `reporting.submission.<event>` with the changed columns and `after.state`: the form and
  every figure on its data set for that unit and period take it. (Before the transitions
  table, a `reporting.submission.updated` model entry came first; old trails replay too.)
- The reporting demo: `reporting.demo.states`, `after.forms` = [unit, period, state], the
  data set named before the colon of its object text; forms and their figures take the state.
- `values.put_figures` (figures on no form): compact entries as above carrying their `state`;
  `values.remove_figures` and `Submission.objects.get_or_create`: model entries with
  snapshots by primary key.

An entry naming no row (`{"count": n}`) cannot be replayed: the rows it wrote show as having
no trail, and the report names the entry that may account for them.
Each row's `before` is also checked against the replay, so a change made behind the
application's back and later overwritten through it still shows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from duban.audit.models import AuditEntry
from duban.audit.verify import DataProblem
from duban.indicators.models import DataSet, DataSetMember, Indicator, fmt
from duban.orgs.models import OrgUnit
from duban.reporting.models import DataValue, State, Submission

FigureKey = tuple[str, str, str]  # unit code, indicator code, period
FormKey = tuple[str, str, str]  # data set code, unit code, period
MODEL_VERBS = frozenset({"created", "updated", "deleted"})


@dataclass(slots=True)
class _Figure:
    value: str | None  # as `fmt` shows it ('' for no value); None: not known from the trail
    comment: str | None
    state: str | None
    entry: int  # the last entry that set it


@dataclass(slots=True)
class _Form:
    state: str | None
    entry: int


def _norm(value: Any) -> str:
    """A figure from any entry ('12', '12.00', 12, None) in the one form `fmt` gives."""
    if value is None or value == "":
        return ""
    try:
        return fmt(Decimal(str(value)))
    except InvalidOperation:
        return str(value)


def _say(name: str, value: str | None) -> str:
    """'value '12'', 'no value', 'comment '…'', 'no comment', 'state 'approved''."""
    if value is None:
        return f"{name} unknown"
    return f"no {name}" if value == "" else f"{name} {value!r}"


class ReportingReplay:
    """The last recorded value, comment and state of each figure, and state of each form."""

    object_types = frozenset({"reporting.datavalue", "reporting.submission"})

    def __init__(self) -> None:
        self.units: dict[int, str] = dict(OrgUnit.objects.values_list("pk", "code"))
        self.indicators: dict[int, str] = dict(Indicator.objects.values_list("pk", "code"))
        self.data_sets: dict[int, str] = dict(DataSet.objects.values_list("pk", "code"))
        self.data_set_of: dict[str, str] = {}
        self.members: dict[str, list[str]] = defaultdict(list)
        for ind, ds in DataSetMember.objects.values_list("indicator_id", "data_set_id"):
            code, ds_code = self.indicators[ind], self.data_sets[ds]
            self.data_set_of[code] = ds_code
            self.members[ds_code].append(code)
        self.figures: dict[FigureKey, _Figure] = {}
        self.forms: dict[FormKey, _Form] = {}
        self.figure_ids: dict[str, FigureKey] = {}
        self.form_ids: dict[str, FormKey] | None = None  # loaded from the table when first needed
        self.problems: list[DataProblem] = []
        self.notes: list[str] = []
        self.unnamed: list[tuple[int, str, Any]] = []  # count-only entries
        self.unknown: dict[str, int] = defaultdict(int)

    # Feeding ----------------------------------------------------------------------------------

    def feed(self, entry: AuditEntry) -> None:
        after = entry.after if isinstance(entry.after, dict) else {}
        verb = entry.action.rsplit(".", 1)[-1]
        if entry.object_type == "reporting.datavalue":
            if "changes" in after and "columns" in after:
                self._changes(entry, after)
            elif entry.action.startswith("reporting.datavalue.") and verb in MODEL_VERBS:
                self._figure_model(entry, verb)
            elif "count" in after:
                self.unnamed.append((entry.pk, entry.action, after["count"]))
            else:
                self.unknown[entry.action] += 1
        elif entry.action == "reporting.submissions.created":
            for ds, unit, period in after.get("forms", ()):
                self.forms[(ds, unit, period)] = _Form(State.DRAFT, entry.pk)
        elif entry.action == "reporting.demo.states":
            ds = entry.object_repr.split(":", 1)[0]
            for unit, period, state in after.get("forms", ()):
                self._form_state((ds, unit, period), state, entry.pk)
        elif entry.action.startswith("reporting.submission.") and verb in MODEL_VERBS:
            self._form_model(entry, verb)
        elif entry.action.startswith("reporting.submission.") and "state" in after:
            key = self._form_key(entry.object_id)
            if key is None:
                self._lost(entry, f"form #{entry.object_id}")
            else:
                self._form_state(key, after["state"], entry.pk)
        else:
            self.unknown[entry.action] += 1

    def _changes(self, entry: AuditEntry, after: dict[str, Any]) -> None:
        col = {name: n for n, name in enumerate(after["columns"])}
        unit_i, ind_i, per_i = col["unit"], col["indicator"], col["period"]
        before_i, after_i = col["before"], col["after"]
        cb_i, ca_i = col.get("comment_before", -1), col.get("comment_after", -1)
        for row in after["changes"]:
            key = (row[unit_i], row[ind_i], row[per_i])
            known = self.figures.get(key)
            commented = 0 <= cb_i < ca_i < len(row)  # rows whose comment is unchanged are shorter
            self._continuity(
                key,
                known,
                entry,
                value=_norm(row[before_i]),
                comment=row[cb_i] if commented else None,
            )
            if commented:
                comment: str | None = row[ca_i]
            elif known is not None:
                comment = known.comment
            else:
                comment = ""  # a figure created without a comment
            ds = self.data_set_of.get(key[1])
            form = self.forms.get((ds, key[0], key[2])) if ds else None
            state = after.get("state") or (form.state if form is not None else State.DRAFT)
            self.figures[key] = _Figure(_norm(row[after_i]), comment, state, entry.pk)

    def _figure_model(self, entry: AuditEntry, verb: str) -> None:
        before = entry.before if isinstance(entry.before, dict) else {}
        after = entry.after if isinstance(entry.after, dict) else {}
        if verb == "created":
            key = self._figure_key_of(after)
            if key is not None:
                self.figure_ids[entry.object_id] = key
                self.figures[key] = _Figure(
                    _norm(after.get("value")), after.get("comment"), after.get("state"), entry.pk
                )
            return
        key = self.figure_ids.get(entry.object_id) or self._figure_key_of(before)
        if key is None:
            row = (
                DataValue.objects.filter(pk=entry.object_id)
                .values("unit_id", "indicator_id", "period")
                .first()
            )
            key = self._figure_key_of(dict(row)) if row is not None else None
        if key is None:
            self._lost(entry, f"figure #{entry.object_id}")
            return
        known = self.figures.get(key)
        if verb == "deleted":
            self.figures.pop(key, None)
            self.figure_ids.pop(entry.object_id, None)
            return
        self._continuity(
            key,
            known,
            entry,
            value=_norm(before["value"]) if "value" in before else None,
            comment=before.get("comment"),
            state=before.get("state"),
        )
        unit, ind, period = key
        moved = self._figure_key_of({"unit": unit, "indicator": ind, "period": period, **after})
        figure = known or _Figure(None, None, None, entry.pk)
        if "value" in after:
            figure.value = _norm(after["value"])
        if "comment" in after:
            figure.comment = after["comment"]
        if "state" in after:
            figure.state = after["state"]
        figure.entry = entry.pk
        if moved is not None and moved != key:
            self.figures.pop(key, None)
            key = moved
        self.figures[key] = figure
        self.figure_ids[entry.object_id] = key

    def _figure_key_of(self, data: dict[str, Any]) -> FigureKey | None:
        """The key from a snapshot's ids (or from codes already in `unit`/`indicator`)."""
        unit = self.units.get(data["unit_id"]) if "unit_id" in data else data.get("unit")
        ind = (
            self.indicators.get(data["indicator_id"])
            if "indicator_id" in data
            else data.get("indicator")
        )
        period = data.get("period")
        if unit is None or ind is None or period is None:
            return None
        return (unit, ind, period)

    def _form_model(self, entry: AuditEntry, verb: str) -> None:
        before = entry.before if isinstance(entry.before, dict) else {}
        after = entry.after if isinstance(entry.after, dict) else {}
        snapshot = after if verb == "created" else before
        key = self._form_key_of(snapshot) if verb != "updated" else None
        key = key or self._form_key(entry.object_id)
        if key is None:
            self._lost(entry, f"form #{entry.object_id}")
            return
        if verb == "deleted":
            self.forms.pop(key, None)
            return
        known = self.forms.get(key)
        if (
            verb == "updated"
            and known is not None
            and known.state is not None
            and before.get("state", known.state) != known.state
        ):
            self.problems.append(
                DataProblem(
                    _form_where(key),
                    f"entry #{entry.pk} found state {before['state']!r}, but the trail "
                    f"had left it {known.state!r} (entry #{known.entry}): it was changed "
                    "behind the application's back in between",
                )
            )
        if verb == "created":
            self.forms[key] = _Form(after.get("state"), entry.pk)
        elif "state" in after:
            self.forms[key] = _Form(after["state"], entry.pk)
        if self.form_ids is not None:
            self.form_ids[entry.object_id] = key

    def _form_key_of(self, data: dict[str, Any]) -> FormKey | None:
        ds = self.data_sets.get(data.get("data_set_id"))  # type: ignore[arg-type]
        unit = self.units.get(data.get("unit_id"))  # type: ignore[arg-type]
        period = data.get("period")
        return (ds, unit, period) if ds and unit and period else None

    def _form_key(self, object_id: str) -> FormKey | None:
        """A form by primary key: the bulk-created drafts are named by codes, not keys."""
        if self.form_ids is None:
            self.form_ids = {
                str(pk): (self.data_sets.get(ds, f"#{ds}"), self.units.get(u, f"#{u}"), p)
                for pk, ds, u, p in Submission.objects.values_list(
                    "pk", "data_set_id", "unit_id", "period"
                ).iterator(chunk_size=5000)
            }
        return self.form_ids.get(object_id)

    def _form_state(self, key: FormKey, state: str, entry: int) -> None:
        """The form and every figure of its data set for that unit and period (a transition)."""
        self.forms[key] = _Form(state, entry)
        ds, unit, period = key
        for ind in self.members.get(ds, ()):
            figure = self.figures.get((unit, ind, period))
            if figure is not None:
                figure.state = state
                figure.entry = entry

    def _continuity(
        self,
        key: FigureKey,
        known: _Figure | None,
        entry: AuditEntry,
        *,
        value: str | None,
        comment: str | None = None,
        state: str | None = None,
    ) -> None:
        """What an entry found before its change must be what the trail last left there."""
        where = _figure_where(key)
        if known is None:
            if value:
                self.problems.append(
                    DataProblem(
                        where,
                        f"entry #{entry.pk} found {_say('value', value)} there, but the trail "
                        "never recorded it being written",
                    )
                )
            return
        for name, found, had in (
            ("value", value, known.value),
            ("comment", comment, known.comment),
            ("state", state, known.state),
        ):
            if found is not None and had is not None and found != had:
                self.problems.append(
                    DataProblem(
                        where,
                        f"entry #{entry.pk} found {_say(name, found)}, but the trail had left "
                        f"{_say(name, had)} (entry #{known.entry}): it was changed behind the "
                        "application's back in between",
                    )
                )

    def _lost(self, entry: AuditEntry, what: str) -> None:
        self.problems.append(
            DataProblem(
                what,
                f"entry #{entry.pk} ({entry.action}) changes it, but neither the trail nor the "
                "table says which row it is",
            )
        )

    # Comparing --------------------------------------------------------------------------------

    def finish(self) -> list[DataProblem]:
        problems = list(self.problems)
        untraced = self._compare_figures(problems)
        self._compare_forms(problems)
        if untraced and self.unnamed:
            listed = ", ".join(
                f"#{pk} {action} ({count} figures)" for pk, action, count in self.unnamed
            )
            self.notes.append(
                f"{untraced} figures have no trail; these entries wrote figures without naming "
                f"them and may account for some: {listed}"
            )
        for action, count in sorted(self.unknown.items()):
            self.notes.append(f"{count} entries {action} were not replayed: their kind is unknown")
        return problems

    def _compare_figures(self, problems: list[DataProblem]) -> int:
        untraced = 0
        rows = DataValue.objects.order_by().values_list(
            "unit_id", "indicator_id", "period", "value", "comment", "state"
        )
        for unit_id, ind_id, period, value, comment, state in rows.iterator(chunk_size=5000):
            key = (
                self.units.get(unit_id, f"#{unit_id}"),
                self.indicators.get(ind_id, f"#{ind_id}"),
                period,
            )
            table = {"value": fmt(value), "comment": comment, "state": state}
            known = self.figures.pop(key, None)
            if known is None:
                untraced += 1
                problems.append(
                    DataProblem(
                        _figure_where(key),
                        f"has no trail: the table holds {_say('value', table['value'])} "
                        f"({state}), and no entry ever wrote it",
                    )
                )
                continue
            trail = {"value": known.value, "comment": known.comment, "state": known.state}
            differ = [
                f"trail says {_say(name, trail[name])}, table says {_say(name, table[name])}"
                for name in ("value", "comment", "state")
                if trail[name] is not None and trail[name] != table[name]
            ]
            if differ:
                problems.append(
                    DataProblem(
                        _figure_where(key), f"{'; '.join(differ)} (last entry #{known.entry})"
                    )
                )
        for key, known in sorted(self.figures.items()):
            problems.append(
                DataProblem(
                    _figure_where(key),
                    f"trail says {_say('value', known.value)} ({known.state}, entry "
                    f"#{known.entry}), the table has no row: it was deleted behind the "
                    "application's back",
                )
            )
        return untraced

    def _compare_forms(self, problems: list[DataProblem]) -> None:
        rows = Submission.objects.order_by().values_list(
            "data_set_id", "unit_id", "period", "state"
        )
        for ds_id, unit_id, period, state in rows.iterator(chunk_size=5000):
            key = (
                self.data_sets.get(ds_id, f"#{ds_id}"),
                self.units.get(unit_id, f"#{unit_id}"),
                period,
            )
            known = self.forms.pop(key, None)
            if known is None:
                problems.append(
                    DataProblem(
                        _form_where(key),
                        f"has no trail: the table says {state!r}, and no entry ever wrote it",
                    )
                )
            elif known.state is not None and known.state != state:
                problems.append(
                    DataProblem(
                        _form_where(key),
                        f"trail says state {known.state!r} (entry #{known.entry}), table says "
                        f"{state!r}",
                    )
                )
        for key, known in sorted(self.forms.items()):
            problems.append(
                DataProblem(
                    _form_where(key),
                    f"trail says state {known.state!r} (entry #{known.entry}), the table has no "
                    "row: it was deleted behind the application's back",
                )
            )


def _figure_where(key: FigureKey) -> str:
    return f"figure {key[0]} {key[1]} {key[2]}"


def _form_where(key: FormKey) -> str:
    return f"form {key[0]} {key[1]} {key[2]}"


def replayer() -> ReportingReplay:
    return ReportingReplay()
