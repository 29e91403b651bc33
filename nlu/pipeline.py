"""The NLU pipeline: from a parent's message to a route (`Nlu.parse` -> `NluResult`).

Order of decisions:

1. Text without any letter or digit (empty, emoji only) -> "unclear" (a waving hand: greet).
2. The crisis lexicon (`nlu.crisis`): a match is route "crisis" with confidence 1.0.
3. The classifier (`nlu.classifier`): P(crisis) at or above `crisis_threshold` (low, for
   recall) is route "crisis" too.
4. The best intent below `fallback_threshold` -> route "unclear": the bot asks a clarifying
   question. The best guess stays in `intent` and `ranking`.
5. Age correction: a predicted zuidzorg/ggd partner is set by the child's age when the
   text gives one (< 4 or unborn: zuidzorg, 4-19: ggd).

`parse` never raises on any string and is fast (one sparse transform and one stacked
linear model for all levels, see `nlu.classifier`; the text is folded once for the
classifier and the crisis lexicon).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from nlu.classifier import MAX_FEATURE_CHARS, IntentClassifier, load_or_train
from nlu.crisis import crisis_match_folded, default_lexicon, fold
from nlu.entities import Age, find_age
from nlu.language import Language, detect_language
from nlu.training_data import label_of_intent

log = logging.getLogger(__name__)

# Tuned on 5-fold cross-validation of the training data (`python -m nlu.evaluate --tune`).
# Fallback: below 0.25 the best intent is right less often than wrong (see the histogram
# of `python -m nlu.evaluate --cv`); the bot then asks instead. Crisis: low, for recall;
# the lexicon catches most crises, the classifier adds the ones phrased otherwise.
DEFAULT_FALLBACK_THRESHOLD = 0.25
DEFAULT_CRISIS_THRESHOLD = 0.3

MAX_INPUT_CHARS = 5000
RANKING_SIZE = 5

_HAS_WORD = re.compile(r"\w")
_GREETING_EMOJI = ("\U0001f44b", "\U0001f64b")  # waving hand, person raising hand
_YOUNG_PARTNER = "zuidzorg"
_SCHOOL_AGE_PARTNER = "ggd"
_AGE_SPLIT = 4.0
_AGE_MAX = 19.0


@dataclass(frozen=True)
class NluResult:
    """What the bot understood of one message.

    route: "faq" | "partner" | "all_partners" | "crisis" | "out_of_scope" | "greet" | "unclear"
    topic: the FAQ topic id for route faq; partner: the partner id for route partner.
    intent: the best intent ("crisis" on the crisis route; after the age correction the
    corrected partner intent; on route "unclear" still the best guess).
    ranking: the classifier's top 5 (intent, probability), as the classifier saw it.
    confidence: probability of the chosen intent (1.0 for a lexicon crisis match).
    crisis_category: the lexicon category that matched; None when only the classifier
    flagged the crisis.
    """

    route: str
    topic: str | None
    partner: str | None
    confidence: float
    intent: str
    language: Language
    ranking: tuple[tuple[str, float], ...]
    age: Age | None
    crisis_category: str | None

    def to_dict(self) -> dict[str, object]:
        """JSON-safe form (for the command line and debugging; holds no message text)."""
        return {
            "route": self.route,
            "topic": self.topic,
            "partner": self.partner,
            "confidence": round(self.confidence, 4),
            "intent": self.intent,
            "language": self.language,
            "ranking": [[intent, p] for intent, p in self.ranking],
            "age": None
            if self.age is None
            else {"years": self.age.years, "unborn": self.age.unborn},
            "crisis_category": self.crisis_category,
        }


def partner_for_age(age: Age | None) -> str | None:
    """zuidzorg for unborn or < 4 years, ggd for 4-19, else None (no correction)."""
    if age is None:
        return None
    if age.unborn:
        return _YOUNG_PARTNER
    if age.years is None:
        return None
    if age.years < _AGE_SPLIT:
        return _YOUNG_PARTNER
    if age.years <= _AGE_MAX:
        return _SCHOOL_AGE_PARTNER
    return None


class Nlu:
    """The embedded NLU. Build with `Nlu.load()` (or `Nlu(classifier)` in tests)."""

    def __init__(
        self,
        classifier: IntentClassifier,
        *,
        fallback_threshold: float = DEFAULT_FALLBACK_THRESHOLD,
        crisis_threshold: float = DEFAULT_CRISIS_THRESHOLD,
    ) -> None:
        if not 0.0 <= fallback_threshold <= 1.0 or not 0.0 < crisis_threshold <= 1.0:
            raise ValueError("thresholds must lie between 0 and 1")
        self.classifier = classifier
        self.fallback_threshold = fallback_threshold
        self.crisis_threshold = crisis_threshold

    @property
    def n_examples(self) -> int:
        """How many training examples the classifier learnt from."""
        return self.classifier.n_examples

    @classmethod
    def load(
        cls,
        data_dir: Path | str | None = None,
        cache_dir: Path | str | None = None,
        *,
        fallback_threshold: float = DEFAULT_FALLBACK_THRESHOLD,
        crisis_threshold: float = DEFAULT_CRISIS_THRESHOLD,
        retrain: bool = False,
    ) -> Nlu:
        """Load (or train and cache) the classifier for the training data in `data_dir`.

        `retrain=True` trains even when a cached model exists (and refreshes the cache).
        """
        default_lexicon()  # compiled now, not on the first message
        return cls(
            load_or_train(data_dir, cache_dir, retrain=retrain),
            fallback_threshold=fallback_threshold,
            crisis_threshold=crisis_threshold,
        )

    def parse(self, text: str) -> NluResult:
        """Understand one message. Never raises for a string input."""
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        text = text[:MAX_INPUT_CHARS]
        language = detect_language(text)
        if not _HAS_WORD.search(text):
            greet = any(e in text for e in _GREETING_EMOJI)
            return NluResult(
                route="greet" if greet else "unclear",
                topic=None,
                partner=None,
                confidence=1.0 if greet else 0.0,
                intent="greet" if greet else "",
                language=language,
                ranking=(),
                age=None,
                crisis_category=None,
            )

        # The classifier and the lexicon fold the same way: fold once (the classifier
        # sees only the first MAX_FEATURE_CHARS, so only a text that short can share).
        folded = fold(text)
        if len(text) <= MAX_FEATURE_CHARS:
            ranked = self.classifier.predict_proba_folded(folded)
        else:
            ranked = self.classifier.predict_proba(text)
        return self.decide(
            ranked,
            crisis_category=crisis_match_folded(folded),  # = crisis_match(text): not blank
            age=safe_find_age(text[:MAX_FEATURE_CHARS]),
            language=language,
        )

    def decide(
        self,
        ranked: list[tuple[str, float]],
        *,
        crisis_category: str | None,
        age: Age | None,
        language: Language,
    ) -> NluResult:
        """The routing decision from the classifier's ranking, the lexicon and the age.

        Pure: `parse` and the threshold tuning in `nlu.evaluate` share it.
        """
        ranking = tuple([(intent, round(p, 4)) for intent, p in ranked[:RANKING_SIZE]])
        probs = dict(ranked)
        best, confidence = ranked[0] if ranked else ("", 0.0)
        p_crisis = probs.get("crisis", 0.0)
        if crisis_category is not None or p_crisis >= self.crisis_threshold:
            return NluResult(
                route="crisis",
                topic=None,
                partner=None,
                confidence=1.0 if crisis_category is not None else p_crisis,
                intent="crisis",
                language=language,
                ranking=ranking,
                age=age,
                crisis_category=crisis_category,
            )

        if best == "crisis" and len(ranked) > 1:
            # Crisis was the best guess but below its threshold: go by the next intent.
            best, confidence = ranked[1]
        label = label_of_intent(best)
        route, topic, partner, intent = label.route, label.topic, label.partner, best
        if route == "partner" and partner in (_YOUNG_PARTNER, _SCHOOL_AGE_PARTNER):
            by_age = partner_for_age(age)
            if by_age is not None:
                # Which of the two is settled by the age: their mass counts together.
                confidence = probs.get(f"partner_{_YOUNG_PARTNER}", 0.0) + probs.get(
                    f"partner_{_SCHOOL_AGE_PARTNER}", 0.0
                )
                partner, intent = by_age, f"partner_{by_age}"
        if confidence < self.fallback_threshold:
            route, topic, partner = "unclear", None, None
        return NluResult(
            route=route,
            topic=topic,
            partner=partner,
            confidence=float(min(confidence, 1.0)),
            intent=intent,
            language=language,
            ranking=ranking,
            age=age,
            crisis_category=None,
        )


def safe_find_age(text: str) -> Age | None:
    """`nlu.entities.find_age`, but None instead of an exception."""
    try:
        return find_age(text)
    except Exception:  # noqa: BLE001 - entity parsing must never break routing
        log.warning("nlu.age_parse_failed", extra={"event": "nlu.age_parse_failed"})
        return None
