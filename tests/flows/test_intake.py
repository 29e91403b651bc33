"""Telling a plain answer from a question before the conversation's step is known."""

from __future__ import annotations

import pytest

from flows.intake import is_plain_answer, may_be_plain_answer
from flows.state import Step

PLAIN = [
    "ja",
    "Nee",
    "Veldhoven",
    "9",
    "14 jaar",
    "meisje",
    "jongen",
    "06-48213579, liever gebeld",
    "ouder@voorbeeld.nl",
    "zeg ik niet",
    "klopt",
]
NOT_PLAIN = [
    "hoi",
    "Sanne",
    "mijn dochter van 3 slaapt heel slecht",
    "help",
    "🙂",
    "hoe vraag ik een paspoort aan",
]


@pytest.mark.parametrize("text", PLAIN)
def test_a_plain_answer_to_some_question_is_recognised(text: str) -> None:
    assert may_be_plain_answer(text)
    assert any(is_plain_answer(step, text) for step in Step)  # the guess agrees


@pytest.mark.parametrize("text", NOT_PLAIN)
def test_questions_names_and_greetings_are_not_plain_answers(text: str) -> None:
    assert not may_be_plain_answer(text)
    assert not any(is_plain_answer(step, text) for step in Step)
