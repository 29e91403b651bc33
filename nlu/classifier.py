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
numpy arrays (vocabularies, idf, coefficients, calibration): scoring one message then
costs one gather and a few small matrix products (well under a millisecond) instead
of scikit-learn's per-call validation. The compiled model is what gets cached with
pickle under `~/.cache/cjgbot/nlu-<hash>.pkl`, so a start-up only loads it. The cache is
an optimisation: when it cannot be read or written, the model is trained in memory.
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
from pathlib import Path

import numpy as np
import yaml

from nlu.analyzers import build_analyzer
from nlu.crisis import fold
from nlu.language import detect_language
from nlu.training_data import Example, data_hash, examples_hash, label_of_intent, load_examples

# libyaml (C) when the wheel has it: the texts and data load several times faster.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

log = logging.getLogger(__name__)

MODEL_VERSION = "hier-svc-5"  # 5: plain pickle cache (loads in 30 ms, joblib took 400)
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
    folded = fold(text[:MAX_FEATURE_CHARS])
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

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state["_analyzers"] = None
        return state

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

    def sparse_row(self, prepared: str) -> tuple[np.ndarray, np.ndarray]:
        """(column indices, values) of one prepared text."""
        all_idx: list[np.ndarray] = []
        all_val: list[np.ndarray] = []
        for analyzer, vocab, idf, offset in zip(
            self._analyzer_list(), self.vocabularies, self.idfs, self.offsets, strict=True
        ):
            counts = Counter(vocab[t] for t in analyzer(prepared) if t in vocab)
            if not counts:
                continue
            idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
            val = (np.log(tf) + 1.0) * idf[idx]
            norm = math.sqrt(float(np.dot(val, val)))
            if norm > 0:
                val /= norm
            all_idx.append(idx + offset)
            all_val.append(val)
        if not all_idx:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        return np.concatenate(all_idx), np.concatenate(all_val)


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

    def _proba_row(self, text: str) -> np.ndarray:
        idx, val = self._features.sparse_row(prepare_text(text))
        out = np.zeros(len(self.classes))
        group_p = self._route_level.proba(idx, val)
        for group, p_group in zip(self._route_level.classes, group_p, strict=True):
            sub = self._sub_levels.get(group)
            if sub is None:
                out[self._index[group]] += p_group
                continue
            for intent, p_sub in zip(sub.classes, sub.proba(idx, val), strict=True):
                out[self._index[intent]] += p_group * p_sub
        return out

    def predict_proba_many(self, texts: Sequence[str]) -> np.ndarray:
        """Rows of probabilities over `self.classes` (each row sums to 1)."""
        if not texts:
            return np.zeros((0, len(self.classes)))
        return np.vstack([self._proba_row(t) for t in texts])

    def predict_proba(self, text: str) -> list[tuple[str, float]]:
        """All intents with their probability, most likely first."""
        row = self._proba_row(text)
        order = np.argsort(-row, kind="stable")
        return [(self.classes[i], float(row[i])) for i in order]


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
