"""The counts of a simulated quarter, the "< 5" rule, and that no "< 5" can be worked out."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pytest

from bot.report import write_csv
from storage.crypto import FieldCipher
from storage.database import open_database
from storage.repository import Store
from storage.statistics import (
    DIMENSIONS,
    HIDDEN,
    SMALL,
    Statistics,
    build_statistics,
    month_range,
    registration_statistics,
)

from .attacker import bounds_of_small_cells, read_csv
from .conftest import QuarterDb
from .quarter import QUARTER, expected_counts, simulate_quarter

PARTNERS = ("zuidzorg", "ggd", "lumens", "cordaad", "mee", "gemeente", "novadic")
MERGED = {"topic", "place"}


async def _statistics(db: QuarterDb, start: str, end: str) -> Statistics:
    store = Store(await open_database(db.url), FieldCipher([db.key]))
    try:
        async with store.transaction() as repo:
            return await registration_statistics(repo.session, start, end, PARTNERS)
    finally:
        await store.close()


def _expected(registrations: list, dimension: str) -> Counter[tuple[str, str]]:
    counts = expected_counts(registrations, dimension)
    if dimension in MERGED:
        totals = Counter()
        for (_, value), n in counts.items():
            totals[value] += n
        merged: Counter[tuple[str, str]] = Counter()
        for (month, value), n in counts.items():
            merged[(month, value if totals[value] >= 5 else "overig")] += n
        counts = merged
    return counts


def _published_csv(statistics: Statistics, tmp_path: Path) -> str:
    path = tmp_path / "counts.csv"
    write_csv(statistics, path)
    return path.read_text(encoding="utf-8-sig")


async def test_counts_of_the_quarter_are_right_and_small_ones_hidden(quarter_db: QuarterDb) -> None:
    statistics = await _statistics(quarter_db, "2026-01", "2026-03")
    assert statistics.months == QUARTER
    registrations = quarter_db.registrations
    assert statistics.table("type").total.total.count == len(registrations) == 396
    shown = hidden_large = 0
    for table in statistics.tables:
        expected = _expected(registrations, table.dimension)
        for row in (*table.rows, table.total):
            for month, cell in zip((*QUARTER, "totaal"), row.cells, strict=True):
                true = sum(
                    n
                    for (m, v), n in expected.items()
                    if (month in ("totaal", m)) and (row.value in ("totaal", v))
                )
                if true < 5:
                    assert cell.text == SMALL, (table.dimension, row.value, month, cell)
                elif cell.count is None:
                    assert cell.text == HIDDEN
                    hidden_large += 1
                else:
                    assert cell.count == true, (table.dimension, row.value, month)
                    shown += 1
    # the rule hides what it must, not everything: most counts of 5 or more stay readable
    assert shown > 4 * hidden_large
    assert statistics.table("type").rows[0].cells[0].text == "89"  # type 1, January


async def test_months_outside_the_period_are_not_counted(quarter_db: QuarterDb) -> None:
    january = await _statistics(quarter_db, "2026-01", "2026-01")
    assert january.months == ("2026-01",)
    assert january.table("channel").total.total.count == 128
    everything = await _statistics(quarter_db, "2025-12", "2026-04")
    assert everything.table("channel").total.total.count == 396 + 40 + 30


async def test_no_small_count_can_be_worked_out_from_the_csv(
    quarter_db: QuarterDb, tmp_path: Path
) -> None:
    statistics = await _statistics(quarter_db, "2026-01", "2026-03")
    published = read_csv(_published_csv(statistics, tmp_path))
    assert set(published) == {d.name for d in DIMENSIONS}
    assert statistics.protected
    bounds = bounds_of_small_cells(published)
    assert len(bounds) > 50
    for key, (low, _high) in bounds.items():
        # whatever a "< 5" really is, all published numbers together also fit "nobody"
        assert low == 0, f"{key}: a reader can prove it is at least {low}"


def test_the_reader_does_find_counts_when_only_small_ones_are_hidden() -> None:
    """The check above can fail: without the extra hidden numbers, "< 5" is worked out."""
    registrations = simulate_quarter()
    raw = expected_counts(registrations, "channel")
    cells, true = {}, {}
    for value in ("telegram", "matrix", "console", "totaal"):
        for month in (*QUARTER, "totaal"):
            n = sum(
                c for (m, v), c in raw.items() if value in ("totaal", v) and month in ("totaal", m)
            )
            true[(month, value)] = n
            cells[(month, value)] = SMALL if n < 5 else str(n)
    bounds = bounds_of_small_cells({"channel": cells})
    assert true[("totaal", "console")] >= 1 and ("channel", "totaal", "console") in bounds
    for (_, month, value), (low, high) in bounds.items():
        assert low == high == true[(month, value)]  # every "< 5" worked out exactly


@pytest.mark.parametrize(
    ("seed", "per_month", "protected"),
    [
        (1, (30, 25, 40), True),
        (2, (12, 9, 20), True),
        (3, (60, 3, 45), True),  # a quiet month
        (5, (2, 1, 3), True),  # everything "< 5"
        (4, (7, 6, 8), False),  # too few to protect every "< 5" fully: said so
    ],
)
def test_small_cjgs_and_quiet_months_stay_safe(
    seed: int, per_month: tuple[int, int, int], protected: bool, tmp_path: Path
) -> None:
    registrations = simulate_quarter(seed=seed, per_month=per_month)
    counts = {d.name: expected_counts(registrations, d.name) for d in DIMENSIONS}
    statistics = build_statistics(QUARTER, counts, PARTNERS)
    assert statistics.protected is protected
    published = read_csv(_published_csv(statistics, tmp_path))
    for key, (low, high) in bounds_of_small_cells(published).items():
        if protected:
            assert low == 0, f"seed {seed}: {key} is at least {low}"
        else:  # never worked out exactly
            assert low < high or high == 0, f"seed {seed}: {key} is {low}"
    for cells in published.values():
        for text in cells.values():
            assert text in (SMALL, HIDDEN) or int(text) >= 5
    # month totals are the same in every table; a month below 5 never stands alone
    totals = [statistics.table(d.name).total for d in DIMENSIONS]
    assert len({tuple(c.text for c in row.cells) for row in totals}) == 1
    hidden_months = [c for c in totals[0].cells[:-1] if c.count is None]
    assert len(hidden_months) != 1
    if min(per_month) < 5:
        assert len(hidden_months) >= 2


def test_csv_is_long_format_with_every_count(tmp_path: Path) -> None:
    registrations = simulate_quarter()
    counts = {d.name: expected_counts(registrations, d.name) for d in DIMENSIONS}
    statistics = build_statistics(QUARTER, counts, PARTNERS)
    rows = list(csv.reader(io.StringIO(_published_csv(statistics, tmp_path))))
    assert rows[0] == ["dimension", "month", "value", "count"]
    seen = {(d, m, v): n for d, m, v, n in rows[1:]}
    assert len(seen) == len(rows) - 1  # each count once
    for table in statistics.tables:
        for row in (*table.rows, table.total):
            for month, cell in zip((*QUARTER, "totaal"), row.cells, strict=True):
                assert seen.pop((table.dimension, month, row.value)) == cell.text
    assert not seen
    assert ("type", "2026-01", "1") in {(d, m, v) for d, m, v, _ in rows[1:]}


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        ("2026-01", "2026-03", ("2026-01", "2026-02", "2026-03")),
        ("2025-11", "2026-02", ("2025-11", "2025-12", "2026-01", "2026-02")),
        ("2026-05", "2026-05", ("2026-05",)),
    ],
)
def test_month_range(start: str, end: str, months: tuple[str, ...]) -> None:
    assert month_range(start, end) == months


@pytest.mark.parametrize(
    ("start", "end"),
    [("2026-13", "2026-12"), ("2026-1", "2026-03"), ("2026-03", "2026-01"), ("maart", "2026-03")],
)
def test_month_range_refuses_nonsense(start: str, end: str) -> None:
    with pytest.raises(ValueError):
        month_range(start, end)
