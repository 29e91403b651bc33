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
from bot.delivery import ROOMS
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
        # Room copies go after the rows, through the outbox: what fails now is retried.
        await self._redact_leftovers(report)
        report.parent_messages_deleted = await self.app.delete_personal_messages(now)
        async with self.app.store.transaction() as repo:
            report.audit_events_purged = await repo.purge_audit(
                now - timedelta(days=self.audit_days)
            )
        await self.app.store.checkpoint()  # SQLite: the WAL's old pages go too
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

    async def _redact_leftovers(self, report: SweepReport) -> None:
        """Redactions of the room copies of purged handovers, then a purge of those rooms.

        They go through the outbox: delivered now where this instance serves the rooms,
        else by the instance that does; a failed one is retried (not lost).
        """
        now = self.app.clock()
        rooms: set[str] = set()
        while True:
            async with self.app.store.transaction() as repo:
                posts = await repo.unredacted_posts_of_purged(limit=REDACTIONS_PER_ROUND)
                for post in posts:
                    payload = {"room": post.room, "ref": post.message_ref}
                    await repo.enqueue(ROOMS, "redact", post.handover_number, payload, now)
                    rooms.add(post.room)
                await repo.mark_redacted([post.id for post in posts])
                if len(posts) < REDACTIONS_PER_ROUND:
                    # Then the homeserver may drop the redacted events for good.
                    for room in sorted(rooms):
                        await repo.enqueue(ROOMS, "purge", None, {"room": room}, now)
                    break
        sent = await self.app.dispatcher.flush(ignore_backoff=True)
        report.room_copies_redacted = sent["redact"]
        async with self.app.store.transaction() as repo:
            report.redactions_pending = await repo.pending_deliveries("redact")
