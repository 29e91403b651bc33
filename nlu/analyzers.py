"""Text analyzers for the compiled classifier, equal to scikit-learn's TfidfVectorizer ones.

At run time the bot only needs to turn a text into the same word and character n-grams the
vectorizers saw in training; doing that here keeps scikit-learn (slow to import, heavy in
memory) out of the running bot. tests/nlu/test_analyzers.py checks equality with
scikit-learn on the whole training set.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_WHITE_SPACES = re.compile(r"\s\s+")


def word_ngrams(token_pattern: str, ngram_range: tuple[int, int]) -> Callable[[str], list[str]]:
    """analyzer="word" with lowercase=True, no accent stripping, no stop words."""
    pattern = re.compile(token_pattern)
    min_n, max_n = ngram_range

    def analyze(text: str) -> list[str]:
        original = pattern.findall(text.lower())
        if max_n == 1:
            return original
        tokens = list(original) if min_n == 1 else []
        start = max(min_n, 2)
        count = len(original)
        for n in range(start, min(max_n + 1, count + 1)):
            for i in range(count - n + 1):
                tokens.append(" ".join(original[i : i + n]))
        return tokens

    return analyze


def char_wb_ngrams(ngram_range: tuple[int, int]) -> Callable[[str], list[str]]:
    """analyzer="char_wb" with lowercase=True: n-grams inside words padded with a space."""
    min_n, max_n = ngram_range

    def analyze(text: str) -> list[str]:
        document = _WHITE_SPACES.sub(" ", text.lower())
        ngrams: list[str] = []
        for word in document.split():
            padded = f" {word} "
            length = len(padded)
            for n in range(min_n, max_n + 1):
                offset = 0
                ngrams.append(padded[offset : offset + n])
                while offset + n < length:
                    offset += 1
                    ngrams.append(padded[offset : offset + n])
                if offset == 0:  # a short word counts once
                    break
        return ngrams

    return analyze


def build_analyzer(settings: dict[str, object]) -> Callable[[str], list[str]]:
    analyzer = settings.get("analyzer", "word")
    ngram_range = tuple(settings.get("ngram_range", (1, 1)))  # type: ignore[arg-type]
    if analyzer == "word":
        pattern = str(settings.get("token_pattern", r"(?u)\b\w\w+\b"))
        return word_ngrams(pattern, ngram_range)  # type: ignore[arg-type]
    if analyzer == "char_wb":
        return char_wb_ngrams(ngram_range)  # type: ignore[arg-type]
    raise ValueError(f"analyzer {analyzer!r} is not supported")
