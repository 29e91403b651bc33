"""Support for app tests: an app on a temporary SQLite file with recording gateways."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from bot.app import App
from bot.config import Settings
from bot.roster import Roster
from bot.runtime import flow_contexts
from flows.actions import Reply
from storage.crypto import FieldCipher
from storage.database import open_database
from storage.repository import Store
from support.databases import new_database_url


@dataclass
class RecordingParents:
    sent: list[tuple[str, Reply]] = field(default_factory=list)

    async def send(self, address: str, reply: Reply) -> str | None:
        self.sent.append((address, reply))
        return f"m{len(self.sent)}"

    def texts(self, address: str | None = None) -> list[str]:
        return [r.text for a, r in self.sent if address is None or a == address]


@dataclass
class RecordingRooms:
    posts: list[tuple[str, str, str]] = field(default_factory=list)  # room, text, ref
    mentions: list[tuple[str, str]] = field(default_factory=list)  # room, matrix id
    redacted: list[tuple[str, str]] = field(default_factory=list)

    async def post(
        self, room: str, text: str, kind: str, handover: int | None, mention: str | None = None
    ) -> str | None:
        ref = f"$e{len(self.posts) + 1}"
        if mention:
            self.mentions.append((room, mention))
        self.posts.append((room, text, ref))
        return ref

    async def redact(self, room: str, message_ref: str) -> None:
        self.redacted.append((room, message_ref))

    def in_room(self, room: str) -> list[str]:
        return [text for r, text, _ in self.posts if r == room]

    def live(self, room: str) -> list[str]:
        gone = {ref for _, ref in self.redacted}
        return [text for r, text, ref in self.posts if r == room and ref not in gone]


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


async def make_app(
    settings: Settings,
    tmp_path: Path,
    clock: Clock,
    understand: object | None = None,
    url: str | None = None,
) -> tuple[App, RecordingParents, RecordingRooms]:
    engine = await open_database(url or await new_database_url(tmp_path))
    cipher = FieldCipher.from_environment(tmp_path / "secret.key")
    store = Store(engine, cipher)
    if understand is None:
        from nlu.pipeline import Nlu

        understand = Nlu.load()
    contexts = flow_contexts(settings, understand)  # type: ignore[arg-type]
    rooms = RecordingRooms()
    app = App(
        store,
        contexts,
        rooms,
        conversation_idle=timedelta(hours=48),
        clock=clock,
        roster=Roster(settings.loket),
    )
    parents = RecordingParents()
    app.add_parent_channel("console", parents)
    return app, parents, rooms
