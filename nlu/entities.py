"""Entities in a parent's message: the child's age, sex and woonplaats.

Two kinds of function, both pure:

* ``parse_*`` read a short ANSWER to a direct question ("hoe oud is uw kind?" -> "drie");
  they are lenient.
* ``find_*`` look INSIDE a free question ("mijn zoon van 3 slaapt slecht"); they are strict
  and only take a value next to a clear cue, so times, counts, durations and phone numbers
  are not mistaken for an age.

``normalise`` is the text folding shared with :mod:`nlu.answers`. The only I/O is reading
``data/places.yml`` once, at import.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

__all__ = [
    "Age",
    "Place",
    "find_age",
    "find_place",
    "find_sex",
    "normalise",
    "parse_age",
    "parse_place",
    "parse_sex",
]

MAX_AGE_YEARS = 30.0
"""Anything older is not a child the CJG helps: treated as "not understood"."""

MAX_SELF_AGE_YEARS = 25.0
""""ik ben 16" is a young person writing about themselves; "ik ben 38" is a parent."""
MIN_SELF_AGE_YEARS = 8.0


@dataclass(frozen=True, slots=True)
class Age:
    """Age of the child in years (18 maanden -> 1.5); ``unborn`` when expected, years None."""

    years: float | None
    unborn: bool = False


@dataclass(frozen=True, slots=True)
class Place:
    """A recognised place and the gemeente (official CBS name) it belongs to."""

    name: str
    municipality: str


# --------------------------------------------------------------------------- normalising


def _strip_accents(text: str) -> str:
    if text.isascii():  # nothing to decompose
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_NON_WORD = re.compile(r"[^\w\s]|_")
_SPACES = re.compile(r"\s+")


def normalise(text: str, keep: str = "") -> str:
    """Lowercase, strip accents, drop punctuation and emoji (except chars in ``keep``),
    collapse whitespace. ``normalise("  Oké, Tweeënhalf! 👍") == "oke tweeenhalf"``."""
    folded = _strip_accents(text).lower()
    if keep:
        pattern = re.compile(rf"[^\w\s{re.escape(keep)}]|_")
        folded = pattern.sub(" ", folded)
    else:
        folded = _NON_WORD.sub(" ", folded)
    return _SPACES.sub(" ", folded).strip()


def _fold(text: str) -> str:
    """Lowercase and strip accents, keep punctuation (needed for "2,5", "(4)", "20:00")."""
    folded = _strip_accents(text.replace("½", " 1/2")).lower()
    folded = folded.replace("\u2019", "'").replace("\u2018", "'").replace("\u2013", "-")
    return _SPACES.sub(" ", folded).strip()


_ASCII_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]")


def _fold_same_length(text: str) -> str:
    """Fold char by char so that positions in the result are positions in ``text``."""
    if text.isascii():  # the same, char by char, in two C calls
        return _ASCII_NOT_ALNUM.sub(" ", text).lower()
    return "".join(map(_fold_char, text))


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    if not char.isalnum():
        return " "
    base = unicodedata.normalize("NFKD", char)[0].lower()
    return base if len(base) == 1 else char


# --------------------------------------------------------------------------- numbers

_WORD_NUMBERS: dict[str, int] = {
    "nul": 0, "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6, "zeven": 7,
    "acht": 8, "negen": 9, "tien": 10, "elf": 11, "twaalf": 12, "dertien": 13,
    "veertien": 14, "vijftien": 15, "zestien": 16, "zeventien": 17, "achttien": 18,
    "negentien": 19, "twintig": 20, "eenentwintig": 21, "tweeentwintig": 22,
    "drieentwintig": 23, "vierentwintig": 24, "vijfentwintig": 25,
    "zero": 0, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "twenty one": 21, "twenty two": 22,
    "twenty three": 23, "twenty four": 24, "twenty five": 25,
}  # fmt: skip

_WORDS_ALT = "|".join(
    re.escape(w).replace(r"\ ", r"[\s-]") for w in sorted(_WORD_NUMBERS, key=len, reverse=True)
)
# Number words become digits first ("tweeenhalf" -> "2.5"), so the age patterns stay small.
_WORD_NUMBER_RE = re.compile(
    rf"(?<![\w])(?:(?P<half>{_WORDS_ALT})en\s?half|(?P<word>anderhalf|{_WORDS_ALT}))(?![a-z])"
)
_DIGIT_HALF_RE = re.compile(
    r"(?<![\w.,])(?P<n>\d{1,2})(?:\s+en\s+een\s+half|\s+and\s+a\s+half|\s*1/2)(?![a-z\d])"
)
_HALF_YEAR_RE = re.compile(r"(?<![\w])(?:(?:een\s+)?half(?=\s+jaar)|half\s+a(?=\s+year))")
_ONE_RE = re.compile(
    r"(?<![\w])(?:een|one|a|an)(?=\s*-?\s*(?:jaar|jaartje|maand|maandje|week|weekje|dag|year|"
    r"month|week|day)(?![a-z]))"
)


def _digits_for_words(match: re.Match[str]) -> str:
    if match["half"]:
        return f"{_WORD_NUMBERS[_SPACES.sub(' ', match['half'].replace('-', ' '))]}.5"
    word = match["word"]
    if word == "anderhalf":
        return "1.5"
    return str(_WORD_NUMBERS[_SPACES.sub(" ", word.replace("-", " "))])


def _numbers_as_digits(folded: str) -> str:
    """ "zoon van drie" -> "zoon van 3", "tweeenhalf" -> "2.5", "2 en een half" -> "2.5"."""
    text = _WORD_NUMBER_RE.sub(_digits_for_words, folded)
    text = _DIGIT_HALF_RE.sub(lambda m: f"{m['n']}.5", text)
    text = _HALF_YEAR_RE.sub("0.5", text)
    return _ONE_RE.sub("1", text)


_DIGITS = r"(?<![\w.,:/+\-])\d{1,2}(?:[.,]\d{1,2})?(?![\d:])(?![.,]\d)(?!-\d)"

_YEAR_U = r"jaar|jaartjes?|jaren|jr|j|years?|yrs?|yo|y/o|jarige?|jarig"
_MONTH_U = r"maanden|maandjes?|maand|mnden|mndn|mnd|months?|mths?|mos?"
_WEEK_U = r"weken|weekjes?|week|wkn|wks?|weeks?"
_DAY_U = r"dagen|dagjes?|dag|days?"
_UNIT = rf"(?:{_YEAR_U}|{_MONTH_U}|{_WEEK_U}|{_DAY_U})(?![a-z])"
_SMALL_UNIT_WORDS = re.compile(rf"^(?:{_MONTH_U}|{_WEEK_U}|{_DAY_U})$")
_YEAR_UNIT_WORDS = re.compile(rf"^(?:{_YEAR_U})$")
_MONTH_UNIT_WORDS = re.compile(rf"^(?:{_MONTH_U})$")
_WEEK_UNIT_WORDS = re.compile(rf"^(?:{_WEEK_U})$")

_NUM = rf"(?P<num>{_DIGITS})"
_NUM_UNIT = rf"{_NUM}(?:\s*-?\s*(?P<unit>{_UNIT}))?"


def _num_value(raw: str) -> float | None:
    try:
        return float(raw.replace(",", "."))
    except ValueError:
        return None


def _to_years(value: float, unit: str | None) -> float:
    if unit is None or _YEAR_UNIT_WORDS.match(unit):
        return round(value, 2)
    if _MONTH_UNIT_WORDS.match(unit):
        return round(value / 12, 2)
    if _WEEK_UNIT_WORDS.match(unit):
        return round(value * 7 / 365.25, 2)
    return round(value / 365.25, 2)


# --------------------------------------------------------------------------- age cues

# Words after a number that make it something other than an age.
_NOT_AGE_AFTER = re.compile(
    r"\s*(?:uur|uurtjes?|uren|u\b|keer|x\b|maal|kinderen|kindjes|kids|children|broers|zussen|"
    r"broertjes|zusjes|jongens|meisjes|moeders|vaders|ouders|mensen|personen|vriendjes|"
    r"vriendinnen|klasgenoten|minuten|minuutjes|min\b|sec|seconden|euro|eur\b|procent|%|km|"
    r"kilo|kg|cm|gram|ml|liter|tot\b|naar\b|t/m|a\b|of\b|to\b|times|hours?|minutes|o'?clock|"
    r"per\b|geleden|ago|lang\b|ziek|thuis|weg\b|bezig|sick|pm\b|am\b|"
    rf"{_MONTH_U}|{_WEEK_U}|{_DAY_U})(?![a-z])"
)
# After an explicit unit only these still break it ("3 jaar geleden", "3 weken ziek").
_NOT_AGE_AFTER_YEARS = re.compile(r"\s*(?:geleden|ago|lang|per|getrouwd|samen)(?![a-z])")
_NOT_AGE_AFTER_SMALL_UNIT = re.compile(
    r"\s*(?:geleden|ago|lang|ziek|thuis|weg|bezig|sick|per|achter|op rij|niet)(?![a-z])"
)

_CHILD = (
    r"zoon|zoontje|zoonlief|dochter|dochtertje|dochterlief|kind|kindje|kindlief|kleinkind|"
    r"meisje|meid|meidje|meiske|jongen|jongetje|jochie|ventje|manneke|knul|"
    r"baby|babytje|baby'tje|peuter|peutertje|kleuter|dreumes|puber|pubertje|puberzoon|"
    r"puberdochter|tiener|kleine|kleintje|oudste|jongste|middelste|tweeling|nichtje|neefje|"
    r"pleegkind|pleegzoon|pleegdochter|stiefzoon|stiefdochter|bonuszoon|bonusdochter|"
    r"bonuskind|kleinzoon|kleindochter|leerling|jongere|"
    r"son|daughter|child|kid|boy|girl|toddler|teen|teenager|eldest|oldest|youngest|"
    r"little one|grandson|granddaughter|stepson|stepdaughter|twins"
)
_CHILDREN = r"kinderen|kids|kindjes|jongens|meiden|meisjes|children|twins|tweeling"
_SUBJECT = r"hij|zij|ze|he|she|ours|mine"
_LINK = r"(?:\s+(?:van|is|wordt|werd|was|of|aged|is now|is nu|is pas|is bijna|is net)|'s|s)"
_MODIFIER = r"(?:(?:bijna|net|pas|nu|ruim|about|almost|nearly|just|only|maar|already)\s+)?"

_AGE_PATTERNS: tuple[tuple[re.Pattern[str], bool], ...] = tuple(
    (re.compile(pattern), small_units_ok)
    for pattern, small_units_ok in (
        # "mijn zoon van 3", "onze kleine meid van 18 maanden", "my son is 14", "ze is 10 en"
        (rf"\b(?:{_CHILD})(?:\s+[a-z]+)?{_LINK}\s+{_MODIFIER}{_NUM_UNIT}", True),
        (rf"\b(?:{_SUBJECT}){_LINK}\s+{_MODIFIER}{_NUM_UNIT}", True),
        # "dochter (4)", "kinderen (5 en 9)"
        (rf"\b(?:[a-z]+)\s*\(\s*{_NUM_UNIT}\s*(?=[),;]|en\b|and\b|&|jaar\b)", True),
        # "een 6-jarige", "my 6 year old", "14yo", "3 maanden oud"
        (rf"{_NUM}\s*-?\s*(?P<unit>jarige?|jarig|yo|y/o)(?![a-z])", False),
        (rf"{_NUM}\s*-?\s*(?P<unit>{_UNIT})[\s-]+(?:oud|old)(?![a-z])", True),
        # "zoon 15, autisme", "zoon 6 jaar"
        (rf"\b(?:{_CHILD}|{_CHILDREN})\s+{_NUM_UNIT}", False),
        # "ik ben 14 en", "ben 14.", "I'm 15"
        (rf"\b(?:ik\s+ben|ben|i\s+am|i'm|im)\s+{_MODIFIER}{_NUM}"
         rf"(?:\s*(?P<unit>jaar|jr|years?(?:\s+old)?)(?![a-z]))?", False),
    )
)  # fmt: skip
_SELF_PATTERN_INDEX = len(_AGE_PATTERNS) - 1
_ANY_DIGIT = re.compile(r"\d")  # what `_NUM` needs: \d of the same (Unicode) flavour

_UNBORN = re.compile(
    rf"(?:{_NUM}\s*(?:weken|week|wk|maanden|mnd)\s+)?"
    r"\b(?:zwanger|in verwachting|uitgerekend|ongeboren|nog niet geboren|not born yet|"
    r"not yet born|unborn|pregnant|expecting a baby|we're expecting|we are expecting|"
    r"due date|baby on the way|due in)\b"
)
_NEWBORN = re.compile(r"\b(?:pasgeboren|pas geboren|net geboren|newborn|new born|just born)\b")

_GROEP = re.compile(r"\bgroep\s*(?P<n>[1-8]|een)\b")
_IN_GROEP = re.compile(
    r"\b(?:in|zit|zitten|naar|from|na)\s+(?:de\s+)?groep\s*"
    r"(?P<n>[1-8]|een)\b"
)
_BRUGKLAS = re.compile(r"\bbrugklas(?:ser|sertje)?\b|\bbrugpieper\b")
_SECONDARY = r"vwo|havo|vmbo(?:[\s-]?[tkgb])?|mavo|atheneum|gymnasium|lwoo|tl"
_ORDINALS = {"eerste": 1, "tweede": 2, "derde": 3, "vierde": 4, "vijfde": 5, "zesde": 6}
_ORDINAL_ALT = "|".join(_ORDINALS)
_SECONDARY_YEAR = re.compile(
    rf"\b(?:(?P<n>[1-6])\s*(?:e|de|ste)?|(?P<o>{_ORDINAL_ALT}))\s+klas\s+(?:van\s+)?"
    rf"(?:de\s+|het\s+)?(?:middelbare|voortgezet|vo\b|{_SECONDARY})"
    rf"|\b(?:(?P<n2>[1-6])\s*(?:e|de|ste)?|(?P<o2>{_ORDINAL_ALT}))\s*(?:{_SECONDARY})\b"
    rf"|\b(?:{_SECONDARY})\s*-?\s*(?P<m>[1-6])\b(?![.,]\d)"
)


def _accept_after(text: str, end: int, unit: str | None, small_units_ok: bool) -> bool:
    rest = text[end:]
    if unit is None:
        return not _NOT_AGE_AFTER.match(rest)
    if _SMALL_UNIT_WORDS.match(unit):
        return small_units_ok and not _NOT_AGE_AFTER_SMALL_UNIT.match(rest)
    return not _NOT_AGE_AFTER_YEARS.match(rest)


def _school_age(text: str, in_free_text: bool) -> tuple[int, Age] | None:
    """Age from school level: groep N -> N + 3, brugklas -> 12, "4 vwo" -> 11 + 4."""
    found: list[tuple[int, Age]] = []
    groep = (_IN_GROEP if in_free_text else _GROEP).search(text)
    if groep:
        n = groep["n"]
        level = int(n) if n.isdigit() else 1
        found.append((groep.start(), Age(float(level + 3))))
    brug = _BRUGKLAS.search(text)
    if brug:
        found.append((brug.start(), Age(12.0)))
    secondary = _SECONDARY_YEAR.search(text)
    if secondary:
        ordinal = secondary["o"] or secondary["o2"]
        digit = secondary["n"] or secondary["n2"] or secondary["m"]
        level = _ORDINALS[ordinal] if ordinal else int(digit)
        found.append((secondary.start(), Age(float(11 + level))))
    return min(found, key=lambda item: item[0]) if found else None


def _age_candidates(text: str) -> Iterator[tuple[int, Age]]:
    # Every age pattern needs a number (`_NUM`): without a digit none can match.
    patterns = _AGE_PATTERNS if _ANY_DIGIT.search(text) else ()
    for index, (pattern, small_units_ok) in enumerate(patterns):
        for match in pattern.finditer(text):
            value = _num_value(match["num"])
            if value is None:
                continue
            unit = match["unit"]
            if not _accept_after(text, match.end(), unit, small_units_ok):
                continue
            years = _to_years(value, unit)
            is_self = index == _SELF_PATTERN_INDEX
            low = MIN_SELF_AGE_YEARS if is_self else 0.0
            high = MAX_SELF_AGE_YEARS if is_self else MAX_AGE_YEARS
            if low <= years <= high:
                yield match.start(), Age(years)
    unborn = _UNBORN.search(text)
    if unborn:
        yield unborn.start(), Age(None, unborn=True)
    newborn = _NEWBORN.search(text)
    if newborn:
        yield newborn.start(), Age(0.0)
    school = _school_age(text, in_free_text=True)
    if school:
        yield school


def find_age(text: str) -> Age | None:
    """The child's age mentioned inside a free question, or None.

    Only numbers next to a cue count ("zoon van 3", "dochter (4)", "is 2,5", "6-jarige",
    "in groep 3", "16 weken zwanger"). With several children, the first one mentioned.
    """
    folded = _numbers_as_digits(_fold(text))
    best = min(_age_candidates(folded), key=lambda item: item[0], default=None)
    return best[1] if best else None


_COMPOUND = re.compile(
    rf"{_NUM}\s*(?:{_YEAR_U})(?![a-z])\s*(?:en|and|,)?\s*"
    rf"(?P<num2>\d{{1,2}})\s*(?P<unit2>{_MONTH_U})(?![a-z])"
)
_ANY_NUM = re.compile(_NUM_UNIT)
_LONE_ONE = re.compile(r"^(?:een|one|a)\s*[.!]?$")


def parse_age(text: str) -> Age | None:
    """Understand an answer to "hoe oud is uw kind?" ("3", "drie jaar", "18 mnd", "zwanger",
    "groep 5", "4 vwo", "a newborn"). None when not understood or older than 30."""
    folded = _numbers_as_digits(_fold(text))
    if not folded:
        return None
    if _UNBORN.search(folded):
        return Age(None, unborn=True)
    if _NEWBORN.search(folded):
        return Age(0.0)
    if _LONE_ONE.match(folded):
        return Age(1.0)
    school = _school_age(folded, in_free_text=False)
    if school:
        return school[1]
    compound = _COMPOUND.search(folded)
    if compound:
        years = _num_value(compound["num"])
        months = _num_value(compound["num2"])
        if years is not None and months is not None:
            total = round(years + months / 12, 2)
            return Age(total) if total <= MAX_AGE_YEARS else None
    found = find_age(text)
    if found:
        return found
    for match in _ANY_NUM.finditer(folded):
        value = _num_value(match["num"])
        unit = match["unit"]
        if value is None or not _accept_after(folded, match.end(), unit, small_units_ok=True):
            continue
        years = _to_years(value, unit)
        return Age(years) if 0 <= years <= MAX_AGE_YEARS else None
    return None


# --------------------------------------------------------------------------- sex

BOY = "jongen"
GIRL = "meisje"
OTHER = "anders"

_BOY_WORDS = (
    r"jongen|jongetje|jongentje|jochie|ventje|manneke|mannetje|knul|zoon|zoontje|zoonlief|"
    r"kleinzoon|pleegzoon|stiefzoon|bonuszoon|puberzoon|boy|son|male|mannelijk|grandson|stepson"
)
_GIRL_WORDS = (
    r"meisje|meisie|meid|meidje|meiske|dochter|dochtertje|dochterlief|kleindochter|"
    r"pleegdochter|stiefdochter|bonusdochter|puberdochter|girl|daughter|female|vrouwelijk|"
    r"granddaughter|stepdaughter"
)
_OTHER_WORDS = (
    r"anders|non binair|nonbinair|non binary|nonbinary|genderneutraal|genderqueer|"
    r"gender fluid|genderfluid|intersekse|intersex|other|divers|x"
)
_BOY_RE = re.compile(rf"\b(?:{_BOY_WORDS})\b")
_GIRL_RE = re.compile(rf"\b(?:{_GIRL_WORDS})\b")
_OTHER_RE = re.compile(rf"\b(?:{_OTHER_WORDS})\b")
_NEGATED_SEX = re.compile(
    rf"\b(?:geen|niet|not|no)\s+(?:een\s+|a\s+)?(?:{_BOY_WORDS}|{_GIRL_WORDS})\b"
)
_BOY_PRONOUN = re.compile(r"^(?:hij|he|him|his)$")
_GIRL_PRONOUN = re.compile(r"^(?:zij|ze|she|her)$")


def parse_sex(text: str) -> str | None:
    """Understand an answer to "is het een jongen of een meisje?".

    Returns "jongen", "meisje", "anders" or None (unknown, undecided, or both named).
    """
    norm = normalise(text)
    if _BOY_PRONOUN.match(norm):
        return BOY
    if _GIRL_PRONOUN.match(norm):
        return GIRL
    norm = _NEGATED_SEX.sub(" ", norm)
    boy = bool(_BOY_RE.search(norm))
    girl = bool(_GIRL_RE.search(norm))
    if boy != girl:
        return BOY if boy else GIRL
    if boy and girl:
        return None
    other = _OTHER_RE.search(norm)
    if other and (other.group() != "x" or norm == "x"):
        return OTHER
    return None


_FREE_BOY = re.compile(
    r"(?i)\b(?:zoon|zoontje|zoonlief|jongen|jongetje|jongentje|jochie|manneke|ventje|"
    r"kleinzoon|pleegzoon|stiefzoon|bonuszoon|puberzoon|boy|grandson|stepson)\b"
)
_FREE_GIRL = re.compile(
    r"(?i)\b(?:dochter|dochtertje|dochterlief|meisje|meiske|meidje|kleindochter|pleegdochter|"
    r"stiefdochter|bonusdochter|puberdochter|daughter|girl|granddaughter|stepdaughter)\b"
)
# "son" is also the village Son: only a lowercase "son", or one after a possessive/article.
_FREE_SON = re.compile(
    r"(?i:\b(?:my|our|your|his|her|the|a|an)(?:\s+[\w-]+){0,4}\s+)son\b"
    r"|(?<!\bin )(?<!\bte )(?<!\buit )(?<!\bbij )(?<!\bnaar )(?<!\bvan )\bson\b"
    r"(?!\s+en\s+breugel)"
)


def find_sex(text: str) -> str | None:
    """The child's sex from noun cues inside a free question ("mijn zoon", "onze dochter",
    "ons manneke", "my daughter"). None when absent or when both sexes are mentioned."""
    boy = bool(_FREE_BOY.search(text) or _FREE_SON.search(text))
    girl = bool(_FREE_GIRL.search(text))
    if boy == girl:
        return None
    return BOY if boy else GIRL


# --------------------------------------------------------------------------- places


def _load_places() -> tuple[dict[str, Place], frozenset[str]]:
    source = Path(__file__).with_name("data") / "places.yml"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(source.read_text(encoding="utf-8"), Loader=loader)
    index: dict[str, Place] = {}

    def add(name: str, municipality: str, canonical: str | None = None) -> None:
        key = normalise(name)
        if key and key not in index:
            index[key] = Place(canonical or name, municipality)

    for name, municipality in data.get("region", {}).items():
        add(name, municipality)
    for municipality in data["municipalities"]:
        add(municipality, municipality)
    for alias, target in data.get("aliases", {}).items():
        target_key = normalise(target)
        place = index.get(target_key, Place(target, target))
        add(alias, place.municipality, place.name)
    ambiguous = frozenset(normalise(name) for name in data.get("ambiguous", []))
    return index, ambiguous


_PLACES, _AMBIGUOUS = _load_places()
_PLACE_KEYS = sorted(_PLACES, key=len, reverse=True)
_MAX_PLACE_WORDS = max(len(key.split()) for key in _PLACES)
# First words of names of several words: only there is a longer name worth trying.
_MULTI_WORD_STARTS = frozenset(key.split()[0] for key in _PLACES if " " in key)
_TOKEN = re.compile(r"[^\W_]+")
_APOSTROPHES = ("'", "\u2019")
_FUZZY_KEYS = tuple(key for key in _PLACE_KEYS if len(key.replace(" ", "")) >= 6
                    and key not in _AMBIGUOUS)  # fmt: skip
_ANSWER_PREFIX = re.compile(
    r"^(?:(?:ik|wij|we|i)\s+(?:woon|wonen|live|zit|zitten|kom|komen)(?:\s+(?:in|te|uit|bij|from))?"
    r"|woonachtig\s+(?:in|te)|woonplaats\s+(?:is)?|gemeente|de gemeente|in|te|uit|bij|from|"
    r"near|dat is|het is|it s)\s+"
)
_LOCATIVE_BEFORE = re.compile(r"(?:^|\s)(?:in|te|uit|bij|from|near|gemeente)\s+$")
_SENTENCE_END = re.compile(r"[.!?\n]\s*$")
_NOT_PLACES = frozenset({"jongen", "meisje", "houden", "kinderen", "dochter"})


def _place_mentions(text: str, folded: str) -> Iterator[tuple[int, str, str]]:
    """(start, key, matched text) for every known name in ``folded`` (``text`` folded by
    ``_fold_same_length``), left to right, longest name first at each position, on word
    boundaries. A name glued to a word by an apostrophe ("don't look") does not count."""
    tokens = list(_TOKEN.finditer(folded))
    words = [token.group() for token in tokens]
    for i, first in enumerate(tokens):
        longest = min(_MAX_PLACE_WORDS, len(tokens) - i) if words[i] in _MULTI_WORD_STARTS else 1
        for size in range(longest, 0, -1):
            key = " ".join(words[i : i + size])
            if key in _PLACES:
                start = first.start()
                before = text[max(start - 2, 0) : start]
                glued = len(before) == 2 and before[1] in _APOSTROPHES and before[0].isalpha()
                if not glued:
                    yield start, key, folded[start : tokens[i + size - 1].end()]
                break


def _capitalised(text: str, start: int, matched: str) -> bool:
    """Whether the (last word of the) name was written with a capital: "Best", "'t Look"."""
    return text[start + matched.rfind(" ") + 1].isupper()


def _capitalised_mid_sentence(text: str, start: int, matched: str) -> bool:
    before = text[:start]
    if not _capitalised(text, start, matched) or not before.strip():
        return False
    return not _SENTENCE_END.search(before)


def find_place(text: str) -> Place | None:
    """A woonplaats named inside a free question: exact names only, on word boundaries.

    Names that are also ordinary words ("best", "son", "acht") only count when written with
    a capital in the middle of a sentence.
    """
    folded = _fold_same_length(text)
    for start, key, matched in _place_mentions(text, folded):
        if key in _AMBIGUOUS and not _capitalised_mid_sentence(text, start, matched):
            continue
        return _PLACES[key]
    return None


def _within_one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by at most one insertion, deletion, substitution or
    swap of two neighbouring letters."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return True
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    if la > lb:
        return a[i + 1 :] == b[i:]
    return a[i:] == b[i + 1 :]


def _fuzzy_place(words: list[str]) -> Place | None:
    for size in (3, 2, 1):
        for start in range(len(words) - size + 1):
            window = " ".join(words[start : start + size])
            if window in _NOT_PLACES or len(window.replace(" ", "")) < 5:
                continue
            for key in _FUZZY_KEYS:
                if abs(len(key) - len(window)) <= 1 and _within_one_edit(window, key):
                    return _PLACES[key]
    return None


def parse_place(text: str) -> Place | None:
    """Understand an answer to "in welke plaats woont u?" ("Veldhoven", "wij wonen in
    zeelst", "den bosch", "Eindhovn"): case, accents and punctuation do not matter, and
    names of six letters or more may have one typo."""
    norm = normalise(text)
    if not norm:
        return None
    stripped = norm
    while True:
        shorter = _ANSWER_PREFIX.sub("", stripped, count=1)
        if shorter == stripped:
            break
        stripped = shorter
    if stripped in _PLACES:
        return _PLACES[stripped]
    folded = _fold_same_length(text)
    for start, key, matched in _place_mentions(text, folded):
        if key in _AMBIGUOUS:
            capital = _capitalised(text, start, matched)
            locative = _LOCATIVE_BEFORE.search(folded[:start])
            if not (capital or locative):
                continue
        return _PLACES[key]
    words = stripped.split()
    if len(words) > 4:
        after = re.search(r"\b(?:in|te|uit|bij|from)\s+(\w+(?:\s+\w+){0,2})", norm)
        words = after.group(1).split() if after else []
    return _fuzzy_place(words)
