"""Tests for flows.office_hours: staffed windows, holidays, working-hour sums, reply promise."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from flows.office_hours import OfficeHours, ReplyPromise, reply_promise

AMS = ZoneInfo("Europe/Amsterdam")
MON_FRI = frozenset(range(5))


def loket(**overrides: object) -> OfficeHours:
    settings: dict[str, object] = {
        "weekdays": MON_FRI,
        "opens": time(9),
        "closes": time(12),
        "tz": AMS,
    }
    settings.update(overrides)
    return OfficeHours(**settings)  # type: ignore[arg-type]


def ams(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS)  # type: ignore[misc]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# 2026-06-01 is a Monday; June 2026 has no public holidays.
TUE = (2026, 6, 2)
FRI = (2026, 6, 5)
SAT = (2026, 6, 6)
SUN = (2026, 6, 7)


# --- reply_promise ----------------------------------------------------------------------------

REPLY_CASES = [
    # (id, config overrides, now, day, relative, reason, holiday)
    ("friday-evening", {}, ams(*FRI, 20), date(2026, 6, 8), "weekday", "weekend", None),
    ("before-opening", {}, ams(*TUE, 8), date(*TUE), "today", None, None),
    ("open-plenty-left", {}, ams(*TUE, 10), date(*TUE), "today", None, None),
    ("open-exactly-30-min-left", {}, ams(*TUE, 11, 30), date(*TUE), "today", None, None),
    ("open-under-30-min-left", {}, ams(*TUE, 11, 45), date(2026, 6, 3), "tomorrow", None, None),
    ("tuesday-evening", {}, ams(*TUE, 20), date(2026, 6, 3), "tomorrow", None, None),
    ("saturday", {}, ams(*SAT, 10), date(2026, 6, 8), "weekday", "weekend", None),
    ("sunday", {}, ams(*SUN, 10), date(2026, 6, 8), "tomorrow", None, None),
    (
        "christmas-eve-evening",  # 25 Dec Friday, 26 Dec Saturday
        {},
        ams(2026, 12, 24, 20),
        date(2026, 12, 28),
        "weekday",
        "holiday",
        "Eerste kerstdag",
    ),
    (
        "before-koningsdag",  # 2027-04-27 is a Tuesday
        {},
        ams(2027, 4, 26, 20),
        date(2027, 4, 28),
        "weekday",
        "holiday",
        "Koningsdag",
    ),
    (
        "before-hemelvaart",  # 2027-05-06 is a Thursday
        {},
        ams(2027, 5, 5, 20),
        date(2027, 5, 7),
        "weekday",
        "holiday",
        "Hemelvaartsdag",
    ),
    (
        "easter-weekend",  # Goede vrijdag 2027-03-26 .. Tweede paasdag 2027-03-29
        {},
        ams(2027, 3, 25, 20),
        date(2027, 3, 30),
        "weekday",
        "holiday",
        "Goede vrijdag",
    ),
    (
        "holiday-morning-is-tomorrow",  # on Koningsdag itself, the next day is just tomorrow
        {},
        ams(2027, 4, 27, 8),
        date(2027, 4, 28),
        "tomorrow",
        None,
        None,
    ),
    (
        "extra-closed-day",
        {"extra_closed": frozenset({date(2026, 6, 3)})},
        ams(*TUE, 20),
        date(2026, 6, 4),
        "weekday",
        "closed_day",
        None,
    ),
    (
        "extra-closed-today",
        {"extra_closed": frozenset({date(*TUE)})},
        ams(*TUE, 8),
        date(2026, 6, 3),
        "tomorrow",
        None,
        None,
    ),
    (
        "holiday-named-over-bridge-day",  # Hemelvaart 2026-05-14, CJG closed Friday 15th too
        {"extra_closed": frozenset({date(2026, 5, 15)})},
        ams(2026, 5, 13, 20),
        date(2026, 5, 18),
        "weekday",
        "holiday",
        "Hemelvaartsdag",
    ),
    (
        "christmas-holidays-more-than-a-week",
        {"extra_closed": frozenset(date(2026, 12, d) for d in range(28, 32))},
        ams(2026, 12, 24, 20),
        date(2027, 1, 4),
        "date",
        "holiday",
        "Eerste kerstdag",
    ),
    (
        "mon-wed-fri-skips-regular-tuesday",
        {"weekdays": frozenset({0, 2, 4})},
        ams(2026, 6, 1, 20),
        date(2026, 6, 3),
        "weekday",
        None,
        None,
    ),
    (
        "mon-wed-fri-friday-evening",
        {"weekdays": frozenset({0, 2, 4})},
        ams(*FRI, 20),
        date(2026, 6, 8),
        "weekday",
        "weekend",
        None,
    ),
    (
        "holiday-names-in-english",
        {"language": "en_US"},
        ams(2027, 4, 26, 20),
        date(2027, 4, 28),
        "weekday",
        "holiday",
        "King's Day",
    ),
    # Bevrijdingsdag: the package lists it only in lustrum years (2025 yes, 2026 no).
    (
        "liberation-2026-as-listed",
        {},
        ams(2026, 5, 4, 20),
        date(2026, 5, 5),
        "tomorrow",
        None,
        None,
    ),
    (
        "liberation-2026-always",
        {"liberation_day": "always"},
        ams(2026, 5, 4, 20),
        date(2026, 5, 6),
        "weekday",
        "holiday",
        "Bevrijdingsdag",
    ),
    (
        "liberation-2025-as-listed",  # 2025-05-05 is a Monday
        {},
        ams(2025, 5, 2, 20),
        date(2025, 5, 6),
        "weekday",
        "holiday",
        "Bevrijdingsdag",
    ),
    (
        "liberation-2025-never",
        {"liberation_day": "never"},
        ams(2025, 5, 2, 20),
        date(2025, 5, 5),
        "weekday",
        "weekend",
        None,
    ),
    # DST: summer time starts Sunday 2026-03-29, ends Sunday 2026-10-25.
    ("dst-spring", {}, ams(2026, 3, 27, 20), date(2026, 3, 30), "weekday", "weekend", None),
    ("dst-autumn", {}, ams(2026, 10, 24, 10), date(2026, 10, 26), "weekday", "weekend", None),
    # Input in UTC is converted to Amsterdam time (CEST, UTC+2, in June).
    ("utc-sunday-night-is-monday", {}, utc(*SUN, 22, 30), date(2026, 6, 8), "today", None, None),
    ("utc-11:15-local", {}, utc(*TUE, 9, 15), date(*TUE), "today", None, None),
    ("utc-11:45-local", {}, utc(*TUE, 9, 45), date(2026, 6, 3), "tomorrow", None, None),
    (
        "utc-friday-night-is-saturday",
        {},
        utc(*FRI, 22, 30),
        date(2026, 6, 8),
        "weekday",
        "weekend",
        None,
    ),
]


@pytest.mark.parametrize(
    ("overrides", "now", "day", "relative", "reason", "holiday"),
    [case[1:] for case in REPLY_CASES],
    ids=[case[0] for case in REPLY_CASES],
)
def test_reply_promise(
    overrides: dict[str, object],
    now: datetime,
    day: date,
    relative: str,
    reason: str | None,
    holiday: str | None,
) -> None:
    promise = reply_promise(loket(**overrides), now)
    assert promise == ReplyPromise(
        day=day,
        opens=time(9),
        closes=time(12),
        relative=relative,  # type: ignore[arg-type]
        weekday=day.weekday(),
        reason=reason,  # type: ignore[arg-type]
        holiday=holiday,
    )


def test_reply_promise_carries_configured_window_and_margin() -> None:
    hours = loket(opens=time(8, 30), closes=time(13))
    promise = reply_promise(hours, ams(*TUE, 12, 10), margin=timedelta(minutes=45))
    assert (promise.day, promise.opens, promise.closes) == (date(*TUE), time(8, 30), time(13))
    later = reply_promise(hours, ams(*TUE, 12, 20), margin=timedelta(minutes=45))
    assert later.day == date(2026, 6, 3)


# --- is_open, next_opening --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "is_open"),
    [
        (ams(*TUE, 8, 59, 59), False),
        (ams(*TUE, 9), True),
        (ams(*TUE, 11, 59, 59), True),
        (ams(*TUE, 12), False),
        (ams(*SAT, 10), False),
        (ams(2027, 4, 27, 10), False),  # Koningsdag
        (utc(*TUE, 7, 30), True),  # 09:30 CEST
        (utc(2026, 1, 6, 7, 30), False),  # 08:30 CET
        (utc(2026, 1, 6, 8, 30), True),  # 09:30 CET
        (utc(2026, 3, 30, 7, 30), True),  # Monday after the spring change: 09:30 CEST
        (utc(2026, 3, 27, 10, 30), True),  # Friday before it: 11:30 CET
        (utc(2026, 3, 27, 11, 30), False),  # 12:30 CET
    ],
)
def test_is_open(now: datetime, is_open: bool) -> None:
    assert loket().is_open(now) is is_open


def test_is_open_on_extra_closed_day() -> None:
    hours = loket(extra_closed=frozenset({date(*TUE)}))
    assert not hours.is_open(ams(*TUE, 10))
    assert hours.is_open(ams(2026, 6, 3, 10))


@pytest.mark.parametrize(
    ("now", "opening"),
    [
        (ams(*TUE, 10, 15), ams(*TUE, 10, 15)),  # open now: now
        (ams(*TUE, 7), ams(*TUE, 9)),
        (ams(*TUE, 12), ams(2026, 6, 3, 9)),
        (ams(*FRI, 20), ams(2026, 6, 8, 9)),
        (ams(2026, 12, 24, 12, 30), ams(2026, 12, 28, 9)),
        (ams(2026, 3, 27, 20), utc(2026, 3, 30, 7)),  # 09:00 CEST after the spring change
        (ams(2026, 10, 24, 20), utc(2026, 10, 26, 8)),  # 09:00 CET after the autumn change
        (utc(*SUN, 22, 30), ams(2026, 6, 8, 9)),  # Monday 00:30 local
    ],
)
def test_next_opening(now: datetime, opening: datetime) -> None:
    result = loket().next_opening(now)
    assert result == opening
    assert result.tzinfo is AMS


# --- working hours ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        (ams(*TUE, 10), ams(*TUE, 11, 30), 1.5),
        (ams(*TUE, 8), ams(*TUE, 20), 3.0),
        (ams(*TUE, 20), ams(2026, 6, 3, 8), 0.0),
        (ams(*FRI, 11), ams(2026, 6, 8, 10), 2.0),
        (ams(*TUE, 11), ams(*TUE, 10), 0.0),  # end before start
        (ams(2026, 12, 24, 11), ams(2026, 12, 28, 10), 2.0),
        (ams(2026, 3, 27, 9), ams(2026, 3, 30, 12), 6.0),  # across the spring DST change
        (ams(2026, 10, 23, 9), ams(2026, 10, 26, 12), 6.0),  # across the autumn DST change
        (utc(*TUE, 8), utc(*TUE, 9), 1.0),  # 10:00-11:00 CEST
        (ams(2026, 6, 1, 9), ams(2026, 6, 15, 9), 30.0),  # two full weeks
    ],
)
def test_working_hours_between(start: datetime, end: datetime, hours: float) -> None:
    assert loket().working_hours_between(start, end) == pytest.approx(hours)


@pytest.mark.parametrize(
    ("start", "hours", "moment"),
    [
        (ams(*TUE, 10), 1, ams(*TUE, 11)),
        (ams(*TUE, 11), 2, ams(2026, 6, 3, 10)),
        (ams(*FRI, 11), 2, ams(2026, 6, 8, 10)),
        (ams(*TUE, 20), 3, ams(2026, 6, 3, 12)),  # exactly a full window: closing time
        (ams(*TUE, 20), 3.5, ams(2026, 6, 4, 9, 30)),
        (ams(*TUE, 20), 0, ams(*TUE, 20)),
        (ams(2026, 12, 24, 11), 1.5, ams(2026, 12, 28, 9, 30)),
        (ams(2026, 3, 27, 11), 1.25, utc(2026, 3, 30, 7, 15)),  # 09:15 CEST
        (utc(*SAT, 12), 4, ams(2026, 6, 9, 10)),
    ],
)
def test_add_working_hours(start: datetime, hours: float, moment: datetime) -> None:
    office = loket()
    result = office.add_working_hours(start, hours)
    assert result == moment
    assert result.tzinfo is AMS
    assert office.working_hours_between(start, result) == pytest.approx(hours)


@pytest.mark.parametrize(
    ("start", "days", "day"),
    [
        (ams(*TUE, 10), 0, date(*TUE)),
        (ams(*SAT, 10), 0, date(*SAT)),
        (ams(*FRI, 10), 1, date(2026, 6, 8)),
        (ams(*TUE, 20), 3, date(*FRI)),
        (ams(*SAT, 10), 1, date(2026, 6, 8)),
        (ams(2026, 12, 23, 10), 2, date(2026, 12, 28)),
        (ams(2027, 4, 26, 10), 1, date(2027, 4, 28)),
        (utc(*SUN, 22, 30), 1, date(2026, 6, 9)),  # Monday 00:30 local
        (ams(2026, 6, 1, 10), 10, date(2026, 6, 15)),
    ],
)
def test_add_working_days(start: datetime, days: int, day: date) -> None:
    assert loket().add_working_days(start, days) == day


# --- days and holidays ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "day", "name", "working"),
    [
        ({}, date(2026, 12, 25), "Eerste kerstdag", False),
        ({}, date(2027, 4, 27), "Koningsdag", False),
        ({}, date(2026, 4, 27), "Koningsdag", False),
        ({}, date(2026, 5, 5), None, True),
        ({}, date(2025, 5, 5), "Bevrijdingsdag", False),
        ({"liberation_day": "always"}, date(2026, 5, 5), "Bevrijdingsdag", False),
        ({"liberation_day": "never"}, date(2025, 5, 5), None, True),
        ({"language": "en_US"}, date(2026, 12, 25), "Christmas Day", False),
        ({}, date(*TUE), None, True),
        ({}, date(*SAT), None, False),
        ({"extra_closed": frozenset({date(*TUE)})}, date(*TUE), None, False),
        ({"weekdays": frozenset({5})}, date(*SAT), None, True),
    ],
)
def test_holidays_and_working_days(
    overrides: dict[str, object], day: date, name: str | None, working: bool
) -> None:
    hours = loket(**overrides)
    assert hours.holiday_name(day) == name
    assert hours.is_working_day(day) is working


def test_window_is_local_wall_clock() -> None:
    opening, closing = loket().window(date(2026, 3, 30))
    assert (opening, closing) == (utc(2026, 3, 30, 7), utc(2026, 3, 30, 10))
    assert opening.tzinfo is AMS


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"weekdays": frozenset()},
        {"weekdays": frozenset({7})},
        {"opens": time(12), "closes": time(9)},
        {"opens": time(9), "closes": time(9)},
        {"subdivision": "Atlantis"},
        {"country": "XX"},
        {"language": "xx"},
        {"liberation_day": "sometimes"},
        {"country": "BE", "liberation_day": "always"},
    ],
)
def test_rejects_bad_configuration(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        loket(**overrides)


def test_rejects_naive_datetimes() -> None:
    hours = loket()
    naive = datetime(*TUE, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        hours.is_open(naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        reply_promise(hours, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        hours.working_hours_between(ams(*TUE, 9), naive)


def test_rejects_negative_amounts() -> None:
    hours = loket()
    with pytest.raises(ValueError):
        hours.add_working_hours(ams(*TUE, 9), -1)
    with pytest.raises(ValueError):
        hours.add_working_days(ams(*TUE, 9), -1)


def test_never_open_configuration_fails_instead_of_looping() -> None:
    closed = frozenset(date(2026, 1, 1) + timedelta(days=n) for n in range(4 * 366))
    hours = loket(extra_closed=closed)
    with pytest.raises(ValueError, match="no staffed day"):
        hours.next_opening(ams(2026, 1, 1, 8))
