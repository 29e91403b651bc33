"""The loket's public holidays, kept on disk from one start to the next.

The `holidays` package imports all of its countries to give one calendar: some 0.1 s of a
1.2 s start. So the holidays that close the loket in this year and the next two are
computed with it once and kept in the cache directory (beside the NLU model), in a file
named after everything they depend on: the package's version, the country, subdivision,
language and the Bevrijdingsdag setting. A later start reads them and never imports the
package, unless it needs another year. A file that cannot be read or written only means
the package is asked, as without a cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from importlib.metadata import version
from pathlib import Path
from types import MappingProxyType

from bot.config import LoketSettings
from flows.office_hours import OfficeHours

log = logging.getLogger("cjgbot.holidays")

YEARS_AHEAD = 2  # this year and the next two
CACHE_FORMAT = 1
KEEP_FILES = 3


def cache_file(hours: OfficeHours, cache_dir: Path) -> Path:
    """Where the holidays of `hours`' calendar are kept."""
    calendar = (
        CACHE_FORMAT,
        version("holidays"),
        hours.country,
        hours.subdivision,
        hours.language,
        hours.liberation_day,
    )
    digest = hashlib.sha256(json.dumps(calendar).encode()).hexdigest()[:16]
    return cache_dir.expanduser() / f"holidays-{digest}.json"


def office_hours(loket: LoketSettings, cache_dir: Path, today: date) -> OfficeHours:
    """The loket's office hours, with the holidays of this year and the next two known.

    From the cache when it has them; else the calendar is checked and they are computed
    with the `holidays` package, and written to the cache.
    """
    years = range(today.year, today.year + YEARS_AHEAD + 1)
    unchecked = loket.office_hours(known_holidays={})  # for the file name only
    path = cache_file(unchecked, cache_dir)
    known = _read(path)
    if known is not None and all(year in known for year in years):
        return replace(unchecked, known_holidays={year: known[year] for year in years})
    checked = loket.office_hours()  # a wrong country or language is an error here
    known = checked.closed_holidays(years)
    _write(path, known)
    return replace(checked, known_holidays=known)


def _read(path: Path) -> dict[int, Mapping[date, str]] | None:
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        return {
            int(year): MappingProxyType(
                {date.fromisoformat(day): str(name) for day, name in days.items()}
            )
            for year, days in stored["years"].items()
        }
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        log.warning("holiday_cache_unreadable")
        return None


def _write(path: Path, known: Mapping[int, Mapping[date, str]]) -> None:
    years = {
        str(year): {day.isoformat(): name for day, name in sorted(days.items())}
        for year, days in known.items()
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".holidays-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"years": years}, handle, ensure_ascii=False, indent=1)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        # Another package version or calendar leaves its file behind: keep a few.
        files = sorted(path.parent.glob("holidays-*.json"), key=lambda p: p.stat().st_mtime)
        for old in [f for f in files if f != path][: max(0, len(files) - KEEP_FILES)]:
            old.unlink(missing_ok=True)
    except OSError:
        log.warning("holiday_cache_not_written")
