"""Telling people that something waits for them, by the channels the site turns on.

`send(event, recipients)` hands one event to every channel of DUBAN_NOTIFY_CHANNELS (default
["mail"]) once the transaction that caused it commits (a rolled-back return tells no one).
"mail" sends with Django's mail to the recipients with an address; "sms" is the hook for an
SMS gateway: it only logs until a site plugs its gateway in (a subclass of `SmsChannel` named
by its dotted path in the setting). A failing channel is logged, never raised: the work that
caused the event is already done.

Each person is told in his own language (`User.language`, else the site's): an event carries
how to word it (`compose`), called under `translation.override` once per language, so the
recipients of one mail share its language and a mixed group gets one mail per language.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import translation
from django.utils.module_loading import import_string

from duban.tasks.conf import email_enabled

if TYPE_CHECKING:
    from duban.accounts.models import User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """What happened and where it is dealt with; ``compose`` words it, (subject, body), in
    the active language (it reads names and choices, which follow the language too)."""

    kind: str  # "form_returned", "form_submitted", "supervision_issued"
    compose: Callable[[], tuple[str, str]]
    path: str  # the page where it is done, e.g. /reporting/forms/…/

    @property
    def link(self) -> str:
        return getattr(settings, "DUBAN_SITE_URL", "").rstrip("/") + self.path

    def words(self, language: str) -> tuple[str, str]:
        """(subject, body) in ``language``."""
        with translation.override(language):
            return self.compose()


def language_of(user: User) -> str:
    """The language a person reads: his own setting, else the site's."""
    return user.language or settings.LANGUAGE_CODE


def by_language(people: Iterable[User]) -> dict[str, list[User]]:
    groups: dict[str, list[User]] = {}
    for user in people:
        groups.setdefault(language_of(user), []).append(user)
    return dict(sorted(groups.items()))


class Channel(Protocol):
    def send(self, event: Event, recipients: Sequence[User]) -> None: ...


class MailChannel:
    """Django's mail (settings.EMAIL_*), one message per language to everyone with an
    address who reads it; nothing while no mail server is configured (the rule the tasks'
    reminders follow)."""

    def send(self, event: Event, recipients: Sequence[User]) -> None:
        if not email_enabled():
            return
        for language, people in by_language(u for u in recipients if u.email).items():
            subject, body = event.words(language)
            to = sorted({u.email for u in people})
            send_mail(subject[:200], f"{body}\n\n{event.link}", None, to)


class SmsChannel:
    """The place for an SMS gateway: replace `deliver` in a subclass. As shipped it logs whom
    it would have told, so a site sees the hook work before it has a gateway."""

    def send(self, event: Event, recipients: Sequence[User]) -> None:
        for user in recipients:
            subject, _body = event.words(language_of(user))
            self.deliver(user, f"{subject} {event.link}")

    def deliver(self, user: User, text: str) -> None:
        log.info("sms not configured: would tell %s: %s", user.get_username(), text)


CHANNELS: dict[str, type[Channel]] = {"mail": MailChannel, "sms": SmsChannel}


def channels() -> list[Channel]:
    found: list[Channel] = []
    for name in getattr(settings, "DUBAN_NOTIFY_CHANNELS", ["mail"]):
        cls = CHANNELS.get(name) or import_string(name)
        found.append(cls())
    return found


def send(event: Event, recipients: Iterable[User]) -> None:
    """Tell `recipients` (active accounts only) of `event` after the current transaction."""
    people = [u for u in recipients if u.is_active]
    if not people:
        return

    def deliver() -> None:
        for channel in channels():
            try:
                channel.send(event, people)
            except Exception:  # a channel's failure never undoes or breaks the work done
                log.exception("notify %s by %s failed", event.kind, type(channel).__name__)

    transaction.on_commit(deliver)
