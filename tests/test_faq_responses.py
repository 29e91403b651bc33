"""Checks on the FAQ answers (nlu/data/responses/faq.yml) against the shared FAQ topic list.

Every topic id in shared/domain/faq_topics.yml needs an ``utter_faq/<id>`` response with an
English variation (slot condition ``language == en``) and a Dutch default (no condition, last),
each 60-150 words, plain text, without the word "toestemming" and without invented phone numbers.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
FAQ_FILE = REPO_ROOT / "nlu" / "data" / "responses" / "faq.yml"
TOPICS_FILE = Path(__file__).resolve().parents[2] / "shared" / "domain" / "faq_topics.yml"

MIN_WORDS = 60
MAX_WORDS = 150
EN_CONDITION = [{"type": "slot", "name": "language", "value": "en"}]

# The only phone numbers an answer may contain (brief: never invent numbers).
ALLOWED_PHONE_NUMBERS = {"0800-2000", "0800-0113", "0800-0432", "14 040"}
ALLOWED_SHORT_NUMBERS = {"112", "113"}
PHONE_LIKE = re.compile(r"\d[\d \-]{4,}\d")
LONG_NUMBER = re.compile(r"\b\d{3,}\b")
MARKDOWN = re.compile(r"\*\*|__|`|\[|\]\(|^#|^\s*[-*+] |^\s*\d+\. |https?://", re.MULTILINE)

# Topics where danger can be involved: the answer must say when to get urgent help.
DANGER_TOPICS = {"huilen_baby", "online_veiligheid", "pesten", "puberteit", "rouw", "alcohol_drugs"}

# Where to get more help: a named partner and/or the offer to pass the question on.
HELP_MARKERS = ("ZuidZorg", "GGD", "Lumens", "Cordaad", "MEE", "Novadic-Kentron")
HANDOVER_NL = "zet ik uw vraag door"
HANDOVER_EN = "pass your question on"


def _load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


TOPIC_IDS: list[str] = [topic["id"] for topic in _load_yaml(TOPICS_FILE)["topics"]]


@pytest.fixture(scope="module")
def responses() -> dict[str, list[dict[str, Any]]]:
    data = _load_yaml(FAQ_FILE)
    assert str(data["version"]) == "3.1"
    return data["responses"]


def _texts(variations: list[dict[str, Any]]) -> tuple[str, str]:
    """Return (english, dutch) texts; fail when the Rasa 3 structure is not as agreed."""
    dutch = variations[-1]
    assert "condition" not in dutch, "the Dutch default must come last, without a condition"
    english = [v for v in variations if v.get("condition") == EN_CONDITION]
    assert len(english) == 1, "expected exactly one English variation (language == en)"
    return english[0]["text"], dutch["text"]


def _word_count(text: str) -> int:
    return len(text.split())


def test_topic_list_is_complete() -> None:
    assert len(TOPIC_IDS) == len(set(TOPIC_IDS)) >= 31


def test_every_topic_has_a_faq_key(responses: dict[str, list[dict[str, Any]]]) -> None:
    names = {key.removeprefix("utter_faq/") for key in responses if key.startswith("utter_faq/")}
    assert names >= set(TOPIC_IDS)


@pytest.mark.parametrize("topic", TOPIC_IDS)
def test_answer_per_topic(responses: dict[str, list[dict[str, Any]]], topic: str) -> None:
    key = f"utter_faq/{topic}"
    assert key in responses, f"missing {key}"
    english, dutch = _texts(responses[key])
    for lang, text in (("en", english), ("nl", dutch)):
        words = _word_count(text)
        assert MIN_WORDS <= words <= MAX_WORDS, f"{key} [{lang}] has {words} words"
        assert "toestemming" not in text.lower(), f"{key} [{lang}] uses 'toestemming'"
        assert not MARKDOWN.search(text), f"{key} [{lang}] contains Markdown or a link"
        stripped = text
        for number in PHONE_LIKE.findall(text):
            assert number in ALLOWED_PHONE_NUMBERS, f"{key} [{lang}] has number {number!r}"
            stripped = stripped.replace(number, " ")
        for number in LONG_NUMBER.findall(stripped):
            assert number in ALLOWED_SHORT_NUMBERS, f"{key} [{lang}] has number {number!r}"


@pytest.mark.parametrize("topic", TOPIC_IDS)
def test_answer_points_to_more_help(
    responses: dict[str, list[dict[str, Any]]], topic: str
) -> None:
    english, dutch = _texts(responses[f"utter_faq/{topic}"])
    for text, handover in ((english, HANDOVER_EN), (dutch, HANDOVER_NL)):
        assert handover in text or any(marker in text for marker in HELP_MARKERS)


@pytest.mark.parametrize("topic", sorted(DANGER_TOPICS))
def test_danger_topics_say_when_to_get_urgent_help(
    responses: dict[str, list[dict[str, Any]]], topic: str
) -> None:
    english, dutch = _texts(responses[f"utter_faq/{topic}"])
    assert "112" in english and "112" in dutch


def test_privacy_answer_names_the_commands(responses: dict[str, list[dict[str, Any]]]) -> None:
    english, dutch = _texts(responses["utter_faq/privacy"])
    for text in (english, dutch):
        for command in ("/privacy", "/mijngegevens", "/vergeet"):
            assert command in text
        assert "4" in text  # retention: at most 4 weeks


def test_cjg_info_has_hours_and_partners(responses: dict[str, list[dict[str, Any]]]) -> None:
    partners = _load_yaml(TOPICS_FILE.parent / "partners.yml")["partners"]
    cjg_partner_words = {p["name"].split()[0].rstrip(",") for p in partners if p["cjg_partner"]}
    english, dutch = _texts(responses["utter_faq/cjg_info"])
    for text in (english, dutch):
        assert "9:00" in text and "12:00" in text
        for word in cjg_partner_words:
            assert word in text, f"cjg_info does not name partner {word}"
