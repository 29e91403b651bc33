"""The embedded intent classifier (scikit-learn) and its on-disk cache.

Features: TF-IDF of word 1-2 grams plus char_wb 2-5 grams of the folded text (for
English messages with Dutch glosses of domain words appended, see
`data/glossary_en_nl.yml`). Model: a small hierarchy of linear SVMs with sigmoid
calibration (scikit-learn `CalibratedClassifierCV`):

* a route model over the routes of the intents (faq, partner, all_partners, crisis,
  out_of_scope, greet);
* for faq and partner a model that picks the topic or partner.

P(intent) = P(route) * P(intent | route). The hierarchy lets every faq example help the
faq-vs-partner decision, which a flat 40-class model does less well.

scikit-learn is used to train. For prediction the fitted model is compiled into plain
numpy arrays (vocabularies, idf, coefficients, calibration), with no scikit-learn
per-call validation. The compiled model is what gets cached with pickle under
`~/.cache/cjgbot/nlu-<hash>.pkl`, so a start-up only loads it. The cache is an
optimisation: when it cannot be read or written, the model is trained in memory.

Scoring one message takes well under 0.1 ms. What it needs beyond the fitted model:

* features (`_Features.sparse_row`): the word n-grams are counted per text; the char_wb
  n-grams of a word depend on that word only, so those of every word of the training
  vocabulary are looked up once (`_Tables.known_words`, pickled with the model: loading
  them takes some 20 ms, building them 100 ms); other words are analysed per call and
  never kept, so no message text stays in memory or in the cache. tf-idf and the l2 norm are
  computed in plain Python: on a few dozen features numpy's per-call overhead costs more.
* model (`_Stacked`): the coefficients of all levels side by side in one matrix, so one
  gather and one matrix-vector product give every decision value; the calibration of
  all levels, the normalisation per level and P(route) * P(intent | route) are a few
  vectorised operations on some 45 numbers.

`_Level.proba` computes one level on its own: the straightforward (slower) form, kept
for the corner case where every calibrated value of a level underflows to 0.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import pickle
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version
from operator import itemgetter
from pathlib import Path

import numpy as np
import yaml

from nlu.analyzers import build_analyzer, char_wb_word_ngrams, char_wb_words
from nlu.crisis import fold
from nlu.language import detect_language
from nlu.training_data import Example, data_hash, examples_hash, label_of_intent, load_examples

# libyaml (C) when the wheel has it: the texts and data load several times faster.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

log = logging.getLogger(__name__)

MODEL_VERSION = "hier-svc-6"  # 5: plain pickle (30 ms, joblib took 400); 6: scoring tables
MAX_FEATURE_CHARS = 1000
DEFAULT_CACHE_DIR = Path("~/.cache/cjgbot")
_CACHE_KEEP = 3
GLOSSARY_FILE = Path(__file__).resolve().parent / "data" / "glossary_en_nl.yml"

_SVC_C = 1.0
_CALIBRATION_FOLDS = 3
# Sigmoid calibration on held-out folds needs a few examples per class; smaller sets
# (tests, a brand-new intent) get a logistic regression instead.
_MIN_PER_CLASS_FOR_CALIBRATION = 10
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_PROBABILITY = itemgetter(1)
# (name, TfidfVectorizer settings). The analyzers are rebuilt from these settings when
# a compiled model is loaded, so the cache holds no scikit-learn objects.
_VECTORIZERS: tuple[tuple[str, dict[str, object]], ...] = (
    ("word", {"analyzer": "word", "ngram_range": (1, 2), "token_pattern": r"(?u)\b\w+\b"}),
    ("char", {"analyzer": "char_wb", "ngram_range": (2, 5)}),
)


# --------------------------------------------------------------------------- text


@lru_cache(maxsize=1)
def _glossary() -> dict[str, str]:
    try:
        data = yaml.load(GLOSSARY_FILE.read_text(encoding="utf-8"), Loader=YAML_LOADER) or {}
    except OSError:
        return {}
    return {str(k).lower(): str(v) for k, v in data.items()}


def _glosses(folded: str) -> list[str]:
    glossary = _glossary()
    words = [w[:-2] if w.endswith("'s") else w for w in _WORD.findall(folded)]
    out = [glossary[w] for w in words if w in glossary]
    pairs = (" ".join(pair) for pair in zip(words, words[1:], strict=False))
    out += [glossary[b] for b in pairs if b in glossary]
    return out


def prepare_text(text: str) -> str:
    """What the features see: the first characters, folded (see `nlu.crisis.fold`).

    For an English message the Dutch glosses of its domain words are appended, so it
    shares features with the (mostly Dutch) training examples.
    """
    return prepare_folded(fold(text[:MAX_FEATURE_CHARS]))


def prepare_folded(folded: str) -> str:
    """`prepare_text` given `fold(text[:MAX_FEATURE_CHARS])`."""
    if detect_language(folded) == "en":
        glosses = _glosses(folded)
        if glosses:
            folded = f"{folded} {' '.join(glosses)}"
    return folded


# --------------------------------------------------------------------------- compiled model


def _vectorizer(settings: dict[str, object]):  # type: ignore[no-untyped-def]
    """scikit-learn's vectorizer, for training only (imported here: the bot does not need it)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(sublinear_tf=True, dtype=np.float32, **settings)  # type: ignore[arg-type]


def _expit(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def _softmax(x: np.ndarray) -> np.ndarray:
    shifted = np.exp(x - np.max(x))
    return shifted / shifted.sum()


@dataclass(frozen=True)
class _Block:
    """One feature block prepared for scoring (built from `_Features`, never pickled).

    Feature ids are global (the block's offset added). For a char_wb block `known_words`
    maps every word of the training vocabulary to the ids of its n-grams (a word's
    char_wb n-grams depend on the word only). Other words are analysed per call and not
    kept: no message text stays in memory after the call.
    """

    analyzer: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    offset: int
    idf: list[float]  # by global feature id (zero outside the block)
    char_range: tuple[int, int] | None  # (min_n, max_n) of a char_wb block, else None
    known_words: dict[str, tuple[int, ...]]

    def ids(self, grams: Sequence[str]) -> list[int]:
        return _feature_ids(self.vocabulary, self.offset, grams)

    def counts(self, prepared: str) -> Counter[int]:
        """Occurrences per feature id of one prepared text."""
        if self.char_range is None:
            return Counter(self.ids(self.analyzer(prepared)))
        min_n, max_n = self.char_range
        known = self.known_words
        ids: list[int] = []
        for word in char_wb_words(prepared):
            cached = known.get(word)
            ids += self.ids(char_wb_word_ngrams(word, min_n, max_n)) if cached is None else cached
        return Counter(ids)


@dataclass(frozen=True, slots=True)
class _Tables:
    """`_Features._scoring_tables`: pickled with the model; training words only."""

    idf: list[float]  # by global feature id
    known_words: tuple[dict[str, tuple[int, ...]], ...]  # per block (empty unless char_wb)


def _feature_ids(vocabulary: dict[str, int], offset: int, grams: Sequence[str]) -> list[int]:
    """Global feature ids of the n-grams a block knows (the others are dropped)."""
    return [vocabulary[g] + offset for g in grams if g in vocabulary]


def _char_range(spec: dict[str, object]) -> tuple[int, int]:
    min_n, max_n = tuple(spec.get("ngram_range", (1, 1)))  # type: ignore[call-overload]
    return int(min_n), int(max_n)


@dataclass
class _Features:
    """TF-IDF (sublinear tf, l2 norm per block) of several blocks, side by side."""

    settings: tuple[dict[str, object], ...]
    vocabularies: tuple[dict[str, int], ...]
    idfs: tuple[np.ndarray, ...]
    offsets: tuple[int, ...]
    size: int

    def __post_init__(self) -> None:
        self._analyzers: list[Callable[[str], list[str]]] | None = None
        self._blocks: list[_Block] | None = None
        self._tables: _Tables | None = None

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state["_analyzers"] = state["_blocks"] = None
        state["_tables"] = self._scoring_tables()  # 20 ms to load, 100+ ms to build
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        tables = state.pop("_tables", None)
        self.__dict__.update(state)
        self.__post_init__()
        self._tables = tables  # type: ignore[assignment]

    @classmethod
    def fit(cls, texts: Sequence[str]) -> tuple[_Features, object]:
        """Fit the vectorizers; returns the compiled features and the training matrix."""
        from scipy.sparse import hstack

        blocks, vocabularies, idfs, offsets, settings = [], [], [], [], []
        offset = 0
        for _, spec in _VECTORIZERS:
            vec = _vectorizer(spec)
            blocks.append(vec.fit_transform(texts))
            vocabularies.append({str(k): int(v) for k, v in vec.vocabulary_.items()})
            idfs.append(vec.idf_.astype(np.float32))
            offsets.append(offset)
            settings.append(dict(spec))
            offset += len(vec.vocabulary_)
        features = cls(tuple(settings), tuple(vocabularies), tuple(idfs), tuple(offsets), offset)
        return features, hstack(blocks, format="csr")

    def _analyzer_list(self) -> list[Callable[[str], list[str]]]:
        if self._analyzers is None:
            self._analyzers = [build_analyzer(s) for s in self.settings]
        return self._analyzers

    def _scoring_tables(self) -> _Tables:
        """What scoring needs beyond the fitted vocabularies: the idf of every feature id,
        and per block the n-gram ids of each training word (for char_wb blocks)."""
        if self._tables is None:
            words = [
                word
                for spec, vocab in zip(self.settings, self.vocabularies, strict=True)
                if spec.get("analyzer") == "word"
                for word in vocab
                if " " not in word
            ]
            idf = np.zeros(self.size)
            for block_idf, offset in zip(self.idfs, self.offsets, strict=True):
                idf[offset : offset + len(block_idf)] = block_idf
            known_words: list[dict[str, tuple[int, ...]]] = []
            for spec, vocab, offset in zip(
                self.settings, self.vocabularies, self.offsets, strict=True
            ):
                known: dict[str, tuple[int, ...]] = {}
                if spec.get("analyzer") == "char_wb":
                    min_n, max_n = _char_range(spec)
                    for w in words:
                        grams = char_wb_word_ngrams(w, min_n, max_n)
                        known[w] = tuple(_feature_ids(vocab, offset, grams))
                known_words.append(known)
            self._tables = _Tables(idf.tolist(), tuple(known_words))
        return self._tables

    def _scoring_blocks(self) -> list[_Block]:
        """The blocks ready for scoring (built at first use, from the cached tables)."""
        if self._blocks is None:
            tables = self._scoring_tables()
            self._blocks = [
                _Block(
                    analyzer,
                    vocab,
                    offset,
                    tables.idf,
                    _char_range(spec) if spec.get("analyzer") == "char_wb" else None,
                    known,
                )
                for analyzer, spec, vocab, offset, known in zip(
                    self._analyzer_list(),
                    self.settings,
                    self.vocabularies,
                    self.offsets,
                    tables.known_words,
                    strict=True,
                )
            ]
        return self._blocks

    def sparse_row(self, prepared: str) -> tuple[np.ndarray, np.ndarray]:
        """(column indices, values) of one prepared text.

        Sublinear tf times idf, l2-normalised per block. On the few dozen features of a
        message plain Python is faster than numpy's per-call overhead.
        """
        all_idx: list[int] = []
        all_val: list[float] = []
        for block in self._scoring_blocks():
            counts = block.counts(prepared)
            if not counts:
                continue
            idf = block.idf
            val = [idf[i] if n == 1 else (math.log(n) + 1.0) * idf[i] for i, n in counts.items()]
            norm = math.hypot(*val)
            all_idx += counts
            all_val += [v / norm for v in val] if norm > 0 else val
        return np.array(all_idx, dtype=np.int64), np.array(all_val, dtype=np.float32)


@dataclass
class _Level:
    """One calibrated linear model in plain arrays.

    kind "sigmoid": one-vs-rest decision values, each through its own sigmoid
    (`CalibratedClassifierCV(method="sigmoid", ensemble=False)`), then normalised.
    kind "softmax": multinomial logistic regression. kind "constant": a single class.
    A binary model has one decision column for the second class.
    """

    kind: str
    classes: tuple[str, ...]
    coef_t: np.ndarray  # (n_features, n_columns)
    intercept: np.ndarray  # (n_columns,)
    a: np.ndarray  # sigmoid slopes (n_columns,), "sigmoid" only
    b: np.ndarray

    def proba(self, idx: np.ndarray, val: np.ndarray) -> np.ndarray:
        if self.kind == "constant":
            return np.ones(1)
        decision = val @ self.coef_t[idx] + self.intercept if idx.size else self.intercept
        decision = decision.astype(np.float64)
        if self.kind == "softmax":
            if len(self.classes) == 2:
                p1 = float(_expit(decision[0]))
                return np.array([1.0 - p1, p1])
            return _softmax(decision)
        calibrated = _expit(-(self.a * decision + self.b))
        if len(self.classes) == 2:
            p1 = float(calibrated[0])
            return np.array([1.0 - p1, p1])
        total = calibrated.sum()
        if total <= 0:
            return np.full(len(self.classes), 1.0 / len(self.classes))
        return calibrated / total


@dataclass(frozen=True)
class _Stacked:
    """All levels of an `IntentClassifier` as one linear map plus vectorised calibration.

    Built at first use from the levels (not pickled). Every non-constant level gets one
    column per class, side by side (a binary level's single decision column twice), and
    a last column stands for a constant 1. Per column j, with d the decision value:

    * sigmoid level:  1 / (1 + exp(slope_j * d + shift_j)), slope and shift the
      calibration's a and b (for the first class of a binary level: -a and -b, which
      gives 1 - p of the second class);
    * softmax level:  exp(d - max over the level) (binary: the sigmoid form with
      slope -1 / +1, shift 0);

    then divided by the sum over the level. P(intent) is then the product of two
    columns: `source` (the intent within its group, or the group itself) and `parent`
    (its group on the route level, or the constant 1).
    """

    weights: np.ndarray  # (n_features, n_columns) float32
    intercept: np.ndarray  # (n_columns,) float32
    slope: np.ndarray  # (n_columns,) float64
    shift: np.ndarray  # (n_columns,) float64
    softmax: np.ndarray | None  # bool mask of softmax columns; None when there are none
    starts: np.ndarray  # first column of each level, the constant one last
    level_of: np.ndarray  # level (index into starts) of each column
    source: np.ndarray  # per class of the classifier: a column
    parent: np.ndarray  # per class of the classifier: a column

    def proba(self, idx: np.ndarray, val: np.ndarray) -> np.ndarray | None:
        """Probabilities of one sparse row (None when a level's values all underflow)."""
        decision = val @ self.weights.take(idx, axis=0) if idx.size else 0.0
        z = self.slope * (decision + self.intercept) + self.shift
        if self.softmax is None:
            calibrated = 1.0 / (1.0 + np.exp(z))
        else:
            top = np.maximum.reduceat(z, self.starts)[self.level_of]
            shifted = np.exp(np.where(self.softmax, z - top, z))
            calibrated = np.where(self.softmax, shifted, 1.0 / (1.0 + shifted))
        totals = np.add.reduceat(calibrated, self.starts)
        if not totals.all():
            return None
        calibrated /= totals[self.level_of]
        return calibrated[self.source] * calibrated[self.parent]  # type: ignore[no-any-return]


def _stack(route_level: _Level, sub_levels: dict[str, _Level], classes: Sequence[str]) -> _Stacked:
    """Stack the levels (see `_Stacked`). A level's `coef_t` becomes a view of the stacked
    weights when it can (same values; the memory is not held twice)."""
    n_features = route_level.coef_t.shape[0]
    levels = [lv for lv in (route_level, *sub_levels.values()) if lv.kind != "constant"]
    widths = [len(lv.classes) for lv in levels]
    n_columns = sum(widths) + 1  # + the constant one
    weights = np.zeros((n_features, n_columns), dtype=np.float32)
    intercept = np.zeros(n_columns, dtype=np.float32)
    slope = np.zeros(n_columns)
    shift = np.zeros(n_columns)
    softmax = np.zeros(n_columns, dtype=bool)
    starts = np.cumsum([0, *widths])
    column: dict[tuple[int, str], int] = {}  # (id of level, class) -> column
    for level, start, width in zip(levels, starts[:-1], widths, strict=True):
        stop = start + width
        column.update({(id(level), c): start + i for i, c in enumerate(level.classes)})
        n_own = level.coef_t.shape[1]  # 1 for a binary level: its column serves both classes
        weights[:, start:stop] = level.coef_t
        intercept[start:stop] = level.intercept
        level.coef_t = weights[:, stop - n_own : stop]
        binary = n_own == 1
        if level.kind == "sigmoid":
            a, b = level.a, level.b
            if binary:  # first class 1 - p = 1 / (1 + exp(-(a * d + b)))
                a, b = np.array([-a[0], a[0]]), np.array([-b[0], b[0]])
            slope[start:stop], shift[start:stop] = a, b
        elif binary:  # softmax of two classes: p(second) = 1 / (1 + exp(-d))
            slope[start:stop] = (1.0, -1.0)
        else:
            slope[start:stop] = 1.0
            softmax[start:stop] = True
    one = n_columns - 1  # weights and slope 0: exp(0) = 1 -> 1 / 2, divided by itself -> 1

    def column_of(level: _Level, cls: str) -> int:
        return one if level.kind == "constant" else column[(id(level), cls)]

    source, parent = [], []
    for cls in classes:
        for group in route_level.classes:
            sub = sub_levels.get(group)
            if sub is None and group == cls:
                source.append(column_of(route_level, group))
                parent.append(one)
                break
            if sub is not None and cls in sub.classes:
                source.append(column_of(sub, cls))
                parent.append(column_of(route_level, group))
                break
        else:
            raise ValueError(f"class {cls!r} is in no level")
    return _Stacked(
        weights,
        intercept,
        slope,
        shift,
        softmax if softmax.any() else None,
        starts,
        np.repeat(np.arange(len(starts)), np.diff([*starts, n_columns])),
        np.array(source),
        np.array(parent),
    )


def _compile_level(model: object) -> _Level:
    """Turn a fitted `CalibratedClassifierCV(..., ensemble=False)` or LR into a `_Level`."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression

    empty = np.zeros(0)
    if isinstance(model, LogisticRegression):
        return _Level(
            "softmax",
            tuple(str(c) for c in model.classes_),
            np.ascontiguousarray(model.coef_.T, dtype=np.float32),
            model.intercept_.astype(np.float32),
            empty,
            empty,
        )
    if isinstance(model, CalibratedClassifierCV):
        (calibrated,) = model.calibrated_classifiers_
        svc = calibrated.estimator
        if list(svc.classes_) != list(model.classes_):
            raise ValueError("calibration saw other classes than the model")
        return _Level(
            "sigmoid",
            tuple(str(c) for c in model.classes_),
            np.ascontiguousarray(svc.coef_.T, dtype=np.float32),
            svc.intercept_.astype(np.float32),
            np.array([c.a_ for c in calibrated.calibrators], dtype=np.float64),
            np.array([c.b_ for c in calibrated.calibrators], dtype=np.float64),
        )
    raise TypeError(f"cannot compile {type(model).__name__}")


def _fit_level(features: object, labels: np.ndarray, random_state: int) -> _Level:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    classes, counts = np.unique(labels, return_counts=True)
    n_features = features.shape[1]  # type: ignore[attr-defined]
    if len(classes) == 1:
        zero = np.zeros(0)
        return _Level("constant", (str(classes[0]),), np.zeros((n_features, 0)), zero, zero, zero)
    if counts.min() >= _MIN_PER_CLASS_FOR_CALIBRATION:
        model: object = CalibratedClassifierCV(
            LinearSVC(C=_SVC_C, random_state=random_state),
            cv=_CALIBRATION_FOLDS,
            ensemble=False,
        )
    else:  # tiny data sets (tests, a new intent with a couple of examples)
        model = LogisticRegression(C=10.0, max_iter=2000)
    model.fit(features, labels)  # type: ignore[attr-defined]
    return _compile_level(model)


class IntentClassifier:
    """Predicts intents with probabilities. Build with `train` or `load_or_train`."""

    def __init__(
        self,
        features: _Features,
        route_level: _Level,
        sub_levels: dict[str, _Level],
        classes: Sequence[str],
        data_hash: str,
        n_examples: int = 0,
    ) -> None:
        self._features = features
        self._route_level = route_level
        self._sub_levels = sub_levels
        self.classes: tuple[str, ...] = tuple(classes)
        self._index = {c: i for i, c in enumerate(self.classes)}
        self.data_hash = data_hash
        self.n_examples = n_examples
        self._stacked: _Stacked | None = None

    @classmethod
    def train(
        cls, examples: Sequence[Example], *, data_hash: str | None = None, random_state: int = 0
    ) -> IntentClassifier:
        if not examples:
            raise ValueError("no training examples")
        texts = [prepare_text(ex.text) for ex in examples]
        intents = np.array([ex.intent for ex in examples], dtype=object)
        # Intents of the faq and partner routes share a sub-model; every other intent
        # (all_partners, crisis, out_of_scope, greet, unknown ones) is its own group.
        group_of = {}
        for intent in set(intents.tolist()):
            route = label_of_intent(intent).route
            group_of[intent] = route if route in ("faq", "partner") else intent
        groups = np.array([group_of[i] for i in intents], dtype=object)

        features, matrix = _Features.fit(texts)
        route_level = _fit_level(matrix, groups, random_state)
        sub_levels: dict[str, _Level] = {}
        for group in sorted(set(groups.tolist())):
            mask = groups == group
            members = set(intents[mask].tolist())
            if len(members) > 1 or group not in members:
                sub_levels[group] = _fit_level(matrix[mask], intents[mask], random_state)
        digest = data_hash or examples_hash(examples)
        return cls(features, route_level, sub_levels, sorted(group_of), digest, len(examples))

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state["_stacked"] = None  # rebuilt at first use: the cache holds the levels only
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._stacked = None

    def _stacked_levels(self) -> _Stacked:
        stacked = self.__dict__.get("_stacked")
        if stacked is None:
            stacked = _stack(self._route_level, self._sub_levels, self.classes)
            self._stacked = stacked
        return stacked  # type: ignore[no-any-return]

    def _proba_row(self, text: str) -> list[float]:
        return self._proba_prepared(prepare_text(text))

    def _proba_prepared(self, prepared: str) -> list[float]:
        """Probabilities over `self.classes`: P(route group) * P(intent | group)."""
        idx, val = self._features.sparse_row(prepared)
        row = self._stacked_levels().proba(idx, val)
        if row is None:
            return self._proba_by_level(idx, val)
        return row.tolist()  # type: ignore[no-any-return]

    def _proba_by_level(self, idx: np.ndarray, val: np.ndarray) -> list[float]:
        """The same level by level (slower; for the corner case `_Stacked` leaves out)."""
        out = [0.0] * len(self.classes)
        group_p = self._route_level.proba(idx, val)
        for group, p_group in zip(self._route_level.classes, group_p, strict=True):
            sub = self._sub_levels.get(group)
            if sub is None:
                out[self._index[group]] += p_group
                continue
            for intent, p_sub in zip(sub.classes, sub.proba(idx, val), strict=True):
                out[self._index[intent]] += p_group * p_sub
        return [float(p) for p in out]

    def predict_proba_many(self, texts: Sequence[str]) -> np.ndarray:
        """Rows of probabilities over `self.classes` (each row sums to 1)."""
        if not texts:
            return np.zeros((0, len(self.classes)))
        return np.array([self._proba_row(t) for t in texts], dtype=np.float64)

    def predict_proba(self, text: str) -> list[tuple[str, float]]:
        """All intents with their probability, most likely first (ties: in class order)."""
        return self._ranked(self._proba_row(text))

    def predict_proba_folded(self, folded: str) -> list[tuple[str, float]]:
        """`predict_proba(text)` given `fold(text[:MAX_FEATURE_CHARS])` (saves folding twice)."""
        return self._ranked(self._proba_prepared(prepare_folded(folded)))

    def _ranked(self, row: list[float]) -> list[tuple[str, float]]:
        # sorted is stable, also with reverse=True: equal probabilities stay in class order
        return sorted(zip(self.classes, row, strict=True), key=_PROBABILITY, reverse=True)


# --------------------------------------------------------------------------- cache


def model_hash(data_dir: Path | str | None = None) -> str:
    """Hash of everything a trained model depends on: training data, glossary, code version."""
    digest = hashlib.sha256(data_hash(data_dir).encode())
    try:
        digest.update(GLOSSARY_FILE.read_bytes())
    except OSError:
        digest.update(b"no glossary")
    digest.update(f"{MODEL_VERSION} sklearn {version('scikit-learn')}".encode())
    return digest.hexdigest()[:16]


def cache_key(model_digest: str) -> str:
    """File name of the cached model for a `model_hash`."""
    return f"nlu-{model_digest}.pkl"


def _read_cache(path: Path, expected_hash: str) -> IntentClassifier | None:
    try:
        with path.open("rb") as handle:
            model = pickle.load(handle)  # our own file (mode 0600), never a downloaded one
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - a broken cache file only means: train again
        log.warning("nlu.cache_unreadable", extra={"event": "nlu.cache_unreadable"})
        return None
    if not isinstance(model, IntentClassifier) or model.data_hash != expected_hash:
        return None
    return model


def _write_cache(path: Path, model: IntentClassifier) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".nlu-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        log.warning("nlu.cache_not_written", extra={"event": "nlu.cache_not_written"})
        return
    _prune_cache(path.parent, keep=path)


def _prune_cache(directory: Path, keep: Path) -> None:
    """Remove all but the newest few cached models (each data change adds one)."""
    try:
        models = sorted(
            (p for p in directory.glob("nlu-*.pkl") if p != keep),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in models[_CACHE_KEEP - 1 :]:
            old.unlink(missing_ok=True)
    except OSError:
        pass


def load_or_train(
    data_dir: Path | str | None = None,
    cache_dir: Path | str | None = None,
    *,
    retrain: bool = False,
) -> IntentClassifier:
    """The classifier for the training data in `data_dir`, from the cache when it is fresh.

    `retrain=True` ignores the cache (and refreshes it).
    """
    digest = model_hash(data_dir)
    root = Path(cache_dir if cache_dir is not None else DEFAULT_CACHE_DIR).expanduser()
    path = root / cache_key(digest)
    cached = None if retrain else _read_cache(path, digest)
    if cached is not None:
        return cached
    examples = load_examples(data_dir)
    model = IntentClassifier.train(examples, data_hash=digest)
    _write_cache(path, model)
    return model
