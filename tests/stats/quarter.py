"""A simulated quarter of anonymous registrations: seeded, with plausible distributions.

Roughly what a CJG loket of a town of 45,000 could see: mostly type-1 questions about
sleep, tantrums and food, young children, most parents from Veldhoven itself, Telegram
before Matrix. Small groups (crisis, Novadic, Zandoerle, console) are there on purpose: they
must come out as "< 5".
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

from flows.actions import Registration

QUARTER = ("2026-01", "2026-02", "2026-03")
PER_MONTH = (128, 151, 117)

TOPICS = (
    "slapen", "driftbuien", "eten", "huilen_baby", "grenzen_stellen", "schermtijd",
    "puberteit", "zindelijkheid", "voeding_baby", "angst", "pesten", "scheiding",
    "broers_zussen", "taalontwikkeling", "ontwikkeling", "school_huiswerk",
    "online_veiligheid", "bedplassen", "gezonde_leefstijl", "ouderschap",
    "adhd_concentratie", "vaccinaties", "consultatiebureau", "hoofdluis",
    "seksuele_ontwikkeling", "rouw", "zakgeld", "alcohol_drugs", "opvoedcursus", "cjg_info",
)  # fmt: skip
TOPIC_WEIGHTS = tuple(1 / (rank + 1) ** 1.1 for rank in range(len(TOPICS)))

TYPES = {"1": 55, "2": 22, "3": 8, "crisis": 2, "out_of_scope": 13}
PARTNERS = {"zuidzorg": 30, "ggd": 24, "lumens": 25, "cordaad": 6, "mee": 6, "gemeente": 6,
            "novadic": 2, "niet_gedeeld": 8, "niet_doorgezet": 4}  # fmt: skip
AGES = {"-9m-4": 36, "4-12": 30, "12-18": 18, "18-23": 3, "23+": 1, "onbekend": 12}
SEXES = {"jongen": 40, "meisje": 37, "anders": 1, "onbekend": 22}
PLACES = {"Veldhoven": 52, "Zeelst": 9, "Meerveldhoven": 8, "Oerle": 5, "Zandoerle": 0.7,
          "Eindhoven": 3, "Waalre": 1, "Vessem": 0.5, "onbekend": 20}  # fmt: skip
CHANNELS = {"telegram": 72, "matrix": 27, "console": 1}


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def simulate_quarter(
    seed: int = 7, months: Sequence[str] = QUARTER, per_month: Sequence[int] = PER_MONTH
) -> list[Registration]:
    rng = random.Random(seed)
    result = []
    for month, n in zip(months, per_month, strict=True):
        for _ in range(n):
            kind = _pick(rng, TYPES)
            topic: str | None = None
            forwarded: str | None = None
            if kind in ("1", "2", "3") and rng.random() < (0.97 if kind == "1" else 0.8):
                topic = rng.choices(TOPICS, weights=TOPIC_WEIGHTS)[0]
            if kind == "2":
                forwarded = _pick(rng, PARTNERS)
            elif kind == "3":
                forwarded = rng.choices(["alle", "niet_gedeeld", "niet_doorgezet"], [85, 10, 5])[0]
            elif kind == "crisis":
                forwarded = "loket"
            asked = kind in ("2", "3") or rng.random() < 0.35  # type 1: details are optional
            age = _pick(rng, AGES) if asked else "onbekend"
            sex = _pick(rng, SEXES) if asked else "onbekend"
            if age == "-9m-4" and rng.random() < 0.06:
                sex = "ongeboren"
            place = _pick(rng, PLACES) if asked else "onbekend"
            result.append(
                Registration(
                    month=month,
                    type=kind,
                    topic=topic,
                    forwarded_to=forwarded,
                    age_band=age,
                    sex=sex,
                    place=place,
                    channel=_pick(rng, CHANNELS),
                    source="schoolposter" if rng.random() < 0.1 else None,
                )
            )
    return result


def expected_counts(
    registrations: Sequence[Registration], dimension: str
) -> Counter[tuple[str, str]]:
    """(month, value) -> count, the way the statistics name a missing value ("geen")."""
    return Counter((r.month, getattr(r, dimension) or "geen") for r in registrations)


def expected_table(
    registrations: Sequence[Registration], dimension: str, months: Sequence[str] = QUARTER
) -> dict[str, list[int]]:
    """value -> counts per month and the period total, with the statistics' merging rule:
    topics and places with fewer than 5 in the period together form "overig"."""
    table: dict[str, list[int]] = {}
    for (month, value), n in expected_counts(registrations, dimension).items():
        table.setdefault(value, [0] * (len(months) + 1))[months.index(month)] += n
    if dimension in ("topic", "place"):
        for value in [v for v, row in table.items() if sum(row) < 5]:
            small = table.pop(value)
            merged = table.setdefault("overig", [0] * (len(months) + 1))
            merged[:] = [a + b for a, b in zip(merged, small, strict=True)]
    for row in table.values():
        row[-1] = sum(row[:-1])
    table["totaal"] = [sum(col) for col in zip(*table.values(), strict=True)]
    return table
