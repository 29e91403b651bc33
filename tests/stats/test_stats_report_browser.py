"""The HTML report as a person sees it: rendered by headless Chromium to a PNG.

Chromium is required (Debian package `chromium`, installed by .ci/run): without it this
test FAILS with a message saying so, it never skips.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageStat

from .browser import dump_dom, screenshot
from .conftest import QuarterDb
from .html_reader import read_report
from .test_stats_command import run

BAR = (0x1B, 0x6E, 0x8F)  # bot.report.COLOURS[0]: the bars of the period charts and type 1
GREEN = (0x6A, 0xA8, 0x4F)  # type 2 in the monthly chart


def _pixels_near(image: Image.Image, colour: tuple[int, int, int], tolerance: int = 12) -> int:
    difference = np.abs(np.asarray(image, dtype=np.int16) - np.array(colour, dtype=np.int16))
    return int((difference.max(axis=2) <= tolerance).sum())


def test_report_renders_in_chromium_with_readable_charts(
    quarter_db: QuarterDb, tmp_path: Path
) -> None:
    page = tmp_path / "report.html"
    result = run(quarter_db, "--from", "2026-01", "--to", "2026-03", "--html", str(page))
    assert result.exit_code == 0, result.output

    dom = read_report(dump_dom(page, tmp_path / "profile-dom"))
    assert dom.title == "Registratie CJG Veldhoven: januari t/m maart 2026"
    assert dom.svgs == 4  # the four charts made it into the DOM
    assert len(dom.tables) == 7
    assert len(dom.count_labels) > 30
    assert all(t in ("< 5", "×") or int(t) >= 5 for t in dom.count_labels.values())

    png = tmp_path / "report.png"
    screenshot(page, png, tmp_path / "profile-png")
    assert png.stat().st_size > 50_000
    with Image.open(png) as shot:
        image = shot.convert("RGB")
    assert image.size == (1200, 2400)
    assert ImageStat.Stat(image.convert("L")).stddev[0] > 20  # not blank
    # the charts were drawn, in colour: bars of the period charts and the monthly chart
    assert _pixels_near(image, BAR) > 20_000
    assert _pixels_near(image, GREEN) > 2_000
    # one page: everything fits in 1200 x 2400, the bottom is empty
    bottom = image.crop((0, 2300, 1200, 2400)).convert("L")
    assert ImageStat.Stat(bottom).extrema[0][0] > 240
