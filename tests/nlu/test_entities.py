"""Tests for nlu.entities: age, sex and place from answers and from free questions."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
import yaml

import nlu.entities as entities
from nlu.entities import (
    Age,
    Place,
    find_age,
    find_place,
    find_sex,
    normalise,
    parse_age,
    parse_place,
    parse_sex,
)
from nlu.training_data import load_examples

UNBORN = Age(None, unborn=True)
PLACES_FILE = Path(__file__).parents[2] / "nlu" / "data" / "places.yml"


# --------------------------------------------------------------------------- normalise


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Oké, Tweeënhalf! 👍", "oke tweeenhalf"),
        ("'s-Hertogenbosch", "s hertogenbosch"),
        ("Súdwest-Fryslân", "sudwest fryslan"),
        ("ja\n\n  NEE", "ja nee"),
        ("❌", ""),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_normalise_keeps_requested_characters() -> None:
    assert normalise("Mail: Sanne@Example.nl", keep="@.") == "mail sanne@example.nl"


# --------------------------------------------------------------------------- parse_age


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("3", 3.0),
        ("3 jaar", 3.0),
        ("drie", 3.0),
        ("drie jaar", 3.0),
        ("Drie jaar.", 3.0),
        ("18 maanden", 1.5),
        ("18 mnd", 1.5),
        ("3 weken", 0.06),
        ("half jaar", 0.5),
        ("een half jaar", 0.5),
        ("anderhalf", 1.5),
        ("anderhalf jaar", 1.5),
        ("tweeënhalf", 2.5),
        ("tweeenhalf", 2.5),
        ("2,5", 2.5),
        ("2.5", 2.5),
        ("2½", 2.5),
        ("twee en een half jaar", 2.5),
        ("3 jaar en 2 maanden", 3.17),
        ("een", 1.0),
        ("een jaar", 1.0),
        ("0", 0.0),
        ("nul", 0.0),
        ("bijna 4", 4.0),
        ("hij is 7", 7.0),
        ("ze wordt 6 in mei", 6.0),
        ("groep 5", 8.0),
        ("groep 1", 4.0),
        ("brugklas", 12.0),
        ("1e klas middelbare", 12.0),
        ("eerste klas van de middelbare", 12.0),
        ("4 vwo", 15.0),
        ("3 havo", 14.0),
        ("2 vmbo", 13.0),
        ("havo 4", 15.0),
        ("pubertje van 14", 14.0),
        ("pasgeboren", 0.0),
        ("a newborn", 0.0),
        ("elf", 11.0),
        ("twaalf", 12.0),
        ("dertien", 13.0),
        ("zeventien", 17.0),
        ("eenentwintig", 21.0),
        ("tweeëntwintig", 22.0),
        ("vijfentwintig", 25.0),
        ("three", 3.0),
        ("twenty-one", 21.0),
        ("3 years", 3.0),
        ("18 months", 1.5),
        ("she's 4", 4.0),
    ],
)
def test_parse_age_years(text: str, years: float) -> None:
    assert parse_age(text) == Age(years)


@pytest.mark.parametrize(
    "text",
    [
        "zwanger",
        "ik ben zwanger",
        "nog niet geboren",
        "uitgerekend in maart",
        "16 weken zwanger",
        "pregnant",
        "not born yet",
    ],
)
def test_parse_age_unborn(text: str) -> None:
    assert parse_age(text) == UNBORN


@pytest.mark.parametrize(
    "text",
    [
        "",
        "weet ik niet",
        "wil ik niet zeggen",
        "35",
        "42 jaar",
        "om 3 uur",
        "0612345678",
        "jongen",
    ],
)
def test_parse_age_not_understood(text: str) -> None:
    assert parse_age(text) is None


# --------------------------------------------------------------------------- find_age


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("mijn zoon van 3 slaapt slecht", 3.0),
        ("dochter (4) wil niet eten", 4.0),
        ("onze kleine van 18 maanden bijt", 1.5),
        ("een meisje van 9 jaar", 9.0),
        ("mijn zoontje is 2,5 en praat nog weinig", 2.5),
        ("ik ben 14 en mijn ouders maken ruzie", 14.0),
        ("durf het niet tegen mn moeder, ben 14.", 14.0),
        ("mijn dochter zit in groep 3", 6.0),
        ("Hoe help je een kind in groep 6 met plannen?", 9.0),
        ("my 6 year old won't sleep", 6.0),
        ("14yo here, can I talk to someone", 14.0),
        ("My 14 year old son just told me", 14.0),
        ("hoe laat mag een 15 jarige thuis zijn", 15.0),
        ("hoeveel zakgeld voor een 10-jarige?", 10.0),
        ("Ours is 3 weeks old.", 0.06),
        ("zoon is 3 weken en de borstvoeding gaat moeizaam", 0.06),
        ("Ze is 14 maanden en loopt nog niet", 1.17),
        ("ik moet alles 5x zeggen. zoon 6 jaar.", 6.0),
        ("zoon 15, autisme, loopt steeds weg", 15.0),
        ("Onze tweeling van 2,5 praat nog bijna niet", 2.5),
        ("mijn zoon van drie", 3.0),
        ("zoon van tweeënhalf", 2.5),
        ("mijn dochter zit in 4 vwo", 15.0),
        ("mijn zoon van 12 zit in de brugklas", 12.0),
        ("onze pasgeboren dochter huilt veel", 0.0),
        # several children: the first one mentioned
        ("vertellen we het de kinderen (5 en 9)?", 5.0),
        ("mn twee jongens (8 en 10) maken ruzie", 8.0),
        ("alleenstaande moeder van 3. oudste (12) loopt uit de hand, jongste (1)", 12.0),
        # an adult in the sentence is skipped, the child is found
        ("ik ben 40 en mijn zoon van 5 slaat", 5.0),
    ],
)
def test_find_age_in_free_text(text: str, years: float) -> None:
    assert find_age(text) == Age(years)


def test_find_age_pregnancy_in_free_text() -> None:
    assert find_age("ik ben 16 weken zwanger en zo moe") == UNBORN


def test_find_age_skips_the_number_patterns_only_when_they_cannot_match(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The digit pre-check and the ASCII shortcut change no result."""
    texts = [e.text for e in load_examples()] + [
        "zoon van tweeënhalf",
        "dochter van ٣ jaar",  # an Arabic-Indic digit is a digit too
        "mijn zoon (１２) zit op school",
        "ze is twee",
        "Ours is 3 weeks old.",
    ]
    for text in texts:
        decomposed = unicodedata.normalize("NFKD", text)
        stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
        assert entities._strip_accents(text) == stripped
    fast = [find_age(t) for t in texts]
    assert Age(3.0) in fast and Age(12.0) in fast
    monkeypatch.setattr(entities, "_ANY_DIGIT", re.compile(""))  # always "has a digit"
    assert [find_age(t) for t in texts] == fast


@pytest.mark.parametrize(
    "text",
    [
        "hij wordt elke nacht om 3 uur wakker",
        "ik moet het 3 keer zeggen",
        "ik heb 2 kinderen",
        "moeder van 2 kinderen",
        "hij is al 3 weken ziek",
        "mijn dochter hoest al 3 weken",
        "om 20:00 moet hij naar bed",
        "bel me op 0612345678",
        "bel me op 06-12345678",
        "we zijn in 2019 verhuisd",
        "Mijn vader van 80 is gevallen",
        "Ik ben juf van groep 5. Een moeder vroeg me iets",
        "een kleine 3 weken geleden begon het",
        "hij is 2 jaar geleden gevallen",
        "ze is 3 weken ziek geweest",
        "we twijfelen tussen 2 middelbare scholen",
        "ik ben 1 van de ouders in de klas",
        "hij drinkt steeds maar 5 minuutjes",
        "van 0 naar 100 in een seconde",
        "mijn zoon slaapt slecht",
        "",
    ],
)
def test_find_age_ignores_numbers_that_are_not_ages(text: str) -> None:
    assert find_age(text) is None


# --------------------------------------------------------------------------- sex


@pytest.mark.parametrize(
    ("text", "sex"),
    [
        ("jongen", "jongen"),
        ("Jongen!", "jongen"),
        ("meisje", "meisje"),
        ("zoon", "jongen"),
        ("zoontje", "jongen"),
        ("dochter", "meisje"),
        ("dochtertje", "meisje"),
        ("een jongen", "jongen"),
        ("het is een meisje", "meisje"),
        ("geen jongen maar een meisje", "meisje"),
        ("anders", "anders"),
        ("non-binair", "anders"),
        ("boy", "jongen"),
        ("girl", "meisje"),
        ("son", "jongen"),
        ("daughter", "meisje"),
        ("other", "anders"),
        ("he", "jongen"),
        ("she", "meisje"),
        ("hij", "jongen"),
        ("zij", "meisje"),
    ],
)
def test_parse_sex(text: str, sex: str) -> None:
    assert parse_sex(text) == sex


@pytest.mark.parametrize(
    "text",
    ["weet ik nog niet", "jongen of meisje weten we nog niet", "man", "vrouw", "hij is 3", ""],
)
def test_parse_sex_unknown(text: str) -> None:
    assert parse_sex(text) is None


@pytest.mark.parametrize(
    ("text", "sex"),
    [
        ("mijn zoon slaapt slecht", "jongen"),
        ("onze dochter wil niet eten", "meisje"),
        ("ons manneke bijt op de opvang", "jongen"),
        ("mijn meisje is verdrietig", "meisje"),
        ("Mijn kleindochter (6) vertelde iets", "meisje"),
        ("my son is 4", "jongen"),
        ("My 14 year old son just told me", "jongen"),
        ("my daughter cries", "meisje"),
    ],
)
def test_find_sex(text: str, sex: str) -> None:
    assert find_sex(text) == sex


@pytest.mark.parametrize(
    "text",
    [
        "mijn zoon en dochter maken ruzie",
        "hij is moe",
        "zij huilt steeds",
        "mijn broertje pest",
        "wij wonen in Son",
        "Son en Breugel",
        "I live in Son",
        "onze kinderen",
    ],
)
def test_find_sex_none(text: str) -> None:
    assert find_sex(text) is None


# --------------------------------------------------------------------------- places


def test_places_file_lists_all_dutch_municipalities() -> None:
    data = yaml.safe_load(PLACES_FILE.read_text(encoding="utf-8"))
    municipalities = data["municipalities"]
    assert 340 <= len(municipalities) <= 345
    assert len(set(municipalities)) == len(municipalities)
    known = set(municipalities)
    assert set(data["region"].values()) <= known
    assert set(data["aliases"].values()) <= known


@pytest.mark.parametrize(
    ("text", "name", "municipality"),
    [
        ("Veldhoven", "Veldhoven", "Veldhoven"),
        ("in Veldhoven", "Veldhoven", "Veldhoven"),
        ("VELDHOVEN", "Veldhoven", "Veldhoven"),
        ("wij wonen in zeelst", "Zeelst", "Veldhoven"),
        ("Zeelst.", "Zeelst", "Veldhoven"),
        ("ik woon in Meerveldhoven", "Meerveldhoven", "Veldhoven"),
        ("Oerle", "Oerle", "Veldhoven"),
        ("d'Ekker", "d'Ekker", "Veldhoven"),
        ("t look", "'t Look", "Veldhoven"),
        ("veldhoven dorp", "Veldhoven-Dorp", "Veldhoven"),
        ("Eindhoven", "Eindhoven", "Eindhoven"),
        ("ik woon in de buurt van Eindhoven", "Eindhoven", "Eindhoven"),
        ("'s-Hertogenbosch", "'s-Hertogenbosch", "'s-Hertogenbosch"),
        ("den bosch", "'s-Hertogenbosch", "'s-Hertogenbosch"),
        ("Den Haag", "'s-Gravenhage", "'s-Gravenhage"),
        ("Aalst", "Aalst", "Waalre"),
        ("Hoogeloon", "Hoogeloon", "Bladel"),
        ("Nuenen", "Nuenen", "Nuenen, Gerwen en Nederwetten"),
        ("Son", "Son", "Son en Breugel"),
        ("son en breugel", "Son en Breugel", "Son en Breugel"),
        ("best", "Best", "Best"),
        ("in best", "Best", "Best"),
        ("Bergen op Zoom", "Bergen op Zoom", "Bergen op Zoom"),
        ("sudwest fryslan", "Súdwest-Fryslân", "Súdwest-Fryslân"),
        ("Amsterdam", "Amsterdam", "Amsterdam"),
        # one typo in a name of six letters or more
        ("veldhovn", "Veldhoven", "Veldhoven"),
        ("Eindhovn", "Eindhoven", "Eindhoven"),
        ("walkenswaard", "Valkenswaard", "Valkenswaard"),
        ("wij wonen in veldohven", "Veldhoven", "Veldhoven"),
        ("utreht", "Utrecht", "Utrecht"),
        ("Zeels", "Zeelst", "Veldhoven"),
    ],
)
def test_parse_place(text: str, name: str, municipality: str) -> None:
    assert parse_place(text) == Place(name, municipality)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "weet ik niet",
        "wil ik niet zeggen",
        "ik woon best ver weg",
        "ergens in brabant",
        "jongen",
        "houden",
        "veldhvn",  # two typos
        "Oerl",  # names under six letters get no typo tolerance
    ],
)
def test_parse_place_not_understood(text: str) -> None:
    assert parse_place(text) is None


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Wij wonen in Best en mijn zoon huilt", "Best"),
        ("Ik woon in Son.", "Son"),
        ("Wij wonen in Acht", "Acht"),
        ("In Veldhoven is het lastig", "Veldhoven"),
        ("we wonen in zeelst", "Zeelst"),
        ("mijn zoon woont in Den Bosch", "'s-Hertogenbosch"),
        ("we verhuizen naar Eindhoven", "Eindhoven"),
        ("ik woon in 't Look", "'t Look"),
    ],
)
def test_find_place(text: str, name: str) -> None:
    place = find_place(text)
    assert place is not None
    assert place.name == name


@pytest.mark.parametrize(
    "text",
    [
        "het is best lastig",
        "Best lastig dit",  # capitalised, but only because it starts the sentence
        "my son is 4",
        "neem het in acht",
        "Acht jaar is hij",
        "hij delft het onderspit",
        "Don't Look back",
        "de veldhovense school",
        "wij wonen in veldhovn",  # no typo tolerance in free text
        "mijn zoon slaapt slecht",
    ],
)
def test_find_place_skips_ordinary_words(text: str) -> None:
    assert find_place(text) is None
