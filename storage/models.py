"""SQLAlchemy models. Personal fields are encrypted blobs; the registration table stands alone.

Only the columns needed to find and schedule rows are in clear: status, partner ids,
deadlines. Chat ids are stored as keyed hashes (lookup) and encrypted (to reply).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class ConversationRow(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_key: Mapped[str] = mapped_column(String(64), unique=True)
    address: Mapped[bytes] = mapped_column(LargeBinary)  # encrypted chat id
    state: Mapped[bytes] = mapped_column(LargeBinary)  # encrypted ConversationState JSON
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Never set and never read: saving a conversation leaves it alone (rewriting its index
    # entry cost a page per message). To drop in a later release, once no instance of an
    # earlier version (which still writes it) can run against the same database.
    purge_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class HandoverRow(Base):
    __tablename__ = "handovers"
    __table_args__ = {"sqlite_autoincrement": True}  # numbers are never reused

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), index=True)
    targets: Mapped[list[str]] = mapped_column(JSON)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    purge_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    purged: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[bytes] = mapped_column(LargeBinary)  # encrypted HandoverState JSON
    details: Mapped[bytes | None] = mapped_column(LargeBinary)  # encrypted HandoverDetails JSON


class RoomPostRow(Base):
    """A message the bot posted in a room about a handover: to redact it later."""

    __tablename__ = "room_posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    handover_number: Mapped[int] = mapped_column(
        ForeignKey("handovers.number", ondelete="CASCADE"), index=True
    )
    room: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    message_ref: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    redacted: Mapped[bool] = mapped_column(Boolean, default=False)


class ParentMessageRow(Base):
    """A bot message in the parent's chat that holds personal data: to delete it later."""

    __tablename__ = "parent_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # SET NULL: a message outlives its conversation until the sweeper deleted it in the chat.
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    message_ref: Mapped[bytes] = mapped_column(LargeBinary)  # encrypted
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditRow(Base):
    """Who did what to which handover, when: roles, organisations and opaque numbers only."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    event: Mapped[str] = mapped_column(String(48))
    actor_role: Mapped[str] = mapped_column(String(16))
    organisation: Mapped[str | None] = mapped_column(String(32))
    handover_number: Mapped[int | None] = mapped_column(Integer, index=True)


class RegistrationRow(Base):
    """Anonymous statistics: no foreign key, no chat ids, no text, a month not a time."""

    __tablename__ = "registrations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, not ordered
    month: Mapped[str] = mapped_column(String(7), index=True)
    type: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str | None] = mapped_column(String(48))
    forwarded_to: Mapped[str | None] = mapped_column(String(32))
    age_band: Mapped[str] = mapped_column(String(16))
    sex: Mapped[str] = mapped_column(String(16))
    place: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(32))


class SettingRow(Base):
    """Small technical key-value state (sync tokens, leases)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(4096))


class LeaseRow(Base):
    """A lease: one instance at a time holds `name` until `expires_at` (renewed while alive)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboxRow(Base):
    """A message to deliver after its transaction committed, until it is delivered.

    Room posts, redactions and notices to parents wait here, so that whichever instance
    can deliver them (the holder of the Matrix lease for rooms) does, and a failed send is
    retried instead of lost. Rows of a handover go when its data is purged.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    target: Mapped[str] = mapped_column(String(16), index=True)  # "rooms" or a parent channel
    kind: Mapped[str] = mapped_column(String(16))  # post, redact, purge, notice
    handover_number: Mapped[int | None] = mapped_column(Integer, index=True)
    payload: Mapped[bytes] = mapped_column(LargeBinary)  # encrypted JSON
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


Index("ix_handovers_open", HandoverRow.status, HandoverRow.created_at)
