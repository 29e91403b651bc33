"""`cjgbot stats` on the simulated quarter: text tables, CSV and HTML, all with "< 5"."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from bot.config import Settings
from bot.report import TITLES, label
from bot.stats_command import stats

from .conftest import QuarterDb
from .html_reader import read_report
from .quarter import QUARTER, expected_table

DIMENSIONS = tuple(TITLES)


def cjgbot() -> click.Group:
    """The real `cjgbot` group with `stats` added, as the CLI will do."""
    return click.Group(
        "cjgbot",
        params=main.params,
        callback=main.callback,
        commands={**main.commands, "stats": stats},
    )


def run(db: QuarterDb, *args: str) -> Result:
    env = {"CJGBOT_SECRET_KEY": db.key.decode(), "CJGBOT__STORAGE__DATABASE_URL": db.url}
    return CliRunner().invoke(cjgbot(), ["stats", *args], env=env)


def text_tables(output: str) -> dict[str, dict[str, list[str]]]:
    """Heading -> row label -> cells, from the aligned text (columns: two spaces or more)."""
    tables: dict[str, dict[str, list[str]]] = {}
    for block in output.split("\n\n")[1:]:
        lines = [line for line in block.splitlines() if line.strip()]
        heading = re.split(r"\s{2,}", lines[0])
        assert heading[1:] == ["jan", "feb", "mrt", "Totaal"], lines[0]
        rows = {}
        for line in lines[1:]:
            name, *cells = re.split(r"\s{2,}", line)
            assert len(cells) == 4, line
            rows[name] = cells
        tables[heading[0]] = rows
    return tables


def check_cells(
    dimension: str, shown: dict[str, list[str]], db: QuarterDb, settings: Settings
) -> None:
    """Every shown number is the true count; every true count below 5 shows as "< 5"."""
    names = {p.id: p.name for p in settings.partners}
    expected = {
        label(dimension, value, names): row
        for value, row in expected_table(db.registrations, dimension).items()
    }
    for name, cells in shown.items():
        true = expected.get(name, [0] * 4)
        for text, n in zip(cells, true, strict=True):
            if n < 5:
                assert text == "< 5", (dimension, name, cells, true)
            elif text != "×":
                assert int(text) == n, (dimension, name, cells, true)
    assert set(expected) <= set(shown)  # nothing left out


def test_text_tables(quarter_db: QuarterDb, settings: Settings) -> None:
    result = run(quarter_db, "--from", "2026-01", "--to", "2026-03")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Registratie CJG Veldhoven, januari t/m maart 2026\n")
    tables = text_tables(result.output)
    assert list(tables) == [TITLES[d] for d in DIMENSIONS]
    for dimension in DIMENSIONS:
        check_cells(dimension, tables[TITLES[dimension]], quarter_db, settings)
    types = tables["Soort vraag"]
    assert types["Type 1: informatie en advies"] == ["89", "84", "65", "238"]
    assert types["Crisis"] == ["< 5", "< 5", "< 5", "6"]
    assert tables["Kanaal"]["Console (test)"] == ["< 5"] * 4
    for rows in tables.values():  # no small number anywhere
        for cells in rows.values():
            assert all(c in ("< 5", "×") or int(c) >= 5 for c in cells)


def test_csv_and_html_files_hold_the_same_counts(
    quarter_db: QuarterDb, settings: Settings, tmp_path: Path
) -> None:
    csv_file, html_file = tmp_path / "telling.csv", tmp_path / "rapport.html"
    args = ("--from", "2026-01", "--to", "2026-03", "--csv", str(csv_file), "--html")
    result = run(quarter_db, *args, str(html_file))
    assert result.exit_code == 0, result.output
    text = text_tables(result.output.split("\nCSV: ")[0])

    with csv_file.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["dimension", "month", "value", "count"]
    assert {r["dimension"] for r in rows} == set(DIMENSIONS)
    assert all(r["count"] in ("< 5", "×") or int(r["count"]) >= 5 for r in rows)
    names = {p.id: p.name for p in settings.partners}
    for r in rows:
        name = label(r["dimension"], r["value"], names)
        column = [*QUARTER, "totaal"].index(r["month"])
        assert text[TITLES[r["dimension"]]][name][column] == r["count"], r

    page = html_file.read_text(encoding="utf-8")
    report = read_report(page)
    assert report.title == "Registratie CJG Veldhoven: januari t/m maart 2026"
    assert report.svgs == 4 and report.images == 0  # four charts, inline
    assert not re.search(r"(src|href)=\"(https?:|//)|@import|url\((?!#)", page)  # self-contained
    assert set(report.tables) == set(DIMENSIONS)
    for dimension, table in report.tables.items():
        assert table[0] == ["", "jan", "feb", "mrt", "Totaal"]
        shown = {row[0]: row[1:] for row in table[1:]}
        assert shown == text[TITLES[dimension]]
        check_cells(dimension, shown, quarter_db, settings)
    labels = report.count_labels
    assert sum(k.startswith("type-count-") for k in labels) == 5 * 3
    assert sum(k.startswith("topic-count-") for k in labels) == len(text["Onderwerp"]) - 1
    assert all(t in ("< 5", "×") or int(t) >= 5 for t in labels.values()), labels
    assert labels["type-count-0-0"] == "89"  # type 1 in January
    assert labels["type-count-3-0"] == "< 5"  # crisis in January
    assert "<pattern" in page  # "< 5" bars are hatched (an SVG pattern), not solid


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "2026-13", "--to", "2026-12"), "'2026-13' is not a month like 2026-01"),
        (("--from", "2026-03", "--to", "2026-01"), "2026-03 is after 2026-01"),
    ],
)
def test_wrong_months_give_one_line(
    quarter_db: QuarterDb, args: tuple[str, ...], message: str
) -> None:
    result = run(quarter_db, *args)
    assert result.exit_code == 2
    assert result.stderr == f"cjgbot: --from/--to: {message}\n"


def test_html_without_matplotlib_says_what_to_install(
    quarter_db: QuarterDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "matplotlib" else real(name, *a),
    )
    result = run(
        quarter_db, "--from", "2026-01", "--to", "2026-03", "--html", str(tmp_path / "r.html")
    )
    assert result.exit_code == 2
    assert "pip install 'cjgbot[report]'" in result.stderr
    assert not (tmp_path / "r.html").exists()
