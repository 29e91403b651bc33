"""Checks that the English text catalogue (flows/texts/en.yml) matches the Dutch one (nl.yml).

Same keys, same {placeholders}, every parent-facing text translated, list lengths kept, and the
disclosure check-in never worded as "toestemming" / "consent".
"""

from __future__ import annotations

from pathlib import Path
from string import Formatter
from typing import Any

import pytest
import yaml

TEXTS_DIR = Path(__file__).resolve().parents[2] / "flows" / "texts"
STAFF_PREFIXES = ("room_", "crisis_category_", "matrix_room_")
FORBIDDEN_WORDS = ("toestemming", "consent")


def _load(lang: str) -> dict[str, Any]:
    data = yaml.safe_load((TEXTS_DIR / f"{lang}.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{lang}.yml is not a mapping"
    return data


@pytest.fixture(scope="module")
def nl() -> dict[str, Any]:
    return _load("nl")


@pytest.fixture(scope="module")
def en() -> dict[str, Any]:
    return _load("en")


def _strings(value: Any) -> list[str]:
    """The texts in a catalogue value: the string itself, or the items of a list."""
    if isinstance(value, list):
        return [str(item) for item in value]
    return [str(value)]


def _placeholders(value: Any) -> set[str]:
    names: set[str] = set()
    for text in _strings(value):
        for _, field, _, _ in Formatter().parse(text):
            if field is not None:
                names.add(field)
    return names


def _is_parent_facing(key: str) -> bool:
    return not key.startswith(STAFF_PREFIXES)


def test_every_english_key_exists_in_dutch(nl: dict[str, Any], en: dict[str, Any]) -> None:
    assert sorted(set(en) - set(nl)) == []


def test_placeholders_match(nl: dict[str, Any], en: dict[str, Any]) -> None:
    mismatches = {
        key: (sorted(_placeholders(nl[key])), sorted(_placeholders(en[key])))
        for key in sorted(set(nl) & set(en))
        if _placeholders(nl[key]) != _placeholders(en[key])
    }
    assert mismatches == {}


def test_every_parent_facing_key_is_translated(nl: dict[str, Any], en: dict[str, Any]) -> None:
    missing = [key for key in nl if _is_parent_facing(key) and key not in en]
    assert missing == []


def test_staff_texts_stay_dutch_only(en: dict[str, Any]) -> None:
    assert [key for key in en if not _is_parent_facing(key)] == []


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_no_consent_wording(lang: str) -> None:
    catalogue = _load(lang)
    hits = [
        key
        for key, value in catalogue.items()
        for text in _strings(value)
        if any(word in text.lower() for word in FORBIDDEN_WORDS)
    ]
    assert hits == []


def test_values_keep_their_shape(nl: dict[str, Any], en: dict[str, Any]) -> None:
    """Lists stay lists of the same length; everything else is a string (not a YAML bool)."""
    for key in set(nl) & set(en):
        if isinstance(nl[key], list):
            assert isinstance(en[key], list) and len(en[key]) == len(nl[key]), key
            assert all(isinstance(item, str) for item in en[key]), key
        else:
            assert isinstance(en[key], str), f"{key}: {en[key]!r} is not a string"


def test_english_calendar_names(en: dict[str, Any]) -> None:
    assert en["weekdays"][0] == "Monday" and en["weekdays"][6] == "Sunday"
    assert en["months"][0] == "January" and en["months"][11] == "December"
