"""Shared fixtures: the packaged configuration, texts and flow contexts."""

from __future__ import annotations

import pytest

from bot.config import Settings, load_settings
from flows.texts import Catalogue


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings(environ={})


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return Catalogue.load()
