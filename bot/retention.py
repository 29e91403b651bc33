"""The sweeper: deletes personal data that is due, with room copies, idempotently.

Deadlines are database rows (handovers.purge_at, conversations.expires_at); APScheduler
only wakes `Sweeper.sweep`. Every step can be interrupted and is finished by the next
sweep: database rows are purged first, room copies of purged handovers are redacted until
that succeeds, and the bot's personal messages in parents' chats are deleted within the
platform's limits (Telegram: 48 hours).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.app import App
from flows.state import Step

log = logging.getLogger("cjgbot.retention")

BATCH = 1000  # handovers per transaction (retention.sweep_batch_size)
REDACTIONS_PER_ROUND = 500


@dataclass
class SweepReport:
    handovers_purged: int = 0
    conversations_deleted: int = 0
    conversations_closed: int = 0
    room_copies_redacted: int = 0
    redactions_pending: int = 0
    parent_messages_deleted: int = 0
    audit_events_purged: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass
class PurgePlan:
    handovers: list[tuple[int, datetime]] = field(default_factory=list)
    conversations: list[tuple[str, datetime]] = field(default_factory=list)


class Sweeper:
    def __init__(self, app: App, audit_days: int = 365, batch: int = BATCH) -> None:
        self.app = app
        self.audit_days = audit_days
        self.batch = batch

    async def plan(self) -> PurgePlan:
        """What is scheduled for deletion, and when (for `cjgbot purge --dry-run`)."""
        async with self.app.store.transaction() as repo:
            return PurgePlan(await repo.scheduled_handovers(), await repo.conversation_deadlines())

    async def sweep(self, now: datetime | None = None) -> SweepReport:
        now = now or self.app.clock()
        report = SweepReport()
        report.conversations_closed = await self.app.expire_conversations(now)
        await self._purge_handovers(now, report)
        # Room copies go after the rows; what fails now, the next sweep finishes.
        await self._purge_rooms(await self._redact_leftovers(report))
        report.parent_messages_deleted = await self.app.delete_personal_messages(now)
        async with self.app.store.transaction() as repo:
            report.audit_events_purged = await repo.purge_audit(
                now - timedelta(days=self.audit_days)
            )
        await self._compact()
        log.info("sweep_done", extra={"count": report.handovers_purged})
        return report

    async def _purge_handovers(self, now: datetime, report: SweepReport) -> None:
        """Purge due handovers in batches, each batch one transaction."""
        while True:
            async with self.app.store.transaction() as repo:
                due = await repo.due_handovers(now, limit=self.batch)
                if not due:
                    return
                await repo.purge_handovers([number for number, _ in due], now)
                report.handovers_purged += len(due)
                touched = {conversation for _, conversation in due if conversation}
                for conversation_id in await repo.without_live_handovers(touched):
                    conversation = await repo.get_conversation(conversation_id)
                    idle = conversation is not None and (
                        conversation.state.step == Step.ASK and conversation.state.question is None
                    )
                    if idle:
                        await repo.delete_conversation(conversation_id)
                        report.conversations_deleted += 1

    async def _redact_leftovers(self, report: SweepReport) -> set[str]:
        """Redact the room copies of purged handovers; returns the rooms that had some."""
        rooms: set[str] = set()
        while True:
            async with self.app.store.transaction() as repo:
                posts = await repo.unredacted_posts_of_purged(limit=REDACTIONS_PER_ROUND)
                done: list[int] = []
                for post in posts:
                    try:
                        await self.app.rooms.redact(post.room, post.message_ref)
                    except Exception:  # the homeserver may be away: the next sweep retries
                        log.warning("redaction_failed", extra={"room": post.room})
                        continue
                    done.append(post.id)
                    rooms.add(post.room)
                await repo.mark_redacted(done)
            report.room_copies_redacted += len(done)
            report.redactions_pending = len(posts) - len(done)
            if report.redactions_pending or len(posts) < REDACTIONS_PER_ROUND:
                return rooms

    async def _purge_rooms(self, rooms: set[str]) -> None:
        """Ask the homeserver to purge redacted events too (where the bot administers it)."""
        purge = getattr(self.app.rooms, "purge", None)
        if purge is None:
            return
        for room in sorted(rooms):
            try:
                await purge(room)
            except Exception:
                log.warning("purge_failed", extra={"room": room})

    async def _compact(self) -> None:
        """SQLite: move the WAL into the file (secure_delete zeroes freed space) and empty it."""
        engine = self.app.store.engine
        if engine.dialect.name != "sqlite":
            return
        async with engine.connect() as connection:
            await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
