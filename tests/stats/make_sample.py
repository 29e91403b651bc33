"""Render docs/report-sample.png: the HTML report of the simulated quarter, in Chromium.

python -m stats.make_sample docs/report-sample.png   (from tests/, or with tests on PYTHONPATH)
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date
from pathlib import Path

from PIL import Image, ImageOps

from bot.config import load_settings
from bot.report import render_html
from storage.statistics import DIMENSIONS, build_statistics

from .browser import screenshot
from .quarter import QUARTER, expected_counts, simulate_quarter


def main(target: Path) -> None:
    settings = load_settings(environ={})
    names = {p.id: p.name for p in settings.partners}
    registrations = simulate_quarter()
    counts = {d.name: expected_counts(registrations, d.name) for d in DIMENSIONS}
    statistics = build_statistics(QUARTER, counts, list(names))
    with tempfile.TemporaryDirectory() as tmp:
        page, png = Path(tmp) / "report.html", Path(tmp) / "report.png"
        page.write_text(render_html(statistics, settings.cjg.name, names, date(2026, 4, 2)))
        screenshot(page, png, Path(tmp) / "profile")
        with Image.open(png) as shot:
            image = shot.convert("RGB")
    content = ImageOps.invert(image.convert("L")).getbbox() or (0, 0, *image.size)
    image = image.crop((0, 0, image.width, min(image.height, content[3] + 24)))
    image.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(target, optimize=True)
    print(f"{target}: {image.width}x{image.height}, {target.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/report-sample.png"))
