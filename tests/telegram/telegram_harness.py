"""Test harness for the Telegram channel: bot processes (app + channel) against the fake API.

The rate limits are raised so the tests stay fast, except where a test is about them.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fake_bot_api import FakeBotApi

from bot.app import App
from bot.channels.telegram import RateLimits, TelegramChannel, TelegramSettings
from bot.config import Settings
from flows.events import ParentEvent
from support.app import Clock, RecordingRooms, make_app
from support.databases import new_database_url
from support.flows import FakeNlu

TOKEN = "123456789:AAE-fake_token_for_tests_only_0123"
FAST = RateLimits(overall_per_second=1000, per_chat_per_second=200, max_retries=3)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_until(check: Callable[[], bool], within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110 - the bot's progress is observed, not signalled
            await asyncio.sleep(0.01)


@dataclass
class Harness:
    """One bot process: the app on SQLite and its Telegram channel against the fake server."""

    server: FakeBotApi
    app: App
    rooms: RecordingRooms
    channel: TelegramChannel
    events: list[ParentEvent] = field(default_factory=list)

    async def settle(self, update_id: int, within: float = 10.0) -> None:
        """Wait until every update up to `update_id` is fully handled by the bot."""
        base = self._base
        await wait_until(lambda: self.channel.handled_updates >= update_id - base, within)

    _base: int = 0  # updates handled by an earlier process (before a restart)

    async def stop(self) -> None:
        await self.channel.stop()
        await self.app.store.close()


class Bots:
    """Starts bot processes on the same database and fake server (to simulate restarts)."""

    def __init__(
        self, settings: Settings, tmp_path: Path, clock: Clock, server: FakeBotApi
    ) -> None:
        self.settings = settings
        self.tmp_path = tmp_path
        self.clock = clock
        self.server = server
        self.running: list[Harness] = []
        self.database_url: str | None = None  # one database for every restart

    def telegram_settings(self, **overrides: Any) -> TelegramSettings:
        values: dict[str, Any] = {
            "token": TOKEN,
            "base_url": self.server.base_url,
            "poll_timeout": 5,
            "rate_limits": FAST,
        }
        values.update(overrides)
        return TelegramSettings.model_validate(values)

    async def start(self, **overrides: Any) -> Harness:
        if self.database_url is None:
            self.database_url = await new_database_url(self.tmp_path)
        app, _, rooms = await make_app(
            self.settings, self.tmp_path, self.clock, FakeNlu(), url=self.database_url
        )
        channel = TelegramChannel(app, self.telegram_settings(**overrides), drain_seconds=10)
        harness = Harness(self.server, app, rooms, channel)
        harness._base = self.server.confirmed
        original = app.handle_parent

        async def recording(channel_name: str, address: str, event: ParentEvent) -> None:
            harness.events.append(event)
            await original(channel_name, address, event)

        app.handle_parent = recording  # type: ignore[method-assign]
        try:
            await channel.start()
        except BaseException:
            await app.store.close()
            raise
        self.running.append(harness)
        return harness

    async def stop(self, harness: Harness) -> None:
        self.running.remove(harness)
        await harness.stop()
