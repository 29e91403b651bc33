"""Headless Chromium for the report tests: a screenshot and the DOM after rendering.

Chromium is a test requirement (Debian package `chromium`, installed by .ci/run): without
it the tests fail, they never skip.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "chromium is not installed, so the HTML report cannot be checked as a person "
            "would see it: apt-get install -y chromium (.ci/run does this)",
            pytrace=False,
        )
    return found


def _run(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [chromium(), *FLAGS, f"--user-data-dir={profile}", *args, page.resolve().as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def screenshot(page: Path, png: Path, profile: Path, size: tuple[int, int] = (1200, 2400)) -> None:
    result = _run(page, profile, f"--screenshot={png}", f"--window-size={size[0]},{size[1]}")
    if not png.exists():
        pytest.fail(
            f"chromium wrote no screenshot (exit {result.returncode}): {result.stderr[-500:]}"
        )


def dump_dom(page: Path, profile: Path) -> str:
    result = _run(page, profile, "--dump-dom")
    if "<html" not in result.stdout:
        pytest.fail(f"chromium gave no DOM (exit {result.returncode}): {result.stderr[-500:]}")
    return result.stdout
