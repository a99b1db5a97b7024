"""Every string the evaluation app marks for translation has Chinese in its own catalogue."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

import duban

PACKAGE = Path(duban.__file__).resolve().parent
PO = PACKAGE / "evaluation" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


@pytest.mark.skipif(
    shutil.which("xgettext") is None, reason="GNU gettext (scripts/test installs it)"
)
def test_every_evaluation_string_has_chinese(tmp_path: Path) -> None:
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
    extracted = polib.pofile(
        str(copy / "evaluation" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    )
    assert [e.msgid for e in extracted if not e.translated() or e.fuzzy] == []


def test_catalogue_is_complete() -> None:
    assert polib.pofile(str(PO)).percent_translated() == 100
