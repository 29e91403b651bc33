"""Telling Dutch from English in a chat message, fast and without a model.

Scores frequent function words and chat-speak of both languages plus a few
letter patterns typical of each (Dutch "ij", "oe", "sch"; English "th", "wh",
"ing"). Dutch is the default: a message is English only when the English
evidence is clearly stronger (short, ambiguous and emoji-only text -> "nl").
Flemish forms ("gij", "amai", "ne") count as Dutch.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Language = Literal["nl", "en"]


def _words(block: str) -> frozenset[str]:
    return frozenset(block.split())


# Words that are (almost) only Dutch. Words shared by both languages ("is", "in",
# "we", "me", "of", "want", "kind", "baby", "hem", "die", "door") are left out.
_NL_WORDS = _words(
    """
    de het een en ik je jij jou jouw u uw mijn mn m'n zijn zn z'n haar hij ze zij wij ons
    onze jullie hun hen niet geen nee ja wat hoe waarom wanneer waar welke welk wie dat deze
    dit met op voor van naar bij om te er heeft heb hebben hebt hadden wordt word worden
    werd kan kun kunt kunnen moet moeten mag mogen wil wilt willen zou zal zullen ben bent
    waren maar ook nog al toch dan als omdat dus echt gewoon even eigenlijk misschien heel
    erg veel weinig beetje iets niks niets alles iemand niemand altijd nooit soms vaak
    steeds nu nou elke elk ieder alleen samen mee uit aan over onder tussen tegen zonder
    sinds tot na vanaf hoeveel hoelang zoon dochter kind kinderen kindje peuter kleuter
    puber ouders ouder moeder vader mama papa oma opa juf meester thuis zo slapen eten
    huilen bang boos hoi hallo hoii doei dag bedankt dankjewel dankuwel alsjeblieft
    alstublieft graag goedemorgen goedemiddag goedenavond welterusten oke oké prima top fijn
    ff effe wss idd ipv bv evt mss kweet nie da gij ge ne amai allee jongens vind vindt weet
    weten denk denkt zeg zegt gaat ga gaan doet doen doe krijg krijgt jaar jaren maanden
    maand weken dagen nacht avond ochtend
    """
)

_EN_WORDS = _words(
    """
    the a an and i you your yours my mine he she it its we our ours they them their this
    that these those what how why when where which who whom whose not no yes with on for
    from to at by about into than then there here are am were be been being has have having
    does do did doing can could should would will shall may might must wants wanted need
    needs but also still just only very really some any every all always never sometimes
    often now again because if so or too much many more most something nothing anything
    someone anyone everyone son daughter child children kids kid toddler parents parent
    mother father mom mum dad grandma grandpa teacher home sleep eat eating crying afraid
    angry hi hello hey thanks thank please bye goodbye okay sure great morning evening night
    i'm i've i'd i'll don't doesn't didn't can't cannot won't isn't aren't wasn't it's
    what's that's there's he's she's we're they're you're let's know think say says go goes
    going get gets got make makes help year years old months month weeks days day
    """
)

# Letter patterns, counted per occurrence with a small weight.
_NL_CHARS = re.compile(r"ij|oe|aa|uu|ui|eu|sch|cht|tje|gel|lijk")
_EN_CHARS = re.compile(r"th|wh|sh|ing\b|ould\b|ght|\by\w|w\b|ck")

_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")

_WORD_WEIGHT = 1.0
_CHAR_WEIGHT = 0.15
_MIN_EN_SCORE = 1.8
_EN_MARGIN = 1.25


def _fold(text: str) -> str:
    text = text.replace("\u2019", "'").replace("`", "'").lower()
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def language_scores(text: str) -> tuple[float, float]:
    """(Dutch score, English score) of a message; for tests and tuning."""
    folded = _fold(text[:2000])
    tokens = _TOKEN.findall(folded)
    nl = sum(_WORD_WEIGHT for t in tokens if t in _NL_WORDS)
    en = sum(_WORD_WEIGHT for t in tokens if t in _EN_WORDS)
    letters = " ".join(tokens)
    nl += _CHAR_WEIGHT * len(_NL_CHARS.findall(letters))
    en += _CHAR_WEIGHT * len(_EN_CHARS.findall(letters))
    return nl, en


def detect_language(text: str) -> Language:
    """ "nl" or "en"; Dutch unless the English evidence is clearly stronger."""
    if not text:
        return "nl"
    nl, en = language_scores(text)
    if en >= _MIN_EN_SCORE and en > nl * _EN_MARGIN:
        return "en"
    return "nl"
