"""Fixtures for the Telegram channel: the fake Bot API server, the app, and the running channel.

The real python-telegram-bot client talks HTTP to `fake_bot_api.FakeBotApi` on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fake_bot_api import FakeBotApi
from telegram_harness import TOKEN, Bots, Harness

from bot.config import Settings
from support.app import Clock
from support.flows import at


@pytest.fixture
def clock() -> Clock:
    return Clock(at("2026-11-27 20:00"))  # a Friday evening: the loket is closed


@pytest.fixture
async def server(clock: Clock) -> AsyncIterator[FakeBotApi]:
    fake = FakeBotApi(TOKEN, clock=clock)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def bots(
    settings: Settings, tmp_path: Path, clock: Clock, server: FakeBotApi
) -> AsyncIterator[Bots]:
    manager = Bots(settings, tmp_path, clock, server)
    yield manager
    for harness in list(manager.running):
        await manager.stop(harness)


@pytest.fixture
async def bot(bots: Bots) -> Harness:
    return await bots.start()
