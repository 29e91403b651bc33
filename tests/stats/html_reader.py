"""Reading the HTML report back: its tables, its chart count labels, its <svg> elements."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Report:
    title: str = ""
    tables: dict[str, list[list[str]]] = field(default_factory=dict)  # dimension -> rows
    count_labels: dict[str, str] = field(default_factory=dict)  # chart label id -> text
    svgs: int = 0
    images: int = 0


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.report = Report()
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._label: str | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "title":
            self._in_title = True
        elif tag == "svg":
            self.report.svgs += 1
        elif tag == "img":
            self.report.images += 1
        elif tag == "table":
            self._table = attributes.get("data-dimension") or "?"
            self.report.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "g" and "-count-" in (attributes.get("id") or ""):
            self._label = attributes["id"]
            self.report.count_labels[self._label] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.report.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "g":
            self._label = None

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.report.title += data
        if self._cell is not None:
            self._cell.append(data)
        if self._label is not None:
            self.report.count_labels[self._label] += data.strip()


def read_report(html: str) -> Report:
    reader = _Reader()
    reader.feed(html)
    return reader.report
