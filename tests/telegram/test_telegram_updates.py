"""Everything that is not private text: photos, voice notes, edits, ... and group chats."""

from __future__ import annotations

from fake_bot_api import CONTENT, FakeBotApi
from sqlalchemy import text
from telegram_harness import Harness

from flows.events import ParentUnsupported
from support.databases import stored_bytes

UNSUPPORTED = "Ik kan alleen tekst lezen"
SECRETS = (
    b"Zonnebloemschool",
    b"612345678",
    b"verslag.pdf",
    b"onze keuken",
    b"51.41",
    b"Wie slaapt",
)


async def raw_database(bot: Harness) -> bytes:
    return await stored_bytes(bot.app.store.engine)


async def test_what_is_not_text_gets_a_kind_reply_and_is_not_stored(
    bot: Harness, server: FakeBotApi
) -> None:
    for number, kind in enumerate(sorted(CONTENT)):
        parent = server.parent(user_id=5000 + number)  # a new chat for every kind
        await bot.settle(parent.send(kind))
        assert bot.events[-1] == ParentUnsupported(kind), kind
        assert len(parent.texts()) >= 1 and UNSUPPORTED in parent.texts()[0], kind
    assert len(bot.events) == len(CONTENT)
    raw = await raw_database(bot)
    assert [secret for secret in SECRETS if secret in raw] == []


async def test_an_edited_message_is_not_read_as_a_new_one(bot: Harness, server: FakeBotApi) -> None:
    parent = server.parent()
    await bot.settle(parent.say("mijn dochter slaapt slecht"))
    first = parent.texts()
    await bot.settle(parent.edit(1, "mijn dochter slaapt slecht, ze is 4 en woont in Eersel"))
    assert bot.events[-1] == ParentUnsupported("edited_message")
    assert UNSUPPORTED in parent.texts()[len(first)]
    assert b"Eersel" not in await raw_database(bot)


async def test_in_a_group_the_bot_says_once_it_talks_privately_and_leaves(
    bot: Harness, server: FakeBotApi
) -> None:
    parent = server.parent()
    group = server.group()
    server.push_added_to_group(parent, group)
    server.push_message(parent, group, {"text": "ons kind wordt gepest, kan iemand helpen"})
    last = server.push_message(parent, group, {"text": "/start"})
    await bot.settle(last)
    [notice] = server.bot_messages(group.id)
    assert "alleen in een privégesprek" in (notice.text or "")
    assert server.left_chats == {group.id}
    assert len(server.calls_of("leaveChat")) == 1
    assert bot.events == []  # nothing of the group reaches the conversation
    async with bot.app.store.engine.begin() as connection:
        count = (await connection.execute(text("SELECT count(*) FROM conversations"))).scalar()
    assert count == 0


async def test_a_group_message_in_english_gets_the_english_notice(
    bot: Harness, server: FakeBotApi
) -> None:
    parent = server.parent(user_id=5151, language_code="en-GB")
    group = server.group(-4001, kind="group")
    await bot.settle(server.push_message(parent, group, {"text": "hello bot"}))
    [notice] = server.bot_messages(group.id)
    assert "I only talk in a private chat" in (notice.text or "")
    assert server.left_chats == {group.id}
