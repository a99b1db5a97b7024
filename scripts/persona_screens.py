"""Screenshots of what each persona sees, for docs/personas/: a fresh demo, Debian's Chromium.

    .venv/bin/python scripts/persona_screens.py [--base-url URL] [--keep] [--only NAME ...]

A throwaway data directory gets its own SQLite database and the demo; a server is started on
a free port (and the background worker, when the product has one); each persona logs in with
the form as a person does and the pages he opens first are saved as viewport PNGs (not full
pages: small files) into docs/personas/img/<persona>-<page>-<w>x<h>.png — office PCs at
1366×768 and phones at 390×844, the wall and the meeting screen at 1920×1080. With
--base-url the screenshots are taken from a server already running the demo instead.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _local_server import free_port, wait_for  # scripts/ is on the path of a script

ROOT = Path(__file__).resolve().parent.parent
IMG = ROOT / "docs" / "personas" / "img"
PASSWORD = "Duban-demo-2017"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
PC, PHONE, WALL = (1366, 768), (390, 844), (1920, 1080)
# The last demo meeting of Yongzhou held by today: its screen is frozen, what was shown.
MEETING = """
from datetime import date
from duban.meetings.models import Meeting
m = Meeting.objects.filter(unit__code="YZ", held_on__lte=date.today()).order_by("-held_on").first()
print(m.pk if m else "")
"""


@dataclass
class Shot:
    """One page a persona opens: a path (or a step run on the page) and the sizes to save."""

    name: str
    path: str = ""
    sizes: tuple[tuple[int, int], ...] = (PC,)
    step: Callable[[Any], None] | None = None
    wait_for: str = ""  # a selector to wait for (e.g. a drawn chart) before the picture


@dataclass
class Persona:
    username: str
    shots: list[Shot] = field(default_factory=list)


CHART = "[data-chart] canvas"
CONSOLE_ERRORS: list[str] = []  # any fails the run: a picture of a broken page is no doc


def next_slides(page: Any) -> None:
    """The meeting screen after two presses of the clicker: the third unit's page."""
    page.keyboard.press("ArrowRight")
    page.keyboard.press("PageDown")
    page.wait_for_timeout(400)


def first_shortfall(page: Any) -> None:
    """From the cockpit, the first item among the shortfalls (短板): its derivation row."""
    page.locator(".cockpit-list a[href*='#item-']").first.click()
    page.wait_for_load_state("networkidle")


def yellow_label_chart(page: Any) -> None:
    """The line's monthly yellow-label vehicles chart (targets, attainment) at the top."""
    chart = page.locator("figure.chart", has_text="黄标车").last  # the month, with targets
    chart.evaluate("el => el.scrollIntoView({block: 'start'})")


def recompute(page: Any) -> None:
    """Start the recomputation from the scheme's page and wait for its end (the worker runs)."""
    page.locator("form[action*='/recompute/'] button").first.click()
    page.locator("#job-progress[data-state=done]").wait_for(timeout=120_000)


def first_issued(page: Any) -> None:
    """From the publications page, the newest issued document as its readers see it."""
    page.locator(".doc-disclosure a").first.click()
    page.wait_for_load_state("networkidle")


def personas(meeting: str) -> list[Persona]:
    """Who is shown, and what, in the order of docs/personas/."""
    screen = f"/cockpit/meetings/{meeting}/screen/"
    return [
        Persona(
            "yz_leader",
            [
                Shot("landing", "", (PC, PHONE), wait_for=CHART),
                Shot("county", "/cockpit/YZ-LST/", (PC,), wait_for=CHART),
                Shot("wall", "/cockpit/YZ/wall/", (WALL,), wait_for=CHART),
            ],
        ),
        Persona(
            "lst_leader",
            [
                Shot("landing", "", (PC, PHONE), wait_for=CHART),
                Shot("derivation", "", (PC,), step=first_shortfall),
            ],
        ),
        Persona(
            "yz_office",
            [
                Shot("landing", "", (PC,), wait_for=CHART),
                Shot("scheme", "/evaluation/schemes/yz-2017/", (PC,)),
                Shot("recompute", "", (PC,), step=recompute),
                *(
                    [
                        Shot("screen", screen, (WALL,)),
                        Shot("screen-third", screen, (WALL,), step=next_slides),
                    ]
                    if meeting
                    else []
                ),
            ],
        ),
        Persona(
            "sx_office",
            [
                Shot("landing", "", (PC,), wait_for=CHART),
                Shot("bulletins", "/bulletins/", (PC, PHONE)),
                Shot("bulletin", "", (PC, PHONE), step=first_issued),
            ],
        ),
        Persona(
            "sx_leader",
            [
                Shot("landing", "", (PC, PHONE), wait_for=CHART),
                Shot("wall", "/cockpit/SX/wall/", (WALL,), wait_for=CHART),
            ],
        ),
        Persona(
            "jj_leader",
            [
                Shot("landing", "", (PC,), wait_for=CHART),
                Shot("line", "/cockpit/lines/", (PC, PHONE), wait_for=CHART),
                Shot("line-yellow", "", (PC,), step=yellow_label_chart),
            ],
        ),
        Persona(
            "lst_reporter",
            [
                Shot("landing", "", (PC, PHONE)),
                Shot("reporting", "/reporting/", (PC,)),
                Shot("todo", "/todo/", (PC, PHONE)),
            ],
        ),
    ]


def duban(*args: str, env: dict[str, str], **kw: Any) -> subprocess.CompletedProcess[str]:
    """Run `duban …` from this checkout with the running interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "duban", *args], env=env, check=True, text=True, **kw
    )


def has_command(name: str, env: dict[str, str]) -> bool:
    listed = duban("help", "--commands", env=env, capture_output=True).stdout.split()
    return name in listed


def log_in(page: Any, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.press("#id_password", "Enter")
    page.wait_for_load_state("networkidle")
    if "/accounts/login/" in page.url:
        raise SystemExit(f"cannot log in as {username}")


def take(browser: Any, base: str, persona: Persona) -> list[Path]:
    """Every shot of one persona, one browser context per size (a phone is a phone)."""
    saved: list[Path] = []
    sizes = sorted({size for shot in persona.shots for size in shot.sizes})
    for width, height in sizes:
        phone = width < 600
        context = browser.new_context(
            base_url=base,
            viewport={"width": width, "height": height},
            device_scale_factor=1,
            is_mobile=phone,
            has_touch=phone,
            locale="zh-CN",
        )
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m, seen=problems: m.type == "error" and seen.append(m.text))
        log_in(page, persona.username)
        for shot in persona.shots:
            if (width, height) not in shot.sizes:
                continue
            if shot.path:
                page.goto(shot.path)
            page.wait_for_load_state("networkidle")
            if shot.wait_for:
                page.locator(shot.wait_for).first.wait_for(state="visible", timeout=15_000)
            if shot.step:
                shot.step(page)
            page.wait_for_timeout(600)  # ECharts' entry animation
            path = IMG / f"{persona.username}-{shot.name}-{width}x{height}.png"
            page.screenshot(path=str(path), type="png")
            saved.append(path)
            print(f"  {path.relative_to(ROOT)}  ({page.url.removeprefix(base)})", flush=True)
        for text in problems:
            print(f"  console error on {persona.username}'s pages: {text}", flush=True)
        CONSOLE_ERRORS.extend(problems)
        context.close()
    return saved


def start_demo(data_dir: Path) -> tuple[str, list[subprocess.Popen[bytes]], dict[str, str]]:
    """A fresh demo in `data_dir`, its server (and worker) started; returns the base URL."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        PYTHONPATH=str(ROOT),
        DUBAN_DATA_DIR=str(data_dir),
        DUBAN_SECURE_COOKIES="0",
        DUBAN_DEBUG="0",
        DUBAN_ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    print(f"==> personas: demo in {data_dir}", flush=True)
    duban("migrate", "--noinput", "-v0", env=env)
    duban("demo", env=env, stdout=subprocess.DEVNULL)
    port = free_port()
    log = (data_dir / "server.log").open("wb")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "duban", "runserver", f"127.0.0.1:{port}", "--noreload"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    ]
    if has_command("worker", env):
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "duban", "worker"], env=env, stdout=log, stderr=log
            )
        )
    base = f"http://127.0.0.1:{port}"
    wait_for(f"{base}/accounts/login/")
    return base, procs, env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", help="a server already running the demo")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument("--only", nargs="*", default=[], help="these usernames only")
    args = parser.parse_args()
    if CHROMIUM is None:
        print("Debian's chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    data_dir = Path(tempfile.mkdtemp(prefix="duban-personas-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        if args.base_url:
            base, meeting = args.base_url.rstrip("/"), os.environ.get("DUBAN_MEETING", "")
        else:
            base, procs, env = start_demo(data_dir)
            found = duban("shell", "-v", "0", "-c", MEETING, env=env, capture_output=True)
            meeting = (found.stdout.strip().splitlines() or [""])[-1]
        IMG.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            for persona in personas(meeting):
                if not args.only or persona.username in args.only:
                    print(f"==> personas: {persona.username}", flush=True)
                    take(browser, base, persona)
            browser.close()
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    sizes = sum(p.stat().st_size for p in IMG.glob("*.png"))
    print(f"==> personas: {len(list(IMG.glob('*.png')))} PNGs, {sizes // 1024} KiB in all")
    if CONSOLE_ERRORS:
        print(f"==> personas: {len(CONSOLE_ERRORS)} console errors (above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
