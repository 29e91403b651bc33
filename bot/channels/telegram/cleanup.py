"""Deleting the bot's Telegram messages that hold personal data, before Telegram forbids it.

Telegram lets a bot delete its messages for 48 hours only. The app stores a ref of every
reply marked `personal` (parent_messages, encrypted). A message is deleted once a handover
was made after it was sent (the summary has done its job), and always when it reaches
`max_age` (below 48 hours). Refs of messages Telegram will not delete any more are dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, or_, select
from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError

from storage.models import ConversationRow, HandoverRow, ParentMessageRow
from storage.repository import Repository, Store

from .keyboards import decode_ref
from .settings import CHANNEL

log = logging.getLogger("cjgbot.telegram")


@dataclass(frozen=True, slots=True)
class DueMessage:
    id: int
    ref: str
    sent_at: datetime


# --- storage access (candidates for storage/repository.py) ---


async def parent_messages_due(
    repo: Repository, channel: str, now: datetime, max_age: timedelta, limit: int = 200
) -> list[DueMessage]:
    """Personal bot messages that are due: a handover made since, old, or of a deleted
    conversation. Rows without a conversation can be of any channel: the caller checks refs.
    (Rows lose their conversation only once parent_messages.conversation_id is SET NULL
    on delete instead of CASCADE.)"""
    orphan = ParentMessageRow.conversation_id.is_(None)
    handed_over = exists().where(
        HandoverRow.conversation_id == ParentMessageRow.conversation_id,
        HandoverRow.created_at >= ParentMessageRow.sent_at,
    )
    query = (
        select(ParentMessageRow)
        .outerjoin(ConversationRow, ConversationRow.id == ParentMessageRow.conversation_id)
        .where(or_(ConversationRow.channel == channel, orphan))
        .where(or_(orphan, ParentMessageRow.sent_at <= now - max_age, handed_over))
        .order_by(ParentMessageRow.sent_at)
        .limit(limit)
    )
    rows = (await repo.session.execute(query)).scalars().all()
    return [DueMessage(row.id, repo.cipher.decrypt(row.message_ref), row.sent_at) for row in rows]


async def forget_parent_messages(repo: Repository, ids: list[int]) -> None:
    if ids:
        await repo.session.execute(delete(ParentMessageRow).where(ParentMessageRow.id.in_(ids)))


# --- the sweep ---


async def delete_personal_messages(
    store: Store, bot: Bot, now: datetime, max_age: timedelta, limit: int = 200
) -> int:
    """Delete due messages in Telegram; returns how many were deleted.

    A row is forgotten when its message is gone (deleted now, deleted earlier by the parent)
    or can no longer be deleted; on a network problem it stays for the next sweep.
    """
    async with store.transaction() as repo:
        due = await parent_messages_due(repo, CHANNEL, now, max_age, limit)
    done: list[int] = []
    deleted = refused = 0
    for item in due:
        target = decode_ref(item.ref)
        if target is None:
            continue  # another channel's message (of a deleted conversation)
        chat_id, message_ids = target
        complete = True
        for message_id in message_ids:
            try:
                await bot.delete_message(chat_id, message_id)
                deleted += 1
            except (BadRequest, Forbidden):
                refused += 1  # already gone, too old, or the parent blocked the bot
            except TelegramError:
                complete = False
        if complete:
            done.append(item.id)
    async with store.transaction() as repo:
        await forget_parent_messages(repo, done)
    if due:
        log.info(
            "telegram_personal_messages_deleted",
            extra={"channel": CHANNEL, "count": deleted, "status": f"refused={refused}"},
        )
    return deleted
