"""The import contract (pyproject.toml, docs/architecture.md "Dependencies") holds.

A failure prints the chain of imports that breaks a contract: move the shared piece down
(into the lower app, `duban.web` or `duban.core`) rather than adding an ignore.
"""

from __future__ import annotations

from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[3]


def test_the_import_contracts_hold() -> None:
    assert lint_imports(str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True) == 0
