"""The loket's holidays kept on disk between starts: same days, no package import, no harm
from a broken or unwritable cache."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot import holiday_cache
from bot.config import LoketSettings, load_settings

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 25)


@pytest.fixture
def loket() -> LoketSettings:
    return load_settings(environ={}).loket


def every_day(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def test_the_cached_days_are_the_packages_days(loket: LoketSettings, tmp_path: Path) -> None:
    computed = holiday_cache.office_hours(loket, tmp_path, TODAY)
    from_cache = holiday_cache.office_hours(loket, tmp_path, TODAY)
    plain = loket.office_hours()
    assert sorted(computed.known_holidays or {}) == [2026, 2027, 2028]
    assert from_cache.known_holidays == computed.known_holidays
    for day in every_day(date(2026, 1, 1), date(2029, 12, 31)):  # 2029: not kept, computed
        assert from_cache.holiday_name(day) == plain.holiday_name(day), day
        assert from_cache.is_working_day(day) == plain.is_working_day(day), day
    assert from_cache.holiday_name(date(2027, 4, 27)) == "Koningsdag"
    assert from_cache == plain


def test_a_start_with_the_cache_does_not_import_the_package(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from datetime import date\n"
        "from pathlib import Path\n"
        "from bot import holiday_cache\n"
        "from bot.config import load_settings\n"
        "loket = load_settings(environ={}).loket\n"
        f"hours = holiday_cache.office_hours(loket, Path({str(tmp_path)!r}), date(2026, 11, 25))\n"
        "print('holidays' in sys.modules, hours.holiday_name(date(2026, 12, 25)))\n"
    )

    def run() -> str:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              cwd=ROOT, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.strip()

    assert run() == "True Eerste kerstdag"  # no cache yet: the package computes them
    assert run() == "False Eerste kerstdag"


def test_a_new_year_or_a_broken_file_is_computed_again(
    loket: LoketSettings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hours = holiday_cache.office_hours(loket, tmp_path, TODAY)
    path = holiday_cache.cache_file(hours, tmp_path)
    later = holiday_cache.office_hours(loket, tmp_path, date(2029, 1, 2))
    assert sorted(later.known_holidays or {}) == [2029, 2030, 2031]
    assert sorted(json.loads(path.read_text())["years"]) == ["2029", "2030", "2031"]

    path.write_text('{"years": {"2026": {"not a date": 1}}}')
    caplog.set_level(logging.WARNING)
    again = holiday_cache.office_hours(loket, tmp_path, TODAY)
    assert again.holiday_name(date(2026, 12, 26)) == "Tweede kerstdag"
    assert "holiday_cache_unreadable" in caplog.text
    assert sorted(json.loads(path.read_text())["years"]) == ["2026", "2027", "2028"]


def test_an_unwritable_cache_only_costs_time(
    loket: LoketSettings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    caplog.set_level(logging.WARNING)
    hours = holiday_cache.office_hours(loket, blocked / "cache", TODAY)
    assert hours.holiday_name(date(2027, 1, 1)) == "Nieuwjaarsdag"
    assert "holiday_cache_not_written" in caplog.text


def test_the_file_depends_on_the_calendar_and_a_wrong_one_is_still_refused(
    loket: LoketSettings, tmp_path: Path
) -> None:
    dutch = holiday_cache.office_hours(loket, tmp_path, TODAY)
    belgian = loket.model_copy(update={"holidays_country": "BE"})
    assert holiday_cache.cache_file(
        holiday_cache.office_hours(belgian, tmp_path, TODAY), tmp_path
    ) != holiday_cache.cache_file(dutch, tmp_path)
    nowhere = loket.model_copy(update={"holidays_country": "XX"})
    with pytest.raises(ValueError, match="unknown holiday calendar"):
        holiday_cache.office_hours(nowhere, tmp_path, TODAY)


def test_files_of_other_calendars_are_pruned(loket: LoketSettings, tmp_path: Path) -> None:
    for n in range(5):
        (tmp_path / f"holidays-old{n}.json").write_text("{}")
    (tmp_path / "nlu-model.pkl").write_text("")  # not ours
    hours = holiday_cache.office_hours(loket, tmp_path, TODAY)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert holiday_cache.cache_file(hours, tmp_path).name in left
    assert len([name for name in left if name.startswith("holidays-")]) == 3
    assert "nlu-model.pkl" in left
