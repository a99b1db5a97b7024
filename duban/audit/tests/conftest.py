"""Every audit test anchors into its own file, never into the data directory's."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def anchor_file(settings, tmp_path: Path) -> Path:
    path = tmp_path / "audit-anchor.jsonl"
    settings.DUBAN_AUDIT_ANCHOR = path
    return path
