"""The semantic action codes (those `services.record("…")` writes by name), each with its label
and its sentence. The generic `<app>.<model>.created/updated/deleted` codes come from the models
(`duban.audit.types.ModelChange`). Other apps' models are read through `apps.get_model`, so the
audit app imports none of them.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from duban.audit.models import AuditEntry
from duban.audit.types import Change, EntryType, Names, registry, show


def _after(entry: AuditEntry) -> dict[str, Any]:
    return entry.after if isinstance(entry.after, dict) else {}


def _before(entry: AuditEntry) -> dict[str, Any]:
    return entry.before if isinstance(entry.before, dict) else {}


def choice(model: str, field: str, value: Any) -> str:
    """A choice's label (a state, a kind) from the model that owns it."""
    if value in (None, ""):
        return "—"
    labels = dict(apps.get_model(model)._meta.get_field(field).flatchoices)  # type: ignore[union-attr]
    return str(labels.get(value, value))


def _subject(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    return kind.subject(entry, names)


# Refused access ------------------------------------------------------------------------------


@registry.sentence("access.denied", gettext_lazy("Access refused"))
def _denied(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    after = _after(entry)
    what = after.get("attempt") or entry.object_repr or after.get("path", "")
    return _("Refused: %(what)s") % {"what": what}


# Accounts ------------------------------------------------------------------------------------


@registry.sentence("accounts.login.succeeded", gettext_lazy("Signed in"))
def _login(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    return _("%(user)s signed in") % {"user": _subject(kind, entry, names)}


@registry.sentence("accounts.login.failed", gettext_lazy("Sign-in failed"))
def _login_failed(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    return _("A sign-in as “%(name)s” failed") % {"name": entry.object_repr or "—"}


@registry.sentence("accounts.login.locked", gettext_lazy("Sign-in locked"))
def _locked(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    address = _after(entry).get("address") or "—"
    return _("Sign-in as “%(name)s” locked after repeated failures (address %(address)s)") % {
        "name": entry.object_repr or "—",
        "address": address,
    }


@registry.sentence("accounts.login.unlocked", gettext_lazy("Sign-in unlocked"))
def _unlocked(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    return _("The sign-in lock on %(user)s was lifted") % {"user": _subject(kind, entry, names)}


@registry.sentence("accounts.sessions.ended", gettext_lazy("Sessions ended elsewhere"))
def _sessions_ended(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    return _("%(user)s ended his sessions on other machines") % {
        "user": _subject(kind, entry, names)
    }


@registry.sentence("accounts.logout", gettext_lazy("Signed out"))
def _logout(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    return _("%(user)s signed out") % {"user": _subject(kind, entry, names)}


@registry.sentence("accounts.user.deactivated", gettext_lazy("Account deactivated"))
def _deactivated(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    return _("The account of %(user)s was deactivated") % {"user": _subject(kind, entry, names)}


# Organisation units --------------------------------------------------------------------------


@registry.sentence("orgs.orgunit.subtree_moved", gettext_lazy("Units below moved along"))
def _subtree_moved(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    count = int(_after(entry).get("descendants") or 0)
    return ngettext(
        "%(count)d unit below %(unit)s moved with it",
        "%(count)d units below %(unit)s moved with it",
        count,
    ) % {"count": count, "unit": _subject(kind, entry, names)}


# Reporting -----------------------------------------------------------------------------------

SUBMISSION_EVENTS = {
    "submitted": gettext_lazy("Form submitted"),
    "returned": gettext_lazy("Form returned"),
    "approved": gettext_lazy("Form approved"),
    "unapproved": gettext_lazy("Approval withdrawn"),
    "locked": gettext_lazy("Form locked"),
    "unlocked": gettext_lazy("Form unlocked"),
    "withdrawn": gettext_lazy("Submission withdrawn"),
    "reopened": gettext_lazy("Form reopened"),
}


def _transition(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    count = _after(entry).get("values")
    text = _("%(form)s: %(before)s → %(after)s") % {
        "form": _subject(kind, entry, names),
        "before": choice("reporting.submission", "state", _before(entry).get("state")),
        "after": choice("reporting.submission", "state", _after(entry).get("state")),
    }
    if isinstance(count, int):
        text += ngettext(" (%(count)d figure)", " (%(count)d figures)", count) % {"count": count}
    return text


for _event, _label in SUBMISSION_EVENTS.items():
    registry.sentence(f"reporting.submission.{_event}", _label)(_transition)


def _figure_refs(entry: AuditEntry, names: Names) -> None:
    for change in _after(entry).get("changes") or []:
        if isinstance(change, list) and len(change) >= 2:
            names.want("orgs.orgunit", change[0], by="code")
            names.want("indicators.indicator", change[1], by="code")


def _figure_changes(entry: AuditEntry, names: Names) -> list[Change]:
    """One row per figure: unit · indicator · period, value before and after."""
    rows = []
    for change in _after(entry).get("changes") or []:
        if not isinstance(change, list) or len(change) < 5:
            continue
        unit, indicator, period, before, after = change[:5]
        where = f"{names.unit(unit)} · {names.indicator(indicator)} · {period}"
        rows.append(Change(where, show(before), show(after)))
        if len(change) >= 7 and change[5] != change[6]:
            rows.append(Change(where + " · " + _("comment"), show(change[5]), show(change[6])))
    return rows


def _figures(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    changes = [c for c in _after(entry).get("changes") or [] if isinstance(c, list) and c]
    units = sorted({str(c[0]) for c in changes})
    where = (
        names.unit(units[0])
        if len(units) == 1
        else ngettext("%(count)d unit", "%(count)d units", len(units)) % {"count": len(units)}
    )
    return ngettext(
        "%(label)s: %(count)d figure of %(where)s",
        "%(label)s: %(count)d figures of %(where)s",
        len(changes),
    ) % {"label": kind.label, "count": len(changes), "where": where}


for _code, _label in (
    ("reporting.values.imported", gettext_lazy("Figures imported")),
    ("reporting.values.saved", gettext_lazy("Figures saved")),
    ("evaluation.demo.values", gettext_lazy("Demonstration figures invented")),
):
    registry.sentence(_code, _label, refs=_figure_refs, changes=_figure_changes)(_figures)


def _form_refs(entry: AuditEntry, names: Names) -> None:
    for form in _after(entry).get("forms") or []:
        if isinstance(form, list) and len(form) >= 2:
            names.want("indicators.dataset", form[0], by="code")
            names.want("orgs.orgunit", form[1], by="code")


def _form_changes(entry: AuditEntry, names: Names) -> list[Change]:
    rows = []
    for form in _after(entry).get("forms") or []:
        if not isinstance(form, list) or len(form) < 2:
            continue
        if len(form) == 3 and entry.action == "reporting.demo.states":  # [unit, period, state]
            where = f"{names.unit(form[0])} · {form[1]}"
            rows.append(Change(where, "", choice("reporting.submission", "state", form[2])))
        else:  # [data set, unit, period]
            ds = names.name("indicators.dataset", form[0], by="code")
            draft = choice("reporting.submission", "state", "draft")
            rows.append(Change(f"{ds} · {names.unit(form[1])} · {form[2]}", "", draft))
    return rows


@registry.sentence(
    "reporting.submissions.created",
    gettext_lazy("Draft forms created"),
    refs=_form_refs,
    changes=_form_changes,
)
def _forms_created(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    count = len(_after(entry).get("forms") or [])
    return ngettext(
        "%(count)d draft form created for the figures entered",
        "%(count)d draft forms created for the figures entered",
        count,
    ) % {"count": count}


def _reminded_refs(entry: AuditEntry, names: Names) -> None:
    for code in [_after(entry).get("under"), *(_after(entry).get("units") or [])]:
        if isinstance(code, str):
            names.want("orgs.orgunit", code, by="code")


@registry.sentence(
    "reporting.reminders.sent", gettext_lazy("Reminders to report sent"), refs=_reminded_refs
)
def _reminded(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    units = [str(u) for u in _after(entry).get("units") or []]
    return ngettext(
        "%(unit)s reminded %(count)d unit to report %(period)s: %(units)s",
        "%(unit)s reminded %(count)d units to report %(period)s: %(units)s",
        len(units),
    ) % {
        "unit": names.unit(str(_after(entry).get("under") or "")),
        "count": len(units),
        "period": _after(entry).get("period") or "",
        "units": "、".join(names.unit(u) for u in units),
    }


def _demo_refs(entry: AuditEntry, names: Names) -> None:
    for form in _after(entry).get("forms") or []:
        if isinstance(form, list) and form:
            names.want("orgs.orgunit", form[0], by="code")


@registry.sentence(
    "reporting.demo.states",
    gettext_lazy("Demonstration form states set"),
    refs=_demo_refs,
    changes=_form_changes,
)
def _demo_states(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    count = len(_after(entry).get("forms") or [])
    return ngettext(
        "%(count)d demonstration form given its state",
        "%(count)d demonstration forms given their states",
        count,
    ) % {"count": count}


# Evaluation ----------------------------------------------------------------------------------


@registry.sentence("evaluation.scheme.published", gettext_lazy("Scheme published"))
def _scheme_published(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    return _("Scheme “%(scheme)s” published") % {"scheme": _subject(kind, entry, names)}


def _copied_refs(entry: AuditEntry, names: Names) -> None:
    names.want("evaluation.scheme", _after(entry).get("from"), by="code")


@registry.sentence(
    "evaluation.scheme.copied", gettext_lazy("Scheme copied as a what-if draft"), refs=_copied_refs
)
def _scheme_copied(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    original = _after(entry).get("from")
    return _("“%(original)s” copied as the what-if draft “%(copy)s”") % {
        "original": names.name("evaluation.scheme", original, by="code"),
        "copy": _subject(kind, entry, names),
    }


@registry.sentence("evaluation.results.published", gettext_lazy("Results published for review"))
def _results_published(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    after = _after(entry)
    return _("Results “%(results)s” published for review; objections until %(day)s") % {
        "results": _subject(kind, entry, names),
        "day": after.get("objection_deadline") or "—",
    }


def _totals_changes(entry: AuditEntry, names: Names) -> list[Change]:
    """Each unit's total before and after (units named, not coded)."""
    before = _before(entry).get("totals") or {}
    after = _after(entry).get("totals") or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    rows = []
    for unit in dict.fromkeys([*before, *after]):
        if before.get(unit) != after.get(unit) or not before:
            rows.append(
                Change(
                    names.unit(unit),
                    show(before.get(unit)) if before else "",
                    show(after.get(unit)),
                )
            )
    return rows


def _totals_refs(entry: AuditEntry, names: Names) -> None:
    for side in (_before(entry), _after(entry)):
        totals = side.get("totals")
        if isinstance(totals, dict):
            for unit in totals:
                names.want("orgs.orgunit", unit, by="code")


@registry.sentence(
    "evaluation.results.refreshed",
    gettext_lazy("Published results refreshed"),
    refs=_totals_refs,
    changes=_totals_changes,
)
def _results_refreshed(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    return _("Results “%(results)s” taken again from the approved figures") % {
        "results": _subject(kind, entry, names)
    }


@registry.sentence(
    "evaluation.results.finalised",
    gettext_lazy("Results made final"),
    refs=_totals_refs,
    changes=_totals_changes,
)
def _results_final(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    return _("Results “%(results)s” made final") % {"results": _subject(kind, entry, names)}


@registry.sentence("evaluation.objection.lodged", gettext_lazy("Objection lodged"))
def _objection_lodged(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    return _("Objection “%(objection)s” lodged: %(text)s") % {
        "objection": _subject(kind, entry, names),
        "text": show(_after(entry).get("text")),
    }


@registry.sentence("evaluation.objection.ruled", gettext_lazy("Objection ruled on"))
def _objection_ruled(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    return _("Objection “%(objection)s”: %(state)s") % {
        "objection": _subject(kind, entry, names),
        "state": choice("evaluation.objection", "state", _after(entry).get("state")),
    }


# Key tasks and meetings ----------------------------------------------------------------------


@registry.sentence("tasks.milestone.met", gettext_lazy("Milestone met"))
def _milestone_met(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    after = _after(entry)
    on_time = _("on time") if after.get("on_time") else _("late")
    return _("Milestone “%(milestone)s” met on %(day)s, %(on_time)s") % {
        "milestone": _subject(kind, entry, names),
        "day": after.get("met_on") or "—",
        "on_time": on_time,
    }


@registry.sentence("tasks.task.done", gettext_lazy("Task completed"))
def _task_done(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    return _("Task “%(task)s” completed on %(day)s") % {
        "task": _subject(kind, entry, names),
        "day": _after(entry).get("completed_on") or "—",
    }


@registry.sentence("tasks.task.closed", gettext_lazy("Task closed off the ledger"))
def _task_closed(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    return _("Task “%(task)s” verified and closed off the ledger on %(day)s") % {
        "task": _subject(kind, entry, names),
        "day": _after(entry).get("closed_on") or "—",
    }


@registry.sentence("tasks.task.reopened", gettext_lazy("Task reopened"))
def _task_reopened(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    return _("Task “%(task)s” reopened on %(day)s") % {
        "task": _subject(kind, entry, names),
        "day": _after(entry).get("reopened_on") or "—",
    }


@registry.sentence("tasks.reminder.supervision_issued", gettext_lazy("Supervision order issued"))
def _supervision(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    return _("Supervision order “%(order)s” issued; reply by %(day)s") % {
        "order": _subject(kind, entry, names),
        "day": _after(entry).get("reply_by") or "—",
    }


def _matter_refs(entry: AuditEntry, names: Names) -> None:
    names.want("tasks.task", _after(entry).get("task"))


@registry.sentence(
    "meetings.decidedmatter.supervised",
    gettext_lazy("Decided matter made a supervised task"),
    refs=_matter_refs,
)
def _matter_supervised(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    return _("Decided matter “%(matter)s” is supervised as the task “%(task)s”") % {
        "matter": _subject(kind, entry, names),
        "task": names.name("tasks.task", _after(entry).get("task")),
    }


# Bulletins -----------------------------------------------------------------------------------


@registry.sentence("bulletins.bulletin.read", gettext_lazy("Document read"))
def _bulletin_read(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    return _("“%(title)s” opened by a reader for the first time") % {
        "title": _subject(kind, entry, names)
    }


@registry.sentence("bulletins.bulletin.issued", gettext_lazy("Document issued"))
def _bulletin_issued(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    after = _after(entry)
    text = _("“%(title)s” issued as %(number)s") % {
        "title": _subject(kind, entry, names),
        "number": after.get("number") or "—",
    }
    if after.get("corrects"):
        text += _(", correcting %(number)s") % {"number": after["corrects"]}
    return text


# The trail itself ----------------------------------------------------------------------------


@registry.sentence("audit.chain.rekeyed", gettext_lazy("Audit trail signed with its key"))
def _rekeyed(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    count = int(_after(entry).get("entries") or 0)
    return ngettext(
        "%(count)d entry signed with the audit key",
        "%(count)d entries signed with the audit key",
        count,
    ) % {"count": count}


@registry.sentence("audit.backup.created", gettext_lazy("Backup made"))
def _backup_made(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    after = _after(entry)
    return _("Backup %(archive)s made, holding %(count)s audit entries") % {
        "archive": entry.object_repr or "—",
        "count": after.get("entries", "—"),
    }


@registry.sentence("audit.backup.restored", gettext_lazy("Backup restored"))
def _backup_restored(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    after = _after(entry)
    return _("Backup %(archive)s of %(created)s restored") % {
        "archive": entry.object_repr or "—",
        "created": _local_time(after.get("created_at")),
    }


def _local_time(value: Any) -> str:
    """An ISO time kept in an entry, as the reader's clock shows it."""
    from datetime import datetime

    from django.utils import timezone

    try:
        return timezone.localtime(datetime.fromisoformat(str(value))).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return "—"


# Business records and the synthetic nation ---------------------------------------------------


@registry.sentence(
    "records.proposals.recomputed", gettext_lazy("Proposed figures recomputed from the records")
)
def _proposals_recomputed(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    after = _after(entry)
    return _(
        "Proposed figures recomputed from the records, %(start)s to %(end)s: %(created)s added, "
        "%(updated)s changed, %(deleted)s removed"
    ) % {
        "start": after.get("from") or "—",
        "end": after.get("to") or "—",
        "created": after.get("created", 0),
        "updated": after.get("updated", 0),
        "deleted": after.get("deleted", 0),
    }


_NATIONAL_COUNTS = {
    "units": gettext_lazy("units"),
    "forms": gettext_lazy("forms"),
    "figures": gettext_lazy("figures"),
    "records": gettext_lazy("records"),
}


def _national_loaded(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    after = _after(entry)
    counts = "，".join(
        f"{label} {after[key]:,}"
        for key, label in _NATIONAL_COUNTS.items()
        if isinstance(after.get(key), int)
    )
    return _("%(label)s (invented): %(counts)s") % {"label": kind.label, "counts": counts or "—"}


for _code, _label in (
    ("demo.national.units_loaded", gettext_lazy("Synthetic national units loaded")),
    ("demo.national.figures_loaded", gettext_lazy("Synthetic national figures loaded")),
    ("demo.national.records_loaded", gettext_lazy("Synthetic national records loaded")),
):
    registry.sentence(_code, _label)(_national_loaded)
