"""One ordered queue per chat: chats run side by side, one chat's messages one after another.

When a parent sends several texts while the bot is still answering, the waiting texts are
joined into one message (in order, up to the flow's length limit) instead of being answered
one by one: nothing is dropped and the answer fits what the parent said.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from .updates import Inbound, TextIn

log = logging.getLogger("cjgbot.telegram")

Process = Callable[[int, Inbound], Awaitable[None]]


def _size(item: Inbound) -> int:
    return item.count if isinstance(item, TextIn) else 1


class ChatInbox:
    def __init__(self, process: Process, max_chars: int, max_waiting: int = 500) -> None:
        self.process = process
        self.max_chars = max_chars
        self.max_waiting = max_waiting
        self._queues: dict[int, deque[Inbound]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self.handled = 0  # updates fully handled (joined texts count one each)

    @property
    def idle(self) -> bool:
        return not self._workers

    def put(self, chat_id: int, item: Inbound) -> None:
        queue = self._queues.setdefault(chat_id, deque())
        if len(queue) >= self.max_waiting:
            # A flood far beyond what a person types: keep the chat's order, drop the excess.
            log.warning("telegram_inbox_full", extra={"channel": "telegram"})
            self.handled += _size(item)
            return
        queue.append(item)
        if chat_id not in self._workers:
            self._workers[chat_id] = asyncio.create_task(self._work(chat_id))

    def _next(self, queue: deque[Inbound]) -> Inbound:
        item = queue.popleft()
        if not isinstance(item, TextIn):
            return item
        while queue and isinstance(queue[0], TextIn):
            following = queue[0]
            joined = f"{item.text}\n{following.text}"
            if len(joined) > self.max_chars:
                break
            queue.popleft()
            item = TextIn(joined, item.count + following.count)
        return item

    async def _work(self, chat_id: int) -> None:
        queue = self._queues[chat_id]
        try:
            while queue:
                item = self._next(queue)
                try:
                    await self.process(chat_id, item)
                except Exception:  # one failed turn must not stop the chat's queue
                    log.exception("telegram_turn_failed", extra={"channel": "telegram"})
                finally:
                    self.handled += _size(item)
        finally:
            del self._workers[chat_id]
            if not queue:
                self._queues.pop(chat_id, None)

    async def drain(self, within: float) -> bool:
        """Wait until every queued message is handled; False if the time ran out."""
        try:
            async with asyncio.timeout(within):
                while self._workers:
                    await asyncio.gather(*list(self._workers.values()), return_exceptions=True)
        except TimeoutError:
            return False
        return True

    async def cancel(self) -> None:
        for task in list(self._workers.values()):
            task.cancel()
        await asyncio.gather(*list(self._workers.values()), return_exceptions=True)
