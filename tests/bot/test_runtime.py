"""Choosing the NLU backend from the configuration."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings
from bot.runtime import load_nlu
from nlu.pipeline import Nlu
from nlu.rasa_backend import RasaNlu


def test_the_embedded_classifier_is_the_default() -> None:
    nlu = load_nlu(load_settings(environ={}))
    assert type(nlu) is Nlu


def test_a_rasa_server_by_configuration_with_the_embedded_one_as_fallback() -> None:
    settings = load_settings(environ={"CJGBOT__NLU__BACKEND": "rasa",
                                      "CJGBOT__NLU__RASA_URL": "http://127.0.0.1:9"})
    nlu = load_nlu(settings)
    assert isinstance(nlu, RasaNlu)
    assert nlu.parse("mijn zoon wil niet meer leven").route == "crisis"  # the lexicon first
    result = nlu.parse("mijn dochter van 3 slaapt slecht")  # nothing listens on port 9
    assert result.route == "faq" and nlu.fallback_count == 1


def test_rasa_without_an_address_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="nlu.rasa_url"):
        load_nlu(load_settings(environ={"CJGBOT__NLU__BACKEND": "rasa"}))
