"""The offline install bundle (scripts/offline-bundle): built here from pip's and npm's caches,
installed into a fresh folder and virtual environment with no registry (`pip --no-index`, no
pip configuration, a dead proxy), then `duban check` runs from the installed copy.

To stay fast it bundles a subset of requirements.lock: the packages `duban check` imports and
their dependencies; the charts (matplotlib and its stack), PDF (WeasyPrint and its stack),
gunicorn and psycopg are left out (their wheels are bundled the same way; the full bundle was
measured by hand: docs/deployment.md, "Offline install").
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
LEFT_OUT = {
    "matplotlib", "contourpy", "cycler", "fonttools", "kiwisolver", "pyparsing",
    "python-dateutil", "tzdata", "weasyprint", "cffi", "pycparser", "cssselect2", "pydyf",
    "pyphen", "tinycss2", "tinyhtml5", "webencodings", "zopfli", "gunicorn", "psycopg",
    "psycopg-binary", "python-docx",
}  # fmt: skip
# No registry: no pip configuration (which names this machine's mirrors), and a dead proxy.
OFFLINE = {
    "PIP_CONFIG_FILE": os.devnull,
    "PIP_NO_INDEX": "1",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "NO_PROXY": "",
    "PIP_NO_COMPILE": "1",  # no bytecode for a copy used once (an installation compiles it)
}


def subset_lock(path: Path) -> Path:
    """requirements.lock without LEFT_OUT: each entry is its `name==version` line and hashes."""
    text = (ROOT / "requirements.lock").read_text()
    entries = re.split(r"\n(?=[a-z0-9])", text)
    kept = [e for e in entries if re.match(r"[a-z0-9]", e) and e.split("==")[0] not in LEFT_OUT]
    assert len(kept) >= 20, "requirements.lock has an unexpected shape"
    path.write_text("\n".join(kept) + "\n")
    return path


def clean_env(**extra: str) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    return {**{k: os.environ[k] for k in keep if k in os.environ}, **extra}


def test_the_offline_bundle_installs_and_runs_with_no_registry(tmp_path) -> None:
    bundle = tmp_path / "bundle"
    built = subprocess.run(
        [str(ROOT / "scripts" / "offline-bundle"), str(bundle)],
        env={**os.environ, "DUBAN_BUNDLE_LOCK": str(subset_lock(tmp_path / "check.lock"))},
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    wheels = {p.name.split("-")[0].lower() for p in (bundle / "wheels").glob("*.whl")}
    assert {"django", "whitenoise", "django_axes", "setuptools"} <= wheels
    assert not {"matplotlib", "gunicorn"} & wheels

    target = tmp_path / "opt" / "duban"
    installed = subprocess.run(
        [str(bundle / "install.sh"), str(target)],
        env=clean_env(**OFFLINE), capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert (target / "node_modules" / "echarts" / "dist" / "echarts.min.js").exists()
    assert (target / "deploy" / "systemd" / "duban-web.service").exists()

    run = clean_env(DUBAN_DATA_DIR=str(tmp_path / "data"))
    where = subprocess.run(
        [str(target / ".venv" / "bin" / "python"), "-c", "import duban; print(duban.__file__)"],
        env=run, cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert where.stdout.strip() == str(target / "duban" / "__init__.py")  # the installed copy
    checked = subprocess.run(
        [str(target / ".venv" / "bin" / "duban"), "check"],
        env=run, cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0 and "no issues" in checked.stdout, checked.stderr

    # A bundle altered on its way to the intranet is refused before anything is unpacked.
    wheel = next((bundle / "wheels").glob("django-*.whl"))
    wheel.write_bytes(wheel.read_bytes() + b"\0")
    tampered = subprocess.run(
        [str(bundle / "install.sh"), str(tmp_path / "second")],
        env=clean_env(**OFFLINE), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert tampered.returncode != 0 and not (tmp_path / "second").exists()
