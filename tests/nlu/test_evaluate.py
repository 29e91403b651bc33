"""Evaluation metrics on a tiny hand-made set, where every number can be checked by hand."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from nlu.evaluate import (
    LabelledRow,
    cross_validate,
    evaluate,
    format_report,
    load_rows,
)
from nlu.pipeline import NluResult
from nlu.training_data import Example


def result(
    route: str,
    *,
    topic: str | None = None,
    partner: str | None = None,
    confidence: float = 0.9,
    intent: str | None = None,
) -> NluResult:
    if intent is None:
        intent = {"faq": f"faq/{topic}", "partner": f"partner_{partner}"}.get(route, route)
    return NluResult(
        route=route,
        topic=topic,
        partner=partner,
        confidence=confidence,
        intent=intent,
        language="nl",
        ranking=((intent, confidence),),
        age=None,
        crisis_category=None,
    )


@dataclass
class FakeNlu:
    """Answers from a table: text -> NluResult."""

    answers: dict[str, NluResult]
    fallback_threshold: float = 0.25
    crisis_threshold: float = 0.3
    seen: list[str] = field(default_factory=list)

    def parse(self, text: str) -> NluResult:
        self.seen.append(text)
        return self.answers[text]


# text, label, what the fake NLU answers
CASES: list[tuple[LabelledRow, NluResult]] = [
    # 1 faq, right topic
    (LabelledRow("a", "faq", topic="slapen"), result("faq", topic="slapen", confidence=0.95)),
    # 2 faq, wrong topic (route right, topic wrong)
    (LabelledRow("b", "faq", topic="eten"), result("faq", topic="slapen", confidence=0.85)),
    # 3 faq -> unclear (not correct, not harmful); best guess was right
    (
        LabelledRow("c", "faq", topic="eten"),
        result("unclear", confidence=0.15, intent="faq/eten"),
    ),
    # 4 partner, right partner
    (LabelledRow("d", "partner", partner="ggd"), result("partner", partner="ggd")),
    # 5 partner answered from the faq: harmful
    (LabelledRow("e", "partner", partner="lumens"), result("faq", topic="pesten", confidence=0.7)),
    # 6 partner without a partner label: any partner is right for route and partner acc.
    (LabelledRow("f", "partner"), result("partner", partner="mee")),
    # 7 crisis caught
    (LabelledRow("g", "crisis"), result("crisis", confidence=1.0)),
    # 8 crisis missed: harmful
    (LabelledRow("h", "crisis"), result("faq", topic="angst", confidence=0.6)),
    # 9 out_of_scope flagged crisis: wrong, a false crisis, not harmful
    (LabelledRow("i", "out_of_scope"), result("crisis", confidence=0.4)),
    # 10 out_of_scope -> greet: not correct, not harmful
    (LabelledRow("j", "out_of_scope"), result("greet", confidence=0.5)),
]


@pytest.fixture
def report():
    nlu = FakeNlu({row.text: res for row, res in CASES})
    return evaluate(nlu, [row for row, _ in CASES])


def test_headline_numbers(report) -> None:
    assert report.n == 10
    # right route: 1, 2, 4, 6, 7
    assert report.route_accuracy == pytest.approx(5 / 10)
    # faq rows with a topic: 1, 2, 3 -> only 1 right
    assert report.topic_accuracy == pytest.approx(1 / 3)
    # rows with a partner label: 4, 5 -> only 4 right
    assert report.partner_accuracy == pytest.approx(1 / 2)
    # crisis rows 7, 8 -> 7 caught; predicted crisis 7, 9 -> 7 right
    assert report.crisis_recall == pytest.approx(1 / 2)
    assert report.crisis_precision == pytest.approx(1 / 2)
    # harmful: 5 (partner -> faq), 8 (missed crisis)
    assert report.harmful_errors == 2
    assert report.harmful_error_rate == pytest.approx(2 / 10)
    assert report.unclear_rate == pytest.approx(1 / 10)


def test_confusion_matrix(report) -> None:
    assert report.confusion == {
        "crisis": {"crisis": 1, "faq": 1},
        "faq": {"faq": 2, "unclear": 1},
        "out_of_scope": {"crisis": 1, "greet": 1},
        "partner": {"faq": 1, "partner": 2},
    }
    assert sum(sum(row.values()) for row in report.confusion.values()) == report.n


def test_per_route_precision_recall_f1(report) -> None:
    faq = report.per_route["faq"]
    # predicted faq: 1, 2, 5, 8 -> right route for 1, 2; gold faq: 1, 2, 3
    assert faq["precision"] == pytest.approx(2 / 4)
    assert faq["recall"] == pytest.approx(2 / 3)
    assert faq["f1"] == pytest.approx(2 * (0.5 * 2 / 3) / (0.5 + 2 / 3))
    assert faq["support"] == 3 and faq["predicted"] == 4
    partner = report.per_route["partner"]
    assert partner["precision"] == pytest.approx(1.0)
    assert partner["recall"] == pytest.approx(2 / 3)
    oos = report.per_route["out_of_scope"]
    assert oos["recall"] == 0.0 and oos["precision"] is None
    assert report.per_route["unclear"]["support"] == 0


def test_worst_errors_are_wrong_rows_most_confident_first(report) -> None:
    worst = report.worst_errors
    texts = [e["text"] for e in worst]
    # wrong: 2 (topic), 3, 5, 8, 9, 10 ; sorted by confidence desc
    assert texts == ["b", "e", "h", "j", "i", "c"]
    assert [e["confidence"] for e in worst] == sorted(
        (e["confidence"] for e in worst), reverse=True
    )
    by_text = {e["text"]: e for e in worst}
    assert by_text["e"]["harmful"] and by_text["h"]["harmful"]
    assert not by_text["c"]["harmful"] and not by_text["i"]["harmful"]
    assert by_text["b"]["expected"] == "faq/eten" and by_text["b"]["predicted"] == "faq/slapen"


def test_worst_error_text_is_truncated() -> None:
    long_text = "mijn kind " * 30
    nlu = FakeNlu({long_text: result("faq", topic="slapen")})
    report = evaluate(nlu, [{"text": long_text, "route": "partner", "partner": "ggd"}])
    assert len(report.worst_errors[0]["text"]) <= 80


def test_histogram_counts_best_guesses(report) -> None:
    hist = report.histogram
    assert len(hist) == 10
    assert sum(b["correct"] + b["wrong"] for b in hist) == report.n
    # confidence 0.15 (row 3, best guess faq/eten: right) falls in bin 0.1-0.2
    assert hist[1] == {"low": 0.1, "high": 0.2, "correct": 1, "wrong": 0}
    # rows 1 (0.95), 4 and 6 (0.9) and 7 (1.0: counts in the last bin)
    assert (hist[9]["correct"], hist[9]["wrong"]) == (4, 0)
    assert (hist[8]["correct"], hist[8]["wrong"]) == (0, 1)  # row 2 (0.85)


def test_to_dict_is_json_safe_and_complete(report) -> None:
    data = json.loads(json.dumps(report.to_dict()))
    for key in (
        "n",
        "route_accuracy",
        "topic_accuracy",
        "partner_accuracy",
        "crisis_recall",
        "crisis_precision",
        "harmful_error_rate",
        "confusion",
        "per_route",
        "worst_errors",
        "histogram",
    ):
        assert key in data
    assert data["fallback_threshold"] == 0.25


def test_format_report_has_aligned_tables(report) -> None:
    text = format_report(report)
    assert "route accuracy" in text and "50.0%" in text
    assert "<- fallback threshold" in text
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("route "))
    # the per-route table: every row as wide as its header
    rows = lines[header : header + 2 + len(report.per_route)]
    assert len({len(line.rstrip()) for line in rows[:2]}) == 1
    assert all(len(line) == len(rows[0]) for line in rows)


def test_empty_sets_do_not_divide_by_zero() -> None:
    report = evaluate(FakeNlu({}), [])
    assert report.n == 0
    assert report.crisis_recall is None and report.topic_accuracy is None
    assert "n/a" in format_report(report)


def test_load_rows(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text(
        '{"text": "hoi", "route": "faq", "topic": "slapen"}\n\n'
        '{"text": "x", "route": "partner", "partner": "ggd"}\n',
        encoding="utf-8",
    )
    rows = load_rows(path)
    assert rows == [
        LabelledRow("hoi", "faq", topic="slapen"),
        LabelledRow("x", "partner", partner="ggd"),
    ]
    path.write_text('{"route": "faq"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="set.jsonl:1"):
        load_rows(path)


def test_cross_validate_on_a_small_set() -> None:
    phrases = {
        "faq/slapen": ["slaapt slecht", "wordt wakker 's nachts", "bedtijd", "nachtmerrie"],
        "faq/eten": ["eet geen groente", "lust niks", "tussendoortjes", "bord leeg eten"],
        "partner_novadic": ["verslaafd aan wiet", "gokt veel", "drinkt te veel", "blowt"],
        "out_of_scope": ["paspoort aanvragen", "weer morgen", "parkeervergunning", "grofvuil"],
    }
    examples = [
        Example(f"{p} {suffix}", intent)
        for intent, ps in phrases.items()
        for p in ps
        for suffix in ("", "help", "vraag")
    ]
    report = cross_validate(examples, folds=3)
    assert report.n == len(examples)
    assert set(report.confusion) == {"faq", "partner", "out_of_scope"}
    assert 0.0 <= report.route_accuracy <= 1.0
    with pytest.raises(ValueError):
        cross_validate(examples[:2])


def test_per_intent_report(report) -> None:
    slapen = report.per_intent["faq/slapen"]
    assert (slapen["support"], slapen["predicted"]) == (1, 2)
    assert slapen["precision"] == 0.5 and slapen["recall"] == 1.0
    eten = report.per_intent["faq/eten"]
    assert eten["support"] == 2 and eten["recall"] == 0.0
    assert report.per_intent["partner/ggd"]["f1"] == 1.0
    assert "per_intent" in report.to_dict()
