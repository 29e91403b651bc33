"""Flood limits: PTB's AIORateLimiter (overall, groups, 429 retries) plus a limit per private chat.

AIORateLimiter throttles the whole bot and group chats; Telegram also asks bots not to send
more than about one message a second to one chat, which this subclass adds for private chats.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.ext import AIORateLimiter

from .settings import RateLimits

# Endpoints that put a message in a chat; deletes and callback answers are not throttled.
_CHAT_ENDPOINTS = ("send", "edit", "copy", "forward")
_MAX_IDLE_LIMITERS = 1024


class ChatRateLimiter(AIORateLimiter):
    def __init__(self, limits: RateLimits) -> None:
        super().__init__(
            overall_max_rate=limits.overall_per_second,
            overall_time_period=1,
            group_max_rate=limits.group_per_minute,
            group_time_period=60,
            max_retries=limits.max_retries,
        )
        self._chat_period = 1 / limits.per_chat_per_second
        self._chat_limiters: dict[int, AsyncLimiter] = {}

    def _chat_limiter(self, chat_id: int) -> AsyncLimiter:
        limiter = self._chat_limiters.get(chat_id)
        if limiter is None:
            if len(self._chat_limiters) > _MAX_IDLE_LIMITERS:
                for key, old in list(self._chat_limiters.items()):
                    if old.has_capacity(old.max_rate):
                        del self._chat_limiters[key]
            # One message per period, no bursts.
            limiter = self._chat_limiters[chat_id] = AsyncLimiter(1, self._chat_period)
        return limiter

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = data.get("chat_id")
        if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
            chat_id = int(chat_id)
        if isinstance(chat_id, int) and chat_id > 0 and endpoint.startswith(_CHAT_ENDPOINTS):
            await self._chat_limiter(chat_id).acquire()
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )
