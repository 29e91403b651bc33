"""The repository: loading and saving conversations, handovers, posts, audit, registrations.

One `Repository` wraps one transaction (`Store.transaction()`); personal fields pass
through the `FieldCipher` on their way in and out.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, delete, exists, func, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from flows.actions import HandoverDetails, Registration
from flows.state import OPEN_STATUSES, ConversationState, HandoverState
from storage.crypto import FieldCipher
from storage.inline_sqlite import InlineSqlite, prepared
from storage.models import (
    AuditRow,
    ConversationRow,
    HandoverRow,
    LeaseRow,
    OutboxRow,
    ParentMessageRow,
    RegistrationRow,
    RoomPostRow,
    SettingRow,
)


@dataclass(frozen=True, slots=True)
class DueMessage:
    id: int
    channel: str
    ref: str


@dataclass(frozen=True, slots=True)
class Delivery:
    """One outbox row, decrypted: what to deliver where."""

    id: int
    target: str
    kind: str
    handover: int | None
    payload: dict[str, object]
    attempts: int


def _aware(moment: datetime) -> datetime:
    """Aggregates bypass the column type: SQLite returns naive (UTC) datetimes."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# The statements of every message, built once (Core, not ORM: a fraction of the cost).
_CONVERSATIONS = ConversationRow.__table__
_FIND_CONVERSATION = prepared(
    select(_CONVERSATIONS.c.id, _CONVERSATIONS.c.state).where(
        _CONVERSATIONS.c.user_key == bindparam("user_key")
    )
)
_FIND_CONVERSATION_LOCKED = _FIND_CONVERSATION.with_for_update()
_GET_CONVERSATION = prepared(
    select(
        _CONVERSATIONS.c.id,
        _CONVERSATIONS.c.channel,
        _CONVERSATIONS.c.address,
        _CONVERSATIONS.c.state,
    ).where(_CONVERSATIONS.c.id == bindparam("conversation_id"))
)
_UPDATE_CONVERSATION = prepared(
    update(_CONVERSATIONS)
    .where(_CONVERSATIONS.c.id == bindparam("conversation_id"))
    .values(
        state=bindparam("state"),
        updated_at=bindparam("updated_at"),
        expires_at=bindparam("expires_at"),
    )
)
_INSERT_CONVERSATION = prepared(insert(_CONVERSATIONS))
_INSERT_AUDIT = prepared(insert(AuditRow.__table__))
_HANDOVERS = HandoverRow.__table__
_HANDOVER_COLUMNS = (_HANDOVERS.c.state, _HANDOVERS.c.details, _HANDOVERS.c.conversation_id)
_INSERT_HANDOVER = prepared(insert(_HANDOVERS).returning(_HANDOVERS.c.number))
_THIS_HANDOVER = _HANDOVERS.c.number == bindparam("handover_number")
_SET_HANDOVER_STATE = prepared(
    update(_HANDOVERS).where(_THIS_HANDOVER).values(state=bindparam("state"))
)
_GET_HANDOVER = prepared(
    select(*_HANDOVER_COLUMNS).where(_THIS_HANDOVER, _HANDOVERS.c.purged.is_(False))
)
_GET_HANDOVER_LOCKED = _GET_HANDOVER.with_for_update()
_HANDOVERS_OF = prepared(
    select(*_HANDOVER_COLUMNS).where(
        _HANDOVERS.c.conversation_id == bindparam("conversation_id"),
        _HANDOVERS.c.purged.is_(False),
    )
)
_SAVE_HANDOVER = prepared(
    update(_HANDOVERS)
    .where(_THIS_HANDOVER)
    .values(
        status=bindparam("status"),
        targets=bindparam("targets"),
        urgent=bindparam("urgent"),
        purge_at=bindparam("purge_at"),
        state=bindparam("state"),
    )
)
_FORGET_HANDOVER = _SAVE_HANDOVER.values(details=None)
_OUTBOX = OutboxRow.__table__
_SETTINGS = SettingRow.__table__
_GET_SETTING = prepared(select(_SETTINGS.c.value).where(_SETTINGS.c.key == bindparam("key")))
_INSERT_OUTBOX = prepared(insert(_OUTBOX))
_CLAIMABLE = prepared(
    select(
        _OUTBOX.c.id,
        _OUTBOX.c.target,
        _OUTBOX.c.kind,
        _OUTBOX.c.handover_number,
        _OUTBOX.c.payload,
        _OUTBOX.c.attempts,
    )
    .where(
        _OUTBOX.c.target.in_(bindparam("targets", expanding=True)),
        or_(_OUTBOX.c.claimed_until.is_(None), _OUTBOX.c.claimed_until < bindparam("now")),
    )
    .order_by(_OUTBOX.c.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
_CLAIMABLE_DUE = _CLAIMABLE.where(
    or_(_OUTBOX.c.not_before.is_(None), _OUTBOX.c.not_before <= bindparam("now"))
)
_WAITING = prepared(
    select(_OUTBOX.c.target, func.min(_OUTBOX.c.id))
    .where(
        _OUTBOX.c.target.in_(bindparam("targets", expanding=True)),
        _OUTBOX.c.not_before > bindparam("now"),
    )
    .group_by(_OUTBOX.c.target)
)
_CLAIM = prepared(
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)))
    .values(claimed_until=bindparam("until"))
)
_DELIVERED = prepared(
    delete(_OUTBOX).where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)))
)
_LEASES = LeaseRow.__table__
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # a released lease expired long ago
_THIS_LEASE = _LEASES.c.name == bindparam("lease_name")
_TAKE_LEASE = prepared(
    update(_LEASES)
    .where(
        _THIS_LEASE,
        or_(
            _LEASES.c.holder == bindparam("lease_holder"),
            _LEASES.c.expires_at < bindparam("lease_now"),
        ),
    )
    .values(holder=bindparam("lease_holder"), expires_at=bindparam("lease_until"))
)
_LEASE_EXISTS = prepared(select(_LEASES.c.name).where(_THIS_LEASE))
_INSERT_LEASE = prepared(insert(_LEASES))
_RELEASE_LEASE = prepared(
    update(_LEASES)
    .where(_THIS_LEASE, _LEASES.c.holder == bindparam("lease_holder"))
    .values(expires_at=_EPOCH)
)
_INSERT_REGISTRATION = prepared(insert(RegistrationRow.__table__))
_INSERT_ROOM_POST = prepared(insert(RoomPostRow.__table__))
_INSERT_PARENT_MESSAGE = prepared(insert(ParentMessageRow.__table__))


class Store:
    """Entry point: an engine, a cipher, and transactions.

    PostgreSQL: an async session per transaction from asyncpg's pool. A SQLite file: one
    in-process connection that runs each statement at once on the event loop's thread, one
    transaction at a time (SQLite has one writer anyway; this saves a thread hop per
    statement and never meets "database is locked" between the bot's own transactions).
    """

    def __init__(self, engine: AsyncEngine, cipher: FieldCipher) -> None:
        self.engine = engine
        self.cipher = cipher
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._inline = InlineSqlite.for_engine(engine)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Repository]:
        if self._inline is not None:
            async with self._inline.session() as inline:
                yield Repository(inline, self.cipher)  # type: ignore[arg-type]
            return
        async with self._sessions() as session, session.begin():
            yield Repository(session, self.cipher)

    async def ping(self) -> bool:
        """The database answers (for /healthz)."""
        try:
            async with self.transaction() as repo:
                await repo.session.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def checkpoint(self) -> None:
        """SQLite: move the WAL into the file (secure_delete zeroes freed space) and empty it."""
        if self._inline is not None:
            await self._inline.checkpoint()
        elif self.engine.dialect.name == "sqlite":
            async with self.engine.connect() as connection:
                await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    async def close(self) -> None:
        if self._inline is not None:
            self._inline.close()
        await self.engine.dispose()


class Conversation:
    """A loaded conversation: its id, where to reply, and its state."""

    def __init__(self, id: str, channel: str, address: str, state: ConversationState) -> None:
        self.id = id
        self.channel = channel
        self.address = address
        self.state = state


class Handover:
    def __init__(
        self,
        state: HandoverState,
        details: HandoverDetails | None,
        conversation_id: str | None,
    ) -> None:
        self.state = state
        self.details = details
        self.conversation_id = conversation_id

    @property
    def number(self) -> int:
        return self.state.number


class Repository:
    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self.session = session
        self.cipher = cipher

    # --- conversations ---

    def user_key(self, channel: str, address: str) -> str:
        return self.cipher.lookup(channel, address)

    async def find_conversation(
        self, channel: str, address: str, lock: bool = False
    ) -> Conversation | None:
        stored = await self.stored_conversation(channel, address, lock)
        if stored is None:
            return None
        conversation_id, blob = stored
        state = ConversationState.model_validate_json(self.cipher.decrypt(blob))
        return Conversation(conversation_id, channel, address, state)

    async def stored_conversation(
        self, channel: str, address: str, lock: bool = False, user_key: str | None = None
    ) -> tuple[str, bytes] | None:
        """A parent's conversation as stored: its id and its state, still encrypted.

        `user_key`: `user_key(channel, address)`, when the caller has it already.
        """
        query = _FIND_CONVERSATION_LOCKED if lock else _FIND_CONVERSATION
        params = {"user_key": user_key or self.user_key(channel, address)}
        row = (await self.session.execute(query, params)).one_or_none()
        return None if row is None else (row[0], row[1])

    async def get_conversation(self, conversation_id: str) -> Conversation | None:
        params = {"conversation_id": conversation_id}
        row = (await self.session.execute(_GET_CONVERSATION, params)).one_or_none()
        return None if row is None else self._conversation(*row)

    def _conversation(self, id: str, channel: str, address: bytes, state: bytes) -> Conversation:
        return Conversation(
            id,
            channel,
            self.cipher.decrypt(address),
            ConversationState.model_validate_json(self.cipher.decrypt(state)),
        )

    async def save_conversation(
        self,
        conversation_id: str | None,
        channel: str,
        address: str,
        state: ConversationState,
        now: datetime,
        expires_at: datetime | None,
    ) -> str:
        blob = self.cipher.encrypt(state.model_dump_json())
        return await self.save_stored_conversation(
            conversation_id, channel, address, blob, now, expires_at
        )

    async def save_stored_conversation(
        self,
        conversation_id: str | None,
        channel: str,
        address: str,
        blob: bytes,
        now: datetime,
        expires_at: datetime | None,
    ) -> str:
        """`save_conversation` with the state encrypted already (by the NLU worker)."""
        params = {"state": blob, "updated_at": now, "expires_at": expires_at}
        if conversation_id is None:
            conversation_id = uuid.uuid4().hex
            await self.session.execute(
                _INSERT_CONVERSATION,
                {
                    "id": conversation_id,
                    "channel": channel,
                    "user_key": self.user_key(channel, address),
                    "address": self.cipher.encrypt(address),
                    **params,
                },
            )
            return conversation_id
        await self.session.execute(
            _UPDATE_CONVERSATION, {"conversation_id": conversation_id, **params}
        )
        return conversation_id

    async def delete_conversation(self, conversation_id: str) -> None:
        await self.session.execute(
            delete(ConversationRow).where(ConversationRow.id == conversation_id)
        )

    async def expired_conversations(self, now: datetime, limit: int = 500) -> list[Conversation]:
        query = (
            select(ConversationRow)
            .where(ConversationRow.expires_at <= now)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = (await self.session.execute(query)).scalars().all()
        return [self._conversation(r.id, r.channel, r.address, r.state) for r in rows]

    # --- handovers ---

    async def create_handover(
        self,
        conversation_id: str | None,
        targets: tuple[str, ...],
        urgent: bool,
        details: HandoverDetails,
        now: datetime,
        promised_by: datetime | None = None,
    ) -> Handover:
        number = (
            await self.session.execute(
                _INSERT_HANDOVER,
                {
                    "conversation_id": conversation_id,
                    "status": "created",
                    "targets": list(targets),
                    "urgent": urgent,
                    "created_at": now,
                    "purge_at": None,
                    "purged": False,
                    "state": b"",
                    "details": self.cipher.encrypt(json.dumps(asdict(details))),
                },
            )
        ).scalar_one()
        state = HandoverState(
            number=number,
            targets=list(targets),
            urgent=urgent,
            created_at=now,
            promised_by=promised_by,
        )
        await self.session.execute(
            _SET_HANDOVER_STATE,
            {"handover_number": number, "state": self.cipher.encrypt(state.model_dump_json())},
        )
        return Handover(state, details, conversation_id)

    async def get_handover(self, number: int, lock: bool = False) -> Handover | None:
        query = _GET_HANDOVER_LOCKED if lock else _GET_HANDOVER
        row = (await self.session.execute(query, {"handover_number": number})).one_or_none()
        return None if row is None else self._handover(*row)

    def _handover(
        self, state: bytes, details: bytes | None, conversation_id: str | None
    ) -> Handover:
        decrypted = None
        if details is not None:
            decrypted = HandoverDetails(**json.loads(self.cipher.decrypt(details)))
        state_ = HandoverState.model_validate_json(self.cipher.decrypt(state))
        return Handover(state_, decrypted, conversation_id)

    async def save_handover(self, state: HandoverState, forget_details: bool = False) -> None:
        await self.session.execute(
            _FORGET_HANDOVER if forget_details else _SAVE_HANDOVER,
            {
                "handover_number": state.number,
                "status": state.status.value,
                "targets": list(state.targets),
                "urgent": state.urgent,
                "purge_at": state.purge_at,
                "state": self.cipher.encrypt(state.model_dump_json()),
            },
        )

    async def handovers_of(self, conversation_id: str) -> list[Handover]:
        query = _HANDOVERS_OF
        rows = (await self.session.execute(query, {"conversation_id": conversation_id})).all()
        return [self._handover(*row) for row in rows]

    async def open_handovers(self) -> list[Handover]:
        statuses = [s.value for s in OPEN_STATUSES]
        query = (
            select(*_HANDOVER_COLUMNS)
            .where(_HANDOVERS.c.status.in_(statuses), _HANDOVERS.c.purged.is_(False))
            .order_by(_HANDOVERS.c.number)
        )
        rows = (await self.session.execute(query)).all()
        return [self._handover(*row) for row in rows]

    async def due_handovers(self, now: datetime, limit: int = 500) -> list[tuple[int, str | None]]:
        """(number, conversation id) of handovers due for deletion, locked for this sweep.

        SKIP LOCKED: another instance sweeping at the same time takes other rows.
        """
        query = (
            select(HandoverRow.number, HandoverRow.conversation_id)
            .where(HandoverRow.purge_at <= now, HandoverRow.purged.is_(False))
            .order_by(HandoverRow.purge_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [(n, c) for n, c in (await self.session.execute(query)).all()]

    async def purge_handovers(self, numbers: list[int], now: datetime) -> None:
        """Remove every personal field; keep content-free tombstones so numbers stay unique."""
        if not numbers:
            return
        await self.session.execute(
            update(HandoverRow)
            .where(HandoverRow.number.in_(numbers))
            .values(details=None, state=b"", conversation_id=None, purged=True, purge_at=None)
        )
        await self.drop_deliveries(numbers, ("post", "notice"))  # never sent after deletion
        await self.session.execute(
            insert(AuditRow),
            [
                {
                    "at": now,
                    "event": "handover_purged",
                    "actor_role": "system",
                    "organisation": None,
                    "handover_number": number,
                }
                for number in numbers
            ],
        )

    async def without_live_handovers(self, conversation_ids: set[str]) -> set[str]:
        """Which of these conversations have no handover left that still holds data."""
        if not conversation_ids:
            return set()
        query = select(HandoverRow.conversation_id).where(
            HandoverRow.conversation_id.in_(conversation_ids), HandoverRow.purged.is_(False)
        )
        busy = set((await self.session.execute(query)).scalars().all())
        return conversation_ids - busy

    async def scheduled_handovers(self) -> list[tuple[int, datetime]]:
        """(number, purge_at) of every handover with a deletion deadline, soonest first."""
        query = (
            select(HandoverRow.number, HandoverRow.purge_at)
            .where(HandoverRow.purge_at.is_not(None), HandoverRow.purged.is_(False))
            .order_by(HandoverRow.purge_at)
        )
        return [(n, at) for n, at in (await self.session.execute(query)).all()]

    async def conversation_deadlines(self) -> list[tuple[str, datetime]]:
        query = (
            select(ConversationRow.id, ConversationRow.expires_at)
            .where(ConversationRow.expires_at.is_not(None))
            .order_by(ConversationRow.expires_at)
        )
        return [(i, at) for i, at in (await self.session.execute(query)).all()]

    async def unredacted_posts_of_purged(self, limit: int = 500) -> list[RoomPostRow]:
        """Room copies of deleted handovers that a failed sweep could not redact yet."""
        query = (
            select(RoomPostRow)
            .join(HandoverRow, HandoverRow.number == RoomPostRow.handover_number)
            .where(HandoverRow.purged.is_(True), RoomPostRow.redacted.is_(False))
            .limit(limit)
        )
        return list((await self.session.execute(query)).scalars().all())

    async def handover_gauges(self, now: datetime) -> dict[str, float]:
        """Counts by status, the age of the oldest unclaimed handover and the purge lag."""
        counts = dict(
            (
                await self.session.execute(
                    select(HandoverRow.status, func.count())
                    .where(HandoverRow.purged.is_(False))
                    .group_by(HandoverRow.status)
                )
            ).all()
        )
        open_statuses = [s.value for s in OPEN_STATUSES]
        oldest = (
            await self.session.execute(
                select(func.min(HandoverRow.created_at)).where(
                    HandoverRow.status.in_(open_statuses), HandoverRow.purged.is_(False)
                )
            )
        ).scalar_one_or_none()
        overdue = (
            await self.session.execute(
                select(func.min(HandoverRow.purge_at)).where(
                    HandoverRow.purge_at <= now, HandoverRow.purged.is_(False)
                )
            )
        ).scalar_one_or_none()
        gauges = {f"status_{status}": float(count) for status, count in counts.items()}
        gauges["oldest_unclaimed_seconds"] = (
            (now - _aware(oldest)).total_seconds() if oldest else 0.0
        )
        gauges["purge_lag_seconds"] = (now - _aware(overdue)).total_seconds() if overdue else 0.0
        return gauges

    # --- room posts and parent messages ---

    async def add_room_post(
        self, number: int, room: str, kind: str, message_ref: str, now: datetime
    ) -> None:
        await self.session.execute(
            _INSERT_ROOM_POST,
            {
                "handover_number": number,
                "room": room,
                "kind": kind,
                "message_ref": message_ref,
                "created_at": now,
                "redacted": False,
            },
        )

    async def room_posts(
        self,
        number: int,
        rooms: tuple[str, ...] | None = None,
        kinds: tuple[str, ...] | None = None,
    ) -> list[RoomPostRow]:
        query = select(RoomPostRow).where(
            RoomPostRow.handover_number == number, RoomPostRow.redacted.is_(False)
        )
        if rooms is not None:
            query = query.where(RoomPostRow.room.in_(rooms))
        if kinds is not None:
            query = query.where(RoomPostRow.kind.in_(kinds))
        return list((await self.session.execute(query)).scalars().all())

    async def mark_redacted(self, post_ids: list[int]) -> None:
        if post_ids:
            await self.session.execute(
                update(RoomPostRow).where(RoomPostRow.id.in_(post_ids)).values(redacted=True)
            )

    async def find_post(self, room: str, message_ref: str) -> RoomPostRow | None:
        query = select(RoomPostRow).where(
            RoomPostRow.room == room, RoomPostRow.message_ref == message_ref
        )
        return (await self.session.execute(query)).scalars().first()

    async def add_parent_message(
        self, conversation_id: str, channel: str, message_ref: str, now: datetime
    ) -> None:
        await self.session.execute(
            _INSERT_PARENT_MESSAGE,
            {
                "conversation_id": conversation_id,
                "channel": channel,
                "message_ref": self.cipher.encrypt(message_ref),
                "sent_at": now,
            },
        )

    async def parent_messages_due(
        self, now: datetime, max_age: timedelta, channel: str | None = None, limit: int = 500
    ) -> list[DueMessage]:
        """Personal bot messages in parents' chats that should go now.

        Due when a handover was made after the message was sent (the summary did its job),
        when the message reaches `max_age`, or when its conversation is gone.
        """
        orphan = ParentMessageRow.conversation_id.is_(None)
        handed_over = exists().where(
            HandoverRow.conversation_id == ParentMessageRow.conversation_id,
            HandoverRow.created_at >= ParentMessageRow.sent_at,
        )
        query = (
            select(ParentMessageRow)
            .where(or_(orphan, ParentMessageRow.sent_at <= now - max_age, handed_over))
            .order_by(ParentMessageRow.sent_at)
            .limit(limit)
        )
        if channel is not None:
            query = query.where(ParentMessageRow.channel == channel)
        rows = (await self.session.execute(query)).scalars().all()
        return [
            DueMessage(row.id, row.channel, self.cipher.decrypt(row.message_ref)) for row in rows
        ]

    async def delete_parent_messages(self, ids: list[int]) -> None:
        if ids:
            await self.session.execute(delete(ParentMessageRow).where(ParentMessageRow.id.in_(ids)))

    # --- the outbox ---

    async def enqueue(
        self,
        target: str,
        kind: str,
        handover: int | None,
        payload: dict[str, object],
        now: datetime,
    ) -> None:
        await self.session.execute(
            _INSERT_OUTBOX,
            {
                "created_at": now,
                "target": target,
                "kind": kind,
                "handover_number": handover,
                "payload": self.cipher.encrypt(json.dumps(payload)),
                "attempts": 0,
                "not_before": None,
                "claimed_until": None,
            },
        )

    async def claim_deliveries(
        self,
        targets: list[str],
        now: datetime,
        claim_for: timedelta,
        limit: int = 100,
        ignore_backoff: bool = False,
    ) -> list[Delivery]:
        """The oldest deliveries for `targets` that nobody else is delivering, claimed.

        A claim expires, so the deliveries of an instance that died are taken up again.
        """
        params = {"targets": targets, "now": now, "limit": limit}
        query = _CLAIMABLE if ignore_backoff else _CLAIMABLE_DUE
        rows = list((await self.session.execute(query, params)).all())
        if rows and not ignore_backoff:
            # Nothing overtakes a message that waits to be tried again in its target.
            waiting = dict((await self.session.execute(_WAITING, params)).all())
            rows = [row for row in rows if row[0] < waiting.get(row[1], row[0] + 1)]
        if not rows:
            return []
        await self.session.execute(
            _CLAIM, {"ids": [row[0] for row in rows], "until": now + claim_for}
        )
        return [
            Delivery(row_id, target, kind, number, json.loads(self.cipher.decrypt(blob)), tries)
            for row_id, target, kind, number, blob, tries in rows
        ]

    async def delivered(self, ids: list[int]) -> None:
        if ids:
            await self.session.execute(_DELIVERED, {"ids": ids})

    async def delivery_failed(self, delivery_id: int, not_before: datetime | None) -> None:
        """Back to the queue: tried again from `not_before` (None: at the next round)."""
        await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == delivery_id)
            .values(
                attempts=OutboxRow.attempts + (1 if not_before else 0),
                not_before=not_before,
                claimed_until=None,
            )
            .execution_options(synchronize_session=False)
        )

    async def drop_deliveries(
        self, handovers: list[int], kinds: tuple[str, ...], targets: tuple[str, ...] | None = None
    ) -> None:
        """Forget undelivered messages of these handovers (their data is being deleted)."""
        if not handovers:
            return
        query = delete(OutboxRow).where(
            OutboxRow.handover_number.in_(handovers), OutboxRow.kind.in_(kinds)
        )
        if targets is not None:
            query = query.where(OutboxRow.target.in_(targets))
        await self.session.execute(query)

    async def drop_posts(
        self, handover: int, rooms: tuple[str, ...], kinds: tuple[str, ...]
    ) -> None:
        """Forget undelivered room posts of one handover in `rooms` of `kinds`."""
        query = select(OutboxRow.id, OutboxRow.payload).where(
            OutboxRow.handover_number == handover, OutboxRow.kind == "post"
        )
        drop = []
        for row_id, payload in (await self.session.execute(query)).all():
            post = json.loads(self.cipher.decrypt(payload))
            if post.get("room") in rooms and post.get("kind") in kinds:
                drop.append(row_id)
        await self.delivered(drop)

    async def pending_deliveries(self, kind: str | None = None) -> int:
        query = select(func.count()).select_from(OutboxRow)
        if kind is not None:
            query = query.where(OutboxRow.kind == kind)
        return int((await self.session.execute(query)).scalar_one())

    # --- audit and registration ---

    async def audit(
        self,
        at: datetime,
        event: str,
        actor_role: str,
        organisation: str | None = None,
        handover_number: int | None = None,
    ) -> None:
        await self.session.execute(
            _INSERT_AUDIT,
            {
                "at": at,
                "event": event,
                "actor_role": actor_role,
                "organisation": organisation,
                "handover_number": handover_number,
            },
        )

    async def audit_events(
        self,
        handover_number: int | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[AuditRow]:
        query = select(AuditRow).order_by(AuditRow.at, AuditRow.id)
        if handover_number is not None:
            query = query.where(AuditRow.handover_number == handover_number)
        if start is not None:
            query = query.where(AuditRow.at >= start)
        if end is not None:
            query = query.where(AuditRow.at < end)
        return list((await self.session.execute(query)).scalars().all())

    async def purge_audit(self, before: datetime) -> int:
        result = await self.session.execute(delete(AuditRow).where(AuditRow.at < before))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def register(self, registration: Registration) -> None:
        await self.session.execute(
            _INSERT_REGISTRATION, {"id": uuid.uuid4().hex, **asdict(registration)}
        )

    async def count_registrations(self, **where: str) -> int:
        query = select(func.count()).select_from(RegistrationRow)
        for column, value in where.items():
            query = query.where(getattr(RegistrationRow, column) == value)
        return int((await self.session.execute(query)).scalar_one())

    # --- leases ---

    async def acquire_lease(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Take or renew a lease; True when `holder` holds it until now + ttl.

        One UPDATE decides between instances (the database serialises it); a lease that does
        not exist yet is created, and of two instances inserting at once one fails.
        """
        lease = {"lease_name": name, "lease_holder": holder, "lease_now": now}
        result = await self.session.execute(_TAKE_LEASE, {**lease, "lease_until": now + ttl})
        if result.rowcount:  # type: ignore[attr-defined]
            return True
        if (await self.session.execute(_LEASE_EXISTS, lease)).scalar() is not None:
            return False
        try:
            async with self.session.begin_nested():
                await self.session.execute(
                    _INSERT_LEASE, {"name": name, "holder": holder, "expires_at": now + ttl}
                )
        except IntegrityError:
            return False
        return True

    async def release_lease(self, name: str, holder: str) -> None:
        """Let another instance take the lease at once (the row stays, expired: the next
        start renews it with the one UPDATE)."""
        await self.session.execute(_RELEASE_LEASE, {"lease_name": name, "lease_holder": holder})

    # --- settings ---

    async def get_setting(self, key: str) -> str | None:
        return (await self.session.execute(_GET_SETTING, {"key": key})).scalar()

    async def set_setting(self, key: str, value: str) -> None:
        row = await self.session.get(SettingRow, key)
        if row is None:
            self.session.add(SettingRow(key=key, value=value))
        else:
            row.value = value
