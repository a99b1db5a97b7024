"""The audit key: outside the database, not the secret key, generated once when not given."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from duban import settings as duban_settings
from duban.audit.verify import verify_chain
from duban.testing import make_unit


@pytest.fixture
def data_dir(monkeypatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(duban_settings, "DATA_DIR", tmp_path)
    monkeypatch.delenv("DUBAN_AUDIT_KEY", raising=False)
    return tmp_path


def test_a_key_is_generated_once_beside_the_data(data_dir: Path) -> None:
    key = duban_settings._audit_key()
    path = data_dir / "audit_key"
    assert len(key) == 64 and path.read_text() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert duban_settings._audit_key() == key
    assert [p.name for p in data_dir.iterdir()] == ["audit_key"]  # no temporary file left


def test_the_environment_gives_the_key(data_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("DUBAN_AUDIT_KEY", "k" * 40)
    assert duban_settings._audit_key() == "k" * 40
    assert not (data_dir / "audit_key").exists()


@pytest.mark.parametrize(
    ("key", "message"),
    [("short", "at least 32"), ("the secret key, reused for the trail!", "differ from")],
)
def test_a_weak_or_shared_key_is_refused(
    data_dir: Path, monkeypatch, key: str, message: str
) -> None:
    monkeypatch.setattr(duban_settings, "SECRET_KEY", "the secret key, reused for the trail!")
    monkeypatch.setenv("DUBAN_AUDIT_KEY", key)
    with pytest.raises(ImproperlyConfigured, match=message):
        duban_settings._audit_key()


def test_rotating_the_secret_key_leaves_the_trail_verifiable(db, settings) -> None:
    make_unit("A", None, level="city")
    settings.SECRET_KEY = "a brand-new secret key after rotation, 50 characters"
    assert verify_chain().ok
