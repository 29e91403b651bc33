"""Counts from the anonymous registration for the three-monthly reflection meeting.

Registrations are only ever counted (GROUP BY month and one column), never read one by
one. Before a count leaves this module, small counts are hidden so that no family can be
singled out. The rule, per table (values x months, with the period total of each value and
the total of each month):

1. Every count below 5, 0 included, is shown as "< 5" (so "< 5" does not even tell whether
   there was anyone).
2. The numbers of a table add up: the months of a value to its period total, the values of a
   month to the month total. So that a "< 5" cannot be worked out by subtraction, more
   numbers are hidden as "×" (complementary suppression). First every sum that hides exactly
   one number hides a second one. Then a linear-programming check does what a curious
   reader could do with every published number of the table (and with "< 5" meaning 0-4 and
   "×" meaning 5 or more): while it can tell for some hidden count of 1-4 that it is not 0,
   one more number next to it is hidden.
3. Month totals and the grand total are the same in every table: they are only hidden when
   below 5 (then one more month total too), never to protect a cell.
4. Open-ended values (topics, woonplaatsen) with fewer than 5 in the whole period are merged
   into one row "overig".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from scipy.optimize import linprog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flows.registration import AGE_BANDS
from storage.models import RegistrationRow

MINIMUM = 5
SMALL = "< 5"
HIDDEN = "×"
NONE_VALUE = "geen"
OTHER_VALUE = "overig"
TOTAL_VALUE = "totaal"

Counts = Mapping[tuple[str, str], int]  # (month, value) -> registrations
Position = tuple[int, int]  # (row, column) in a grid; the last row and column hold totals


@dataclass(frozen=True, slots=True)
class Dimension:
    name: str  # a column of RegistrationRow
    fixed: tuple[str, ...] = ()  # always listed, in this order, even when nobody had them
    merge_small: bool = False  # values with fewer than 5 in the period become "overig"


DIMENSIONS = (
    Dimension("type", ("1", "2", "3", "crisis", "out_of_scope")),
    Dimension("topic", merge_small=True),
    Dimension("forwarded_to"),
    Dimension("age_band", AGE_BANDS),
    Dimension("sex", ("jongen", "meisje", "anders", "ongeboren", "onbekend")),
    Dimension("place", merge_small=True),
    Dimension("channel", ("telegram", "matrix", "console")),
)
FORWARDED = ("alle", "loket", "niet_gedeeld", "niet_doorgezet", NONE_VALUE)


@dataclass(frozen=True, slots=True)
class Cell:
    count: int | None  # None when hidden: the true number never leaves this module
    text: str  # "37", "< 5" or "×"

    @property
    def hidden(self) -> bool:
        return self.count is None


@dataclass(frozen=True, slots=True)
class Row:
    value: str  # the stored value; "geen" for none, "overig" for merged, "totaal"
    cells: tuple[Cell, ...]  # one per month, then the period total

    @property
    def total(self) -> Cell:
        return self.cells[-1]


@dataclass(frozen=True, slots=True)
class Table:
    dimension: str
    months: tuple[str, ...]
    rows: tuple[Row, ...]
    total: Row  # every registration, per month and in the whole period


@dataclass(frozen=True, slots=True)
class Statistics:
    months: tuple[str, ...]
    tables: tuple[Table, ...]

    def table(self, dimension: str) -> Table:
        return next(t for t in self.tables if t.dimension == dimension)


def month_range(start: str, end: str) -> tuple[str, ...]:
    """Every "YYYY-MM" from start to end inclusive; ValueError when malformed or reversed."""
    first, last = _month_number(start), _month_number(end)
    if first > last:
        raise ValueError(f"{start} is after {end}")
    return tuple(f"{n // 12:04d}-{n % 12 + 1:02d}" for n in range(first, last + 1))


def _month_number(month: str) -> int:
    year, _, number = month.partition("-")
    if len(month) != 7 or not (year.isdigit() and number.isdigit()) or not 1 <= int(number) <= 12:
        raise ValueError(f"{month!r} is not a month like 2026-01")
    return int(year) * 12 + int(number) - 1


async def registration_statistics(
    session: AsyncSession, start: str, end: str, partners: Sequence[str] = ()
) -> Statistics:
    """Count the registrations of months start..end ("YYYY-MM") per dimension, hidden as above.

    `partners` (ids, in the configured order) are always listed under "forwarded_to", so that
    a row of "< 5" does not tell that a question went there at all.
    """
    months = month_range(start, end)
    counts: dict[str, Counts] = {}
    for dimension in DIMENSIONS:
        column = getattr(RegistrationRow, dimension.name)
        query = (
            select(RegistrationRow.month, column, func.count())
            .where(RegistrationRow.month.between(months[0], months[-1]))
            .group_by(RegistrationRow.month, column)
        )
        rows = (await session.execute(query)).all()
        counts[dimension.name] = {(m, v or NONE_VALUE): int(n) for m, v, n in rows}
    return build_statistics(months, counts, partners)


def build_statistics(
    months: tuple[str, ...], counts: Mapping[str, Counts], partners: Sequence[str] = ()
) -> Statistics:
    """Tables with hidden small counts from raw counts per dimension (pure: for tests too)."""
    dimensions = [
        Dimension(d.name, (*partners, *FORWARDED)) if d.name == "forwarded_to" else d
        for d in DIMENSIONS
    ]
    totals = [0] * len(months)
    for (month, _value), n in counts[DIMENSIONS[0].name].items():
        totals[months.index(month)] += n
    totals.append(sum(totals))
    hidden_totals = _hidden_totals(totals)
    tables = tuple(
        _table(d, months, counts.get(d.name, {}), totals, hidden_totals) for d in dimensions
    )
    return Statistics(months, tables)


def _hidden_totals(totals: list[int]) -> set[int]:
    """Columns whose total is hidden: below 5, plus one more month when only one month is."""
    hidden = {j for j, n in enumerate(totals) if n < MINIMUM}
    if len(hidden) == 1:
        hidden.add(min(range(len(totals) - 1), key=lambda j: (j in hidden, totals[j])))
    return hidden


def _table(
    dimension: Dimension,
    months: tuple[str, ...],
    counts: Counts,
    totals: list[int],
    hidden_totals: set[int],
) -> Table:
    per_value: dict[str, list[int]] = defaultdict(lambda: [0] * len(months))
    for (month, value), n in counts.items():
        per_value[value][months.index(month)] += n
    merged: dict[str, list[int]] = {value: [0] * len(months) for value in dimension.fixed}
    for value, row in sorted(per_value.items()):
        if dimension.merge_small and value not in dimension.fixed and sum(row) < MINIMUM:
            value = OTHER_VALUE
        target = merged.setdefault(value, [0] * len(months))
        target[:] = [a + b for a, b in zip(target, row, strict=True)]
    values = list(merged)
    grid = [[*row, sum(row)] for row in merged.values()] + [totals]
    hidden = suppress(grid, {(len(values), j) for j in hidden_totals})
    rows = [
        Row(value, tuple(_cell(grid[i][j], (i, j) in hidden) for j in range(len(totals))))
        for i, value in enumerate(values)
    ]
    total = Row(
        TOTAL_VALUE, tuple(_cell(n, (len(values), j) in hidden) for j, n in enumerate(totals))
    )
    return Table(dimension.name, months, tuple(_ordered(dimension, rows)), total)


def _cell(n: int, hidden: bool) -> Cell:
    if n < MINIMUM:
        return Cell(None, SMALL)
    return Cell(None, HIDDEN) if hidden else Cell(n, str(n))


def _ordered(dimension: Dimension, rows: list[Row]) -> list[Row]:
    """Fixed values in their order, then the rest by their *shown* period total, "overig" last."""
    fixed = [r for r in rows if r.value in dimension.fixed]
    rest = [r for r in rows if r.value not in dimension.fixed]
    rest.sort(key=lambda r: (r.value == OTHER_VALUE, -(r.total.count or 0), r.value))
    return fixed + rest


# --- complementary suppression ---


def suppress(grid: list[list[int]], hidden_totals: set[Position]) -> set[Position]:
    """Positions to hide in a grid whose last row and last column are totals (see the top)."""
    last_row, last_column = len(grid) - 1, len(grid[0]) - 1
    small = {
        (i, j) for i in range(last_row) for j in range(last_column + 1) if grid[i][j] < MINIMUM
    }
    hidden = small | hidden_totals
    lines = [[(i, j) for j in range(last_column + 1)] for i in range(last_row + 1)]
    lines += [[(i, j) for i in range(last_row + 1)] for j in range(last_column + 1)]
    while True:
        for line in lines:
            if sum(p in hidden for p in line) == 1:
                hidden.add(_complement(grid, hidden, line))
        exposed = next(
            (p for p in sorted(small) if grid[p[0]][p[1]] > 0 and _lowest(grid, hidden, p) > 0.5),
            None,
        )
        if exposed is None:
            return hidden
        i, j = exposed
        row = [(i, c) for c in range(last_column + 1)]
        column = [(r, j) for r in range(last_row + 1)]
        hidden.add(_complement(grid, hidden, row + column, fallback=True))


def _complement(
    grid: list[list[int]], hidden: set[Position], line: Iterable[Position], fallback: bool = False
) -> Position:
    """The number to hide next: one of at least 9 (room to move), else the largest; no totals."""
    last_row = len(grid) - 1
    candidates = [p for p in line if p not in hidden and p[0] != last_row]
    if not candidates and fallback:
        everywhere = ((i, j) for i in range(last_row) for j in range(len(grid[0])))
        candidates = [p for p in everywhere if p not in hidden]
    if not candidates:
        raise ValueError("nothing left to hide")
    roomy = [p for p in candidates if grid[p[0]][p[1]] >= MINIMUM + 4]
    if roomy:
        return min(roomy, key=lambda p: (grid[p[0]][p[1]], p))
    return max(candidates, key=lambda p: (grid[p[0]][p[1]], p))


def _lowest(grid: list[list[int]], hidden: set[Position], target: Position) -> float:
    """The lowest value a reader can prove for a hidden position, from all published numbers."""
    order = sorted(hidden)
    index = {p: k for k, p in enumerate(order)}
    last_row, last_column = len(grid) - 1, len(grid[0]) - 1
    a_eq: list[list[float]] = []
    b_eq: list[float] = []
    sums = [([(i, j) for j in range(last_column)], (i, last_column)) for i in range(last_row + 1)]
    sums += [([(i, j) for i in range(last_row)], (last_row, j)) for j in range(last_column + 1)]
    for parts, total in sums:
        members = [(p, 1.0) for p in parts] + [(total, -1.0)]
        if not any(p in index for p, _ in members):
            continue
        coefficients = [0.0] * len(order)
        known = 0.0
        for p, sign in members:
            if p in index:
                coefficients[index[p]] = sign
            else:
                known -= sign * grid[p[0]][p[1]]
        a_eq.append(coefficients)
        b_eq.append(known)
    bounds = [(0, MINIMUM - 1) if grid[i][j] < MINIMUM else (MINIMUM, None) for i, j in order]
    objective = [0.0] * len(order)
    objective[index[target]] = 1.0
    result = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    if result.status != 0:
        raise RuntimeError(f"suppression check failed: {result.message}")
    return float(result.fun)
