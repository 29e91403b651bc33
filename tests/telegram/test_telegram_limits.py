"""Floods and flood limits: 50 messages in 5 seconds, per-chat pacing, and 429 retry_after."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from fake_bot_api import FakeBotApi
from sqlalchemy import select
from telegram_harness import Bots, Harness, wait_until

from bot.channels.telegram import RateLimits
from flows.events import ParentCommand, ParentText
from flows.state import Step
from storage.models import ConversationRow


def sent_times(server: FakeBotApi, chat_id: int) -> list[float]:
    return [
        call.at
        for call in server.calls_of("sendMessage")
        if call.params.get("chat_id") == chat_id and call.status == 200
    ]


async def test_a_flood_of_50_messages_in_5_seconds_loses_nothing(
    bots: Bots, server: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await bots.start(rate_limits=RateLimits(overall_per_second=30, per_chat_per_second=20))
    parent = server.parent()
    sent = [
        "ons kind wordt gepest, kan iemand helpen" if i == 10 else f"bericht nummer {i}"
        for i in range(50)
    ]
    started = time.monotonic()
    last = 0
    with caplog.at_level(logging.WARNING):
        for message in sent:
            last = parent.say(message)
            await asyncio.sleep(0.1)
        await bot.settle(last, within=20)
    assert time.monotonic() - started < 15
    texts = [e.text for e in bot.events if isinstance(e, ParentText)]
    assert len(texts) == len(bot.events)  # only texts were sent
    # Every message reached the conversation exactly once, in order (some joined together).
    assert "\n".join(texts).split("\n") == sent
    # Every turn was answered.
    assert len(parent.messages()) >= len(texts)
    assert not [r for r in caplog.records if r.name.startswith("cjgbot")]
    async with bot.app.store.transaction() as repo:
        [row] = (await repo.session.execute(select(ConversationRow))).scalars().all()
        conversation = await repo.find_conversation("telegram", str(parent.chat_id))
    assert row.channel == "telegram" and conversation is not None
    assert conversation.state.step in set(Step)
    assert bot.channel.inbox.idle


async def test_messages_that_wait_are_joined_into_one_turn(bots: Bots, server: FakeBotApi) -> None:
    # One message per 0.2 s to this chat: while the bot answers, the parent's texts pile up.
    bot = await bots.start(rate_limits=RateLimits(overall_per_second=30, per_chat_per_second=5))
    parent = server.parent()
    parent.say("hallo")
    await wait_until(lambda: bool(sent_times(server, parent.chat_id)))  # the bot is answering
    last = 0
    for line in (
        "mijn dochter",
        "van 4",
        "slaapt slecht",
        "wat kan ik doen",
        "/help",
        "en nog iets",
    ):
        last = parent.say(line)
    await bot.settle(last)
    assert bot.events[0] == ParentText("hallo")
    assert bot.events[1] == ParentText("mijn dochter\nvan 4\nslaapt slecht\nwat kan ik doen")
    assert bot.events[2] == ParentCommand("help")  # commands are never joined
    assert bot.events[3] == ParentText("en nog iets")


async def test_one_message_per_period_per_chat_and_chats_do_not_wait_for_each_other(
    bots: Bots, server: FakeBotApi
) -> None:
    bot = await bots.start(rate_limits=RateLimits(overall_per_second=30, per_chat_per_second=5))
    anna, bram = server.parent(1001), server.parent(1002)
    for command in ("/help", "/privacy", "/help"):
        anna.say(command)
    last = bram.say("/help")
    await bot.settle(last)
    await bot.channel.inbox.drain(within=10)
    a_times, b_times = sent_times(server, anna.chat_id), sent_times(server, bram.chat_id)
    assert len(a_times) >= 3
    gaps = [later - earlier for earlier, later in zip(a_times, a_times[1:], strict=False)]
    assert min(gaps) >= 0.18
    assert b_times[0] < a_times[-1]  # Bram is answered while Anna's replies are paced


async def test_a_429_is_retried_after_retry_after(bot: Harness, server: FakeBotApi) -> None:
    parent = server.parent()
    server.fail_next("sendMessage", times=1, retry_after=1)
    await bot.settle(parent.say("hallo"))
    calls = [c for c in server.calls_of("sendMessage") if c.params["chat_id"] == parent.chat_id]
    assert [c.status for c in calls][:2] == [429, 200]
    assert calls[1].at - calls[0].at >= 1.0
    assert "chatbot van" in parent.texts()[0]
