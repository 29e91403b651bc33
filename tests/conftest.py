"""Shared fixtures: the packaged configuration, texts and flow contexts."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from flows.texts import Catalogue

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings(environ={})


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return Catalogue.load()
