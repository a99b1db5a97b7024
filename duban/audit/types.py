"""What each action code means to a reader: a translated label and a sentence per entry.

Pretix's log entry types, for Duban: every code the code writes has an `EntryType` in
`registry` (the semantic ones in `duban.audit.catalogue`, the generic `<app>.<model>.created /
updated / deleted` ones made from every `AuditedModel`). `render(entries)` turns a page of
entries into `Rendered` rows naming units, indicators, accounts, states and fields instead of
their codes, looking every name up in one query per model for the whole page.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from duban.audit.labels import CODE_FIELDS, VALUE_LABELS, field_label, model_label, value_label
from duban.audit.models import AuditedModel, AuditEntry

Label = str | Promise
MAX_SHOWN = 120  # characters of one value in the changes table
USER = settings.AUTH_USER_MODEL.lower()
#: Fields kept in step by the code from others (a unit's path and depth follow its parent):
#: the trail keeps them, the changes table leaves them out.
DERIVED: dict[str, frozenset[str]] = {"orgs.orgunit": frozenset({"path", "depth"})}
#: Fields whose values are identifiers a person types (or a file carries), never words.
CODE_ATTNAMES = frozenset({"code", "prefix", "progress_item", "username", "formula"})
MAX_ROWS = 50  # rows of one entry's changes table (an import may carry thousands)


def _display_name(obj: models.Model) -> str:
    """A row's name for a reader: its `name` or `title` when it has one (an indicator's
    `str` starts with its code), else its `str`."""
    for attr in ("name", "title", "full_name"):
        value = getattr(obj, attr, "")
        if isinstance(value, str) and value:
            return value
    return str(obj)


def _submission_name(obj: Any) -> str:
    return f"{_display_name(obj.data_set)} · {_display_name(obj.unit)} · {obj.period}"


def _pair(first: str, second: str) -> Callable[[Any], str]:
    """A link row (a meeting's attending unit, a data set's indicator) by its two names."""
    return lambda obj: (
        f"{_display_name(getattr(obj, first))} · {_display_name(getattr(obj, second))}"
    )


# Rows whose name needs their related rows, and how to say it (a link row's `str` is made of
# ids and codes: “4: YZ-DA”).
_RELATED: dict[str, tuple[tuple[str, ...], Callable[[Any], str]]] = {
    "reporting.submission": (("data_set", "unit"), _submission_name),
    "meetings.meetingunit": (("meeting", "unit"), _pair("meeting", "unit")),
    "tasks.taskpartner": (("task", "unit"), _pair("task", "unit")),
    "evaluation.groupmember": (("group", "unit"), _pair("group", "unit")),
    "evaluation.target": (("item", "unit"), _pair("item", "unit")),
    "indicators.datasetmember": (("data_set", "indicator"), _pair("data_set", "indicator")),
    "orgs.membership": (
        ("user", "unit"),
        lambda m: f"{_display_name(m.user)} · {_display_name(m.unit)} · {m.get_role_display()}",
    ),
}


class Names:
    """Names wanted by a page of entries, looked up together: one query per (model, key).

    Renderers first `want(...)` every key (`EntryType.refs`), then `load()` runs the queries,
    then `name(...)` answers, falling back to the key itself for a row that is gone."""

    def __init__(self) -> None:
        self._wanted: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._names: dict[tuple[str, str, str], str] = {}

    def want(self, model: str, key: Any, by: str = "pk") -> None:
        if key not in (None, "") and _model(model) is not None:
            self._wanted[(model, by)].add(str(key))

    def load(self) -> None:
        for (label, by), keys in self._wanted.items():
            model = _model(label)
            if model is None:
                continue
            related, name = _RELATED.get(label, ((), _display_name))
            column = model._meta.pk.attname if by == "pk" else by
            rows = model._default_manager.select_related(*related)
            if by == "pk":
                keys = {k for k in keys if _valid_pk(model, k)}
            for row in rows.filter(**{f"{column}__in": keys}):
                self._names[(label, by, str(getattr(row, column)))] = name(row)
        self._wanted.clear()

    def name(self, model: str, key: Any, by: str = "pk", default: str = "") -> str:
        if key in (None, ""):
            return default or "—"
        return self._names.get((model, by, str(key))) or default or str(key)

    def unit(self, code: Any) -> str:
        return self.name("orgs.orgunit", code, by="code")

    def indicator(self, code: Any) -> str:
        return self.name("indicators.indicator", code, by="code")


def _model(label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _valid_pk(model: type[models.Model], key: str) -> bool:
    try:
        model._meta.pk.to_python(key)  # type: ignore[union-attr]
    except Exception:  # a forged or odd id is named as it is, not looked up
        return False
    return True


@dataclass(frozen=True)
class Change:
    """One row of an entry's changes table, in words."""

    label: str
    before: str
    after: str
    form: str = ""  # "code": the value is a code, shown as one; "en": English text (lang=en)


@dataclass(frozen=True)
class Rendered:
    entry: AuditEntry
    label: str
    text: str
    changes: list[Change]
    more: int = 0  # change rows left out of the table (see MAX_ROWS)
    who: str = ""  # the actor by name, or the program that acted, in words


#: Who acted when no person did: the program, in words (the stored `actor_name` stays as
#: recorded, since the chain signs it).
SOURCES: dict[str, Label] = {
    "system": gettext_lazy("Duban (system)"),
    "duban demo": gettext_lazy("Demo data loader"),
    "duban migrate": gettext_lazy("Database upgrade"),
    "duban worker": gettext_lazy("Background worker"),
    "duban tasks_daily": gettext_lazy("Daily pass"),
    "duban tree import": gettext_lazy("Tree import from the command line"),
    "duban bulletin": gettext_lazy("Bulletin from the command line"),
    "duban grant": gettext_lazy("Role grant from the command line"),
    "indicator check": gettext_lazy("Indicator check"),
    "benchmark": gettext_lazy("Benchmark"),
    "web": gettext_lazy("Web page"),
}


def who(entry: AuditEntry, names: Names) -> str:
    """The person by his name (as he is called today), else the acting program in words."""
    if entry.actor_id is not None:
        return names.name(USER, entry.actor_id, default=entry.actor_name)
    label = SOURCES.get(entry.source) or SOURCES.get(entry.actor_name)
    return str(label) if label is not None else entry.actor_name or "—"


def show(value: Any) -> str:
    """A stored value as a reader sees it: a dash for nothing, ticks for booleans, short."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list):
        value = "、".join(_item(v) for v in value) or "—"
    elif isinstance(value, dict):
        # A structure's keys are code names; its full form stays in the API's before/after.
        return ngettext("(%(n)d setting)", "(%(n)d settings)", len(value)) % {"n": len(value)}
    text = str(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def _item(value: Any) -> str:
    """One element of a stored list: a named thing by its name, a scalar as it is."""
    if isinstance(value, dict):
        for key in ("name_zh", "name", "title", "code"):
            if value.get(key):
                return str(value[key])
        return show(value)
    return show(value)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class EntryType:
    """One action code: its label, the names it needs, its sentence and its changes table."""

    def __init__(self, code: str, label: Label) -> None:
        self.code = code
        self.label = label

    def refs(self, entry: AuditEntry, names: Names) -> None:
        """Ask `names` for every name `display` and `changes` will use."""
        names.want(entry.object_type, entry.object_id)

    def subject(self, entry: AuditEntry, names: Names) -> str:
        """The object the entry is about, by its current name, else as recorded."""
        return names.name(entry.object_type, entry.object_id, default=entry.object_repr)

    def display(self, entry: AuditEntry, names: Names) -> str:
        return f"{self.label}: {self.subject(entry, names)}"

    def changes(self, entry: AuditEntry, names: Names) -> list[Change]:
        return []


class Sentence(EntryType):
    """A semantic event rendered by a function of the entry (see `duban.audit.catalogue`)."""

    def __init__(
        self,
        code: str,
        label: Label,
        text: Callable[[EntryType, AuditEntry, Names], str],
        refs: Callable[[AuditEntry, Names], None] | None = None,
        changes: Callable[[AuditEntry, Names], list[Change]] | None = None,
    ) -> None:
        super().__init__(code, label)
        self._text, self._refs, self._changes = text, refs, changes

    def refs(self, entry: AuditEntry, names: Names) -> None:
        super().refs(entry, names)
        if self._refs is not None:
            self._refs(entry, names)

    def display(self, entry: AuditEntry, names: Names) -> str:
        return self._text(self, entry, names)

    def changes(self, entry: AuditEntry, names: Names) -> list[Change]:
        return self._changes(entry, names) if self._changes is not None else []


VERBS: dict[str, tuple[Label, Label]] = {
    # verb: (label, sentence); %(model)s is the model's verbose name, %(object)s the row
    "created": (gettext_lazy("%(model)s created"), gettext_lazy("%(model)s “%(object)s” created")),
    "updated": (gettext_lazy("%(model)s changed"), gettext_lazy("%(model)s “%(object)s” changed")),
    "deleted": (gettext_lazy("%(model)s deleted"), gettext_lazy("%(model)s “%(object)s” deleted")),
}


class ModelChange(EntryType):
    """A row of an audited model created, changed or deleted (duban.audit.signals): fields by
    their verbose names, choices by their labels, related rows by their names."""

    def __init__(self, model: type[models.Model], verb: str) -> None:
        self.model, self.verb = model, verb
        meta = model._meta
        # Translated when shown, in the reader's language.
        label = lazy(lambda: str(VERBS[verb][0]) % {"model": self.model_name()}, str)()
        super().__init__(f"{meta.app_label}.{meta.model_name}.{verb}", label)
        self.fields = {f.attname: f for f in meta.concrete_fields}

    def refs(self, entry: AuditEntry, names: Names) -> None:
        super().refs(entry, names)
        for values in (_dict(entry.before), _dict(entry.after)):
            for attname, value in values.items():
                f = self.fields.get(attname)
                if f is not None and f.is_relation and f.related_model is not None:
                    names.want(f.related_model._meta.label_lower, value)
                elif (self.model._meta.label_lower, attname) in CODE_FIELDS:
                    model, by = CODE_FIELDS[(self.model._meta.label_lower, attname)]
                    names.want(model, value, by=by)

    def model_name(self) -> str:
        return model_label(self.model) or str(self.model._meta.verbose_name)

    def display(self, entry: AuditEntry, names: Names) -> str:
        return str(VERBS[self.verb][1]) % {
            "model": self.model_name(),
            "object": self.subject(entry, names),
        }

    def field_label(self, attname: str) -> str:
        f = self.fields.get(attname)
        if f is None:  # a field since removed: say so rather than show its code name
            return _("a former field")
        return field_label(f, attname) or str(f.verbose_name)

    def value(self, attname: str, value: Any, names: Names) -> str:
        f = self.fields.get(attname)
        if f is None or value is None or value == "":
            return show(value)
        if attname == "password":
            return _("(changed)")
        if f.is_relation and f.related_model is not None:
            return names.name(f.related_model._meta.label_lower, value)
        if (self.model._meta.label_lower, attname) in CODE_FIELDS:
            model, by = CODE_FIELDS[(self.model._meta.label_lower, attname)]
            return names.name(model, value, by=by)
        key = (self.model._meta.label_lower, attname)
        if key in VALUE_LABELS:
            codes = value if isinstance(value, list) else [value]
            return show([value_label(*key, c) or c for c in codes])
        if f.choices:
            labels = {str(k): v for k, v in f.flatchoices}  # type: ignore[attr-defined]
            return show(str(labels.get(str(value), value)))
        return show(value)

    def changes(self, entry: AuditEntry, names: Names) -> list[Change]:
        before, after = _dict(entry.before), _dict(entry.after)
        rows = []
        for attname in dict.fromkeys([*before, *after]):
            if attname in DERIVED.get(self.model._meta.label_lower, ()):
                continue
            rows.append(
                Change(
                    self.field_label(attname),
                    self.value(attname, before.get(attname), names) if before else "",
                    self.value(attname, after.get(attname), names) if after else "",
                    self.form(attname),
                )
            )
        return rows

    def form(self, attname: str) -> str:
        """How a value reads: a code field's value is a code (not translated, shown as one),
        an English name is English text in a Chinese page."""
        if (self.model._meta.label_lower, attname) in CODE_FIELDS:
            return ""
        if attname in CODE_ATTNAMES or attname.endswith("_code"):
            return "code"
        return "en" if attname.endswith("_en") else ""


class Unknown(EntryType):
    """A code nobody registered (an old entry, a forged one): said plainly, never hidden.
    `test_entry_types` keeps the code from writing one."""

    def __init__(self, code: str) -> None:
        super().__init__(code, gettext_lazy("Unrecognised action"))

    def display(self, entry: AuditEntry, names: Names) -> str:
        return _("Unrecognised action on “%(object)s”") % {"object": entry.object_repr or "—"}


class Registry:
    """Action code → `EntryType`. Filled on first use, after the apps are loaded."""

    def __init__(self) -> None:
        self._types: dict[str, EntryType] = {}
        self._ready = False

    def register(self, entry_type: EntryType) -> EntryType:
        if entry_type.code in self._types:
            raise ValueError(f"action code {entry_type.code} is registered twice")
        self._types[entry_type.code] = entry_type
        return entry_type

    def sentence(
        self,
        code: str,
        label: Label,
        *,
        refs: Callable[[AuditEntry, Names], None] | None = None,
        changes: Callable[[AuditEntry, Names], list[Change]] | None = None,
    ) -> Callable[[Callable[[EntryType, AuditEntry, Names], str]], Any]:
        """Decorator: register `code` rendered by the decorated function (entry type, entry,
        names) → sentence."""

        def add(text: Callable[[EntryType, AuditEntry, Names], str]) -> Any:
            self.register(Sentence(code, label, text, refs=refs, changes=changes))
            return text

        return add

    def _fill(self) -> None:
        if self._ready:
            return
        self._ready = True
        from duban.audit import catalogue  # noqa: F401 — registers the semantic codes

        for model in apps.get_models():
            if issubclass(model, AuditedModel):
                for verb in VERBS:
                    self.register(ModelChange(model, verb))

    def get(self, code: str) -> EntryType | None:
        self._fill()
        return self._types.get(code)

    def type_of(self, code: str) -> EntryType:
        return self.get(code) or Unknown(code)

    def codes(self) -> set[str]:
        self._fill()
        return set(self._types)

    def label(self, code: str) -> str:
        return str(self.type_of(code).label)


registry = Registry()


def render(entries: Iterable[AuditEntry]) -> list[Rendered]:
    """Sentences and changes tables for a page of entries, with every name in bulk."""
    entries = list(entries)
    names = Names()
    typed = [(e, registry.type_of(e.action)) for e in entries]
    for entry, kind in typed:
        kind.refs(entry, names)
        if entry.actor_id is not None:
            names.want(USER, entry.actor_id)
    names.load()
    out = []
    for entry, kind in typed:
        rows = kind.changes(entry, names)
        out.append(
            Rendered(
                entry,
                str(kind.label),
                kind.display(entry, names),
                rows[:MAX_ROWS],
                max(0, len(rows) - MAX_ROWS),
                who(entry, names),
            )
        )
    return out


def areas() -> Sequence[tuple[str, Label]]:
    """The filter of the history page: the first part of a code, in words."""
    return AREAS


AREAS: Sequence[tuple[str, Label]] = (
    ("orgs", gettext_lazy("Organisation units and roles")),
    ("accounts", gettext_lazy("Accounts and sign-ins")),
    ("access", gettext_lazy("Refused accesses")),
    ("indicators", gettext_lazy("Indicators and data sets")),
    ("reporting", gettext_lazy("Reporting")),
    ("evaluation", gettext_lazy("Evaluation")),
    ("tasks", gettext_lazy("Key tasks")),
    ("meetings", gettext_lazy("Meetings")),
    ("audit", gettext_lazy("The audit trail itself")),
)
