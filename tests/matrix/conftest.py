"""Fixtures for the Matrix tests: one real Synapse per session, a fresh bot world per test.

If Synapse is not installed the `synapse` fixture FAILS (it never skips): run
`.ci/install-synapse.sh`, which `make test` and `.ci/run` do.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from nio import AsyncClient, AsyncClientConfig

from bot.app import App
from bot.channels.matrix import MatrixChannel, MatrixSettings, run_matrix, setup_rooms
from bot.config import Settings
from bot.roster import Roster
from bot.runtime import flow_contexts
from flows.domain import LOKET
from storage.crypto import FieldCipher
from storage.database import open_database
from storage.repository import Store
from support.app import Clock
from support.flows import FakeNlu, at

from .people import Person
from .synapse import Account, Synapse, SynapseMissing


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    try:
        server = Synapse(tmp_path_factory.mktemp("synapse"))
    except SynapseMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    server.start()
    yield server
    server.stop()


def with_rooms(settings: Settings, ids: dict[str, str], matrix: dict[str, Any]) -> Settings:
    loket = settings.loket.model_copy(update={"room": ids.get(LOKET), "staff": {}})
    partners = [p.model_copy(update={"room": ids.get(p.id)}) for p in settings.partners]
    channels = {**settings.channels, "matrix": matrix}
    return settings.model_copy(update={"loket": loket, "partners": partners, "channels": channels})


@dataclass
class World:
    """A bot account with its rooms on the test Synapse, and the people around it."""

    synapse: Synapse
    tmp: Path
    bot: Account
    settings: Settings
    clock: Clock
    people: list[Person] = field(default_factory=list)
    channel: MatrixChannel | None = None
    app: App | None = None
    task: asyncio.Task[None] | None = None
    store: Store | None = None
    admin: AsyncClient | None = None  # the bot's account without E2E: invites and kicks

    @property
    def matrix(self) -> MatrixSettings:
        return MatrixSettings.from_settings(self.settings)

    def room(self, logical: str) -> str:
        return self.channel_rooms()[logical]

    def channel_rooms(self) -> dict[str, str]:
        from bot.channels.matrix import configured_rooms

        return configured_rooms(self.settings)

    async def start_bot(self, **overrides: Any) -> MatrixChannel:
        config = self.matrix.model_copy(update=overrides)
        engine = await open_database(f"sqlite+aiosqlite:///{self.tmp / 'bot.sqlite3'}")
        self.store = Store(engine, FieldCipher.from_environment(self.tmp / "secret.key"))
        names = {m.matrix_id: m.name for m in self.settings.loket.staff.values() if m.matrix_id}
        channel = MatrixChannel(config, self.channel_rooms(), names)
        app = App(self.store, flow_contexts(self.settings, FakeNlu()), channel.rooms,
                  clock=self.clock, roster=Roster(self.settings.loket))  # type: ignore[arg-type]
        self.channel, self.app = channel, app
        self.task = asyncio.create_task(run_matrix(app, channel))
        ready = asyncio.create_task(channel.ready.wait())
        done, _ = await asyncio.wait({ready, self.task}, timeout=60,
                                     return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            if self.task.done():
                self.task.result()
            raise AssertionError("the bot did not finish its first sync")
        return channel

    async def stop_bot(self) -> None:
        if self.channel is not None and self.task is not None:
            await self.channel.stop()
            await asyncio.wait_for(self.task, 30)
        if self.store is not None:
            await self.store.close()
        self.channel = self.app = self.task = self.store = None

    async def person(self, prefix: str, displayname: str | None = None) -> Person:
        account = self.synapse.register(prefix, displayname)
        person = Person(self.synapse, account, self.tmp / "people" / account.localpart)
        await person.start()
        self.people.append(person)
        return person

    async def staff(self, logical: str, name: str) -> Person:
        """A staff member of one organisation, invited by the bot into its room."""
        person = await self.person(f"staff{logical}", name)
        assert self.admin is not None
        await self.admin.room_invite(self.room(logical), person.user_id)
        await person.join(self.room(logical))
        return person

    async def parent(self, encrypted: bool = False) -> tuple[Person, str]:
        person = await self.person("parent")
        room_id = await person.direct_chat(self.bot.user_id, encrypted)
        await person.wait_joined(room_id, self.bot.user_id)
        return person, room_id

    async def close(self) -> None:
        if self.task is not None and not self.task.done():
            with contextlib.suppress(Exception):
                await self.stop_bot()
        if self.store is not None:
            await self.store.close()
        for person in self.people:
            await person.close()
        if self.admin is not None:
            await self.admin.close()


async def make_world(synapse: Synapse, settings: Settings, tmp: Path, **extra: Any) -> World:
    bot = synapse.register("cjgbot", "CJG loketbot")
    matrix = {
        "homeserver": synapse.url,
        "user_id": bot.user_id,
        "password": bot.password,
        "store_path": str(tmp / "bot-store"),
        "sync_timeout_ms": 5000,
        "decrypt_wait_s": 5,
        "retry_max_wait_s": 2,
        **extra,
    }
    bare = with_rooms(settings, {}, matrix)
    report = await setup_rooms(bare, invite_loket_staff=False)
    assert report.ok, report.summary()
    world = World(synapse, tmp, bot, with_rooms(settings, report.room_ids(), matrix),
                  Clock(at("2026-11-27 20:00")))
    admin = AsyncClient(synapse.url, bot.user_id,
                        config=AsyncClientConfig(encryption_enabled=False))
    admin.access_token = bot.access_token
    world.admin = admin
    return world


@pytest.fixture
async def world(synapse: Synapse, settings: Settings, tmp_path: Path) -> AsyncIterator[World]:
    world = await make_world(synapse, settings, tmp_path)
    try:
        yield world
    finally:
        await world.close()
