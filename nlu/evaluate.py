"""Measuring the NLU: labelled JSONL sets, cross-validation and threshold tuning.

A labelled row is {"text", "route", "topic"?, "partner"?} (see shared/eval/dev.jsonl).

* `evaluate(nlu, rows)` -> `EvalReport` with route/topic/partner accuracy, crisis recall
  and precision, the harmful error rate, per-route precision/recall/F1, a confusion
  matrix, the worst errors and a confidence histogram.
* `cross_validate(examples, folds)` does the same for the training data (stratified
  folds on intents; each fold trains its own classifier).
* `tune_thresholds(examples)` picks the fallback and crisis thresholds on
  cross-validation.

"unclear" and "greet" predictions count as not correct for route accuracy, but never
as harmful. Harmful: a crisis row not predicted crisis, or an out_of_scope, partner or
all_partners row answered from the FAQ.

Command line: `python -m nlu.evaluate shared/eval/dev.jsonl [--json]` and
`python -m nlu.evaluate --cv [--folds 5] [--tune]`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold

from nlu.classifier import MAX_FEATURE_CHARS, IntentClassifier
from nlu.crisis import crisis_match
from nlu.language import detect_language
from nlu.pipeline import (
    DEFAULT_CRISIS_THRESHOLD,
    DEFAULT_FALLBACK_THRESHOLD,
    Nlu,
    NluResult,
    partner_for_age,
    safe_find_age,
)
from nlu.training_data import Example, label_of_intent, load_examples

HARMFUL_IF_FAQ = frozenset({"out_of_scope", "partner", "all_partners"})
NEVER_CORRECT = frozenset({"unclear"})
HISTOGRAM_BINS = 10
HISTOGRAM_WIDTH = 50
WORST_ERRORS = 20
TEXT_PREVIEW = 80


@dataclass(frozen=True, slots=True)
class LabelledRow:
    """One labelled message."""

    text: str
    route: str
    topic: str | None = None
    partner: str | None = None


@dataclass(frozen=True, slots=True)
class Prediction:
    """A labelled row with what the NLU made of it."""

    row: LabelledRow
    route: str
    topic: str | None
    partner: str | None
    confidence: float
    intent: str
    guess_route: str
    guess_topic: str | None
    guess_partner: str | None

    @property
    def route_correct(self) -> bool:
        return self.route == self.row.route and self.route not in NEVER_CORRECT

    @property
    def correct(self) -> bool:
        """Route right and, where labelled, the topic/partner too."""
        return _matches(self.row, self.route, self.topic, self.partner)

    @property
    def guess_correct(self) -> bool:
        """Would the best guess (before falling back to "unclear") have been right?"""
        return _matches(self.row, self.guess_route, self.guess_topic, self.guess_partner)

    @property
    def harmful(self) -> bool:
        if self.row.route == "crisis":
            return self.route != "crisis"
        return self.row.route in HARMFUL_IF_FAQ and self.route == "faq"


def _matches(row: LabelledRow, route: str, topic: str | None, partner: str | None) -> bool:
    if route != row.route or route in NEVER_CORRECT:
        return False
    if route == "faq" and row.topic is not None and topic != row.topic:
        return False
    return not (route == "partner" and row.partner is not None and partner != row.partner)


@dataclass
class EvalReport:
    """Evaluation numbers; `to_dict()` is JSON-safe, `format_report()` is for people."""

    n: int
    route_accuracy: float
    topic_accuracy: float | None
    partner_accuracy: float | None
    crisis_recall: float | None
    crisis_precision: float | None
    harmful_error_rate: float
    harmful_errors: int
    unclear_rate: float
    confusion: dict[str, dict[str, int]]
    per_route: dict[str, dict[str, float | int | None]]
    per_intent: dict[str, dict[str, float | int | None]]
    worst_errors: list[dict[str, Any]]
    histogram: list[dict[str, float | int]]
    fallback_threshold: float | None = None
    crisis_threshold: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "route_accuracy": self.route_accuracy,
            "topic_accuracy": self.topic_accuracy,
            "partner_accuracy": self.partner_accuracy,
            "crisis_recall": self.crisis_recall,
            "crisis_precision": self.crisis_precision,
            "harmful_error_rate": self.harmful_error_rate,
            "harmful_errors": self.harmful_errors,
            "unclear_rate": self.unclear_rate,
            "confusion": self.confusion,
            "per_route": self.per_route,
            "per_intent": self.per_intent,
            "worst_errors": self.worst_errors,
            "histogram": self.histogram,
            "fallback_threshold": self.fallback_threshold,
            "crisis_threshold": self.crisis_threshold,
            **({"extra": self.extra} if self.extra else {}),
        }


# --------------------------------------------------------------------------- rows


def parse_row(obj: dict[str, Any]) -> LabelledRow:
    if not isinstance(obj.get("text"), str) or not isinstance(obj.get("route"), str):
        raise ValueError("a labelled row needs string 'text' and 'route'")
    return LabelledRow(
        text=obj["text"],
        route=obj["route"],
        topic=obj.get("topic") or None,
        partner=obj.get("partner") or None,
    )


def load_rows(path: Path | str) -> list[LabelledRow]:
    """Rows of a labelled JSONL file (blank lines skipped)."""
    rows = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(parse_row(json.loads(line)))
        except (ValueError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}:{number}: {exc}") from exc
    return rows


def row_of_example(example: Example) -> LabelledRow:
    label = label_of_intent(example.intent)
    return LabelledRow(example.text, label.route, label.topic, label.partner)


# --------------------------------------------------------------------------- metrics


def _rate(num: int, den: int) -> float | None:
    return num / den if den else None


def predict(result: NluResult, row: LabelledRow) -> Prediction:
    """Pair an NLU result with its label; the best guess is recovered for "unclear"."""
    if result.route == "unclear" and result.intent:
        label = label_of_intent(result.intent)
        g_route, g_topic, g_partner = label.route, label.topic, label.partner
        if g_route == "partner" and g_partner in ("zuidzorg", "ggd"):
            g_partner = partner_for_age(result.age) or g_partner
    else:
        g_route, g_topic, g_partner = result.route, result.topic, result.partner
    return Prediction(
        row=row,
        route=result.route,
        topic=result.topic,
        partner=result.partner,
        confidence=result.confidence,
        intent=result.intent,
        guess_route=g_route,
        guess_topic=g_topic,
        guess_partner=g_partner,
    )


def _per_label(pairs: Sequence[tuple[str, str]]) -> dict[str, dict[str, float | int | None]]:
    """Precision, recall, F1, support and predicted count per label, from (gold, predicted)."""
    gold_count = Counter(gold for gold, _ in pairs)
    pred_count = Counter(pred for _, pred in pairs)
    hits = Counter(gold for gold, pred in pairs if gold == pred and gold not in NEVER_CORRECT)
    report: dict[str, dict[str, float | int | None]] = {}
    for label in sorted(set(gold_count) | set(pred_count)):
        precision = _rate(hits[label], pred_count[label])
        recall = _rate(hits[label], gold_count[label])
        if precision is None or recall is None:
            f1 = None
        else:
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        report[label] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": gold_count[label],
            "predicted": pred_count[label],
        }
    return report


def report_from_predictions(
    predictions: Sequence[Prediction],
    *,
    fallback_threshold: float | None = None,
    crisis_threshold: float | None = None,
    worst: int = WORST_ERRORS,
) -> EvalReport:
    """All numbers of an `EvalReport` from paired predictions."""
    n = len(predictions)
    route_ok = sum(p.route_correct for p in predictions)

    topic_rows = [p for p in predictions if p.row.route == "faq" and p.row.topic]
    topic_ok = sum(p.route == "faq" and p.topic == p.row.topic for p in topic_rows)
    partner_rows = [p for p in predictions if p.row.partner]
    partner_ok = sum(p.route == "partner" and p.partner == p.row.partner for p in partner_rows)

    gold_crisis = sum(p.row.route == "crisis" for p in predictions)
    pred_crisis = sum(p.route == "crisis" for p in predictions)
    both_crisis = sum(p.row.route == "crisis" and p.route == "crisis" for p in predictions)
    harmful = sum(p.harmful for p in predictions)

    confusion: dict[str, dict[str, int]] = defaultdict(dict)
    for p in predictions:
        confusion[p.row.route][p.route] = confusion[p.row.route].get(p.route, 0) + 1

    per_route = _per_label([(p.row.route, p.route) for p in predictions])
    per_intent = _per_label(
        [
            (
                _describe(p.row.route, p.row.topic, p.row.partner),
                _describe(p.route, p.topic, p.partner),
            )
            for p in predictions
        ]
    )

    wrong = sorted(
        (p for p in predictions if not p.correct), key=lambda p: p.confidence, reverse=True
    )
    worst_errors = [
        {
            "text": _preview(p.row.text),
            "expected": _describe(p.row.route, p.row.topic, p.row.partner),
            "predicted": _describe(p.route, p.topic, p.partner),
            "intent": p.intent,
            "confidence": round(p.confidence, 3),
            "harmful": p.harmful,
        }
        for p in wrong[:worst]
    ]

    histogram = []
    for b in range(HISTOGRAM_BINS):
        low, high = b / HISTOGRAM_BINS, (b + 1) / HISTOGRAM_BINS
        in_bin = [
            p
            for p in predictions
            if low <= p.confidence < high or (b == HISTOGRAM_BINS - 1 and p.confidence >= 1.0)
        ]
        histogram.append(
            {
                "low": low,
                "high": high,
                "correct": sum(p.guess_correct for p in in_bin),
                "wrong": sum(not p.guess_correct for p in in_bin),
            }
        )

    return EvalReport(
        n=n,
        route_accuracy=route_ok / n if n else 0.0,
        topic_accuracy=_rate(topic_ok, len(topic_rows)),
        partner_accuracy=_rate(partner_ok, len(partner_rows)),
        crisis_recall=_rate(both_crisis, gold_crisis),
        crisis_precision=_rate(both_crisis, pred_crisis),
        harmful_error_rate=harmful / n if n else 0.0,
        harmful_errors=harmful,
        unclear_rate=(sum(p.route == "unclear" for p in predictions) / n) if n else 0.0,
        confusion={gold: dict(sorted(row.items())) for gold, row in sorted(confusion.items())},
        per_route=per_route,
        per_intent=per_intent,
        worst_errors=worst_errors,
        histogram=histogram,
        fallback_threshold=fallback_threshold,
        crisis_threshold=crisis_threshold,
    )


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= TEXT_PREVIEW else flat[: TEXT_PREVIEW - 1] + "…"


def _describe(route: str, topic: str | None, partner: str | None) -> str:
    extra = topic or partner
    return f"{route}/{extra}" if extra else route


def evaluate(nlu: Nlu, rows: Iterable[LabelledRow | dict[str, Any]]) -> EvalReport:
    """Run `nlu.parse` on every labelled row and measure."""
    predictions = []
    for row in rows:
        labelled = row if isinstance(row, LabelledRow) else parse_row(row)
        predictions.append(predict(nlu.parse(labelled.text), labelled))
    return report_from_predictions(
        predictions,
        fallback_threshold=nlu.fallback_threshold,
        crisis_threshold=nlu.crisis_threshold,
    )


# --------------------------------------------------------------------------- cross-validation


@dataclass(frozen=True, slots=True)
class _Raw:
    """What the pipeline's decision needs, computed once per held-out example."""

    row: LabelledRow
    ranked: list[tuple[str, float]]
    crisis_category: str | None
    age: Any
    language: Any


def _cv_raw(examples: Sequence[Example], folds: int, random_state: int) -> list[_Raw]:
    intents = np.array([ex.intent for ex in examples], dtype=object)
    counts = Counter(intents.tolist())
    n_splits = max(2, min(folds, max(counts.values())))
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    raws: list[_Raw | None] = [None] * len(examples)
    dummy = np.zeros(len(examples))
    for train_idx, test_idx in splitter.split(dummy, intents):
        model = IntentClassifier.train([examples[i] for i in train_idx], random_state=random_state)
        texts = [examples[i].text for i in test_idx]
        matrix = model.predict_proba_many(texts)
        for row_probs, i in zip(matrix, test_idx, strict=True):
            order = np.argsort(-row_probs, kind="stable")
            ranked = [(model.classes[j], float(row_probs[j])) for j in order]
            text = examples[i].text
            raws[i] = _Raw(
                row=row_of_example(examples[i]),
                ranked=ranked,
                crisis_category=crisis_match(text),
                age=safe_find_age(text[:MAX_FEATURE_CHARS]),
                language=detect_language(text),
            )
    return [r for r in raws if r is not None]


def _decide_all(raws: Sequence[_Raw], fallback: float, crisis: float) -> list[Prediction]:
    decider = Nlu.__new__(Nlu)
    decider.fallback_threshold = fallback
    decider.crisis_threshold = crisis
    return [
        predict(
            decider.decide(
                r.ranked, crisis_category=r.crisis_category, age=r.age, language=r.language
            ),
            r.row,
        )
        for r in raws
    ]


def cross_validate(
    examples: Sequence[Example],
    folds: int = 5,
    *,
    fallback_threshold: float = DEFAULT_FALLBACK_THRESHOLD,
    crisis_threshold: float = DEFAULT_CRISIS_THRESHOLD,
    random_state: int = 0,
) -> EvalReport:
    """Stratified k-fold over intents: train on k-1 folds, run the pipeline on the rest."""
    if len(examples) < 4:
        raise ValueError("cross-validation needs more examples")
    raws = _cv_raw(examples, folds, random_state)
    return report_from_predictions(
        _decide_all(raws, fallback_threshold, crisis_threshold),
        fallback_threshold=fallback_threshold,
        crisis_threshold=crisis_threshold,
    )


# Utility weights for tuning: a correct answer +1, a clarifying question -0.5, a wrong
# answer -1, a harmful one -3 (a wrong answer to a worried parent is worse than a
# question; a missed crisis is the worst).
_WEIGHT_UNCLEAR = 0.5
_WEIGHT_WRONG = 1.0
_WEIGHT_HARMFUL = 3.0


def _utility(predictions: Sequence[Prediction]) -> float:
    score = 0.0
    for p in predictions:
        if p.harmful:
            score -= _WEIGHT_HARMFUL
        elif p.route in NEVER_CORRECT:
            score -= _WEIGHT_UNCLEAR
        elif p.correct:
            score += 1.0
        else:
            score -= _WEIGHT_WRONG
    return score


def tune_thresholds(
    examples: Sequence[Example], folds: int = 5, *, random_state: int = 0
) -> dict[str, Any]:
    """Pick fallback and crisis thresholds that maximise the utility on cross-validation."""
    raws = _cv_raw(examples, folds, random_state)
    grid_crisis = [float(round(x, 2)) for x in np.arange(0.1, 0.75, 0.05)]
    grid_fallback = [float(round(x, 2)) for x in np.arange(0.0, 0.55, 0.05)]
    table = []
    for c in grid_crisis:
        for f in grid_fallback:
            preds = _decide_all(raws, f, c)
            rep = report_from_predictions(preds)
            table.append(
                {
                    "crisis_threshold": c,
                    "fallback_threshold": f,
                    "utility": _utility(preds),
                    "route_accuracy": rep.route_accuracy,
                    "crisis_recall": rep.crisis_recall,
                    "crisis_precision": rep.crisis_precision,
                    "harmful_error_rate": rep.harmful_error_rate,
                    "unclear_rate": rep.unclear_rate,
                }
            )
    # Best utility; among (near-)ties the lowest crisis threshold (recall first).
    top = max(r["utility"] for r in table)
    best = min(
        (r for r in table if r["utility"] >= top - 2),
        key=lambda r: (r["crisis_threshold"], -r["utility"]),
    )
    return {"best": best, "table": table}


# --------------------------------------------------------------------------- formatting


def _fmt(value: float | int | None, pct: bool = True) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int) and not pct:
        return str(value)
    return f"{100 * value:5.1f}%" if pct else f"{value:.3f}"


def _table(
    header: Sequence[str], rows: Sequence[Sequence[str]], left: Sequence[int] = (0,)
) -> list[str]:
    """Rows under a header, columns padded to one width; columns in `left` flush left."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(
            f"{c:<{w}}" if i in left else f"{c:>{w}}"
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return [fmt(header), "  ".join("-" * w for w in widths), *(fmt(row) for row in rows)]


def format_report(report: EvalReport) -> str:
    """A plain-text report with aligned tables."""
    lines = [f"NLU evaluation on {report.n} messages", ""]
    summary = [
        ("route accuracy", _fmt(report.route_accuracy)),
        ("topic accuracy (faq rows)", _fmt(report.topic_accuracy)),
        ("partner accuracy (partner rows)", _fmt(report.partner_accuracy)),
        ("crisis recall", _fmt(report.crisis_recall)),
        ("crisis precision", _fmt(report.crisis_precision)),
        ("harmful errors", f"{_fmt(report.harmful_error_rate)} ({report.harmful_errors})"),
        ("asked to clarify (unclear)", _fmt(report.unclear_rate)),
        ("fallback threshold", _fmt(report.fallback_threshold, pct=False)),
        ("crisis threshold", _fmt(report.crisis_threshold, pct=False)),
    ]
    lines += _table(("metric", "value"), summary)

    lines += ["", "Per route"]
    lines += _table(
        ("route", "precision", "recall", "f1", "support", "predicted"),
        [
            (
                r,
                _fmt(m["precision"]),  # type: ignore[arg-type]
                _fmt(m["recall"]),  # type: ignore[arg-type]
                _fmt(m["f1"]),  # type: ignore[arg-type]
                str(m["support"]),
                str(m["predicted"]),
            )
            for r, m in report.per_route.items()
        ],
    )

    predicted = sorted({p for row in report.confusion.values() for p in row})
    lines += ["", "Confusion (rows: expected, columns: predicted)"]
    lines += _table(
        ("expected", *predicted),
        [
            (gold, *(str(row.get(p, 0)) for p in predicted))
            for gold, row in report.confusion.items()
        ],
    )

    lines += ["", "Confidence histogram (best guess correct #, wrong x)"]
    hist_rows = []
    biggest = max((b["correct"] + b["wrong"] for b in report.histogram), default=0)
    scale = min(1.0, HISTOGRAM_WIDTH / biggest) if biggest else 1.0
    thr = report.fallback_threshold
    for b in report.histogram:
        mark = " <- fallback threshold" if thr is not None and b["low"] <= thr < b["high"] else ""
        bar = "#" * round(b["correct"] * scale) + "x" * round(b["wrong"] * scale)
        hist_rows.append(
            (f"{b['low']:.1f}-{b['high']:.1f}", str(b["correct"]), str(b["wrong"]), bar + mark)
        )
    lines += _table(("confidence", "correct", "wrong", ""), hist_rows, left=(0, 3))

    if report.worst_errors:
        lines += ["", "Worst errors (most confident first)"]
        lines += _table(
            ("text", "expected", "predicted", "conf", "harmful"),
            [
                (
                    e["text"],
                    e["expected"],
                    e["predicted"],
                    f"{e['confidence']:.2f}",
                    "yes" if e["harmful"] else "",
                )
                for e in report.worst_errors
            ],
            left=(0, 1, 2),
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlu.evaluate", description=__doc__)
    parser.add_argument("file", nargs="?", help="labelled JSONL file")
    parser.add_argument("--data", help="training data dir (default: nlu/data/nlu)")
    parser.add_argument("--cache", help="model cache dir")
    parser.add_argument("--cv", action="store_true", help="cross-validate the training data")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--tune", action="store_true", help="tune thresholds on CV")
    parser.add_argument("--fallback", type=float, default=DEFAULT_FALLBACK_THRESHOLD)
    parser.add_argument("--crisis", type=float, default=DEFAULT_CRISIS_THRESHOLD)
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    args = parser.parse_args(argv)

    if args.tune:
        result = tune_thresholds(load_examples(args.data), args.folds)
        print(json.dumps(result["best"], indent=2))
        return 0
    if args.cv:
        report = cross_validate(
            load_examples(args.data),
            args.folds,
            fallback_threshold=args.fallback,
            crisis_threshold=args.crisis,
        )
    elif args.file:
        nlu = Nlu.load(
            args.data, args.cache, fallback_threshold=args.fallback, crisis_threshold=args.crisis
        )
        report = evaluate(nlu, load_rows(args.file))
    else:
        parser.error("give a labelled JSONL file or --cv")
    print(
        json.dumps(report.to_dict(), indent=2, ensure_ascii=False)
        if args.json
        else format_report(report)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
