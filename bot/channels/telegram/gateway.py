"""Sending the app's replies to a parent's Telegram chat (the ParentGateway of this channel)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram import Bot, LinkPreviewOptions
from telegram.error import BadRequest, Forbidden, TelegramError

from flows.actions import Reply

from .keyboards import decode_ref, encode_ref, keyboard, split_text

log = logging.getLogger("cjgbot.telegram")

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class TelegramParents:
    """`send(address, reply)`: the address is the private chat id; returns a 'tg:' ref."""

    def __init__(self, bot: Bot, on_keyboard: Callable[[int, int], None] | None = None) -> None:
        self.bot = bot
        self.on_keyboard = on_keyboard  # told (chat, message id) of every message with buttons

    async def send(self, address: str, reply: Reply) -> str | None:
        chat_id = int(address)
        chunks = split_text(reply.text)
        markup = keyboard(reply.buttons) if reply.buttons else None
        sent: list[int] = []
        for number, chunk in enumerate(chunks, 1):
            last = number == len(chunks)
            try:
                message = await self.bot.send_message(
                    chat_id,
                    chunk,
                    reply_markup=markup if last else None,
                    link_preview_options=NO_PREVIEW,
                )
            except Forbidden:
                log.info("telegram_send_refused", extra={"channel": "telegram"})
                break
            except TelegramError as exc:
                log.warning(
                    "telegram_send_failed",
                    extra={"channel": "telegram", "status": type(exc).__name__},
                )
                break
            sent.append(message.message_id)
            if last and markup is not None and self.on_keyboard is not None:
                self.on_keyboard(chat_id, message.message_id)
        return encode_ref(chat_id, sent) if sent else None

    async def delete(self, message_ref: str) -> int:
        """Delete the messages one reply became; raises TelegramError to be retried later.

        Telegram refuses (BadRequest/Forbidden) when a message is already gone, older than
        48 hours, or the parent blocked the bot: then there is nothing more to do.
        """
        target = decode_ref(message_ref)
        if target is None:
            return 0
        chat_id, message_ids = target
        deleted = 0
        for message_id in message_ids:
            try:
                await self.bot.delete_message(chat_id, message_id)
                deleted += 1
            except (BadRequest, Forbidden):
                log.info("telegram_delete_refused", extra={"channel": "telegram"})
        return deleted
