"""The crisis lexicon: what must be caught, what must not, and the lexicon file itself."""

from __future__ import annotations

import dataclasses
import re

import pytest

import nlu.crisis as crisis
from nlu.crisis import CrisisLexicon, _any_of, crisis_match, default_lexicon, fold
from nlu.training_data import load_examples

# (message, expected category). Written for these tests; not taken from evaluation sets.
POSITIVE: list[tuple[str, str]] = [
    # suicidal thoughts, direct and indirect, child or parent
    ("mijn dochter zegt dat ze zelfmoord wil plegen", "suicide"),
    ("hij heeft het over zelf moord gehad", "suicide"),
    ("Ik vond een afscheidsbrief in de kamer van mijn zoon", "suicide"),
    ("ik zie het echt niet meer zitten", "suicide"),
    ("k zie het allemaal niet meer zitten", "suicide"),
    ("hij wil er niet meer zijn zegt hij", "suicide"),
    ("mn zoon (15) zegt dat hij niet meer wil leven", "suicide"),
    ("ze wil dood", "suicide"),
    ("Mijn dochter praat steeds over dood willen", "suicide"),
    ("ik wil gewoon niet meer wakker worden", "suicide"),
    ("ik hoop dat ik morgen niet meer wakker word", "suicide"),
    ("ik denk erover om er een eind aan te maken", "suicide"),
    ("hij wil een einde aan zijn leven maken", "suicide"),
    ("ze heeft suïcidale gedachten", "suicide"),
    ("de kinderen zijn beter af zonder mij", "suicide"),
    ("hij heeft gezocht hoe je van een flat moet springen", "suicide"),
    ("mijn zoon heeft een overdosis pillen genomen", "suicide"),
    ("het leven heeft geen zin meer voor haar", "suicide"),
    ("my daughter says she wants to die", "suicide"),
    ("I think my son wants to kill himself", "suicide"),
    ("sometimes I just want to end it all", "suicide"),
    # self-harm
    ("mijn dochter snijdt zich", "self_harm"),
    ("ik zag krassen op haar armen, ik denk dat ze het zelf doet", "self_harm"),
    ("hij krast zichzelf met een schaar", "self_harm"),
    ("ze doet aan zelfbeschadiging", "self_harm"),
    ("my son has been cutting himself", "self_harm"),
    # violence at home (partner, parent)
    ("mijn man slaat me als de kinderen slapen", "violence"),
    ("m'n vriend schopt me en ik durf niks te zeggen", "violence"),
    ("mijn stiefvader mishandelt mijn moeder", "violence"),
    ("ik ben bang voor mijn man", "violence"),
    ("er is huiselijk geweld bij ons thuis", "violence"),
    ("mijn ex is weer agressief geworden tegen mij", "violence"),
    ("my husband hits me when he is drunk", "violence"),
    # abuse or neglect, also of someone else's child
    ("het buurmeisje heeft steeds blauwe plekken die ze niet wil uitleggen", "abuse"),
    ("de kinderen van de overburen krijgen thuis geen eten", "abuse"),
    ("ik denk dat het zoontje van mijn vriendin verwaarloosd wordt", "abuse"),
    ("Een kind uit mijn klas wordt door zijn vader geslagen", "abuse"),
    ("haar vader sloeg haar met een riem", "abuse"),
    # sexual abuse
    ("mijn dochter is aangerand door een jongen uit de buurt", "sexual_abuse"),
    ("hij is misbruikt door zijn trainer", "sexual_abuse"),
    ("mijn stiefvader blijft aan me zitten en ik wil dat niet", "sexual_abuse"),
    ("de oppas zat aan haar plassertje", "sexual_abuse"),
    (
        "iemand dreigt naaktfoto's van mijn zoon online te zetten als hij niet betaalt",
        "sexual_abuse",
    ),
    ("my daughter was sexually abused by a neighbour", "sexual_abuse"),
    ("hij is misbruikt door zijn oom, hoe praat ik hier met hem over", "sexual_abuse"),
    ("mijn dochter zit bij een loverboy, hoe bescherm ik haar", "sexual_abuse"),
    ("someone is blackmailing my son with naked pictures", "sexual_abuse"),
    # running away, missing, not safe at home
    ("onze dochter van 14 is weggelopen", "unsafe_home"),
    ("mijn zoon is sinds vannacht weg en neemt zijn telefoon niet op", "unsafe_home"),
    ("ik durf niet meer naar huis", "unsafe_home"),
    ("ik voel me thuis niet veilig", "unsafe_home"),
    ("mijn dochter van 16 is vermist", "unsafe_home"),
    ("my son ran away last night", "unsafe_home"),
    # weapons and threats
    ("mijn zoon heeft een mes op zak", "weapon"),
    ("hij heeft een wapen in huis", "weapon"),
    ("mijn ex dreigt me te vermoorden", "weapon"),
    ("hij heeft gezegd dat hij de kinderen iets aandoet", "weapon"),
    ("mijn broer heeft een pistool", "weapon"),
    ("hij zei: als je weggaat maak ik je af", "weapon"),
    # parent afraid to hurt the baby
    ("ik ben bang dat ik de baby iets aandoe", "baby_harm"),
    ("ik heb hem door elkaar geschud omdat hij niet stopte met huilen", "baby_harm"),
    ("soms ben ik bang dat ik haar pijn ga doen", "baby_harm"),
    ("I'm afraid I will hurt my baby", "baby_harm"),
    # acute danger
    ("mijn peuter heeft vaatwastabletten ingeslikt", "acute_danger"),
]

NEGATIVE: list[str] = [
    # toddlers and siblings hitting: driftbuien / broers_zussen, not crisis
    "mijn zoon slaat zijn broertje",
    "mijn zoon van 3 slaat en bijt als hij zijn zin niet krijgt",
    "onze peuter schopt mij als hij boos is",
    "ze slaan elkaar de hele dag, broers en zussen",
    # idioms with dood, snijden, gek
    "hij is dood moe na school",
    "ik ga dood van het lachen om dat filmpje",
    "ik ben doodmoe van al dat gehuil",
    "die tablet maakt me gek",
    "dat snijdt hout",
    "hij sneed zich per ongeluk aan een mes bij het koken",
    "mijn kind leert met mes en vork eten",
    "mijn vader slaat de deur altijd hard dicht",
    # death and grief: rouw / angst
    "oma is vorige week doodgegaan, hoe vertel ik dat mijn kind",
    "mijn dochter is bang dat wij doodgaan",
    "hoe leg ik uit dat opa er niet meer is",
    "mijn zoon is bang om dood te gaan als hij gaat slapen",
    "ze wil de dood van de hond niet accepteren",
    # sleep and food
    "onze baby wordt 's nachts niet meer wakker, is dat normaal?",
    "ik hoop dat hij vannacht niet meer wakker wordt",
    "hij krijgt geen eten naar binnen bij het avondeten",
    "mijn kind wil niet meer zijn bord leeg eten",
    "hij wil niet meer zijn eigen bed in",
    # everyday phrasing that contains trigger words
    "kan de gemeente daar iets aan doen?",
    "wat kan ik daar als ouder aan doen",
    "mijn peuter wil niet naar huis van de speeltuin",
    "mag mijn zoon met speelgoedwapens spelen?",
    "hij speelt fortnite met wapens, is dat erg?",
    "wat is online grooming en hoe herken ik het?",
    "is het normaal dat peuters aan hun piemel zitten?",
    "mijn zoontje zit steeds aan zijn piemel",
    "mijn dochter is bang voor de man in de kast",
    "de school dreigt hem te laten blijven zitten",
    "mijn zoon dreigt te blijven zitten",
    "hij slaat door in zijn straffen",
    "drugsmisbruik bij jongeren, waar moet ik op letten?",
    "hoe lang mag mijn kind alleen thuis blijven?",
    "mijn peuter heeft altijd blauwe plekken op zijn benen van het vallen",
    "ik kan het niet meer, drie kinderen en geen slaap",
    "my kid is driving me crazy with his screen time",
    "he is bored to death at school",
    "mijn zoon wordt gepest en geslagen op school",
    "mijn zoon is sinds zaterdag weg op kamp en belt niet",
    # prevention and information questions, pets, household chores
    "hoe praat ik met mijn kind over seksueel misbruik, ter preventie",
    "hoe bescherm ik mijn kind tegen loverboys",
    "voorlichting over seksueel misbruik voor kinderen van 8?",
    "maak je huiswerk af zeg ik steeds, maar hij luistert niet",
    "onze kat is weggelopen en mijn dochter is verdrietig",
    "ik werd gek van het gehuil, heb de baby in bed gelegd en ben even weggelopen",
    "de fles goed door elkaar schudden, hoe doe ik dat",
    "mijn zoon heeft een zakmes gekregen van opa, mag dat?",
    "mag mijn kind van 5 met een mes leren snijden?",
    "ik ben bang dat ik iets verkeerd doe bij de opvoeding",
    "hij is zo boos dat hij dreigt zijn kamer kapot te maken",
    "hij dreigt weg te lopen als hij zijn zin niet krijgt",
    "mijn man is altijd zo boos, hij slaat met deuren",
    "hij krijgt klappen van zijn broer",
    "hij heeft wondjes op zijn armen van het eczeem",
    "krassen op zijn arm van de kat",
    "mijn zoon zit steeds aan me te zeuren",
    "mijn dochter van 4 zit steeds aan haar plassertje",
]


@pytest.mark.parametrize(("text", "category"), POSITIVE)
def test_crisis_expressions_are_caught(text: str, category: str) -> None:
    assert crisis_match(text) == category


@pytest.mark.parametrize("text", NEGATIVE)
def test_ordinary_worries_are_not_crisis(text: str) -> None:
    assert crisis_match(text) is None, default_lexicon().hits(text)


@pytest.mark.parametrize(
    "text",
    [
        "ik wil niet meer leven",  # a negation word inside the expression itself
        "ik denk niet dat hij me niet slaat, mijn man slaat me wel",
        "Ik zou nooit zelfmoord plegen maar ik denk er wel aan",
    ],
)
def test_negation_never_suppresses_a_match(text: str) -> None:
    assert crisis_match(text) is not None


@pytest.mark.parametrize("text", ["", "   ", "😭😭😭", "?" * 10, "a" * 20000])
def test_safe_on_odd_input(text: str) -> None:
    assert crisis_match(text) is None


def test_crisis_far_into_a_long_message_is_still_found() -> None:
    text = "We hebben het druk met school en werk. " * 50 + "Mijn man slaat me."
    assert len(text) < 5000
    assert crisis_match(text) == "violence"


def test_fold_expands_chat_speak_and_accents() -> None:
    assert fold("M'n zoon  wil ZN   bord niet") == "mijn zoon wil zijn bord niet"
    assert fold("k zie 't niet meer zitten") == "ik zie het niet meer zitten"
    assert fold("suïcidaal") == "suicidaal"


def test_quick_pre_checks_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skipping the chat-speak and idiom substitutions and the rules with `unless` when
    their pre-check finds nothing gives the same results as always running them."""
    lexicon = default_lexicon()
    texts = [t for t, _ in POSITIVE] + NEGATIVE + [e.text for e in load_examples()]
    texts += ["k ben dood moe", "'k wil 't niet", "em slaat m'n zus", "da's nie waar, ge weet"]

    def results() -> list[object]:
        return [(fold(t), lexicon.prepare(t), lexicon.hits(t), crisis_match(t)) for t in texts]

    fast = results()
    always = (re.compile(""),)
    monkeypatch.setattr(crisis, "_CHAT_ANY", always)
    monkeypatch.setattr(lexicon, "_ignore_any", always)
    categories = {
        name: dataclasses.replace(category, guarded_any=always)
        for name, category in lexicon._categories.items()
    }
    monkeypatch.setattr(lexicon, "_categories", categories)
    assert results() == fast
    assert sum(r[0] != t.lower() for t, r in zip(texts, fast, strict=True)) > 10  # chat-speak
    assert sum(r[1] != r[0] for r in fast) > 5  # idioms
    guarded = [r.pattern for c in categories.values() for r in c.guarded]
    assert sum(any(p.search(r[1]) for p in guarded) for r in fast) > 5


def test_any_of_matches_where_one_of_the_patterns_does() -> None:
    patterns = [
        re.compile(r"\bdood\s+moe\b"),
        re.compile(r"(?:(?<=\s)|^)'t\b"),
        re.compile(r"\b(a)\1"),  # a group: stays on its own
        re.compile(r"\bvork\b|\bmes\b"),
    ]
    quick = _any_of(patterns)
    assert len(quick) == 3
    for text in ["", "ik ben dood moe", "'t is zo", "aa", "baa", "mes en vork", "messen", "mest"]:
        expected = any(p.search(text) for p in patterns)
        assert any(p.search(text) for p in quick) == expected, text


def test_every_category_has_a_positive_test() -> None:
    covered = {category for _, category in POSITIVE}
    assert covered == set(default_lexicon().categories)


def test_unless_clause_only_drops_its_own_sentence() -> None:
    lexicon = CrisisLexicon.from_dict(
        {"categories": {"weapon": {"patterns": [{"pattern": r"\bwapen\b", "unless": r"\bspeel"}]}}}
    )
    assert lexicon.match("hij speelt met een wapen") is None
    assert lexicon.match("hij speelt buiten. hij heeft een wapen") == "weapon"


def test_bad_lexicon_is_rejected_with_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown fragment"):
        CrisisLexicon.from_dict({"categories": {"x": {"patterns": [r"{nope}"]}}})
    with pytest.raises(ValueError, match="bad regex"):
        CrisisLexicon.from_dict({"categories": {"x": {"patterns": ["(unclosed"]}}})


def test_rules_with_an_unless_keep_their_quick_pre_check() -> None:
    lexicon = CrisisLexicon.from_dict(
        {
            "categories": {
                "weapon": {
                    "patterns": [
                        {"pattern": r"\bwapen\b", "unless": r"\bspeel"},
                        {"pattern": r"\bmes\b", "unless": r"\bkeuken"},
                    ]
                }
            },
            "ignore": [r"\bdood ?moe\b", r"\bdat snijdt hout\b"],
        }
    )
    (category,) = lexicon._categories.values()
    assert len(category.guarded_any) == 1  # the two rules in one quick search
    assert len(lexicon._ignore_any) == 1
    assert lexicon.match("hij heeft een mes") == "weapon"
    assert lexicon.match("het mes ligt in de keuken") is None
