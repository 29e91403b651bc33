"""Text analyzers for the compiled classifier, equal to scikit-learn's TfidfVectorizer ones.

At run time the bot only needs to turn a text into the same word and character n-grams the
vectorizers saw in training; doing that here keeps scikit-learn (slow to import, heavy in
memory) out of the running bot. tests/nlu/test_analyzers.py checks equality with
scikit-learn on the whole training set.
"""

from __future__ import annotations

import re
from collections.abc import Callable


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
            tokens += [" ".join(original[i : i + n]) for i in range(count - n + 1)]
        return tokens

    return analyze


def char_wb_words(text: str) -> list[str]:
    """The words char_wb takes its n-grams from: the lower-cased text split on white space.

    (scikit-learn first collapses runs of white space, which does not change the split.)
    """
    return text.lower().split()


def char_wb_word_ngrams(word: str, min_n: int, max_n: int) -> list[str]:
    """The char_wb n-grams of one word (padded with a space on either side)."""
    padded = f" {word} "
    length = len(padded)
    ngrams: list[str] = []
    for n in range(min_n, max_n + 1):
        if length <= n:  # a short word counts once, as a whole
            ngrams.append(padded)
            break
        ngrams += [padded[i : i + n] for i in range(length - n + 1)]
    return ngrams


def char_wb_ngrams(ngram_range: tuple[int, int]) -> Callable[[str], list[str]]:
    """analyzer="char_wb" with lowercase=True: n-grams inside words padded with a space.

    The n-grams of a text are those of its words (`char_wb_words`) one after another, so
    a caller may compute (and reuse) them per word with `char_wb_word_ngrams`.
    """
    min_n, max_n = ngram_range

    def analyze(text: str) -> list[str]:
        ngrams: list[str] = []
        for word in char_wb_words(text):
            ngrams += char_wb_word_ngrams(word, min_n, max_n)
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
