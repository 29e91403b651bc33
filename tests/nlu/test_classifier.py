"""Training data loading, the classifier and its cache, and the routing pipeline.

The floor test at the end measures the shipped model on ../shared/eval/dev.jsonl.
"""

from __future__ import annotations

import dataclasses
import json
import pickle
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

import nlu.classifier as classifier_module
from nlu.analyzers import build_analyzer
from nlu.classifier import (
    MAX_FEATURE_CHARS,
    IntentClassifier,
    _compile_level,
    _Features,
    _Level,
    cache_key,
    load_or_train,
    model_hash,
    prepare_text,
)
from nlu.crisis import crisis_match
from nlu.entities import Age
from nlu.evaluate import evaluate, load_rows
from nlu.language import detect_language
from nlu.pipeline import Nlu, NluResult, partner_for_age, safe_find_age
from nlu.training_data import (
    Example,
    TrainingDataError,
    data_hash,
    label_of_intent,
    load_examples,
    parse_nlu_yaml,
)

DEV_SET = Path(__file__).resolve().parents[3] / "shared" / "eval" / "dev.jsonl"

TINY_YAML = """\
version: "3.1"
nlu:
- intent: faq/slapen
  examples: |
    - mijn kind slaapt slecht
    - hoe krijg ik mijn peuter in bed
    - hij wordt elke nacht wakker
    - nachtmerries bij een kleuter
- intent: faq/eten
  examples: |
    - mijn kind eet geen groente
    - hoeveel tussendoortjes mag een kleuter
    - ze lust niks behalve pasta
    - moet hij zijn bord leeg eten
- intent: partner_novadic
  examples: |
    - mijn zoon is verslaafd aan wiet, wie kan helpen
    - mijn dochter gokt en wil stoppen, kan iemand bellen
    - hij drinkt elk weekend te veel en wil hulp
    - verslavingszorg voor mijn zoon van 17
- intent: out_of_scope
  examples: |
    - hoe vraag ik een paspoort aan
    - wat voor weer wordt het morgen
    - wanneer wordt het grofvuil opgehaald
    - wat kost een parkeervergunning
- synonym: slapen
  examples: |
    - pitten
responses:
  utter_x:
  - text: hallo
"""


@pytest.fixture
def tiny_data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "tiny.yml").write_text(TINY_YAML, encoding="utf-8")
    return data


@pytest.fixture(scope="module")
def real_nlu(tmp_path_factory: pytest.TempPathFactory) -> Nlu:
    return Nlu.load(cache_dir=tmp_path_factory.mktemp("nlu-cache"))


# --------------------------------------------------------------------------- training data


def test_parse_nlu_yaml_reads_intents_and_ignores_the_rest() -> None:
    examples = parse_nlu_yaml(TINY_YAML)
    assert len(examples) == 16
    assert Example("mijn kind slaapt slecht", "faq/slapen") in examples
    assert all(ex.text != "pitten" for ex in examples)


def test_entity_annotations_are_stripped() -> None:
    source = (
        "nlu:\n- intent: partner_ggd\n  examples: |\n"
        '    - we wonen in [Veldhoven](place) en hij is [9]{"entity": "age"}\n'
    )
    assert parse_nlu_yaml(source) == [Example("we wonen in Veldhoven en hij is 9", "partner_ggd")]


def test_bad_yaml_is_reported_with_the_file_name() -> None:
    with pytest.raises(TrainingDataError, match="x.yml"):
        parse_nlu_yaml("nlu: [\n", name="x.yml")


def test_data_hash_follows_the_content(tiny_data: Path) -> None:
    first = data_hash(tiny_data)
    assert first == data_hash(tiny_data)
    (tiny_data / "more.yml").write_text(
        "nlu:\n- intent: greet\n  examples: |\n    - hoi\n", encoding="utf-8"
    )
    assert data_hash(tiny_data) != first
    assert len(load_examples(tiny_data)) == 17


@pytest.mark.parametrize(
    ("intent", "route", "topic", "partner"),
    [
        ("faq/slapen", "faq", "slapen", None),
        ("partner_ggd", "partner", None, "ggd"),
        ("all_partners", "all_partners", None, None),
        ("crisis", "crisis", None, None),
        ("out_of_scope", "out_of_scope", None, None),
        ("greet", "greet", None, None),
        ("affirm", "unclear", None, None),
    ],
)
def test_label_of_intent(intent: str, route: str, topic: str | None, partner: str | None) -> None:
    label = label_of_intent(intent)
    assert (label.route, label.topic, label.partner) == (route, topic, partner)


# --------------------------------------------------------------------------- classifier


def test_tiny_model_predicts_its_intents(tiny_data: Path) -> None:
    model = IntentClassifier.train(load_examples(tiny_data))
    ranked = model.predict_proba("mijn kind eet geen groente, wat nu")
    assert ranked[0][0] == "faq/eten"
    assert sum(p for _, p in ranked) == pytest.approx(1.0)
    assert [p for _, p in ranked] == sorted((p for _, p in ranked), reverse=True)
    assert model.predict_proba("paspoort aanvragen")[0][0] == "out_of_scope"


def test_compiled_model_matches_scikit_learn() -> None:
    examples = load_examples()[:600]
    texts = [prepare_text(ex.text) for ex in examples]
    labels = np.array([ex.intent for ex in examples])
    features, matrix = _Features.fit(texts)
    for row in (0, 17, 333):
        idx, val = features.sparse_row(texts[row])
        dense = np.zeros(features.size)
        dense[idx] = val
        np.testing.assert_allclose(dense, matrix[row].toarray()[0], atol=1e-6)
    binary = np.array(["a" if i % 3 else "b" for i in range(len(labels))])
    models = [
        CalibratedClassifierCV(LinearSVC(random_state=0), cv=3, ensemble=False).fit(matrix, labels),
        CalibratedClassifierCV(LinearSVC(random_state=0), cv=3, ensemble=False).fit(matrix, binary),
        LogisticRegression(max_iter=2000).fit(matrix, labels),
    ]
    for model in models:
        level = _compile_level(model)
        expected = model.predict_proba(matrix[:40])
        got = np.vstack([level.proba(*features.sparse_row(t)) for t in texts[:40]])
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_cache_is_used_and_refreshed(tiny_data: Path, tmp_path: Path, monkeypatch) -> None:
    cache = tmp_path / "cache"
    first = load_or_train(tiny_data, cache)
    assert (cache / cache_key(model_hash(tiny_data))).is_file()

    def no_training(*args, **kwargs):
        raise AssertionError("should have come from the cache")

    monkeypatch.setattr(IntentClassifier, "train", no_training)
    start = time.perf_counter()
    again = load_or_train(tiny_data, cache)
    assert time.perf_counter() - start < 0.5
    assert again.classes == first.classes
    assert dict(again.predict_proba("slaapt slecht")) == pytest.approx(
        dict(first.predict_proba("slaapt slecht"))
    )

    monkeypatch.undo()
    greet = "- intent: greet\n  examples: |\n    - hoi\n    - hallo\n- synonym: slapen"
    (tiny_data / "tiny.yml").write_text(
        TINY_YAML.replace("- synonym: slapen", greet), encoding="utf-8"
    )
    with_greet = load_or_train(tiny_data, cache)
    assert "greet" in with_greet.classes
    assert len(list(cache.glob("nlu-*.pkl"))) == 2
    for n in range(4):  # old models are pruned, the newest few stay
        (cache / f"nlu-old{n}.pkl").write_bytes(b"x")
    (tiny_data / "extra.yml").write_text(
        "nlu:\n- intent: greet\n  examples: |\n    - goedemorgen\n", encoding="utf-8"
    )
    newest = load_or_train(tiny_data, cache)
    assert (cache / cache_key(model_hash(tiny_data))).is_file()
    assert len(list(cache.glob("nlu-*.pkl"))) == 3
    assert newest.n_examples == 19


def test_retrain_ignores_a_fresh_cache(tiny_data: Path, tmp_path: Path, monkeypatch) -> None:
    cache = tmp_path / "cache"
    nlu = Nlu.load(tiny_data, cache)
    assert nlu.n_examples == 16
    calls = []
    real_train = IntentClassifier.train

    def counting_train(*args, **kwargs):
        calls.append(1)
        return real_train(*args, **kwargs)

    monkeypatch.setattr(IntentClassifier, "train", counting_train)
    Nlu.load(tiny_data, cache)
    assert calls == []
    Nlu.load(tiny_data, cache, retrain=True)
    assert calls == [1]


def test_unwritable_or_broken_cache_still_gives_a_model(tiny_data: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x", encoding="utf-8")
    model = load_or_train(tiny_data, blocker / "cache")
    assert model.predict_proba("mijn kind slaapt slecht")[0][0] == "faq/slapen"

    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / cache_key(model_hash(tiny_data))).write_bytes(b"not a pickle")
    model = load_or_train(tiny_data, cache)
    assert model.predict_proba("verslaafd aan wiet")[0][0] == "partner_novadic"


def test_glossary_gives_english_text_dutch_features() -> None:
    prepared = prepare_text("Can someone call me about my toddler's sleep?")
    assert "peuter" in prepared and "slapen" in prepared and "iemand" in prepared
    assert prepare_text("mijn peuter slaapt slecht") == "mijn peuter slaapt slecht"


# --------------------------------------------------------------------------- fast path


def _reference_row(features: _Features, prepared: str) -> tuple[np.ndarray, np.ndarray]:
    """Sparse tf-idf row the straightforward way (Counter per block, numpy per block)."""
    all_idx, all_val = [], []
    for settings, vocab, idf, offset in zip(
        features.settings, features.vocabularies, features.idfs, features.offsets, strict=True
    ):
        counts = Counter(vocab[t] for t in build_analyzer(settings)(prepared) if t in vocab)
        if not counts:
            continue
        idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        val = (np.log(tf) + 1.0) * idf[idx]
        norm = np.sqrt(np.dot(val, val))
        all_idx.append(idx + offset)
        all_val.append(val / norm if norm > 0 else val)
    if not all_idx:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    return np.concatenate(all_idx), np.concatenate(all_val)


def _reference_level(level: _Level, idx: np.ndarray, val: np.ndarray) -> np.ndarray:
    """One level on its own, as the model was before the stacked fast path."""
    if level.kind == "constant":
        return np.ones(1)
    coef = np.array(level.coef_t)  # a copy: the fast path may have made it a view
    decision = (val @ coef[idx] + level.intercept if idx.size else level.intercept).astype(float)
    if level.kind == "softmax":
        if len(level.classes) == 2:
            return np.array([1.0 / (1.0 + np.exp(decision[0])), 1.0 / (1.0 + np.exp(-decision[0]))])
        shifted = np.exp(decision - decision.max())
        return shifted / shifted.sum()
    calibrated = 1.0 / (1.0 + np.exp(level.a * decision + level.b))
    if len(level.classes) == 2:
        return np.array([1.0 - calibrated[0], calibrated[0]])
    total = calibrated.sum()
    return calibrated / total if total > 0 else np.full(len(level.classes), 1 / len(calibrated))


def _reference_proba(model: IntentClassifier, text: str) -> np.ndarray:
    """P(intent) = P(route group) * P(intent | group), level by level, over model.classes."""
    idx, val = _reference_row(model._features, prepare_text(text))
    out = np.zeros(len(model.classes))
    route = model._route_level
    for group, p_group in zip(route.classes, _reference_level(route, idx, val), strict=True):
        sub = model._sub_levels.get(group)
        if sub is None:
            out[model.classes.index(group)] += p_group
            continue
        for intent, p_sub in zip(sub.classes, _reference_level(sub, idx, val), strict=True):
            out[model.classes.index(intent)] += p_group * p_sub
    return out


def _probabilities(model: IntentClassifier, text: str) -> np.ndarray:
    ranked = dict(model.predict_proba(text))
    return np.array([ranked[c] for c in model.classes])


@pytest.mark.skipif(not DEV_SET.is_file(), reason="shared/eval/dev.jsonl not available")
def test_fast_path_gives_the_reference_probabilities_on_the_dev_set(real_nlu: Nlu) -> None:
    model = real_nlu.classifier
    texts = [json.loads(line)["text"] for line in DEV_SET.read_text(encoding="utf-8").splitlines()]
    texts += ["", "!!!", "é" * 1200, "Qwertyuiop zxcvb", "My toddler won't sleep, help?"]
    expected = np.vstack([_reference_proba(model, t) for t in texts])
    got = np.vstack([_probabilities(model, t) for t in texts])
    assert np.abs(got - expected).max() < 1e-5
    assert np.abs(model.predict_proba_many(texts) - expected).max() < 1e-5
    for text, row in zip(texts, got, strict=True):  # most likely first; ties in class order
        ranked = model.predict_proba(text)
        assert [c for c, _ in ranked] == [model.classes[i] for i in np.argsort(-row, kind="stable")]
    for text in texts[:60]:  # parse folds once for classifier and lexicon: same decisions
        ranked = sorted(
            zip(model.classes, _reference_proba(model, text).tolist(), strict=True),
            key=lambda pair: -pair[1],
        )
        res = real_nlu.parse(text)
        ref = real_nlu.decide(
            ranked,
            crisis_category=crisis_match(text) if text.strip() else None,
            age=safe_find_age(text[:MAX_FEATURE_CHARS]),
            language=detect_language(text),
        )
        assert (res.route, res.intent, res.topic, res.partner, res.crisis_category) == (
            ref.route,
            ref.intent,
            ref.topic,
            ref.partner,
            ref.crisis_category,
        ), text
        assert res.confidence == pytest.approx(ref.confidence, abs=1e-5)


def _random_level(
    rng: np.random.Generator, kind: str, classes: tuple[str, ...], n_features: int
) -> _Level:
    n_columns = 0 if kind == "constant" else (1 if len(classes) == 2 else len(classes))
    a = -rng.uniform(2, 8, n_columns) if kind == "sigmoid" else np.zeros(0)
    b = rng.normal(0, 1, n_columns) if kind == "sigmoid" else np.zeros(0)
    coef = rng.normal(0, 1, (n_features, n_columns)).astype(np.float32)
    return _Level(kind, classes, coef, rng.normal(0, 1, n_columns).astype(np.float32), a, b)


def test_fast_path_handles_every_kind_of_level() -> None:
    """Sigmoid and softmax levels, binary and multi-class, constant ones, groups without
    a sub-level; and the fallback when all calibrated values of a level underflow."""
    texts = [ex.text for ex in parse_nlu_yaml(TINY_YAML)]
    features, _ = _Features.fit([prepare_text(t) for t in texts])
    rng = np.random.default_rng(7)
    n = features.size
    route = _random_level(rng, "sigmoid", ("a", "b", "c", "d", "e", "f"), n)
    subs = {
        "a": _random_level(rng, "sigmoid", ("a1", "a2"), n),
        "b": _random_level(rng, "softmax", ("b1", "b2", "b3"), n),
        "c": _random_level(rng, "softmax", ("c1", "c2"), n),
        "d": _random_level(rng, "constant", ("d1",), n),
        "e": _random_level(rng, "sigmoid", ("e1", "e2", "e3", "e4"), n),
    }
    classes = sorted(["a1", "a2", "b1", "b2", "b3", "c1", "c2", "d1", "e1", "e2", "e3", "e4", "f"])
    model = IntentClassifier(features, route, subs, classes, "x")
    texts += ["", "iets heel anders"]
    for text in texts:
        np.testing.assert_allclose(
            _probabilities(model, text), _reference_proba(model, text), atol=1e-6
        )
        assert sum(p for _, p in model.predict_proba(text)) == pytest.approx(1.0)

    subs["e"].b[:] = 1000.0  # every sigmoid of level e overflows to 0: uniform, as before
    model = IntentClassifier(features, route, subs, classes, "x")
    with np.errstate(over="ignore"):
        for text in texts:
            got = _probabilities(model, text)
            np.testing.assert_allclose(got, _reference_proba(model, text), atol=1e-6)
            p_e = route.proba(*features.sparse_row(prepare_text(text)))[4]
            assert got[classes.index("e1")] == pytest.approx(p_e / 4)

    constant_route = _random_level(rng, "constant", ("a",), n)
    model = IntentClassifier(features, constant_route, {"a": subs["b"]}, ["b1", "b2", "b3"], "x")
    np.testing.assert_allclose(
        _probabilities(model, texts[0]), _reference_proba(model, texts[0]), atol=1e-6
    )


def test_scoring_tables_are_pickled_with_training_words_only(tiny_data: Path) -> None:
    model = IntentClassifier.train(load_examples(tiny_data))
    before = model.predict_proba("mijn kind eet geen groente, wat nu")
    model.predict_proba("Xylofoonklanken galmen")  # words the training data does not have
    raw = pickle.dumps(model)
    assert b"xylofoonklanken" not in raw and b"galmen" not in raw
    known = set()
    for block in model._features._scoring_blocks():
        known |= set(block.known_words)
    assert known and known <= set(model._features.vocabularies[0])  # only training words

    again = pickle.loads(raw)
    assert again._stacked is None and again._features._blocks is None
    tables = again._features._tables
    assert tables is not None and tables == model._features._scoring_tables()
    fresh = pickle.loads(raw)
    fresh._features._tables = None  # as a model trained in memory: built at first use
    after = again.predict_proba("mijn kind eet geen groente, wat nu")
    assert [c for c, _ in after] == [c for c, _ in before]
    assert dict(after) == pytest.approx(dict(before))
    assert fresh.predict_proba("mijn kind eet geen groente, wat nu") == after
    assert again._features._scoring_tables() is tables  # used, not built again


# --------------------------------------------------------------------------- pipeline


def _nlu_for_decisions(fallback: float = 0.25, crisis: float = 0.3) -> Nlu:
    return Nlu(
        classifier_module.IntentClassifier.__new__(IntentClassifier),
        fallback_threshold=fallback,
        crisis_threshold=crisis,
    )


def test_age_corrects_zuidzorg_and_ggd() -> None:
    nlu = _nlu_for_decisions()
    ranked = [("partner_ggd", 0.5), ("partner_zuidzorg", 0.3), ("faq/slapen", 0.2)]
    young = nlu.decide(ranked, crisis_category=None, age=Age(2.0), language="nl")
    assert (young.route, young.partner, young.intent) == ("partner", "zuidzorg", "partner_zuidzorg")
    assert young.confidence == pytest.approx(0.8)
    unborn = nlu.decide(ranked, crisis_category=None, age=Age(None, unborn=True), language="nl")
    assert unborn.partner == "zuidzorg"
    school = nlu.decide(
        [("partner_zuidzorg", 0.6), ("partner_ggd", 0.1)],
        crisis_category=None,
        age=Age(9.0),
        language="nl",
    )
    assert school.partner == "ggd"
    adult = nlu.decide(ranked, crisis_category=None, age=Age(23.0), language="nl")
    assert adult.partner == "ggd" and adult.confidence == pytest.approx(0.5)
    other = nlu.decide(
        [("partner_lumens", 0.7), ("partner_ggd", 0.3)],
        crisis_category=None,
        age=Age(2.0),
        language="nl",
    )
    assert other.partner == "lumens"


def test_partner_for_age_boundaries() -> None:
    assert partner_for_age(None) is None
    assert partner_for_age(Age(3.9)) == "zuidzorg"
    assert partner_for_age(Age(4.0)) == "ggd"
    assert partner_for_age(Age(19.0)) == "ggd"
    assert partner_for_age(Age(20.0)) is None
    assert partner_for_age(Age(None)) is None


def test_low_confidence_asks_but_keeps_the_guess() -> None:
    nlu = _nlu_for_decisions(fallback=0.25)
    ranked = [("faq/slapen", 0.2), ("faq/eten", 0.15), ("partner_ggd", 0.1)]
    res = nlu.decide(ranked, crisis_category=None, age=None, language="nl")
    assert res.route == "unclear" and res.topic is None
    assert res.intent == "faq/slapen"
    assert res.ranking[0] == ("faq/slapen", 0.2)


def test_crisis_from_lexicon_and_from_classifier() -> None:
    nlu = _nlu_for_decisions(crisis=0.3)
    ranked = [("faq/angst", 0.6), ("crisis", 0.1)]
    lexicon = nlu.decide(ranked, crisis_category="suicide", age=None, language="nl")
    assert (lexicon.route, lexicon.confidence, lexicon.crisis_category) == (
        "crisis",
        1.0,
        "suicide",
    )
    model = nlu.decide(
        [("faq/angst", 0.5), ("crisis", 0.35)], crisis_category=None, age=None, language="nl"
    )
    assert model.route == "crisis" and model.crisis_category is None
    assert model.confidence == pytest.approx(0.35)
    # crisis is the best guess but below its threshold: the next intent decides
    weak = nlu.decide(
        [("crisis", 0.28), ("faq/angst", 0.27)], crisis_category=None, age=None, language="nl"
    )
    assert weak.route == "faq" and weak.topic == "angst"


def test_parse_on_the_real_model(real_nlu: Nlu) -> None:
    res = real_nlu.parse("Mijn dochter van 2 slaapt heel slecht, ze wordt elke nacht wakker. Tips?")
    assert (res.route, res.topic) == ("faq", "slapen")
    assert res.language == "nl" and res.age == Age(2.0)
    assert 0 < len(res.ranking) <= 5
    assert [p for _, p in res.ranking] == sorted((p for _, p in res.ranking), reverse=True)

    res = real_nlu.parse("mijn zoon van 17 is verslaafd aan gokken, kan iemand ons helpen?")
    assert (res.route, res.partner) == ("partner", "novadic")

    res = real_nlu.parse("Hoe vraag ik een nieuw rijbewijs aan?")
    assert res.route in ("out_of_scope", "unclear")

    res = real_nlu.parse("ik zie het niet meer zitten")
    assert res.route == "crisis" and res.crisis_category == "suicide"

    res = real_nlu.parse("My toddler won't sleep in her own bed, any tips?")
    assert res.language == "en" and (res.route, res.topic) == ("faq", "slapen")


def test_age_correction_on_the_real_model(real_nlu: Nlu) -> None:
    young = real_nlu.parse("kan er iemand van de jgz naar het gewicht van mijn zoon van 2 kijken?")
    older = real_nlu.parse("kan er iemand van de jgz naar het gewicht van mijn zoon van 9 kijken?")
    assert (young.route, young.partner) == ("partner", "zuidzorg")
    assert (older.route, older.partner) == ("partner", "ggd")


@pytest.mark.parametrize(
    "text",
    ["", "   ", "😀😀😀", "\x00\x01\n", "a" * 5000, "hoi " * 2000, "é" * 6000, "?!" * 100],
)
def test_parse_is_safe_on_odd_input(real_nlu: Nlu, text: str) -> None:
    res = real_nlu.parse(text)
    assert isinstance(res, NluResult)
    assert res.route in {
        "faq",
        "partner",
        "all_partners",
        "crisis",
        "out_of_scope",
        "greet",
        "unclear",
    }
    assert 0.0 <= res.confidence <= 1.0


def test_symbol_only_input_is_unclear_and_a_wave_is_a_greeting(real_nlu: Nlu) -> None:
    assert real_nlu.parse("😭😭").route == "unclear"
    assert real_nlu.parse("").route == "unclear"
    assert real_nlu.parse("👋").route == "greet"


def test_result_to_dict_is_json_safe(real_nlu: Nlu) -> None:
    data = real_nlu.parse("mijn zoon van 2 slaapt slecht").to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["age"] == {"years": 2.0, "unborn": False}
    assert isinstance(data["ranking"], list) and len(data["ranking"]) <= 5


def test_result_is_frozen(real_nlu: Nlu) -> None:
    res = real_nlu.parse("hoi")
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.route = "faq"  # type: ignore[misc]


# --------------------------------------------------------------------------- floors on dev

# Measured on dev.jsonl (220 rows): route accuracy 0.93; floors sit a bit below so that
# growing training data does not make the suite flaky, while a real regression fails.
ROUTE_ACCURACY_FLOOR = 0.89
TOPIC_ACCURACY_FLOOR = 0.88
HARMFUL_ERROR_CEILING = 0.03


@pytest.mark.skipif(not DEV_SET.is_file(), reason="shared/eval/dev.jsonl not available")
def test_floors_on_the_dev_set(real_nlu: Nlu) -> None:
    rows = load_rows(DEV_SET)
    crisis_rows = [row for row in rows if row.route == "crisis"]
    missed = [row.text[:60] for row in crisis_rows if real_nlu.parse(row.text).route != "crisis"]
    assert not missed, f"crisis lines not caught: {missed}"
    report = evaluate(real_nlu, rows)
    assert report.route_accuracy >= ROUTE_ACCURACY_FLOOR
    assert report.topic_accuracy is not None and report.topic_accuracy >= TOPIC_ACCURACY_FLOOR
    assert report.harmful_error_rate <= HARMFUL_ERROR_CEILING
