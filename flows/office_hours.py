"""Office hours of the loket: staffed windows, public holidays, working-hour arithmetic.

Pure logic: time is always a parameter, never read from a clock. Every moment passed in must
be timezone-aware (any zone); results are given in the loket's own time zone. Texts (weekday
names, "morgen", ...) are not made here: `ReplyPromise` carries the facts, the text catalogue
words them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo

LiberationDay = Literal["as_listed", "always", "never"]
Relative = Literal["today", "tomorrow", "weekday", "date"]
Reason = Literal["weekend", "holiday", "closed_day"]

# How far ahead to look for a staffed day before calling the configuration broken.
_SEARCH_LIMIT_DAYS = 3 * 366
_LIBERATION_DAY = (5, 5)  # 5 May, Bevrijdingsdag


@lru_cache(maxsize=64)
def _calendar(
    country: str, subdivision: str | None, language: str, liberation_day: LiberationDay, year: int
) -> Mapping[date, str]:
    """Closed public holidays of one year, as an immutable date -> name mapping."""
    import holidays  # here: importing it costs 0.1 s (all its countries), often not needed

    public = holidays.country_holidays(country, subdiv=subdivision, years=year, language=language)
    days: dict[date, str] = dict(public.items())
    liberation = date(year, *_LIBERATION_DAY)
    if liberation_day == "never":
        days.pop(liberation, None)
    elif liberation_day == "always" and liberation not in days:
        optional = holidays.country_holidays(
            country, subdiv=subdivision, years=year, language=language, categories=("optional",)
        )
        days[liberation] = optional.get(liberation, "Bevrijdingsdag")
    return MappingProxyType(days)


@dataclass(frozen=True, slots=True)
class OfficeHours:
    """When the loket is staffed: a daily window on some weekdays, minus closed days.

    Closed days are the public holidays of `country` (the `holidays` package's calendar, names in
    `language`) plus `extra_closed` (e.g. the CJG's own closing days). Bevrijdingsdag (5 May) is
    closed as the package lists it (only in lustrum years) unless `liberation_day` says "always"
    or "never".

    `known_holidays` may give the closed holidays of some years, as `closed_holidays`
    computed them for the same calendar (e.g. kept from an earlier start): then the package
    is not imported for those years, nor to check the calendar (country, subdivision,
    language), which was checked then. Left None, the calendar is checked at once.
    """

    weekdays: frozenset[int]  # 0=Monday
    opens: time
    closes: time
    tz: ZoneInfo
    extra_closed: frozenset[date] = frozenset()
    country: str = "NL"
    subdivision: str | None = None
    language: str = "nl"
    liberation_day: LiberationDay = "as_listed"
    known_holidays: Mapping[int, Mapping[date, str]] | None = field(
        default=None, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        if not self.weekdays or not self.weekdays <= frozenset(range(7)):
            raise ValueError(f"weekdays must be a non-empty set of 0..6, got {set(self.weekdays)}")
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("opens and closes are wall-clock times: give them without tzinfo")
        if not self.opens < self.closes:
            raise ValueError(f"opens ({self.opens}) must be before closes ({self.closes})")
        if not isinstance(self.tz, ZoneInfo):
            raise ValueError(f"tz must be a zoneinfo.ZoneInfo, got {self.tz!r}")
        if self.liberation_day not in ("as_listed", "always", "never"):
            raise ValueError(
                f"liberation_day must be as_listed, always or never, not {self.liberation_day!r}"
            )
        if self.liberation_day != "as_listed" and self.country != "NL":
            raise ValueError("liberation_day applies to country NL only")
        if self.known_holidays is None:
            self._check_calendar()

    def _check_calendar(self) -> None:
        import holidays

        try:
            calendar = holidays.country_holidays(self.country, subdiv=self.subdivision)
        except NotImplementedError as exc:
            raise ValueError(f"unknown holiday calendar: {exc}") from None
        if self.language not in calendar.supported_languages:
            raise ValueError(
                f"language {self.language!r} not supported for {self.country} holiday names; "
                f"choose one of {sorted(calendar.supported_languages)}"
            )

    # --- days -------------------------------------------------------------------------------

    def holiday_name(self, day: date) -> str | None:
        """The name of the public holiday on `day` that closes the loket, or None."""
        calendar = None if self.known_holidays is None else self.known_holidays.get(day.year)
        if calendar is None:
            calendar = _calendar(
                self.country, self.subdivision, self.language, self.liberation_day, day.year
            )
        return calendar.get(day)

    def closed_holidays(self, years: Iterable[int]) -> dict[int, Mapping[date, str]]:
        """The public holidays that close the loket in each of `years` (date -> name)."""
        calendar = (self.country, self.subdivision, self.language, self.liberation_day)
        return {year: _calendar(*calendar, year) for year in years}

    def is_working_day(self, day: date) -> bool:
        """Whether the loket is staffed at all on `day` (a date in the loket's time zone)."""
        return (
            day.weekday() in self.weekdays
            and day not in self.extra_closed
            and self.holiday_name(day) is None
        )

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        return next(d for d in self._days_from(day + timedelta(days=1)) if self.is_working_day(d))

    def window(self, day: date) -> tuple[datetime, datetime]:
        """The staffed window of `day` (opening, closing) in the loket's time zone.

        Says nothing about whether `day` is a working day.
        """
        return (
            datetime.combine(day, self.opens, tzinfo=self.tz),
            datetime.combine(day, self.closes, tzinfo=self.tz),
        )

    # --- moments ----------------------------------------------------------------------------

    def is_open(self, now: datetime) -> bool:
        """Whether the loket is staffed at the moment `now`."""
        local = self._local(now)
        return self.is_working_day(local.date()) and self.opens <= local.time() < self.closes

    def next_opening(self, now: datetime) -> datetime:
        """Start of the next staffed window at or after `now`; `now` itself if open now."""
        moment = _utc(now)
        for day in self._days_from(self._local(moment).date()):
            if not self.is_working_day(day):
                continue
            start, end = self._utc_window(day)
            if moment < end:
                return max(start, moment).astimezone(self.tz)
        raise AssertionError("unreachable: _days_from raises first")  # pragma: no cover

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Staffed hours elapsed from `start` to `end` (0.0 when `end` is not after `start`)."""
        lo, hi = _utc(start), _utc(end)
        if hi <= lo:
            return 0.0
        total = timedelta()
        day, last = self._local(lo).date(), self._local(hi).date()
        while day <= last:
            if self.is_working_day(day):
                opening, closing = self._utc_window(day)
                overlap = min(closing, hi) - max(opening, lo)
                if overlap > timedelta():
                    total += overlap
            day += timedelta(days=1)
        return total / timedelta(hours=1)

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The earliest moment at which `hours` staffed hours have passed since `start`.

        A deadline that falls exactly on a closing time stays there (12:00, not 9:00 the next
        working day); `hours=0` returns `start`.
        """
        if not 0 <= hours < float("inf"):
            raise ValueError(f"hours must be a finite number >= 0, got {hours}")
        moment = _utc(start)
        remaining = timedelta(hours=hours)
        if not remaining:
            return moment.astimezone(self.tz)
        for day in self._days_from(self._local(moment).date()):
            if not self.is_working_day(day):
                continue
            opening, closing = self._utc_window(day)
            begin = max(opening, moment)
            if begin >= closing:
                continue
            if remaining <= closing - begin:
                return (begin + remaining).astimezone(self.tz)
            remaining -= closing - begin
        raise AssertionError("unreachable: _days_from raises first")  # pragma: no cover

    def add_working_days(self, start: datetime, days: int) -> date:
        """The `days`-th working day after the (local) day of `start`; that day itself if 0."""
        if days < 0:
            raise ValueError(f"days must be >= 0, got {days}")
        day = self._local(start).date()
        for _ in range(days):
            day = self.next_working_day(day)
        return day

    # --- helpers ----------------------------------------------------------------------------

    def _local(self, moment: datetime) -> datetime:
        return _utc(moment).astimezone(self.tz)

    def _utc_window(self, day: date) -> tuple[datetime, datetime]:
        # Arithmetic in UTC: Python compares and subtracts datetimes that share a tzinfo by wall
        # clock, which is wrong across a DST change.
        opening, closing = self.window(day)
        return opening.astimezone(UTC), closing.astimezone(UTC)

    def _days_from(self, first: date) -> Iterator[date]:
        for offset in range(_SEARCH_LIMIT_DAYS):
            yield first + timedelta(days=offset)
        raise ValueError(f"no staffed day within {_SEARCH_LIMIT_DAYS} days of {first}")


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a timezone-aware datetime is required")
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class ReplyPromise:
    """When a parent can expect a reply: the facts the text catalogue turns into a sentence."""

    day: date  # the day the parent can expect a reply
    opens: time
    closes: time
    relative: Relative  # today | tomorrow | weekday (2-6 days ahead) | date (a week or more)
    weekday: int  # 0=Monday
    reason: Reason | None  # why not the next calendar day; None when it is, or nothing to explain
    holiday: str | None  # name of the skipped holiday when reason == "holiday"


def reply_promise(
    hours: OfficeHours, now: datetime, *, margin: timedelta = timedelta(minutes=30)
) -> ReplyPromise:
    """When to expect a reply to a question handed over at `now`.

    Today's window if today is a working day and at least `margin` of it is left (also before
    opening time); otherwise the next working day's window. `reason` explains skipped days
    between tomorrow and that day: "holiday" (a public holiday on a staffed weekday, named in
    `holiday`) over "closed_day" (an extra closed date) over "weekend" (a Saturday or Sunday);
    None when only other regularly unstaffed weekdays were skipped.
    """
    moment = _utc(now)
    today = moment.astimezone(hours.tz).date()
    last_call = hours.window(today)[1] - margin  # wall clock, before closing
    if hours.is_working_day(today) and moment <= _utc(last_call):
        day = today
    else:
        day = hours.next_working_day(today)

    ahead = (day - today).days
    relative: Relative = (
        "today" if ahead == 0 else "tomorrow" if ahead == 1 else "weekday" if ahead <= 6 else "date"
    )

    skipped = [today + timedelta(days=k) for k in range(1, ahead)]
    staffed_weekdays = [d for d in skipped if d.weekday() in hours.weekdays]
    holiday = next((n for d in staffed_weekdays if (n := hours.holiday_name(d))), None)
    reason: Reason | None
    if holiday is not None:
        reason = "holiday"
    elif any(d in hours.extra_closed for d in staffed_weekdays):
        reason = "closed_day"
    elif any(d.weekday() >= 5 for d in skipped):
        reason = "weekend"
    else:
        reason = None
    return ReplyPromise(
        day=day,
        opens=hours.opens,
        closes=hours.closes,
        relative=relative,
        weekday=day.weekday(),
        reason=reason,
        holiday=holiday,
    )
