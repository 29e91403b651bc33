"""Dutch/English detection on chat messages: Dutch unless English is clearly stronger."""

from __future__ import annotations

import pytest

from nlu.language import detect_language, language_scores

DUTCH = [
    "mijn zoon van 3 slaapt slecht, wat kan ik doen?",
    "Hoe laat mag een 15-jarige thuis zijn?",
    "k weet nie meer wat ik moet doen met mn dochter",
    "zindelijkheidstraining tips pls",
    "hoeveel zakgeld voor een 10-jarige?",
    "moet ne kleine klusjes doen voor zijn zakgeld? wat vinde gij",
    "LUIZEN. alweer. amai, hoe geraak ik daar ooit vanaf?",
    "wss normaal maar k word er gek van",
    "Is het normaal dat mijn baby zoveel huilt?",
    "mijn puber gamet de hele dag, is dat erg",
    "wat is het cjg eigenlijk",
    "mag mn dochter van 4 vegetarisch eten?",
    "hij luistert gewoon NIET. ik moet alles 5x zeggen",
    "ik ben 13 en mn moeder en ik hebben de hele tijd ruzie",
    "Kan iemand mij terugbellen over de borstvoeding?",
    "Mijn zoon heeft ADHD, wat kunnen wij thuis doen?",
    "school begint weer, tips voor huiswerk?",
    "onze baby wil de fles niet, help",
]

ENGLISH = [
    "My son is 15 months old and still refuses all solid food. Could a nurse call me?",
    "What's a good bedtime routine for a 3 year old?",
    "Is this chat anonymous? I don't want my information passed on.",
    "how do I set rules for my 7 year old without a power struggle",
    "my daughter says she wants to die",
    "We speak English at home but live in the Netherlands.",
    "can someone help me with my toddler's tantrums",
    "im 15 and everyone at parties drinks, how do i say no",
    "Hi, I have a question about my baby",
    "thanks for the help!",
    "When does a baby get the first vaccinations in the Netherlands?",
]

# Short, ambiguous or symbol-only: Dutch is the default.
DEFAULT_DUTCH = [
    "",
    "ok",
    "hi",
    "👍",
    "😭😭😭",
    "???",
    "12",
    "help",
    "baby",
    "Veldhoven",
    "hpv prik",
]


@pytest.mark.parametrize("text", DUTCH)
def test_dutch_messages(text: str) -> None:
    assert detect_language(text) == "nl"


@pytest.mark.parametrize("text", ENGLISH)
def test_english_messages(text: str) -> None:
    assert detect_language(text) == "en"


@pytest.mark.parametrize("text", DEFAULT_DUTCH)
def test_short_or_ambiguous_text_defaults_to_dutch(text: str) -> None:
    assert detect_language(text) == "nl"


def test_dutch_with_an_english_loanword_stays_dutch() -> None:
    text = "mijn dochter wil een eigen phone, vanaf welke leeftijd is dat ok"
    assert detect_language(text) == "nl"


def test_scores_favour_the_language_of_the_text() -> None:
    nl, en = language_scores("the kids are going to school and they are happy")
    assert en > nl
    nl, en = language_scores("de kinderen gaan naar school en ze zijn blij")
    assert nl > en


def test_very_long_input_is_handled() -> None:
    assert detect_language("the " * 10000) == "en"
    assert detect_language("\x00" * 10000) == "nl"
