"""Delivering the outbox: room posts, redactions, room purges and notices to parents.

The app writes these to the outbox table in the transaction that decided them. The
dispatcher delivers what this instance can deliver: room messages only while it serves
the Matrix account (with the console, always), parent notices on the channels it runs.
A failed send goes back to the table and is tried again after a growing wait; within a
target the order is kept (a later post never overtakes an earlier one that failed).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flows.actions import Reply
from storage.repository import Delivery

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger("cjgbot.delivery")

ROOMS = "rooms"  # the outbox target of every room message
BATCH = 100
CLAIM = timedelta(minutes=2)  # another instance may take a claimed row after this
MAX_BACKOFF = timedelta(minutes=5)


def backoff(attempts: int) -> timedelta:
    """1 s, 2 s, 4 s ... up to five minutes."""
    return min(timedelta(seconds=2**attempts), MAX_BACKOFF)


class Dispatcher:
    def __init__(self, app: App) -> None:
        self.app = app
        # Set by the service: may this instance post in rooms / send on a parent channel now?
        self.rooms_ready: Callable[[], bool] = lambda: True
        self.channel_ready: Callable[[str], bool] = lambda name: True
        self._lock = asyncio.Lock()
        self._again = False  # more was queued while a flush ran: it goes round once more

    def targets(self) -> list[str]:
        targets = [name for name in self.app.parents if self.channel_ready(name)]
        if self.rooms_ready():
            targets.append(ROOMS)
        return targets

    async def flush_soon(self) -> None:
        """Deliver what was just queued: now, or by the flush that is running already.

        After a parent's message: the message need not wait for the delivery of another
        parent's handover (in a burst, a queue of them). The running flush looks at the
        outbox once more before it ends, and so finds the rows committed meanwhile.
        """
        if self._lock.locked():
            self._again = True
            return
        await self.flush()

    async def flush(self, ignore_backoff: bool = False) -> Counter[str]:
        """Deliver what is due for this instance; returns how many went, by kind."""
        sent: Counter[str] = Counter()
        async with self._lock:
            while True:
                self._again = False
                targets = self.targets()
                if not targets:
                    return sent
                now = self.app.clock()
                async with self.app.store.transaction() as repo:
                    batch = await repo.claim_deliveries(
                        targets, now, CLAIM, BATCH, ignore_backoff=ignore_backoff
                    )
                if not batch:
                    if self._again:
                        continue
                    return sent
                blocked = await self._deliver_batch(batch, sent)
                if (blocked or len(batch) < BATCH) and not self._again:
                    return sent  # (a blocked target waits out its backoff in the claim)

    async def _deliver_batch(self, batch: list[Delivery], sent: Counter[str]) -> bool:
        blocked: set[str] = set()
        done: list[int] = []
        retry: list[tuple[int, Any]] = []
        posts: list[tuple[int, str, str, str]] = []
        mention: list[str | None] = []  # looked up once per batch, when needed
        for delivery in batch:
            if delivery.target in blocked:
                retry.append((delivery.id, None))  # keeps its place for the next round
                continue
            try:
                ref = await self._deliver(delivery, mention)
            except Exception as exc:  # the homeserver or the network: later
                status = type(exc).__name__
                log.warning("delivery_failed", extra={"kind": delivery.kind, "status": status})
                blocked.add(delivery.target)
                retry.append((delivery.id, self.app.clock() + backoff(delivery.attempts)))
                continue
            done.append(delivery.id)
            sent[delivery.kind] += 1
            room = delivery.payload.get("room")
            if ref is not None and delivery.kind == "post" and delivery.handover is not None:
                posts.append((delivery.handover, str(room), str(delivery.payload["kind"]), ref))
        now = self.app.clock()
        async with self.app.store.transaction() as repo:
            await repo.delivered(done)
            for number, room, kind, ref in posts:
                await repo.add_room_post(number, room, kind, ref, now)
            for delivery_id, not_before in retry:
                await repo.delivery_failed(delivery_id, not_before)
        return bool(blocked)

    async def _deliver(self, delivery: Delivery, mention: list[str | None]) -> str | None:
        payload = delivery.payload
        rooms = self.app.rooms
        if delivery.kind == "post":
            who = None
            if payload.get("attention"):
                if not mention:
                    mention.append(await self.app.mention_on_duty())
                who = mention[0]
            ref = await rooms.post(
                str(payload["room"]),
                str(payload["text"]),
                str(payload["kind"]),
                delivery.handover,
                mention=who,
            )
            if ref is None:  # refused for good (e.g. the bot is not in the room): logged there
                log.error("post_refused", extra={"room": payload["room"]})
            return ref
        if delivery.kind == "redact":
            await rooms.redact(str(payload["room"]), str(payload["ref"]))
            return None
        if delivery.kind == "purge":
            purge = getattr(rooms, "purge", None)
            if purge is not None:
                await purge(str(payload["room"]))
            return None
        if delivery.kind == "notice":
            gateway = self.app.parents[delivery.target]
            await gateway.send(str(payload["address"]), Reply(str(payload["text"])))
            return None
        log.error("delivery_unknown_kind", extra={"kind": delivery.kind})
        return None


async def keep_delivering(dispatcher: Dispatcher, interval_s: float = 1.0) -> None:
    """Look at the outbox every `interval_s`: retries, and rows other instances wrote."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await dispatcher.flush()
        except Exception as exc:  # the database is away: next round
            log.warning("delivery_round_failed", extra={"status": type(exc).__name__})
