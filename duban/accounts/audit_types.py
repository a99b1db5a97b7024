"""How the trail reads the second factor's entries (registered beside the accounts' other
codes in `duban.audit.catalogue`'s registry; imported by the app's `ready`)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from duban.audit.models import AuditEntry
from duban.audit.types import EntryType, Names, registry


def _who(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    return kind.subject(entry, names)


@registry.sentence(
    "accounts.second_factor.enrolment_started", gettext_lazy("Second factor set-up begun")
)
def _started(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    return _("%(user)s began setting up an authenticator app") % {"user": _who(kind, entry, names)}


@registry.sentence("accounts.second_factor.confirmed", gettext_lazy("Second factor switched on"))
def _confirmed(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    return _("%(user)s switched the second factor on and received ten recovery codes") % {
        "user": _who(kind, entry, names)
    }


@registry.sentence("accounts.second_factor.passed", gettext_lazy("Second factor passed"))
def _passed(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    return _("%(user)s passed the second step of signing in") % {"user": _who(kind, entry, names)}


@registry.sentence("accounts.second_factor.failed", gettext_lazy("Wrong second-factor code"))
def _failed(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    after = entry.after if isinstance(entry.after, dict) else {}
    if after.get("step") == "enrolment":
        return _("%(user)s typed a wrong code while setting up the second factor") % {
            "user": _who(kind, entry, names)
        }
    return _("A wrong second-factor code was typed for %(user)s") % {
        "user": _who(kind, entry, names)
    }


@registry.sentence("accounts.second_factor.recovery_used", gettext_lazy("Recovery code used"))
def _recovery(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    after = entry.after if isinstance(entry.after, dict) else {}
    return _("%(user)s signed in with a recovery code (%(left)s left)") % {
        "user": _who(kind, entry, names),
        "left": after.get("left", "—"),
    }


@registry.sentence("accounts.second_factor.codes_renewed", gettext_lazy("Recovery codes renewed"))
def _renewed(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    return _("%(user)s took ten new recovery codes; the old ones no longer work") % {
        "user": _who(kind, entry, names)
    }


@registry.sentence("accounts.second_factor.reset", gettext_lazy("Second factor reset"))
def _reset(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    return _("The second factor of %(user)s was reset") % {"user": _who(kind, entry, names)}


@registry.sentence(
    "accounts.second_factor.switched_off", gettext_lazy("Second factor switched off")
)
def _off(kind: EntryType, entry: AuditEntry, names: Names) -> str:
    return _("%(user)s switched his second factor off") % {"user": _who(kind, entry, names)}
