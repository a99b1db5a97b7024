"""Chinese first: every string the source marks for translation has a Chinese translation."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import polib
import pytest

import duban

PACKAGE = Path(duban.__file__).resolve().parent
PO = PACKAGE / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


@pytest.mark.skipif(
    shutil.which("xgettext") is None, reason="GNU gettext (scripts/test installs it)"
)
def test_every_marked_string_has_a_chinese_translation(tmp_path: Path) -> None:
    copy = tmp_path / "duban"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "DJANGO_SETTINGS_MODULE": "duban.settings",
           "DUBAN_DATA_DIR": str(tmp_path / "var")}  # fmt: skip
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "zh_Hans", "--no-obsolete",
         "--ignore", "*/tests/*", "--ignore", "testing.py"],
        cwd=copy, env=env, check=True, capture_output=True,
    )  # fmt: skip
    extracted = polib.pofile(str(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    untranslated = [e.msgid for e in extracted if not e.translated() or e.fuzzy]
    assert untranslated == [], f"{len(untranslated)} strings lack Chinese: {untranslated[:20]}"


def test_the_catalogue_has_no_empty_or_fuzzy_entries() -> None:
    catalogue = polib.pofile(str(PO))
    assert catalogue.percent_translated() == 100
    assert not [e.msgid for e in catalogue if e.fuzzy]


def test_pages_are_chinese_by_default(client, db) -> None:
    html = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
    assert "登录督办平台" in html


def test_each_message_is_defined_once_and_keeps_its_placeholders() -> None:
    """A duplicate makes GNU msgfmt refuse the catalogue; a translation that drops or renames
    a %(name)s placeholder raises KeyError where the message is formatted: a 500."""
    catalogue = polib.pofile(str(PO))
    counts = Counter((e.msgctxt, e.msgid) for e in catalogue)
    assert [key for key, n in counts.items() if n > 1] == []
    named = re.compile(r"%\((\w+)\)[sd]")
    wrong = []
    for entry in catalogue:
        wanted = set(named.findall(entry.msgid))
        found = [entry.msgstr] if entry.msgstr else list(entry.msgstr_plural.values())
        wrong += [entry.msgid for text in found if set(named.findall(text)) != wanted]
    assert wrong == []
