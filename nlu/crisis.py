"""The crisis lexicon: recognising acute danger, abuse, violence and suicidal thoughts.

The expressions live in `nlu/data/crisis_lexicon.yml` (Dutch and English regexes
with fragments and idioms to ignore; the file explains its format). This module
folds a message (lower case, no accents, chat-speak expanded), blanks out harmless
idioms and returns the first crisis category that matches. For crisis the lexicon
prefers recall: a negation never suppresses a match.

Most messages contain no chat-speak, no idiom and nothing for the rules with an
`unless`: one quick search each (`_any_of`) tells, and the substitutions or the
per-rule searches, which could find nothing, are skipped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

# libyaml (C) when the wheel has it: the texts and data load several times faster.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

DEFAULT_LEXICON = Path(__file__).resolve().parent / "data" / "crisis_lexicon.yml"

MAX_CHARS = 5000

# Chat-speak and contractions, applied on the folded text (word-bounded).
_CHAT = [
    (re.compile(r"\b(?:m'n|mn|mijne)\b"), "mijn"),
    (re.compile(r"\b(?:z'n|zn)\b"), "zijn"),
    (re.compile(r"\bd'r\b"), "haar"),
    (re.compile(r"(?:(?<=\s)|^)'?k\b(?!')"), "ik"),
    (re.compile(r"\bnie\b"), "niet"),
    (re.compile(r"\bda\b"), "dat"),
    (re.compile(r"\b(?:gij|ge)\b"), "je"),
    (re.compile(r"(?:(?<=\s)|^)(?:'m|em)\b"), "hem"),
    (re.compile(r"(?:(?<=\s)|^)'t\b"), "het"),
    (re.compile(r"\b(?:wilt|wil)\s*'?n\b"), "willen"),
    (re.compile(r"\bdont\b"), "don't"),
    (re.compile(r"\bdoesnt\b"), "doesn't"),
    (re.compile(r"\bim\b"), "i'm"),
]

_PLAIN_FLAGS = re.compile("").flags


def _any_of(patterns: list[re.Pattern[str]]) -> tuple[re.Pattern[str], ...]:
    """Regexes that together match wherever one of `patterns` does (a quick pre-check).

    Patterns that start with a word boundary are joined into one alternation: Python's
    regex engine rejects such branches fast, so one scan costs little more than one
    pattern. Others (e.g. a lookbehind first) stay on their own: in an alternation they
    would slow down every position. So do patterns with groups or flags of their own.
    """

    def joinable(p: re.Pattern[str]) -> bool:
        return p.pattern.startswith(r"\b") and not p.groups and p.flags == _PLAIN_FLAGS

    joined = [p.pattern for p in patterns if joinable(p)]
    rest = tuple(p for p in patterns if not joinable(p))
    if not joined:
        return rest
    return (re.compile("|".join(f"(?:{p})" for p in joined)), *rest)


# No chat-speak in a text (the usual case): every substitution would be a no-op.
_CHAT_ANY = _any_of([pattern for pattern, _ in _CHAT])
_SPACES = re.compile(r"\s+")
_FRAGMENT = re.compile(r"\{([a-z_]+)\}")
_SENTENCE_END = re.compile(r"[.!?\n]")


def fold(text: str) -> str:
    """Lower case, accents removed, quotes straightened, chat-speak expanded, spaces collapsed."""
    text = text[:MAX_CHARS]
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'").replace("´", "'")
    text = text.lower()
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    text = _SPACES.sub(" ", text).strip()
    if any(p.search(text) for p in _CHAT_ANY):
        for pattern, repl in _CHAT:
            text = pattern.sub(repl, text)
    return text


@dataclass(frozen=True, slots=True)
class _Source:
    """One regex of the lexicon: as written (for errors) and with its fragments filled in."""

    written: str
    expanded: str
    where: str


@dataclass(frozen=True, slots=True)
class _Rule:
    pattern: re.Pattern[str]
    unless: re.Pattern[str] | None


def _compile(sources: list[_Source], name: str) -> re.Pattern[str]:
    """One regex that matches where any of `sources` does.

    Compiling is most of the lexicon's start-up (Python's regex compiler is written in
    Python), so the rules are compiled once, joined; only when that fails is each one
    compiled on its own, to name the one at fault.
    """
    if len(sources) == 1:
        joined = sources[0].expanded  # as written: `_any_of` looks at how it starts
    else:
        joined = "|".join(f"(?:{s.expanded})" for s in sources)
    try:
        return re.compile(joined)
    except re.error:
        for source in sources:
            try:
                re.compile(source.expanded)
            except re.error as exc:
                raise ValueError(
                    f"{name}: {source.where}: bad regex {source.written!r}: {exc}"
                ) from exc
        raise ValueError(f"{name}: the patterns cannot be joined into one regex") from None


@dataclass(frozen=True, slots=True)
class _Category:
    """The rules of one category: those without `unless` joined into one regex (speed).

    `guarded_any` is a quick pre-check for the rules with `unless` (see `_any_of`).
    """

    plain: re.Pattern[str] | None
    guarded: tuple[_Rule, ...]
    guarded_any: tuple[re.Pattern[str], ...]

    @classmethod
    def of(cls, plain: list[_Source], guarded: list[_Rule], name: str) -> _Category:
        joined = _compile(plain, name) if plain else None
        return cls(joined, tuple(guarded), _any_of([r.pattern for r in guarded]))

    def first_match(self, prepared: str) -> str | None:
        if self.plain is not None:
            m = self.plain.search(prepared)
            if m is not None:
                return m.group(0)
        if not any(p.search(prepared) for p in self.guarded_any):
            return None
        for rule in self.guarded:
            for m in rule.pattern.finditer(prepared):
                if rule.unless is not None and rule.unless.search(_sentence(prepared, m)):
                    continue
                return m.group(0)
        return None


@dataclass(frozen=True, slots=True)
class CrisisHit:
    """One match: the category and the folded text span that matched."""

    category: str
    matched: str


class CrisisLexicon:
    """A compiled crisis lexicon."""

    def __init__(self, categories: dict[str, _Category], ignore: list[re.Pattern[str]]) -> None:
        self._categories = categories
        self._ignore = ignore
        self._ignore_any = _any_of(ignore)

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(self._categories)

    @classmethod
    def from_file(cls, path: Path | str = DEFAULT_LEXICON) -> CrisisLexicon:
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=YAML_LOADER)
        return cls.from_dict(data, name=str(path))

    @classmethod
    def from_dict(cls, data: object, name: str = "<lexicon>") -> CrisisLexicon:
        if not isinstance(data, dict) or not isinstance(data.get("categories"), dict):
            raise ValueError(f"{name}: expected a mapping with 'categories'")
        fragments = {
            str(k): "".join(str(v).split()) for k, v in (data.get("fragments") or {}).items()
        }

        def expand(source: str, where: str) -> _Source:
            def sub(m: re.Match[str]) -> str:
                key = m.group(1)
                if key not in fragments:
                    raise ValueError(f"{name}: {where}: unknown fragment {{{key}}}")
                return f"(?:{fragments[key]})"

            return _Source(source, _FRAGMENT.sub(sub, source), where)

        def compiled(source: _Source) -> re.Pattern[str]:
            return _compile([source], name)

        ignore = [compiled(expand(str(p), "ignore")) for p in data.get("ignore") or []]
        categories: dict[str, _Category] = {}
        for cat, spec in data["categories"].items():
            patterns = spec.get("patterns") if isinstance(spec, dict) else None
            if not patterns:
                raise ValueError(f"{name}: category {cat!r} has no patterns")
            plain: list[_Source] = []
            guarded: list[_Rule] = []
            for entry in patterns:
                if isinstance(entry, dict) and entry.get("unless"):
                    pattern = compiled(expand(str(entry["pattern"]), str(cat)))
                    guarded.append(_Rule(pattern, compiled(expand(str(entry["unless"]), str(cat)))))
                else:
                    source = entry["pattern"] if isinstance(entry, dict) else entry
                    plain.append(expand(str(source), str(cat)))
            categories[str(cat)] = _Category.of(plain, guarded, name)
        return cls(categories, ignore)

    def prepare(self, text: str) -> str:
        """The folded text with harmless idioms blanked out (what the rules see)."""
        return self.prepare_folded(fold(text))

    def prepare_folded(self, folded: str) -> str:
        """`prepare` for a text already folded with `fold`."""
        # Usually no idiom occurs at all: then every substitution would be a no-op.
        if any(p.search(folded) for p in self._ignore_any):
            for pattern in self._ignore:
                folded = pattern.sub(" _ ", folded)
        return folded

    def hits(self, text: str) -> list[CrisisHit]:
        """All categories that match, in lexicon order (one hit per category)."""
        prepared = self.prepare(text)
        out: list[CrisisHit] = []
        for cat, category in self._categories.items():
            hit = category.first_match(prepared)
            if hit is not None:
                out.append(CrisisHit(cat, hit))
        return out

    def match(self, text: str) -> str | None:
        """The first matching category, or None."""
        if not text or not text.strip():
            return None
        return self.match_folded(fold(text))

    def match_folded(self, folded: str) -> str | None:
        """`match` for a text already folded with `fold` (and not blank)."""
        prepared = self.prepare_folded(folded)
        for cat, category in self._categories.items():
            if category.first_match(prepared) is not None:
                return cat
        return None


def _sentence(text: str, m: re.Match[str]) -> str:
    """The sentence(s) around a match."""
    start = m.start()
    while start > 0 and not _SENTENCE_END.match(text[start - 1]):
        start -= 1
    end = m.end()
    while end < len(text) and not _SENTENCE_END.match(text[end]):
        end += 1
    return text[start:end]


@lru_cache(maxsize=1)
def default_lexicon() -> CrisisLexicon:
    """The lexicon shipped with the bot, compiled once."""
    return CrisisLexicon.from_file(DEFAULT_LEXICON)


def crisis_match(text: str) -> str | None:
    """The crisis category a message matches (e.g. "suicide"), or None."""
    return default_lexicon().match(text)


def crisis_match_folded(folded: str) -> str | None:
    """`crisis_match(text)` given `fold(text)` of a text that is not blank."""
    return default_lexicon().match_folded(folded)
