"""What a curious reader can work out from a published CSV, by linear programming.

Independent of `storage.statistics`: it only reads the published strings. It knows that in
every table the months of a value add up to its period total ("totaal") and the values of a
month to the month total, that the month totals are the same in every table, that "< 5" is
0-4 and "×" is 5 or more. For every "< 5" it finds the lowest and highest value that fits
all of that.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict

from scipy.optimize import linprog

Published = dict[str, dict[tuple[str, str], str]]  # dimension -> (month, value) -> text
Key = tuple[str, str, str]  # (dimension or "*" for the shared totals, month, value)


def read_csv(text: str) -> Published:
    tables: Published = defaultdict(dict)
    for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff"))):
        tables[row["dimension"]][(row["month"], row["value"])] = row["count"]
    return dict(tables)


def _key(dimension: str, month: str, value: str) -> Key:
    return ("*", month, value) if value == "totaal" else (dimension, month, value)


def bounds_of_small_cells(published: Published) -> dict[Key, tuple[int, int]]:
    texts: dict[Key, str] = {}
    equations: list[list[tuple[Key, int]]] = []
    for dimension, cells in published.items():
        texts.update({_key(dimension, m, v): text for (m, v), text in cells.items()})
        months = sorted({m for m, _ in cells if m != "totaal"})
        values = sorted({v for _, v in cells if v != "totaal"})
        for value in [*values, "totaal"]:
            parts = [(_key(dimension, m, value), 1) for m in months]
            equations.append([*parts, (_key(dimension, "totaal", value), -1)])
        for month in [*months, "totaal"]:
            parts = [(_key(dimension, month, v), 1) for v in values]
            equations.append([*parts, (_key(dimension, month, "totaal"), -1)])
    unknown = sorted(key for key, text in texts.items() if not text.isdigit())
    index = {key: k for k, key in enumerate(unknown)}
    a_eq, b_eq = [], []
    for equation in equations:
        row = [0.0] * len(unknown)
        rest = 0.0
        for key, sign in equation:
            if key in index:
                row[index[key]] = sign
            else:
                rest -= sign * int(texts[key])
        if any(row):
            a_eq.append(row)
            b_eq.append(rest)
    limits = [(0, 4) if texts[key] == "< 5" else (5, None) for key in unknown]
    result = {}
    for key in unknown:
        if texts[key] != "< 5":
            continue
        goal = [0.0] * len(unknown)
        goal[index[key]] = 1.0
        low = linprog(goal, A_eq=a_eq, b_eq=b_eq, bounds=limits, method="highs")
        high = linprog([-g for g in goal], A_eq=a_eq, b_eq=b_eq, bounds=limits, method="highs")
        assert low.status == 0 and high.status == 0, (key, low.message, high.message)
        result[key] = (round(low.fun), round(-high.fun))
    return result
