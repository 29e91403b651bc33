"""The embedded intent classifier (scikit-learn) and its on-disk cache.

Shape: one feature extractor (TF-IDF of word 1-2 grams plus char_wb 2-5 grams on the
folded text) feeding a small hierarchy of calibrated linear SVMs:

* a route model over the routes of the intents (faq, partner, all_partners, crisis,
  out_of_scope, greet);
* per route with several intents (faq topics, partners) a model for the intent.

P(intent) = P(route) * P(intent | route). The hierarchy lets every faq example help the
faq-vs-partner decision, which a flat 40-class model does less well.

Training takes a few seconds; the fitted model is cached with joblib under
`~/.cache/cjgbot/nlu-<hash>.pkl` (hash of the training data and of this code's model
version), so a start-up only loads it. The cache is an optimisation: when it cannot be
read or written, the model is trained in memory.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import joblib
import numpy as np
import sklearn
import yaml
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from nlu.crisis import fold
from nlu.language import detect_language
from nlu.training_data import Example, data_hash, examples_hash, label_of_intent, load_examples

log = logging.getLogger(__name__)

MODEL_VERSION = "hier-svc-2"
MAX_FEATURE_CHARS = 1000
DEFAULT_CACHE_DIR = Path("~/.cache/cjgbot")
_SVC_C = 1.0
_CALIBRATION_FOLDS = 3


GLOSSARY_FILE = Path(__file__).resolve().parent / "data" / "glossary_en_nl.yml"
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


@lru_cache(maxsize=1)
def _glossary() -> dict[str, str]:
    try:
        data = yaml.safe_load(GLOSSARY_FILE.read_text(encoding="utf-8")) or {}
    except OSError:
        return {}
    return {str(k).lower(): str(v) for k, v in data.items()}


def _glosses(folded: str) -> list[str]:
    glossary = _glossary()
    words = _WORD.findall(folded)
    out = [glossary[w] for w in words if w in glossary]
    pairs = (" ".join(pair) for pair in zip(words, words[1:], strict=False))
    out += [glossary[b] for b in pairs if b in glossary]
    return out


def prepare_text(text: str) -> str:
    """What the features see: the first characters, folded (see `nlu.crisis.fold`).

    For an English message the Dutch glosses of its domain words are appended
    (`data/glossary_en_nl.yml`), so it shares features with the Dutch examples.
    """
    folded = fold(text[:MAX_FEATURE_CHARS])
    if detect_language(folded) == "en":
        glosses = _glosses(folded)
        if glosses:
            folded = f"{folded} {' '.join(glosses)}"
    return folded


def _features() -> FeatureUnion:
    return FeatureUnion(
        [
            (
                "word",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                    token_pattern=r"(?u)\b\w+\b",
                    dtype=np.float32,
                ),
            ),
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    sublinear_tf=True,
                    dtype=np.float32,
                ),
            ),
        ]
    )


class _Constant:
    """Stands in for a model when a level has a single class."""

    def __init__(self, label: str) -> None:
        self.classes_ = np.array([label], dtype=object)

    def predict_proba(self, features: object) -> np.ndarray:
        rows = features.shape[0]  # type: ignore[attr-defined]
        return np.ones((rows, 1))


def _fit_level(features: object, labels: np.ndarray, random_state: int) -> object:
    classes, counts = np.unique(labels, return_counts=True)
    if len(classes) == 1:
        return _Constant(str(classes[0]))
    if counts.min() >= _CALIBRATION_FOLDS:
        model: object = CalibratedClassifierCV(
            LinearSVC(C=_SVC_C, random_state=random_state), cv=_CALIBRATION_FOLDS
        )
    else:  # tiny data sets (tests, a new intent with a couple of examples)
        model = LogisticRegression(C=10.0, max_iter=2000)
    model.fit(features, labels)  # type: ignore[attr-defined]
    return model


class IntentClassifier:
    """Predicts intents with probabilities. Build with `train` or `load_or_train`."""

    def __init__(
        self,
        features: FeatureUnion,
        route_model: object,
        sub_models: dict[str, object],
        classes: Sequence[str],
        route_of: dict[str, str],
        data_hash: str,
    ) -> None:
        self._features = features
        self._route_model = route_model
        self._sub_models = sub_models
        self.classes: tuple[str, ...] = tuple(classes)
        self._index = {c: i for i, c in enumerate(self.classes)}
        self._route_of = route_of
        self.data_hash = data_hash

    @classmethod
    def train(
        cls, examples: Sequence[Example], *, data_hash: str | None = None, random_state: int = 0
    ) -> IntentClassifier:
        if not examples:
            raise ValueError("no training examples")
        texts = [prepare_text(ex.text) for ex in examples]
        intents = np.array([ex.intent for ex in examples], dtype=object)
        # The grouping level: intents of one route share a sub-model; an intent whose
        # route is unknown ("unclear") is its own group.
        route_of = {}
        for intent in set(intents.tolist()):
            route = label_of_intent(intent).route
            route_of[intent] = route if route in ("faq", "partner") else intent
        groups = np.array([route_of[i] for i in intents], dtype=object)

        features = _features()
        matrix = features.fit_transform(texts)
        route_model = _fit_level(matrix, groups, random_state)
        sub_models: dict[str, object] = {}
        for group in sorted(set(groups.tolist())):
            mask = groups == group
            members = set(intents[mask].tolist())
            if len(members) > 1 or group not in members:
                sub_models[group] = _fit_level(matrix[mask], intents[mask], random_state)
        return cls(
            features,
            route_model,
            sub_models,
            sorted(route_of),
            route_of,
            data_hash or examples_hash(examples),
        )

    def predict_proba_many(self, texts: Sequence[str]) -> np.ndarray:
        """Rows of probabilities over `self.classes` (each row sums to 1)."""
        matrix = self._features.transform([prepare_text(t) for t in texts])
        out = np.zeros((len(texts), len(self.classes)))
        group_p = self._route_model.predict_proba(matrix)  # type: ignore[attr-defined]
        for j, group in enumerate(self._route_model.classes_):  # type: ignore[attr-defined]
            sub = self._sub_models.get(str(group))
            if sub is None:
                out[:, self._index[str(group)]] += group_p[:, j]
                continue
            sub_p = sub.predict_proba(matrix)  # type: ignore[attr-defined]
            for k, intent in enumerate(sub.classes_):  # type: ignore[attr-defined]
                out[:, self._index[str(intent)]] += group_p[:, j] * sub_p[:, k]
        return out

    def predict_proba(self, text: str) -> list[tuple[str, float]]:
        """All intents with their probability, most likely first."""
        row = self.predict_proba_many([text])[0]
        order = np.argsort(-row, kind="stable")
        return [(self.classes[i], float(row[i])) for i in order]


def cache_key(data_hash: str) -> str:
    """File name of the cached model for a data hash (includes library and model versions)."""
    return f"nlu-{data_hash}-{MODEL_VERSION}-skl{sklearn.__version__}.pkl"


def _read_cache(path: Path, expected_hash: str) -> IntentClassifier | None:
    try:
        model = joblib.load(path)
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
                joblib.dump(model, handle)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        log.warning("nlu.cache_not_written", extra={"event": "nlu.cache_not_written"})


def load_or_train(
    data_dir: Path | str | None = None, cache_dir: Path | str | None = None
) -> IntentClassifier:
    """The classifier for the training data in `data_dir`, from the cache when it is fresh."""
    digest = data_hash(data_dir)
    root = Path(cache_dir if cache_dir is not None else DEFAULT_CACHE_DIR).expanduser()
    path = root / cache_key(digest)
    cached = _read_cache(path, digest)
    if cached is not None:
        return cached
    examples = load_examples(data_dir)
    model = IntentClassifier.train(examples, data_hash=digest)
    _write_cache(path, model)
    return model
