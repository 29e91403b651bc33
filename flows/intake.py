"""Intake answers: woonplaats, leeftijd, geslacht, contact details and name.

Pure functions over a `Question`: they parse an answer (with the entity parsers of
`nlu`) and settle the slot, or say why they could not.
"""

from __future__ import annotations

import re
from enum import Enum

from flows.state import INTAKE_STEPS, Question, Slot, Step
from flows.texts import Catalogue
from nlu.answers import (
    has_contact_detail,
    invalid_phone_like,
    is_decline,
    parse_contact,
    parse_yes_no,
)
from nlu.entities import find_age, find_place, find_sex, parse_age, parse_place, parse_sex

# An answer this long that is not understood is taken as more about the question.
EXTRA_TEXT_MIN_WORDS = 6
# At most this many words, and it reads as the answer asked for: a plain answer.
PLAIN_ANSWER_MAX_WORDS = 3
# Steps whose question is answered with yes or no.
YES_NO_STEPS = (Step.HELPED, Step.DISCLOSE, Step.SUMMARY, Step.CRISIS_OFFER, Step.FORGET_CONFIRM)
# A phone number has at least this many digits (see may_be_plain_answer).
_MIN_CONTACT_DIGITS = re.compile(r"(?:\D*\d){9}")


class Outcome(Enum):
    OK = "ok"
    FAILED = "failed"
    EXTRA = "extra"  # not an answer but more text about the question
    PARTIAL = "partial"  # understood, but something is still missing


def prefill(question: Question) -> None:
    """Take what the parent already told in the question, so we do not ask again."""
    text = question.text
    if question.age_slot == Slot.OPEN:
        age = find_age(text)
        if age is not None:
            question.age_years, question.age_unborn = age.years, age.unborn
            question.age_slot = Slot.GIVEN
    if question.sex_slot == Slot.OPEN and not question.age_unborn:
        sex = find_sex(text)
        if sex is not None:
            question.sex, question.sex_slot = sex, Slot.GIVEN
    if question.place_slot == Slot.OPEN:
        place = find_place(text)
        if place is not None:
            question.place, question.place_slot = place.name, Slot.GIVEN


def is_plain_answer(step: Step, text: str) -> bool:
    """`text` is a short, plain answer to the question of `step` ("meisje" to geslacht).

    Such an answer is not read as a crisis on the classifier's guess alone (a single word
    gives it little to go on); the crisis lexicon still checks every message.
    """
    if len(text.split()) > PLAIN_ANSWER_MAX_WORDS:
        return False
    if step in INTAKE_STEPS and is_decline(text):
        return True
    if step == Step.PLACE:
        return parse_place(text) is not None
    if step == Step.AGE:
        return parse_age(text) is not None
    if step == Step.SEX:
        return parse_sex(text) is not None
    if step == Step.CONTACT:
        return has_contact_detail(text)
    if step in YES_NO_STEPS:
        return parse_yes_no(text) is not None
    return False


def may_be_plain_answer(text: str) -> bool:
    """A quick guess whether `is_plain_answer` holds for `text` at some step.

    Exact place names only (no typos) and contact details only by their digits or "@":
    a wrong guess costs a little time, never a different answer.
    """
    if len(text.split()) > PLAIN_ANSWER_MAX_WORDS:
        return False
    return (  # the cheapest first
        "@" in text
        or _MIN_CONTACT_DIGITS.match(text) is not None
        or find_place(text) is not None
        or parse_sex(text) is not None
        or is_decline(text)
        or parse_yes_no(text) is not None
        or parse_age(text) is not None
    )


def apply_answer(question: Question, step: Step, answer: str) -> Outcome:
    """Settle the slot of `step` from the parent's answer (or a button value)."""
    if answer == "decline" or is_decline(answer):
        _set_slot(question, step, Slot.DECLINED)
        return Outcome.OK
    if step == Step.PLACE:
        place = parse_place(answer)
        if place is not None:
            question.place, question.place_slot = place.name, Slot.GIVEN
            return Outcome.OK
    elif step == Step.AGE:
        age = parse_age(answer)
        if age is not None:
            question.age_years, question.age_unborn = age.years, age.unborn
            question.age_slot = Slot.GIVEN
            if age.unborn:
                question.sex, question.sex_slot = None, Slot.OPEN
            return Outcome.OK
    elif step == Step.SEX:
        sex = parse_sex(answer)
        if sex is not None:
            question.sex, question.sex_slot = sex, Slot.GIVEN
            return Outcome.OK
    if len(answer.split()) >= EXTRA_TEXT_MIN_WORDS:
        return Outcome.EXTRA
    return Outcome.FAILED


def mark_unknown(question: Question, step: Step) -> None:
    _set_slot(question, step, Slot.UNKNOWN)


def _set_slot(question: Question, step: Step, slot: Slot) -> None:
    if step == Step.PLACE:
        question.place, question.place_slot = None, slot
    elif step == Step.AGE:
        question.age_years, question.age_unborn, question.age_slot = None, False, slot
    elif step == Step.SEX:
        question.sex, question.sex_slot = None, slot


def apply_contact(question: Question, answer: str) -> Outcome:
    """Phone number and/or e-mail address, preference and maybe a name."""
    if answer in ("phone", "email"):
        question.prefers = answer
        return Outcome.OK if _reachable(question) else Outcome.PARTIAL
    contact = parse_contact(answer)
    if contact.phone:
        question.phone = contact.phone
    if contact.email:
        question.email = contact.email
    if contact.prefers:
        question.prefers = contact.prefers
    if contact.name and question.name is None:
        question.name = contact.name
    if contact.anonymous:
        question.anonymous = True
    if contact.phone or contact.email:
        return Outcome.OK
    if invalid_phone_like(answer) or "@" in answer:
        return Outcome.FAILED
    if contact.prefers or contact.name or contact.anonymous:
        return Outcome.PARTIAL if not _reachable(question) else Outcome.OK
    return Outcome.FAILED


def _reachable(question: Question) -> bool:
    return bool(question.phone or question.email)


def apply_name(question: Question, answer: str) -> bool:
    """A first name, 'anoniem', or a refusal (which also means anonymous)."""
    if answer == "decline" or is_decline(answer):
        question.anonymous = True
        return True
    contact = parse_contact(answer)
    if contact.anonymous:
        question.anonymous = True
        return True
    if contact.name:
        question.name = contact.name
        return True
    words = answer.strip().split()
    if len(words) == 1 and words[0].isalpha() and 2 <= len(words[0]) <= 30:
        question.name = words[0].capitalize()
        return True
    return False


# --- how the values read in a room post or in /mijngegevens (Dutch for staff) ---


def _slot_word(slot: Slot, catalogue: Catalogue, lang: str) -> str:
    if slot == Slot.DECLINED:
        return catalogue.get("value_declined_word", lang)
    return catalogue.get("value_unknown_word", lang)


def describe_place(question: Question, catalogue: Catalogue, lang: str = "nl") -> str:
    if question.place_slot == Slot.GIVEN and question.place:
        return question.place
    return _slot_word(question.place_slot, catalogue, lang)


def describe_age(question: Question, catalogue: Catalogue, lang: str = "nl") -> str:
    if question.age_slot != Slot.GIVEN:
        return _slot_word(question.age_slot, catalogue, lang)
    if question.age_unborn:
        return catalogue.get("value_unborn", lang)
    years = question.age_years or 0.0
    if years < 2:
        return catalogue.get("age_months", lang, months=str(round(years * 12)))
    shown = f"{years:.1f}".rstrip("0").rstrip(".").replace(".", ",")
    return catalogue.get("age_years", lang, years=shown)


def describe_sex(question: Question, catalogue: Catalogue, lang: str = "nl") -> str:
    if question.age_unborn:
        return catalogue.get("value_unborn", lang)
    if question.sex_slot == Slot.GIVEN and question.sex:
        return catalogue.get(f"sex_{question.sex}", lang)
    return _slot_word(question.sex_slot, catalogue, lang)


def describe_contact(question: Question, catalogue: Catalogue, lang: str = "nl") -> str:
    parts: list[str] = []
    if question.name:
        parts.append(question.name)
    elif question.anonymous:
        parts.append(catalogue.get("anonymous", lang))
    if question.phone:
        parts.append(question.phone)
    if question.email:
        parts.append(question.email)
    if question.prefers:
        parts.append(catalogue.get(f"prefers_{question.prefers}", lang))
    if not (question.phone or question.email):
        parts.append(catalogue.get("contact_none", lang))
    return ", ".join(parts)
