"""Counts from the anonymous registration for the three-monthly reflection meeting.

Registrations are only ever counted (GROUP BY month and one column), never read one by
one. Before a count leaves this module, small counts are hidden so that no family can be
singled out. Each table has a row per value and a column per month, plus the period total
of every value and the total of every month. The rule:

1. Every count below 5, 0 included, is shown as "< 5".
2. The numbers of a table add up, so more numbers are hidden, as "×" (complementary
   suppression), until a reader who uses every published number of every table (and knows
   that "< 5" is 0-4 and "×" is 5 or more) still cannot rule out 0 for any "< 5": first
   every sum that would hide just one number hides a second one; then a linear-programming
   check plays that reader and, while it can prove some "< 5" is 1 or more, one more number
   next to it is hidden. Rather a month than a period total, never a month total when a
   number of a value will do (month totals are the same in every table, so they are hidden
   in all or none).
3. With very few registrations (months of a handful) hiding everything around a "< 5" may
   not be enough; then `Statistics.protected` is False and the reports say so.
4. Open-ended values (topics, woonplaatsen) with fewer than 5 in the whole period are merged
   into one row "overig"; fixed values (types, age bands, partners, ...) are always listed,
   so that a row does not tell that someone had that value.
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
    protected: bool = True  # False: too few registrations to hide every "< 5" fully (rule 2)

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
    values = [_values(d, months, counts.get(d.name, {})) for d in dimensions]
    grids = [[[*row, sum(row)] for row in rows.values()] + [totals] for rows in values]
    hidden_per_grid, protected = suppress(grids)
    tables = []
    for dimension, rows, grid, hidden in zip(
        dimensions, values, grids, hidden_per_grid, strict=True
    ):
        cells = [
            tuple(_cell(n, (i, j) in hidden) for j, n in enumerate(line))
            for i, line in enumerate(grid)
        ]
        ordered = _ordered(dimension, [Row(value, cells[i]) for i, value in enumerate(rows)])
        tables.append(Table(dimension.name, months, tuple(ordered), Row(TOTAL_VALUE, cells[-1])))
    return Statistics(months, tuple(tables), protected)


def _values(dimension: Dimension, months: tuple[str, ...], counts: Counts) -> dict[str, list[int]]:
    """Counts per month of every value to list, small open-ended values merged into "overig"."""
    per_value: dict[str, list[int]] = defaultdict(lambda: [0] * len(months))
    for (month, value), n in counts.items():
        per_value[value][months.index(month)] += n
    merged: dict[str, list[int]] = {value: [0] * len(months) for value in dimension.fixed}
    for value, row in sorted(per_value.items()):
        if dimension.merge_small and value not in dimension.fixed and sum(row) < MINIMUM:
            value = OTHER_VALUE
        target = merged.setdefault(value, [0] * len(months))
        target[:] = [a + b for a, b in zip(target, row, strict=True)]
    return merged


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

Key = tuple[int, int, int]  # (table, row, column); the shared totals row is table -1


def suppress(grids: Sequence[list[list[int]]]) -> tuple[list[set[Position]], bool]:
    """The positions to hide in each grid (see the top of the module), and whether that
    protects every "< 5" fully.

    A grid has one row per value and one column per month, then a column of period totals and
    a row of month totals; that last row is the same in every grid and hidden in all or none.
    """
    width = len(grids[0][0])

    def key(t: int, i: int, j: int) -> Key:
        return (-1, 0, j) if i == len(grids[t]) - 1 else (t, i, j)

    value: dict[Key, int] = {}
    lines = [[(-1, 0, j) for j in range(width)]]  # the months add up to the grand total
    for t, grid in enumerate(grids):
        value.update({key(t, i, j): n for i, row in enumerate(grid) for j, n in enumerate(row)})
        lines += [[key(t, i, j) for j in range(width)] for i in range(len(grid) - 1)]
        lines += [[key(t, i, j) for i in range(len(grid))] for j in range(width)]
    small = {k for k, n in value.items() if n < MINIMUM}
    hidden, done, protected = set(small), set(), True
    while True:
        for line in lines:
            if sum(k in hidden for k in line) == 1:
                hidden.add(_complement(value, hidden, line, width))
        for k in sorted(small - done):
            if value[k] > 0 and _lowest(value, hidden, lines, k) > 0.5:
                near = _near(lines, hidden, k)
                if near:
                    hidden.add(_complement(value, hidden, near, width))
                    break
                protected = False  # everything around it is hidden: too few registrations
            done.add(k)  # hiding more only widens what a reader cannot know
        else:
            break
    positions = [
        {(i, j) for i in range(len(grid)) for j in range(width) if key(t, i, j) in hidden}
        for t, grid in enumerate(grids)
    ]
    return positions, protected


def _near(lines: list[list[Key]], hidden: set[Key], k: Key) -> list[Key]:
    """Shown numbers in the sums with k; if none, in the sums with those, and so on."""
    reached = {k}
    while True:
        near = {c for line in lines if not reached.isdisjoint(line) for c in line}
        shown = [c for c in near if c not in hidden]
        if shown or near <= reached:
            return shown
        reached |= near


def _complement(value: dict[Key, int], hidden: set[Key], line: Iterable[Key], width: int) -> Key:
    """The number to hide next, from a line: rather not a total, rather a month than a period
    total (those matter most in the meeting), rather the smallest of at least 9 (that leaves
    a reader room to move), else the largest."""
    candidates = [k for k in line if k not in hidden]
    if not candidates:
        raise RuntimeError("nothing left to hide")  # cannot happen: the totals are left

    def preference(k: Key) -> tuple[bool, bool, bool, int, Key]:
        n = value[k]
        roomy = n >= MINIMUM + 4
        return k[0] < 0, k[2] == width - 1, not roomy, n if roomy else -n, k

    return min(candidates, key=preference)


def _lowest(value: dict[Key, int], hidden: set[Key], lines: list[list[Key]], target: Key) -> float:
    """The lowest value a reader can prove for a hidden number, from every published one."""
    order = sorted(hidden)
    index = {k: n for n, k in enumerate(order)}
    a_eq: list[list[float]] = []
    b_eq: list[float] = []
    for line in lines:  # every part but the last adds up to the last
        if not any(k in index for k in line):
            continue
        coefficients = [0.0] * len(order)
        known = 0.0
        for k, sign in zip(line, [1.0] * (len(line) - 1) + [-1.0], strict=True):
            if k in index:
                coefficients[index[k]] = sign
            else:
                known -= sign * value[k]
        a_eq.append(coefficients)
        b_eq.append(known)
    bounds = [(0, MINIMUM - 1) if value[k] < MINIMUM else (MINIMUM, None) for k in order]
    objective = [0.0] * len(order)
    objective[index[target]] = 1.0
    result = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    if result.status != 0:
        raise RuntimeError(f"suppression check failed: {result.message}")
    return float(result.fun)
