"""Shared fixtures: the packaged configuration, texts and flow contexts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.config import Settings, load_settings
from flows.texts import Catalogue
from support.databases import drop_created_databases


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings(environ={})


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return Catalogue.load()


@pytest.fixture(autouse=True)
async def _drop_test_databases() -> AsyncIterator[None]:
    """PostgreSQL runs: every database a test created is dropped after it."""
    yield
    await drop_created_databases()
