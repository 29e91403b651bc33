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
import re
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
SHORT_MONTHS = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")

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
        "broers_zussen": "Broers en zussen",
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
    partner = partner_names.get(value) if partner_names and dimension == "forwarded_to" else None
    name = partner or LABELS.get(dimension, {}).get(value) or value.replace("_", " ")
    return name[:1].upper() + name[1:]


def month_name(month: str, short: bool = False) -> str:
    year, number = month.split("-")
    return f"{(SHORT_MONTHS if short else MONTHS)[int(number) - 1]} {year}"


def _column_names(months: Sequence[str]) -> list[str]:
    """Short month names; with the year only when the period spans more than one year."""
    names = [month_name(m, short=True) for m in months]
    return names if months[0][:4] != months[-1][:4] else [n[:-5] for n in names]


def period_name(months: Sequence[str]) -> str:
    first, last = month_name(months[0]), month_name(months[-1])
    if first == last:
        return first
    if first[-4:] == last[-4:]:
        first = first[:-5]
    return f"{first} t/m {last}"


LEGEND = (
    f'Aantallen onder {MINIMUM} staan als "{SMALL}", zodat niemand herkenbaar is. '
    f'"{HIDDEN}" is een verborgen aantal van {MINIMUM} of meer; anders kon je een "{SMALL}" '
    "uitrekenen uit de totalen."
)

WARNING = (
    f'Let op: er zijn zo weinig registraties dat niet elke "{SMALL}" helemaal is af te '
    "schermen. Deel dit overzicht alleen binnen het CJG."
)


# --- text and CSV ---


def render_text(
    statistics: Statistics, cjg_name: str, partner_names: Mapping[str, str] | None = None
) -> str:
    """Aligned tables, one per dimension, columns separated by at least two spaces."""
    lines = [f"Registratie {cjg_name}, {period_name(statistics.months)}", LEGEND]
    if not statistics.protected:
        lines.append(WARNING)
    for table in statistics.tables:
        header = [TITLES[table.dimension], *_column_names(table.months)]
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
@page { size: A4; margin: 10mm; }
* { box-sizing: border-box; }
body { font: 14px/1.4 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #222;
  margin: 0 auto; max-width: 1180px; padding: 16px 20px; }
h1 { font-size: 24px; margin: 0; color: #1b6e8f; }
h2 { font-size: 16px; margin: 0 0 4px; }
.period { font-size: 16px; margin: 2px 0 8px; color: #444; }
.note { color: #444; margin: 4px 0 8px; }
.warning { border-left: 4px solid #c0392b; padding: 4px 10px; background: #fdf2f0; }
.tiles { display: flex; flex-wrap: wrap; gap: 10px; margin: 8px 0 14px; }
.tile { border: 1px solid #cfd8dc; border-radius: 6px; padding: 6px 12px; min-width: 130px; }
.tile b { display: block; font-size: 22px; color: #1b6e8f; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 14px 24px; }
.charts .wide { grid-column: 1 / -1; }
.charts .tall { grid-row: span 2; }
figure { margin: 0; break-inside: avoid; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { color: #444; font-size: 12px; }
.tables { columns: 3; column-gap: 20px; margin-top: 16px; }
table { border-collapse: collapse; width: 100%; font-size: 12px; break-inside: avoid;
  margin-bottom: 14px; }
caption { text-align: left; font-weight: bold; font-size: 14px; padding-bottom: 2px; }
th, td { padding: 2px 6px; border-bottom: 1px solid #e0e0e0; }
td { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th { text-align: left; font-weight: normal; }
thead th { font-weight: bold; text-align: right; border-bottom: 2px solid #888; }
thead th:first-child { text-align: left; }
tr.total th, tr.total td { font-weight: bold; border-top: 2px solid #888; }
footer { margin-top: 16px; color: #666; font-size: 11px; }
@media screen and (max-width: 900px) {
  .charts { grid-template-columns: 1fr; }
  .tables { columns: 1; }
}
@media print {
  body { padding: 0; max-width: none; font-size: 11px; }
  h1 { font-size: 20px; }
  .tile b { font-size: 16px; }
  .tables { break-before: page; columns: 2; margin-top: 0; }
  .tables table { font-size: 10px; }
}
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
    charts = [("wide", "Vragen per maand en soort", "types", _types_chart(types))]
    for css, name in (("tall", "topic"), ("", "forwarded_to"), ("", "age_band")):
        svg = _period_chart(statistics.table(name), partner_names)
        charts.append((css, TITLES[name], name, svg))
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
        "" if statistics.protected else f'<p class="warning">{_e(WARNING)}</p>',
        '<div class="tiles">',
        *(f'<div class="tile"><b>{_e(c.text)}</b>{_e(name)}</div>' for name, c in tiles),
        '</div>\n<section class="charts">',
        *(
            f'<figure class="{css}"><h2>{_e(title)}</h2>{svg}'
            f"<figcaption>{_e(EXPLANATIONS[key])}</figcaption></figure>"
            for css, title, key, svg in charts
        ),
        '</section>\n<section class="tables">',
        *(_html_table(table, partner_names) for table in statistics.tables),
        "</section>",
        f"<footer>Gemaakt op {(made or date.today()).isoformat()} met cjgbot stats "
        f"--from {statistics.months[0]} --to {statistics.months[-1]}. "
        f'In de grafieken is "{SMALL}" een gearceerde balk van vaste hoogte; '
        f'bij "{HIDDEN}" staat geen balk.</footer>',
        "</body>\n</html>\n",
    ]
    return "\n".join(parts)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _html_table(table: Table, partner_names: Mapping[str, str] | None) -> str:
    head = "".join(f"<th>{_e(name)}</th>" for name in _column_names(table.months))
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

INCH = 0.26  # height per bar row of a horizontal chart


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _style() -> Any:
    import matplotlib

    return matplotlib.rc_context(
        {
            "svg.fonttype": "none",  # text stays text: sharp, searchable, small
            "svg.hashsalt": "cjgbot-report",  # stable ids
            "font.family": "DejaVu Sans",
            "font.size": 10,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "hatch.linewidth": 0.8,
        }
    )


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return re.sub(r"\s*<metadata>.*?</metadata>", "", text[text.index("<svg") :], flags=re.S)


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
    text = ax.annotate(
        cell.text,
        (height, position) if flat else (position, height),
        xytext=(4, 0) if flat else (0, 3),
        textcoords="offset points",
        ha="left" if flat else "center",
        va="center" if flat else "bottom",
        fontsize=9,
        color="#222" if cell.count is not None else "#555",
    )
    text.set_gid(gid)  # "<chart>-count-<n>": the tests read every count label of every chart


def _types_chart(table: Table) -> str:
    """Grouped bars: per month one bar per type."""
    from matplotlib.patches import Patch

    width = 0.8 / max(len(table.rows), 1)
    with _style():
        figure = _figure(11.0, 2.7)
        ax = figure.subplots()
        for k, row in enumerate(table.rows):
            for m, cell in enumerate(row.cells[:-1]):
                x = m + (k - (len(table.rows) - 1) / 2) * width
                _bar(ax, x, cell, COLOURS[k % len(COLOURS)], width, False, f"type-count-{k}-{m}")
        ax.set_xticks(range(len(table.months)), [month_name(m) for m in table.months])
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.margins(y=0.12)
        handles = [
            Patch(color=COLOURS[k % len(COLOURS)], label=label("type", row.value))
            for k, row in enumerate(table.rows)
        ]
        ax.legend(handles=handles, frameon=False, loc="center left", bbox_to_anchor=(1, 0.5))
        return _svg(figure)


def _period_chart(table: Table, partner_names: Mapping[str, str] | None) -> str:
    """Horizontal bars of the period totals, in table order (not forwarded: left out)."""
    skip = NONE_VALUE if table.dimension == "forwarded_to" else None
    rows = [row for row in table.rows if row.value != skip]
    with _style():
        figure = _figure(5.6, 0.5 + INCH * len(rows))
        ax = figure.subplots()
        for k, row in enumerate(rows):
            _bar(ax, k, row.total, COLOURS[0], 0.7, True, f"{table.dimension}-count-{k}")
        names = [label(table.dimension, row.value, partner_names) for row in rows]
        ax.set_yticks(range(len(rows)), names)
        ax.invert_yaxis()
        ax.set_xticks([])
        ax.spines["bottom"].set_visible(False)
        ax.margins(x=0.12, y=0.02)
        return _svg(figure)
