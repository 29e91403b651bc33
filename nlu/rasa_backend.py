"""The optional Rasa NLU backend: `RasaNlu`, an `Nlu` that asks a Rasa server.

Used with `nlu.backend: rasa` and `nlu.rasa_url` (a Rasa Open Source 3.6 server started
with `rasa run --enable-api` on a model trained from nlu/rasa/config.yml and the same
nlu/data/nlu/*.yml; see scripts/rasa-venv.sh). Rasa is not a dependency of the bot.

`RasaNlu.parse` keeps the embedded pipeline's order and rules:

1. Text without any letter or digit -> greet/unclear, as `Nlu.parse` (no request).
2. The crisis lexicon first: a match is route "crisis" at once (no request).
3. `POST {rasa_url}/model/parse`. Rasa's intent ranking becomes the ranking that
   `Nlu.decide` expects: the retrieval intent "faq" is split over the response
   selector's `faq/<topic>` keys (`intent_response_key`; P(faq/topic) = P(faq) *
   P(topic | faq), as the embedded hierarchy does; without selector output the top
   intent's `full_retrieval_intent_name`); Rasa's own "nlu_fallback" is dropped, because
   `decide` applies `fallback_threshold` itself. Language and age come from the bot's
   own detectors.
4. When the server cannot be reached, answers an error or sends something that is not
   a parse result, the message goes to the embedded classifier (`fallback`) instead,
   one warning is logged (never message text) and the server is left alone for
   `retry_after` seconds, so an outage costs no time-out per message.

The HTTP client is synchronous (httpx) with a short time-out and one retry on transport
errors (with tenacity when it is installed).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from nlu.classifier import MAX_FEATURE_CHARS
from nlu.crisis import crisis_match
from nlu.language import detect_language
from nlu.pipeline import MAX_INPUT_CHARS, Nlu, NluResult, safe_find_age

try:  # optional: a plain single retry below does the same job without it
    import tenacity
except ImportError:  # pragma: no cover - depends on the environment
    tenacity = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(2.0, connect=0.5)
DEFAULT_RETRY_AFTER = 30.0
RETRY_WAIT = 0.05
RETRIEVAL_INTENTS = ("faq",)
RASA_FALLBACK_INTENT = "nlu_fallback"
_HAS_WORD = re.compile(r"\w")  # as in nlu.pipeline


class RasaUnavailable(Exception):
    """The Rasa server gave no usable parse result (reason only; never message text)."""


def ranking_from_rasa(payload: Mapping[str, Any]) -> list[tuple[str, float]]:
    """Rasa's `/model/parse` JSON -> [(intent, probability)] best first, as `Nlu.decide` wants.

    Retrieval intents are replaced by their response keys (`faq` -> `faq/slapen`, ...)
    weighted by the retrieval intent's confidence. Raises `RasaUnavailable` when the JSON
    does not look like a parse result.
    """
    if not isinstance(payload, Mapping):
        raise RasaUnavailable("parse result is not an object")
    top = payload.get("intent")
    raw = payload.get("intent_ranking")
    if not raw:
        raw = [top] if isinstance(top, Mapping) and top.get("name") else []
    if not isinstance(raw, list):
        raise RasaUnavailable("intent_ranking is not a list")
    selectors = payload.get("response_selector")
    selectors = selectors if isinstance(selectors, Mapping) else {}

    probs: dict[str, float] = {}
    for item in raw:
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise RasaUnavailable("intent_ranking item without a name")
        name, confidence = item["name"], _confidence(item.get("confidence"))
        if name == RASA_FALLBACK_INTENT:
            continue
        keys = _retrieval_ranking(selectors, name) if name in RETRIEVAL_INTENTS else []
        if not keys and name in RETRIEVAL_INTENTS and isinstance(top, Mapping):
            key = _response_key(top, name) if top.get("name") == name else None
            keys = [(key, 1.0)] if key else []
        if keys:
            for key, p_key in keys:
                probs[key] = probs.get(key, 0.0) + confidence * p_key
        else:
            probs[name] = probs.get(name, 0.0) + confidence
    if not probs:
        raise RasaUnavailable("no intents in the parse result")
    return sorted(probs.items(), key=lambda kv: kv[1], reverse=True)


def _confidence(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RasaUnavailable("confidence is not a number")
    return min(max(float(value), 0.0), 1.0)


def _response_key(item: Mapping[str, Any], retrieval_intent: str) -> str | None:
    """`faq/slapen` from a selector item (Rasa 3: intent_response_key; Rasa 2: full name)."""
    for field in ("intent_response_key", "full_retrieval_intent_name", "full_retrieval_intent"):
        value = item.get(field)
        if isinstance(value, str) and value.startswith(f"{retrieval_intent}/"):
            return value
    return None


def _retrieval_ranking(selectors: Mapping[str, Any], intent: str) -> list[tuple[str, float]]:
    """[(`faq/<topic>`, P(topic | faq))] from the response selector for `intent`.

    Uses the selector's ranking (Rasa's top 10 of a softmax over all keys, taken as they
    are: not renormalised); when it has none, its single best response.
    """
    selector = selectors.get(intent) or selectors.get("default")
    if not isinstance(selector, Mapping):
        return []
    items = selector.get("ranking")
    if not isinstance(items, list) or not items:
        response = selector.get("response")
        items = [response] if isinstance(response, Mapping) else []
    keys: dict[str, float] = {}
    for item in items:
        if not isinstance(item, Mapping):
            continue
        key = _response_key(item, intent)
        if key is not None:
            keys[key] = keys.get(key, 0.0) + _confidence(item.get("confidence", 0.0))
    return [(key, p) for key, p in keys.items() if p > 0.0]


class RasaNlu(Nlu):
    """An `Nlu` whose intent ranking comes from a Rasa server; `fallback` when it is down.

    Same interface as `Nlu`: `parse(text) -> NluResult`, `fallback_threshold`,
    `crisis_threshold` (both applied by `Nlu.decide` to Rasa's ranking). While Rasa is
    unreachable, `fallback.parse` answers (with the embedded thresholds);
    `fallback_count` counts those messages.
    """

    def __init__(
        self,
        url: str,
        fallback: Nlu,
        *,
        fallback_threshold: float | None = None,
        crisis_threshold: float | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retry_after: float = DEFAULT_RETRY_AFTER,
        token: str | None = None,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            fallback.classifier,
            fallback_threshold=fallback.fallback_threshold
            if fallback_threshold is None
            else fallback_threshold,
            crisis_threshold=fallback.crisis_threshold
            if crisis_threshold is None
            else crisis_threshold,
        )
        self.url = url.rstrip("/")
        self.fallback = fallback
        self.retry_after = retry_after
        self._params = {"token": token} if token else {}
        self._client = client or httpx.Client(timeout=timeout)
        self._clock = clock
        self._lock = threading.Lock()
        self._down_until: float | None = None  # None: last request went well
        self.fallback_count = 0  # messages the embedded classifier answered instead

    @property
    def available(self) -> bool:
        """False while the server is being left alone after a failure."""
        with self._lock:
            return self._down_until is None or self._clock() >= self._down_until

    def close(self) -> None:
        self._client.close()

    def parse(self, text: str) -> NluResult:
        """Understand one message (Rasa, else the embedded classifier). Never raises."""
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        text = text[:MAX_INPUT_CHARS]
        if not _HAS_WORD.search(text):
            return self.fallback.parse(text)  # greet emoji / unclear: no classifier
        language = detect_language(text)
        age = safe_find_age(text[:MAX_FEATURE_CHARS])
        category = crisis_match(text)
        if category is not None:
            return self.decide([], crisis_category=category, age=age, language=language)
        if not self.available:
            self.fallback_count += 1
            return self.fallback.parse(text)
        try:
            ranked = ranking_from_rasa(self._request(text))
        except (httpx.HTTPError, RasaUnavailable, ValueError) as exc:
            self._mark_down(exc)
            self.fallback_count += 1
            return self.fallback.parse(text)
        self._mark_up()
        return self.decide(ranked, crisis_category=None, age=age, language=language)

    # ------------------------------------------------------------------ HTTP

    def _post(self, text: str) -> Any:
        response = self._client.post(
            f"{self.url}/model/parse", json={"text": text}, params=self._params
        )
        response.raise_for_status()
        return response.json()

    def _request(self, text: str) -> Any:
        """One POST, retried once on a transport error (refused, reset, time-out)."""
        if tenacity is not None:
            retrying = tenacity.Retrying(
                stop=tenacity.stop_after_attempt(2),
                wait=tenacity.wait_fixed(RETRY_WAIT),
                retry=tenacity.retry_if_exception_type(httpx.TransportError),
                reraise=True,
            )
            return retrying(self._post, text)
        try:
            return self._post(text)
        except httpx.TransportError:
            time.sleep(RETRY_WAIT)
            return self._post(text)

    def _mark_down(self, exc: Exception) -> None:
        with self._lock:
            first = self._down_until is None
            self._down_until = self._clock() + self.retry_after
        if first:
            # Only the kind of error and the status: no URL query, no message text.
            status = exc.response.status_code if isinstance(exc, httpx.HTTPStatusError) else None
            log.warning(
                "nlu.rasa_unavailable",
                extra={
                    "event": "nlu.rasa_unavailable",
                    "error": type(exc).__name__,
                    "status": status,
                    "retry_after_s": self.retry_after,
                },
            )

    def _mark_up(self) -> None:
        with self._lock:
            was_down = self._down_until is not None
            self._down_until = None
        if was_down:
            log.info("nlu.rasa_available", extra={"event": "nlu.rasa_available"})
