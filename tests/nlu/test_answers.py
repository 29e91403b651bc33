"""Tests for nlu.answers: yes/no, declining, asking for a person, contact details, choices."""

from __future__ import annotations

import pytest

from nlu.answers import (
    Contact,
    invalid_phone_like,
    is_decline,
    parse_choice,
    parse_contact,
    parse_yes_no,
    wants_person,
)

# --------------------------------------------------------------------------- declining


@pytest.mark.parametrize(
    "text",
    [
        "wil ik niet zeggen",
        "Wil ik liever niet zeggen.",
        "zeg ik liever niet",
        "liever niet",
        "geen zin om te zeggen",
        "gaat je niks aan",
        "gaat je niets aan!",
        "prefer not to say",
        "rather not",
        "I'd rather not",
        "nee dat zeg ik niet",
    ],
)
def test_is_decline(text: str) -> None:
    assert is_decline(text)


@pytest.mark.parametrize("text", ["Veldhoven", "3", "ja", "nee", "jongen", "ik weet het niet"])
def test_is_decline_not_for_answers(text: str) -> None:
    assert not is_decline(text)


# --------------------------------------------------------------------------- yes / no


@pytest.mark.parametrize(
    "text",
    [
        "ja",
        "Ja!",
        "jaaaa",
        "jawel",
        "jazeker",
        "ok",
        "oké",
        "okee",
        "k",
        "prima",
        "goed",
        "is goed",
        "klopt",
        "👍",
        "✅",
        "Ja 👍",
        "yes",
        "yep",
        "sure",
        "that's fine",
        "geen probleem",
        "ja maar niet aan de gemeente",
        "het heeft geholpen",
        "dankjewel!",
    ],
)
def test_parse_yes(text: str) -> None:
    assert parse_yes_no(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "nee",
        "neeee",
        "neen",
        "nope",
        "niet goed",
        "liever niet",
        "❌",
        "👎",
        "no",
        "nee hoor",
        "nee het heeft niet geholpen",
        "het heeft niet geholpen",
        "niet echt",
        "zeker niet",
        "I don't think so",
    ],
)
def test_parse_no(text: str) -> None:
    assert parse_yes_no(text) is False


@pytest.mark.parametrize(
    "text", ["weet ik niet", "k weet het niet", "misschien", "not sure", "hallo", "mwah", ""]
)
def test_parse_yes_no_unsure(text: str) -> None:
    assert parse_yes_no(text) is None


# --------------------------------------------------------------------------- asking for a person


@pytest.mark.parametrize(
    "text",
    [
        "kan ik iemand spreken",
        "ik wil een mens",
        "echte persoon graag",
        "medewerker",
        "bel mij",
        "kan iemand me bellen?",
        "mag ik teruggebeld worden",
        "ik wil graag met iemand praten",
        "ik wil geen bot",
        "speak to someone",
        "I want a real person",
    ],
)
def test_wants_person(text: str) -> None:
    assert wants_person(text)


@pytest.mark.parametrize(
    "text",
    [
        "mijn zoon slaapt slecht",
        "ik ben moe",
        "iemand pest mijn dochter",
        "nee",
        "ik heb al met de juf gesproken",
        "niemand begrijpt me",
    ],
)
def test_wants_person_not(text: str) -> None:
    assert not wants_person(text)


# --------------------------------------------------------------------------- contact details


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("06-12345678", "+31612345678"),
        ("06 1234 5678", "+31612345678"),
        ("0612345678", "+31612345678"),
        ("06 12 34 56 78", "+31612345678"),
        ("+31 6 12345678", "+31612345678"),
        ("0031612345678", "+31612345678"),
        ("040-1234567", "+31401234567"),
        ("je kunt me bereiken op 06-12345678 na 18 uur", "+31612345678"),
    ],
)
def test_parse_contact_phone(text: str, phone: str) -> None:
    assert parse_contact(text).phone == phone


@pytest.mark.parametrize("text", ["0800-2000", "14 040", "061234567", "+32 470 12 34 56", "3"])
def test_parse_contact_no_personal_dutch_phone(text: str) -> None:
    assert parse_contact(text).phone is None


@pytest.mark.parametrize(
    ("text", "email"),
    [
        ("sanne@example.com", "sanne@example.com"),
        ("mail me maar: Sanne@Example.COM", "Sanne@example.com"),
        ("mijn mail is sanne.de-vries+cjg@gmail.com.", "sanne.de-vries+cjg@gmail.com"),
    ],
)
def test_parse_contact_email(text: str, email: str) -> None:
    assert parse_contact(text).email == email


@pytest.mark.parametrize("text", ["sanne@gmail", "x@y..nl", "@sanne"])
def test_parse_contact_invalid_email(text: str) -> None:
    assert parse_contact(text).email is None


@pytest.mark.parametrize(
    ("text", "prefers"),
    [
        ("liever gebeld", "phone"),
        ("bel me maar", "phone"),
        ("bel me maar op 0612345678", "phone"),
        ("call me at 0612345678", "phone"),
        ("liever gemaild", "email"),
        ("mail me maar", "email"),
        ("niet bellen, liever mailen: a@b.nl", "email"),
        ("0612345678", None),
        ("Sanne", None),
    ],
)
def test_parse_contact_preference(text: str, prefers: str | None) -> None:
    assert parse_contact(text).prefers == prefers


@pytest.mark.parametrize("text", ["anoniem", "Anoniem graag", "anonymous please"])
def test_parse_contact_anonymous(text: str) -> None:
    contact = parse_contact(text)
    assert contact.anonymous
    assert contact.name is None


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("ik ben Sanne", "Sanne"),
        ("mijn naam is sanne", "Sanne"),
        ("noem me Kim", "Kim"),
        ("naam: Joost", "Joost"),
        ("je kunt me Anna noemen", "Anna"),
        ("I'm Anna", "Anna"),
        ("Sanne", "Sanne"),
        ("ik ben Anne-Marie", "Anne-Marie"),
        ("ik heet Jan de Vries", "Jan"),
    ],
)
def test_parse_contact_name(text: str, name: str) -> None:
    assert parse_contact(text).name == name


@pytest.mark.parametrize(
    "text",
    ["ik ben moe", "Ja", "Prima", "Eindhoven", "Ik ben de moeder van Tim", "0612345678", ""],
)
def test_parse_contact_no_name(text: str) -> None:
    assert parse_contact(text).name is None


def test_parse_contact_everything_in_one_message() -> None:
    assert parse_contact("Met Sanne, bel me maar op 06 12 34 56 78") == Contact(
        phone="+31612345678", email=None, prefers="phone", name="Sanne", anonymous=False
    )
    assert parse_contact("Sanne, 0612345678").name == "Sanne"


@pytest.mark.parametrize(
    "text",
    ["0612345", "061234567", "06123456789", "06 1234 567", "040-12345", "+31 6 1234", "123456789"],
)
def test_invalid_phone_like(text: str) -> None:
    assert invalid_phone_like(text)
    assert parse_contact(text).phone is None


@pytest.mark.parametrize(
    "text",
    [
        "0612345678",
        "bel me op 06-12345678",
        "mijn zoon is 3",
        "geboren op 12-03-2019",
        "om 20:00",
        "in 2019",
        "sanne@example.com",
        "anoniem",
    ],
)
def test_not_invalid_phone_like(text: str) -> None:
    assert not invalid_phone_like(text)


# --------------------------------------------------------------------------- choices

CONTACT_OPTIONS = {
    "phone": ["bellen", "telefoon", "bel"],
    "email": ["mail", "e-mail", "📧"],
    "anonymous": ["anoniem"],
}


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Bellen", "phone"),
        ("liever per mail", "email"),
        ("E-mail", "email"),
        ("📧", "email"),
        ("anoniem graag", "anonymous"),
        ("niet bellen maar mail", "email"),
        ("phone", "phone"),
        ("bel of mail", None),
        ("hallo", None),
        ("", None),
    ],
)
def test_parse_choice(text: str, key: str | None) -> None:
    assert parse_choice(text, CONTACT_OPTIONS) == key


def test_parse_choice_prefers_the_longer_overlapping_option() -> None:
    options = {"yes": ["ja"], "yes_but": ["ja maar"]}
    assert parse_choice("ja maar niet nu", options) == "yes_but"
    assert parse_choice("nou ja", options) == "yes"


@pytest.mark.parametrize(
    ("text", "numbers"),
    [("14 040", 1), ("bel 14040", 1), ("1404", 0), ("112", 0), ("ja", 0), ("1 2 3 4 x 5", 0)],
)
def test_short_numbers_are_still_found_and_shorter_digit_runs_skip_the_matcher(
    text: str, numbers: int
) -> None:
    import phonenumbers

    from nlu.answers import _find_phone

    matcher = phonenumbers.PhoneNumberMatcher(text, "NL", leniency=phonenumbers.Leniency.VALID)
    assert len(list(matcher)) == numbers  # what the matcher itself finds
    assert len(_find_phone(text)[1]) == numbers
