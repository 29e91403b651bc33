"""Simulated parents and staff: real matrix-nio clients with their own E2E stores."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

from nio import (
    Api,
    AsyncClient,
    AsyncClientConfig,
    EncryptionError,
    Event,
    MegolmEvent,
    RedactionEvent,
    RoomPreset,
    RoomSendResponse,
    SyncError,
)

from .synapse import Account, Synapse


class Person:
    """One Matrix user on one device; `inbox` keeps every timeline event it has seen."""

    def __init__(self, synapse: Synapse, account: Account, store: Path) -> None:
        store.mkdir(parents=True, exist_ok=True)
        self.account = account
        self.user_id = account.user_id
        self.client = AsyncClient(
            synapse.url,
            account.user_id,
            device_id=account.device_id,
            store_path=str(store),
            config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False),
        )
        self.client.restore_login(account.user_id, account.device_id, account.access_token)
        self.inbox: list[tuple[str, Event]] = []
        self.redacted: set[str] = set()
        self._first = True

    async def start(self) -> None:
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        await self.sync()

    async def close(self) -> None:
        await self.client.close()

    async def sync(self, timeout_ms: int = 0) -> None:
        response = await self.client.sync(
            timeout=timeout_ms,
            full_state=True if self._first else None,
            sync_filter={"room": {"timeline": {"limit": 100}}},
        )
        if isinstance(response, SyncError):
            raise RuntimeError(f"sync failed: {response.status_code}")
        self._first = False
        client = self.client
        await client.send_to_device_messages()
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        for room_id, info in response.rooms.join.items():
            for event in info.timeline.events:
                if isinstance(event, RedactionEvent):
                    self.redacted.add(event.redacts)
                self.inbox.append((room_id, event))

    def _decrypt_late(self) -> None:
        for index, (room_id, event) in enumerate(self.inbox):
            if isinstance(event, MegolmEvent):
                event.room_id = room_id
                with contextlib.suppress(EncryptionError):
                    self.inbox[index] = (room_id, self.client.decrypt_event(event))

    def mark(self) -> int:
        return len(self.inbox)

    def messages(self, room_id: str, sender: str | None = None, after: int = 0) -> list[Event]:
        """Decrypted m.room.message events in a room, oldest first."""
        self._decrypt_late()
        return [
            event
            for r, event in self.inbox[after:]
            if r == room_id
            and event.source.get("type") == "m.room.message"
            and (sender is None or event.sender == sender)
        ]

    def texts(self, room_id: str, sender: str | None = None, after: int = 0) -> list[str]:
        return [e.source["content"].get("body", "") for e in self.messages(room_id, sender, after)]

    def live_texts(self, room_id: str, sender: str | None = None) -> list[str]:
        return [
            e.source["content"].get("body", "")
            for e in self.messages(room_id, sender)
            if e.event_id not in self.redacted
        ]

    async def wait_for(
        self,
        room_id: str,
        match: Callable[[Event], bool],
        sender: str | None = None,
        after: int = 0,
        within: float = 30,
    ) -> Event:
        deadline = time.monotonic() + within
        while True:
            for event in self.messages(room_id, sender, after):
                if match(event):
                    return event
            if time.monotonic() > deadline:
                seen = self.texts(room_id, sender, after)
                raise AssertionError(f"{self.user_id}: no matching message; saw {seen!r}")
            await self.sync(timeout_ms=500)

    async def wait_text(
        self, room_id: str, part: str, sender: str | None = None, after: int = 0,
        within: float = 30,
    ) -> Event:
        return await self.wait_for(
            room_id, lambda e: part in e.source["content"].get("body", ""), sender, after,
            within,
        )

    async def wait_redacted(self, event_id: str, within: float = 30) -> None:
        deadline = time.monotonic() + within
        while event_id not in self.redacted:
            if time.monotonic() > deadline:
                raise AssertionError("event was not redacted")
            await self.sync(timeout_ms=500)

    async def say(self, room_id: str, text: str) -> str:
        response = await self.client.room_send(
            room_id,
            "m.room.message",
            {"msgtype": "m.text", "body": text},
            ignore_unverified_devices=True,
        )
        assert isinstance(response, RoomSendResponse), response
        return str(response.event_id)

    async def react(self, room_id: str, event_id: str, key: str, encrypted: bool) -> str:
        """A reaction; encrypted like Element does in encrypted rooms (nio would not)."""
        content: dict[str, Any] = {
            "m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}
        }
        if not encrypted:
            response = await self.client.room_send(room_id, "m.reaction", content)
        else:
            room = self.client.rooms[room_id]
            if not room.members_synced:
                await self.client.joined_members(room_id)
            if self.client.should_query_keys:
                await self.client.keys_query()
            if self.client.olm.should_share_group_session(room_id):
                await self.client.share_group_session(room_id, ignore_unverified_devices=True)
            event_type, encrypted_content = self.client.encrypt(room_id, "m.reaction", content)
            method, path, data = Api.room_send(
                self.client.access_token, room_id, event_type, encrypted_content, uuid4().hex
            )
            response = await self.client._send(RoomSendResponse, method, path, data, (room_id,))
        assert isinstance(response, RoomSendResponse), response
        return str(response.event_id)

    async def join(self, room_id: str) -> None:
        response = await self.client.join(room_id)
        assert not hasattr(response, "status_code") or response.status_code is None, response
        await self.sync()

    async def direct_chat(self, bot_user_id: str, encrypted: bool) -> str:
        """Start a chat with the bot the way Element does: a direct, private room + invite."""
        initial_state = []
        if encrypted:
            initial_state.append(
                {"type": "m.room.encryption", "state_key": "",
                 "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
            )
        response = await self.client.room_create(
            is_direct=True,
            preset=RoomPreset.trusted_private_chat,
            invite=[bot_user_id],
            initial_state=initial_state,
        )
        room_id = str(response.room_id)
        await self.sync()
        return room_id

    async def wait_joined(self, room_id: str, user_id: str, within: float = 30) -> None:
        deadline = time.monotonic() + within
        while True:
            await self.sync(timeout_ms=300)
            room = self.client.rooms.get(room_id)
            user = room.users.get(user_id) if room else None
            if user is not None and not user.invited:
                return
            if time.monotonic() > deadline:
                raise AssertionError("the bot did not join")
            await asyncio.sleep(0.05)
