"""Showing the registration statistics: aligned text tables, a CSV file and an HTML report.

Everything here works on `storage.statistics.Statistics`, in which small counts are already
hidden ("< 5", "×"): the true numbers never reach this module. The HTML report is one
self-contained page for the three-monthly reflection meeting, with charts drawn by
matplotlib as inline SVG (the optional extra `report`). In the charts a "< 5" is a hatched
bar of fixed height 5 labelled "< 5", and a "×" has no bar, only the label.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storage.statistics import (
    HIDDEN,
    MINIMUM,
    NONE_VALUE,
    OTHER_VALUE,
    SMALL,
    TOTAL_VALUE,
    Cell,
    Statistics,
    Table,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
          "september", "oktober", "november", "december")  # fmt: skip

TITLES = {
    "type": "Soort vraag",
    "topic": "Onderwerp",
    "forwarded_to": "Doorgezet naar",
    "age_band": "Leeftijd van het kind",
    "sex": "Geslacht van het kind",
    "place": "Woonplaats",
    "channel": "Kanaal",
}

LABELS: dict[str, dict[str, str]] = {
    "type": {
        "1": "Type 1: informatie en advies",
        "2": "Type 2: naar één partner",
        "3": "Type 3: naar alle CJG-partners",
        "crisis": "Crisis",
        "out_of_scope": "Niet voor het CJG",
    },
    "topic": {
        NONE_VALUE: "Geen vast onderwerp",
        OTHER_VALUE: "Overige onderwerpen (elk minder dan 5)",
        "adhd_concentratie": "ADHD en concentratie",
        "alcohol_drugs": "Alcohol en drugs",
        "cjg_info": "Over het CJG",
        "huilen_baby": "Huilende baby",
        "school_huiswerk": "School en huiswerk",
    },
    "forwarded_to": {
        "alle": "Alle CJG-partners",
        "loket": "Loket",
        "niet_gedeeld": "Niet gedeeld (ouder wilde niet)",
        "niet_doorgezet": "Niet doorgezet (gesprek gestopt)",
        NONE_VALUE: "Niet nodig (beantwoord of verwezen)",
    },
    "age_band": {
        "-9m-4": "-9 maanden tot 4 jaar",
        "4-12": "4 tot 12 jaar",
        "12-18": "12 tot 18 jaar",
        "18-23": "18 tot 23 jaar",
        "23+": "23 jaar en ouder",
        "onbekend": "Onbekend",
    },
    "sex": {"ongeboren": "Nog niet geboren"},
    "place": {OTHER_VALUE: "Overige plaatsen (elk minder dan 5)"},
    "channel": {"console": "Console (test)"},
}

EXPLANATIONS = {
    "types": "Type 1 beantwoordt de bot zelf. Type 2 gaat naar één partner, type 3 naar de "
    "vijf CJG-partners. Bij crisis geeft de bot direct de noodnummers en waarschuwt het loket.",
    "topic": "Het onderwerp van de vraag, als het bij een vast onderwerp past.",
    "forwarded_to": "Naar wie de vraag ging. Vragen die niet doorgezet hoefden, staan alleen "
    "in de tabel.",
    "age_band": "Leeftijd van het kind waar de vraag over gaat. Bij type 1 vraagt de bot die "
    "niet altijd.",
}

COLOURS = ("#1b6e8f", "#6aa84f", "#e69138", "#c0392b", "#8e7cc3")


def label(dimension: str, value: str, partner_names: Mapping[str, str] | None = None) -> str:
    """The Dutch name of a stored value, for people."""
    if value == TOTAL_VALUE:
        return "Totaal"
    if dimension == "forwarded_to" and partner_names and value in partner_names:
        return partner_names[value]
    known = LABELS.get(dimension, {}).get(value)
    return known or value.replace("_", " ")[:1].upper() + value.replace("_", " ")[1:]


def month_name(month: str, short: bool = False) -> str:
    year, number = month.split("-")
    name = MONTHS[int(number) - 1]
    return f"{name[:3]} {year}" if short else f"{name} {year}"


def period_name(months: Sequence[str]) -> str:
    first, last = month_name(months[0]), month_name(months[-1])
    if first == last:
        return first
    if first[-4:] == last[-4:]:
        first = first[:-5]
    return f"{first} t/m {last}"


LEGEND = (
    f'Aantallen onder {MINIMUM} staan als "{SMALL}", zodat niemand herkenbaar is. '
    f'"{HIDDEN}" is een verborgen aantal van {MINIMUM} of meer: zonder dat kon je een '
    f'"{SMALL}" uitrekenen uit de totalen.'
)


# --- text and CSV ---


def render_text(
    statistics: Statistics, cjg_name: str, partner_names: Mapping[str, str] | None = None
) -> str:
    """Aligned tables, one per dimension, columns separated by at least two spaces."""
    lines = [f"Registratie {cjg_name}, {period_name(statistics.months)}", LEGEND]
    for table in statistics.tables:
        header = [TITLES[table.dimension], *(month_name(m, True) for m in table.months)]
        body = [
            [label(table.dimension, row.value, partner_names), *(c.text for c in row.cells)]
            for row in (*table.rows, table.total)
        ]
        header.append("Totaal")
        widths = [max(len(line[k]) for line in (header, *body)) for k in range(len(header))]
        lines.append("")
        for line in (header, *body):
            cells = [line[0].ljust(widths[0])]
            cells += [text.rjust(width) for text, width in zip(line[1:], widths[1:], strict=True)]
            lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def write_csv(statistics: Statistics, path: Path) -> None:
    """Long format: dimension, month ("totaal" for the period), value, count ("< 5", "×", n)."""
    with path.open("w", newline="", encoding="utf-8-sig") as handle:  # BOM: Excel reads UTF-8
        writer = csv.writer(handle)
        writer.writerow(["dimension", "month", "value", "count"])
        for table in statistics.tables:
            for row in (*table.rows, table.total):
                for month, cell in zip((*table.months, TOTAL_VALUE), row.cells, strict=True):
                    writer.writerow([table.dimension, month, row.value, cell.text])


# --- HTML ---

CSS = """
@page { size: A4; margin: 12mm; }
* { box-sizing: border-box; }
body { font: 14px/1.4 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #222;
  margin: 0 auto; max-width: 1180px; padding: 16px 20px; }
h1 { font-size: 24px; margin: 0; color: #1b6e8f; }
h2 { font-size: 16px; margin: 0 0 4px; }
.period { font-size: 16px; margin: 2px 0 10px; color: #444; }
.note { color: #444; margin: 4px 0 10px; }
.tiles { display: flex; flex-wrap: wrap; gap: 10px; margin: 10px 0 14px; }
.tile { border: 1px solid #cfd8dc; border-radius: 6px; padding: 6px 12px; min-width: 140px; }
.tile b { display: block; font-size: 22px; color: #1b6e8f; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr));
  gap: 14px 20px; }
figure { margin: 0; break-inside: avoid; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { color: #444; font-size: 12px; }
.tables { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr));
  gap: 14px 20px; margin-top: 16px; align-items: start; }
table { border-collapse: collapse; width: 100%; font-size: 12px; break-inside: avoid; }
caption { text-align: left; font-weight: bold; font-size: 14px; padding-bottom: 2px; }
th, td { padding: 2px 6px; border-bottom: 1px solid #e0e0e0; }
td { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th { text-align: left; font-weight: normal; }
thead th { font-weight: bold; text-align: right; border-bottom: 2px solid #888; }
thead th:first-child { text-align: left; }
tr.total th, tr.total td { font-weight: bold; border-top: 2px solid #888; }
footer { margin-top: 16px; color: #666; font-size: 11px; }
@media print { body { padding: 0; max-width: none; } .charts { gap: 8px 14px; } }
"""


def render_html(
    statistics: Statistics,
    cjg_name: str,
    partner_names: Mapping[str, str] | None = None,
    made: date | None = None,
) -> str:
    """One self-contained HTML page: key figures, four charts, all tables, explanations."""
    period = period_name(statistics.months)
    types = statistics.table("type")
    tiles = [("Vragen", types.total.total)]
    tiles += [(label("type", row.value), row.total) for row in types.rows]
    charts = [
        ("Vragen per maand en soort", EXPLANATIONS["types"], _types_chart(statistics)),
        *(
            (
                TITLES[name],
                EXPLANATIONS[name],
                _period_chart(statistics.table(name), partner_names),
            )
            for name in ("topic", "forwarded_to", "age_band")
        ),
    ]
    parts = [
        '<!DOCTYPE html>\n<html lang="nl">\n<head>\n<meta charset="utf-8">',
        f"<title>Registratie {_e(cjg_name)}: {_e(period)}</title>",
        f"<style>{CSS}</style>\n</head>\n<body>",
        f"<header><h1>Registratie {_e(cjg_name)}</h1>",
        f'<p class="period">{_e(period)}: overzicht voor het driemaandelijkse '
        "reflectieoverleg</p></header>",
        '<p class="note">Elke vraag aan de chatbot wordt één keer anoniem geteld: soort vraag, '
        "onderwerp, naar wie doorgezet, leeftijd en geslacht van het kind, woonplaats en kanaal. "
        "Er staat niets in dat naar een persoon leidt. " + _e(LEGEND) + "</p>",
        '<div class="tiles">',
        *(f'<div class="tile"><b>{_e(c.text)}</b>{_e(name)}</div>' for name, c in tiles),
        '</div>\n<section class="charts">',
        *(
            f"<figure><h2>{_e(title)}</h2>{svg}<figcaption>{_e(text)}</figcaption></figure>"
            for title, text, svg in charts
        ),
        '</section>\n<section class="tables">',
        *(_html_table(table, partner_names) for table in statistics.tables),
        "</section>",
        f"<footer>Gemaakt op {(made or date.today()).isoformat()} met cjgbot stats "
        f"--from {statistics.months[0]} --to {statistics.months[-1]}. "
        f'In de grafieken is "{SMALL}" een gearceerde balk van vaste hoogte.</footer>',
        "</body>\n</html>\n",
    ]
    return "\n".join(parts)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _html_table(table: Table, partner_names: Mapping[str, str] | None) -> str:
    head = "".join(f"<th>{_e(month_name(m, True))}</th>" for m in table.months)
    rows = []
    for row in (*table.rows, table.total):
        cells = "".join(f"<td>{_e(c.text)}</td>" for c in row.cells)
        css = ' class="total"' if row.value == TOTAL_VALUE else ""
        name = _e(label(table.dimension, row.value, partner_names))
        rows.append(f"<tr{css}><th>{name}</th>{cells}</tr>")
    return (
        f'<table data-dimension="{_e(table.dimension)}"><caption>{_e(TITLES[table.dimension])}'
        f"</caption><thead><tr><th></th>{head}<th>Totaal</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


# --- charts ---


def _style() -> Any:
    import matplotlib

    return matplotlib.rc_context(
        {
            "svg.fonttype": "none",  # text stays text: sharp, searchable, small
            "svg.hashsalt": "cjgbot-report",  # stable ids
            "font.family": "DejaVu Sans",
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "hatch.linewidth": 0.8,
        }
    )


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _bar(
    ax: Axes, position: float, cell: Cell, colour: str, width: float, flat: bool, gid: str
) -> None:
    """One bar: the count; "< 5" as a hatched bar of height 5; "×" as a label only."""
    draw = ax.barh if flat else ax.bar
    height = cell.count if cell.count is not None else (MINIMUM if cell.text == SMALL else 0)
    if cell.count is not None:
        draw(position, height, width, color=colour)
    elif cell.text == SMALL:
        draw(position, height, width, color="white", edgecolor=colour, hatch="////", lw=0.8)
    offset = (4, 0) if flat else (0, 3)
    xy = (height, position) if flat else (position, height)
    text = ax.annotate(
        cell.text,
        xy,
        xytext=offset,
        textcoords="offset points",
        ha="left" if flat else "center",
        va="center" if flat else "bottom",
        fontsize=8,
        color="#222" if cell.count is not None else "#555",
    )
    text.set_gid(gid)  # "<chart>-count-<n>": the tests read every count label of every chart


def _types_chart(statistics: Statistics) -> str:
    from matplotlib.figure import Figure

    table = statistics.table("type")
    width = 0.8 / max(len(table.rows), 1)
    with _style():
        figure = Figure(figsize=(6.2, 3.0))
        ax = figure.subplots()
        for k, row in enumerate(table.rows):
            colour = COLOURS[k % len(COLOURS)]
            for m, cell in enumerate(row.cells[:-1]):
                x = m + (k - (len(table.rows) - 1) / 2) * width
                _bar(ax, x, cell, colour, width, False, f"type-count-{k}-{m}")
            ax.bar([], [], color=colour, label=label("type", row.value))  # legend entry
        ax.set_xticks(range(len(table.months)), [month_name(m) for m in table.months])
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.margins(y=0.12)
        ax.legend(frameon=False, fontsize=8, loc="upper right")
        return _svg(figure)


def _period_chart(table: Table, partner_names: Mapping[str, str] | None) -> str:
    """Horizontal bars of the period totals, in table order (not forwarded: left out)."""
    from matplotlib.figure import Figure

    skip = NONE_VALUE if table.dimension == "forwarded_to" else None
    rows = [row for row in table.rows if row.value != skip]
    with _style():
        figure = Figure(figsize=(6.2, 0.6 + 0.24 * len(rows)))
        ax = figure.subplots()
        for k, row in enumerate(rows):
            _bar(ax, k, row.total, COLOURS[0], 0.7, True, f"{table.dimension}-count-{k}")
        names = [label(table.dimension, row.value, partner_names) for row in rows]
        ax.set_yticks(range(len(rows)), names)
        ax.invert_yaxis()
        ax.set_xticks([])
        ax.spines["bottom"].set_visible(False)
        ax.margins(x=0.1)
        return _svg(figure)
