"""The Matrix channel: one bot account, parents in direct rooms, staff in configured rooms.

A thin adapter: Matrix events become app events, the app's replies and room posts become
Matrix messages. Any room that is not the loket room or a partner room is a parent's
direct chat (its room id is the parent's address). The sync loop:

    sync (retried) -> E2E housekeeping -> queue new events per room -> handle them in order
    -> checkpoint (sync token + handled events) in the bot's database

An encrypted event whose key has not arrived yet holds back its room's queue for up to
`decrypt_wait_s`; then the parent is asked to send it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from uuid import uuid4

from nio import (
    EncryptionError,
    Event,
    LocalProtocolError,
    MatrixRoom,
    MegolmEvent,
    RoomEncryptedMedia,
    RoomMemberEvent,
    RoomMessageEmote,
    RoomMessageMedia,
    RoomMessageText,
    RoomMessageUnknown,
    StickerEvent,
    SyncResponse,
)

from bot.app import App
from bot.config import Settings
from flows.actions import Button
from flows.domain import LOKET
from flows.events import ParentEvent, ParentText, ParentUnsupported, Staff, parse_command
from flows.room_commands import parse_room_command

from .checkpoint import Checkpoint, CheckpointStore
from .client import make_client
from .gateways import MatrixParents, MatrixRooms
from .render import choose_button, plain_content, strip_reply_fallback
from .retry import TRANSIENT, Permanent, RetryStats, retrying
from .settings import MatrixSettings, configured_rooms
from .texts import channel_texts

log = logging.getLogger("cjgbot.matrix")

CHANNEL = "matrix"
CLAIM_KEYS = ("✅", "✔", "☑")
MEDIA_KINDS = {"m.image": "foto", "m.video": "video", "m.audio": "spraakbericht"}
BACKFILL_PAGES = 20


class MatrixLoginError(Exception):
    """The homeserver refused the bot's credentials."""


@dataclass
class _Pending:
    room_id: str
    event: Event
    seen: float
    key_requested: bool = False


class MatrixChannel:
    """The bot's Matrix account: gateways for the app, and the sync loop that feeds it."""

    def __init__(
        self,
        config: MatrixSettings,
        room_ids: dict[str, str],
        staff_names: dict[str, str] | None = None,
    ) -> None:
        self.config = config
        self.room_ids = dict(room_ids)  # logical room -> Matrix room id
        self.logical_of = {room_id: logical for logical, room_id in room_ids.items()}
        self.staff_names = dict(staff_names or {})  # matrix id -> name (loket staff)
        self.client = make_client(config)
        self.stats = RetryStats()
        self.parents = MatrixParents(self)
        self.rooms = MatrixRooms(self)
        self.ready = asyncio.Event()  # first sync done: room state and encryption known
        self.app: App | None = None
        self.handled = 0  # events handled since start (tests, bench)
        self.backfilled = 0  # events fetched from gaps in limited timelines
        self._texts = channel_texts()
        self._buttons: dict[str, tuple[Button, ...]] = {}
        self._backlog: dict[str, deque[_Pending]] = {}
        self._checkpoints: CheckpointStore | None = None
        self._checkpoint = Checkpoint()
        self._saved: tuple[str | None, tuple[str, ...]] | None = None
        self._stopping = False
        self._sync_task: asyncio.Future[Any] | None = None
        self._left: set[str] = set()

    @classmethod
    def from_settings(cls, settings: Settings) -> MatrixChannel:
        config = MatrixSettings.from_settings(settings)
        staff = {m.matrix_id: m.name for m in settings.loket.staff.values() if m.matrix_id}
        return cls(config, configured_rooms(settings), staff)

    @property
    def user_id(self) -> str:
        return self.client.user_id

    # --- sending (used by the gateways) ---

    async def send(self, room_id: str, content: dict[str, Any], what: str) -> str | None:
        """Send a message; retried until the homeserver takes it (same transaction id)."""
        await self.ready.wait()
        tx_id = uuid4().hex
        call = functools.partial(
            self.client.room_send,
            room_id,
            "m.room.message",
            content,
            tx_id=tx_id,
            ignore_unverified_devices=True,
        )
        try:
            response = await retrying(call, what, self.config.retry_max_wait_s, self.stats)
        except (Permanent, LocalProtocolError) as exc:
            log.error("matrix_send_failed", extra={"kind": what, "status": _status(exc)})
            return None
        return str(response.event_id)

    async def redact(self, room_id: str, event_id: str, give_up_after_s: float) -> bool:
        """Redact one event; False when that is not possible (any more).

        Raises the last connection error when the homeserver stays away longer than
        `give_up_after_s`, so that a sweeper can try again later.
        """
        await self.ready.wait()
        tx_id = uuid4().hex
        call = functools.partial(self.client.room_redact, room_id, event_id, tx_id=tx_id)
        try:
            await retrying(
                call, "redact", self.config.retry_max_wait_s, self.stats, give_up_after_s
            )
        except (Permanent, LocalProtocolError) as exc:
            log.error("matrix_redact_failed", extra={"status": _status(exc)})
            return False
        return True

    async def purge_history(self, room_id: str) -> str | None:
        """Synapse admin API: purge the room's history up to now, redacted events included.

        Needs `admin_token` (a server admin's access token); returns Synapse's purge id.
        """
        if self.config.admin_token is None:
            return None
        token = self.config.admin_token.get_secret_value()
        path = f"/_synapse/admin/v1/purge_history/{quote(room_id, safe='')}"
        body = json.dumps({"purge_up_to_ts": int(time.time() * 1000), "delete_local_events": True})
        response = await self.client.send(
            "POST",
            path,
            body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        if response.status != 200:
            log.warning("matrix_purge_refused", extra={"status": str(response.status)})
            return None
        return str((await response.json()).get("purge_id"))

    # --- lifecycle ---

    async def start(self, app: App) -> None:
        """Log in (or restore the access token), open the E2E store, load the checkpoint."""
        self.app = app
        cfg = self.config
        if cfg.access_token is not None:
            self.client.restore_login(
                cfg.user_id, cfg.device_id, cfg.access_token.get_secret_value()
            )
            try:
                who = await retrying(self.client.whoami, "whoami", cfg.retry_max_wait_s)
            except Permanent as exc:
                raise MatrixLoginError(f"access token refused ({exc.status})") from None
            if who.device_id and who.device_id != cfg.device_id:
                # The E2E keys belong to a device: they must not be mixed up.
                raise MatrixLoginError("the access token belongs to another device_id")
        else:
            assert cfg.password is not None
            login = functools.partial(
                self.client.login, cfg.password.get_secret_value(), device_name=cfg.device_name
            )
            try:
                await retrying(login, "login", cfg.retry_max_wait_s, self.stats)
            except Permanent as exc:
                raise MatrixLoginError(f"login refused ({exc.status})") from None
        if self.client.should_upload_keys:
            await retrying(self.client.keys_upload, "keys_upload", cfg.retry_max_wait_s)
        self._checkpoints = CheckpointStore(app.store, self.client.user_id)
        self._checkpoint = await self._checkpoints.load()
        self._saved = (self._checkpoint.since, tuple(self._checkpoint.done))
        log.info("matrix_started", extra={"channel": CHANNEL})

    async def run(self, app: App) -> None:
        """Sync and handle events until stop(); survives the homeserver going away."""
        if self._checkpoints is None:
            await self.start(app)
        since = self._checkpoint.since
        first = True
        while not self._stopping:
            response = await self._sync(since, first)
            if response is None:
                break
            await self._housekeeping()
            if response.next_batch != since or first:
                await self._take_in(response, since)
            since = response.next_batch
            if first:
                first = False
                self.ready.set()
            await self._drain()
            await self._save_checkpoint(since)

    async def stop(self) -> None:
        """Stop after the event in hand; an idle long-poll is cut short."""
        self._stopping = True
        if self._sync_task is not None:
            self._sync_task.cancel()

    async def close(self) -> None:
        await self.client.close()

    def reset(self) -> None:
        """Ready to serve again after stop() and close(): a fresh client on the same store
        (another instance may have served the account meanwhile; the checkpoint is reloaded)."""
        self.client = make_client(self.config)
        self.ready = asyncio.Event()
        self._stopping = False
        self._sync_task = None
        self._checkpoints = None
        self._backlog.clear()

    # --- the sync loop ---

    async def _sync(self, since: str | None, first: bool) -> SyncResponse | None:
        cfg = self.config
        timeout = 0 if first else cfg.sync_timeout_ms
        if self._backlog:
            timeout = min(timeout, 1000)  # an event waits for its key: look again soon
        sync_filter = {
            "room": {"timeline": {"limit": cfg.timeline_limit}},
            "presence": {"not_types": ["*"]},
        }
        call = functools.partial(
            self.client.sync,
            timeout=timeout,
            sync_filter=sync_filter,
            since=since,
            full_state=True if first else None,
        )
        self._sync_task = asyncio.ensure_future(
            retrying(call, "sync", cfg.retry_max_wait_s, self.stats)
        )
        try:
            return await self._sync_task  # type: ignore[no-any-return]
        except asyncio.CancelledError:
            if self._stopping:
                return None
            raise
        finally:
            self._sync_task = None

    async def _housekeeping(self) -> None:
        """What nio's sync_forever does between syncs: to-device messages and device keys."""
        client = self.client
        calls = [client.send_to_device_messages]
        if client.should_upload_keys:
            calls.append(client.keys_upload)
        if client.should_query_keys:
            calls.append(client.keys_query)
        if client.should_claim_keys:
            calls.append(functools.partial(client.keys_claim, client.get_users_for_key_claiming()))
        for call in calls:
            try:
                await call()
            except TRANSIENT as exc:
                log.warning("matrix_housekeeping_failed", extra={"status": type(exc).__name__})

    async def _take_in(self, response: SyncResponse, since: str | None) -> None:
        for room_id in response.rooms.invite:
            await self._join(room_id)
        if since is None:
            return  # the very first sync: earlier history is not ours to answer
        me = self.client.user_id
        for room_id, info in response.rooms.join.items():
            events = list(info.timeline.events)
            joined_at = _own_join(events, me)
            if joined_at is not None:
                if room_id in self.logical_of:
                    events = events[joined_at + 1 :]  # a staff room: only what comes after us
            elif info.timeline.limited and info.timeline.prev_batch:
                events = await self._backfill(room_id, info.timeline.prev_batch, since) + events
            now = time.monotonic()
            for event in events:
                if _queue_worthy(event, me) and not self._checkpoint.is_done(event.event_id):
                    self._backlog.setdefault(room_id, deque()).append(_Pending(room_id, event, now))
            if room_id not in self.logical_of and _someone_left(events, me):
                room = self.client.rooms.get(room_id)
                if room is not None and room.joined_count <= 1:
                    await self._leave(room_id)

    async def _backfill(self, room_id: str, start: str, since: str) -> list[Event]:
        """Events of a gap in a limited timeline, oldest first (the sync said 'limited')."""
        collected: list[Event] = []
        token: str | None = start
        for _ in range(BACKFILL_PAGES):
            call = functools.partial(
                self.client.room_messages, room_id, start=token, end=since, limit=100
            )
            try:
                page = await retrying(call, "backfill", self.config.retry_max_wait_s)
            except Permanent:
                break
            collected.extend(page.chunk)
            if not page.chunk or not page.end or page.end == token:
                break
            token = page.end
        self.backfilled += len(collected)
        log.info("matrix_backfill", extra={"count": len(collected)})
        return list(reversed(collected))

    async def _drain(self) -> None:
        for room_id in list(self._backlog):
            queue = self._backlog[room_id]
            while queue and not self._stopping:
                pending = queue[0]
                event: Event | None = pending.event
                if isinstance(event, MegolmEvent):
                    event = self._decrypt(pending)
                    if event is None:
                        if time.monotonic() - pending.seen < self.config.decrypt_wait_s:
                            await self._request_key(pending)
                            break  # the room waits for the key; other rooms go on
                        await self._undecryptable(room_id)
                if event is not None:
                    await self._dispatch(room_id, event)
                self._checkpoint.mark(pending.event.event_id)
                await self._save_checkpoint(self._checkpoint.since)
                queue.popleft()
                self.handled += 1
            if not queue:
                del self._backlog[room_id]

    def _decrypt(self, pending: _Pending) -> Event | None:
        event = pending.event
        assert isinstance(event, MegolmEvent)
        event.room_id = pending.room_id
        try:
            decrypted = self.client.decrypt_event(event)
        except EncryptionError:
            return None
        return None if isinstance(decrypted, MegolmEvent) else decrypted

    async def _request_key(self, pending: _Pending) -> None:
        if pending.key_requested:
            return
        pending.key_requested = True
        assert isinstance(pending.event, MegolmEvent)
        with contextlib.suppress(LocalProtocolError, *TRANSIENT):
            await self.client.request_room_key(pending.event)

    async def _save_checkpoint(self, since: str | None) -> None:
        assert self._checkpoints is not None
        if not self._backlog:
            self._checkpoint = Checkpoint(since, [])
        state = (self._checkpoint.since, tuple(self._checkpoint.done))
        if state != self._saved:
            await self._checkpoints.save(self._checkpoint)
            self._saved = state

    async def _join(self, room_id: str) -> None:
        call = functools.partial(self.client.join, room_id)
        try:
            await retrying(call, "join", self.config.retry_max_wait_s, self.stats)
        except Permanent as exc:
            log.warning("matrix_join_failed", extra={"status": exc.status})

    async def _leave(self, room_id: str) -> None:
        if room_id in self._left:
            return
        self._left.add(room_id)
        self._backlog.pop(room_id, None)
        self._buttons.pop(room_id, None)
        for call in (self.client.room_leave, self.client.room_forget):
            try:
                await retrying(functools.partial(call, room_id), "leave", 5)
            except Permanent:
                break
        log.info("matrix_left_room", extra={"channel": CHANNEL})

    # --- events ---

    async def _dispatch(self, room_id: str, event: Event) -> None:
        room = self.client.rooms.get(room_id)
        if room is None or room_id in self._left:
            return
        logical = self.logical_of.get(room_id)
        try:
            if logical is not None:
                await self._staff_event(logical, room, event)
            else:
                await self._parent_event(room, event)
        except Exception as exc:  # one bad event must not stop the bot
            import traceback

            traceback.print_exc()
            log.error(
                "matrix_event_failed",
                extra={"event_type": type(event).__name__, "status": type(exc).__name__},
            )

    async def _parent_event(self, room: MatrixRoom, event: Event) -> None:
        assert self.app is not None
        if room.joined_count > 2:
            await self._say_both(room.room_id, "group_room")
            await self._leave(room.room_id)
            return
        parent_event = self._parent_event_of(room.room_id, event)
        if parent_event is None:
            return
        log.info("matrix_parent_event", extra={"event_type": type(parent_event).__name__})
        await self.app.handle_parent(CHANNEL, room.room_id, parent_event)

    def _parent_event_of(self, room_id: str, event: Event) -> ParentEvent | None:
        content = event.source.get("content", {})
        relation = content.get("m.relates_to") or {}
        if relation.get("rel_type") == "m.replace":
            return None  # an edit of an earlier message: the conversation has moved on
        if isinstance(event, RoomMessageText | RoomMessageEmote):
            text = strip_reply_fallback(event.body)
            stripped = text.strip()
            command = parse_command(stripped)
            if command is None and stripped.startswith("!"):
                command = parse_command("/" + stripped[1:])  # Element eats unknown /commands
            if command is not None:
                return command
            button = choose_button(text, self._buttons.pop(room_id, ()))
            if button is not None:
                return ParentText(button.label, button=button.value)
            return ParentText(text)
        if isinstance(event, RoomMessageMedia | RoomEncryptedMedia):
            return ParentUnsupported(MEDIA_KINDS.get(content.get("msgtype", ""), "bestand"))
        if isinstance(event, StickerEvent):
            return ParentUnsupported("sticker")
        if isinstance(event, RoomMessageUnknown):
            kind = "locatie" if content.get("msgtype") == "m.location" else "bericht"
            return ParentUnsupported(kind)
        return None

    async def _staff_event(self, logical: str, room: MatrixRoom, event: Event) -> None:
        assert self.app is not None
        content = event.source.get("content", {})
        sender = event.sender
        text: str | None = None
        reaction: tuple[str, str] | None = None
        if isinstance(event, RoomMessageText):
            text = strip_reply_fallback(event.body).strip()
            if parse_room_command(text) is None:
                return  # ordinary chat between staff
        elif event.source.get("type") == "m.reaction":
            relation = content.get("m.relates_to") or {}
            key, target = relation.get("key"), relation.get("event_id")
            if not isinstance(key, str) or not isinstance(target, str):
                return
            if not key.startswith(CLAIM_KEYS):
                return
            reaction = (target, key)
        else:
            return
        if not self._is_member(room, sender):
            await self._refuse(logical)
            return
        staff = Staff(self._staff_name(room, sender), logical, sender)
        if text is not None:
            answers = await self.app.handle_room_message(logical, staff, text)
        else:
            assert reaction is not None
            answers = await self.app.handle_reaction(logical, staff, *reaction)
        log.info("matrix_staff_event", extra={"room": logical, "count": len(answers)})
        for answer in answers:
            await self.rooms.post(logical, answer, "status", None)

    def _is_member(self, room: MatrixRoom, user_id: str) -> bool:
        user = room.users.get(user_id)
        return user is not None and not user.invited

    def _staff_name(self, room: MatrixRoom, user_id: str) -> str:
        if user_id in self.staff_names:
            return self.staff_names[user_id]
        return self.display_name(room.room_id, user_id)

    async def _refuse(self, logical: str) -> None:
        assert self.app is not None
        async with self.app.store.transaction() as repo:
            await repo.audit(
                self.app.clock(),
                "command_refused_not_member",
                "loket" if logical == LOKET else "partner",
                logical,
                None,
            )
        log.warning("matrix_not_member", extra={"room": logical})
        await self.rooms.post(logical, self._texts.get("not_member", "nl"), "status", None)

    async def _undecryptable(self, room_id: str) -> None:
        log.warning("matrix_undecryptable", extra={"channel": CHANNEL})
        if room_id not in self.logical_of:
            await self._say_both(room_id, "undecryptable")

    async def _say_both(self, room_id: str, key: str) -> None:
        """A channel notice to a parent in Dutch and English (the language is not known)."""
        text = f"{self._texts.get(key, 'nl')}\n\n{self._texts.get(key, 'en')}"
        await self.send(room_id, plain_content(text), "notice")

    def remember_buttons(self, room_id: str, buttons: tuple[Button, ...]) -> None:
        if buttons:
            self._buttons[room_id] = buttons

    def display_name(self, room_id: str, user_id: str) -> str:
        """How a member is called in a room (for a mention pill); the localpart otherwise."""
        room = self.client.rooms.get(room_id)
        user = room.users.get(user_id) if room else None
        if user is not None and user.display_name:
            return str(user.display_name)
        return user_id.split(":", 1)[0].lstrip("@")


def _status(exc: Exception) -> str:
    return exc.status or "error" if isinstance(exc, Permanent) else type(exc).__name__


def _own_join(events: list[Event], me: str) -> int | None:
    """Index of our own join in this timeline (a room we just joined), if it is there."""
    for index, event in enumerate(events):
        if (
            isinstance(event, RoomMemberEvent)
            and event.state_key == me
            and event.membership == "join"
            and event.prev_membership != "join"
        ):
            return index
    return None


def _someone_left(events: list[Event], me: str) -> bool:
    return any(
        isinstance(event, RoomMemberEvent)
        and event.state_key != me
        and event.membership in ("leave", "ban")
        for event in events
    )


def _queue_worthy(event: Event, me: str) -> bool:
    """Messages, reactions and undecrypted events from others; state and our own are not."""
    if getattr(event, "sender", None) == me or not getattr(event, "event_id", None):
        return False
    if isinstance(event, RoomMemberEvent):
        return False
    kind = event.source.get("type")
    return kind in ("m.room.message", "m.room.encrypted", "m.reaction", "m.sticker")
