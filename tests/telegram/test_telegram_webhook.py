"""Webhook mode: the fake Bot API POSTs updates to the bot's own HTTP server on 127.0.0.1."""

from __future__ import annotations

import httpx
from fake_bot_api import FakeBotApi
from telegram_harness import Bots, free_port

from flows.events import ParentText

SECRET = "hook_Secret-123"


async def test_webhook_mode_receives_updates_and_checks_the_secret(
    bots: Bots, server: FakeBotApi
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    bot = await bots.start(
        mode="webhook", webhook_url=url, webhook_port=port, webhook_secret=SECRET
    )
    assert server.webhook is not None
    assert server.webhook.url == url and server.webhook.secret == SECRET
    assert set(server.webhook.allowed_updates or []) == {
        "message",
        "edited_message",
        "callback_query",
        "my_chat_member",
    }
    parent = server.parent()
    for text in ("ons kind wordt gepest, kan iemand helpen", "Veldhoven", "9"):
        await bot.settle(parent.say(text))
    await bot.settle(parent.press("Meisje"))
    assert bot.events[-1] == ParentText("Meisje", button="meisje")
    assert server.calls_of("getUpdates") == []
    assert set(server.webhook_deliveries) == {200}

    forged = {
        "update_id": 999,
        "message": {
            "message_id": 99,
            "date": 0,
            "text": "/vergeet",
            "chat": {"id": parent.chat_id, "type": "private"},
        },
    }
    async with httpx.AsyncClient() as client:
        wrong = await client.post(
            url, json=forged, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"}
        )
        missing = await client.post(url, json=forged)
    assert wrong.status_code == 403 and missing.status_code == 403
    assert len(bot.events) == 4
