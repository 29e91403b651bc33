"""Whole conversations through python-telegram-bot and the fake Bot API: buttons, commands,
crisis, deep-link source, restart, and deleting the bot's messages with personal data."""

from __future__ import annotations

import pytest
from fake_bot_api import FakeBotApi, FakeParent
from sqlalchemy import select
from telegram_harness import Bots, Harness

from bot.config import ConfigError
from flows.events import ParentCommand, ParentText
from storage.models import ConversationRow, ParentMessageRow
from support.app import Clock

PHONE = "06-48213579"


async def say(bot: Harness, parent: FakeParent, text: str) -> None:
    await bot.settle(parent.say(text))


async def press(bot: Harness, parent: FakeParent, label: str) -> None:
    await bot.settle(parent.press(label))


async def personal_refs(bot: Harness) -> list[str]:
    async with bot.app.store.transaction() as repo:
        rows = (await repo.session.execute(select(ParentMessageRow))).scalars().all()
        return [repo.cipher.decrypt(row.message_ref) for row in rows]


async def test_a_type_2_conversation_with_buttons_reaches_the_partner(
    bot: Harness, server: FakeBotApi
) -> None:
    parent = server.parent()
    await say(bot, parent, "/start schoolposter")
    assert "chatbot van" in parent.texts()[0]
    for text in ("ons kind wordt gepest, kan iemand helpen", "Veldhoven", "9"):
        await say(bot, parent, text)
    sex_question = parent.last_keyboard()
    assert sex_question.labels == ["Jongen", "Meisje", "Anders", "Wil ik niet zeggen"]
    assert all(len(b["callback_data"].encode()) <= 64 for b in sex_question.buttons)

    await press(bot, parent, "Jongen")
    assert bot.events[-1] == ParentText("Jongen", button="jongen")
    assert sex_question.reply_markup is None and sex_question.text.endswith("✓ Jongen")
    assert list(server.answered.values()) == [None]  # answered, no warning shown

    assert parent.last_keyboard().labels == ["Ja, dat is goed", "Nee, liever niet"]
    await press(bot, parent, "Ja, dat is goed")
    await say(bot, parent, f"{PHONE}, liever gebeld")
    await say(bot, parent, "Sanne")
    # (The stand-in NLU reads "Ja, dat is goed" as English: compare values, not labels.)
    summary = parent.last_keyboard()
    assert "gepest" in (summary.text or "")
    assert [b["callback_data"] for b in summary.buttons] == ["b:ok", "b:change"]
    assert await personal_refs(bot) == [f"tg:{parent.chat_id}:{summary.message_id}"]

    await press(bot, parent, summary.labels[0])
    assert bot.events[-1].button == "ok"
    assert "9" in parent.texts()[-1] and "12" in parent.texts()[-1]  # Monday 9 to 12
    [post] = bot.rooms.in_room("lumens")
    assert "+31648213579" in post and "9 jaar" in post
    async with bot.app.store.transaction() as repo:
        assert await repo.count_registrations(source="schoolposter", channel="telegram") == 1

    # The handover is made: the summary with personal data is deleted from the chat.
    assert await bot.channel.sweep() == 1
    assert summary.deleted and await personal_refs(bot) == []
    assert not any(m.deleted for m in parent.messages() if m is not summary)


async def test_commands_are_registered_in_dutch_and_english(
    bot: Harness, server: FakeBotApi
) -> None:
    dutch = {c["command"]: c["description"] for c in server.commands[None]}
    english = {c["command"]: c["description"] for c in server.commands["en"]}
    assert set(dutch) == {"start", "help", "privacy", "opnieuw", "mijngegevens", "vergeet", "stop"}
    assert set(english) == {"start", "help", "privacy", "restart", "mydata", "forget", "stop"}
    assert dutch["vergeet"] == "Uw gegevens nu wissen"
    assert english["forget"] == "Delete your data now"
    parent = server.parent(language_code="en")
    await say(bot, parent, "/mydata")
    assert bot.events[-1] == ParentCommand("mijngegevens")
    before = len(parent.texts())
    await say(bot, parent, "/privacy")
    [privacy] = [t for t in parent.texts()[before:] if "Privacy" in t]
    assert "end-to-end" in privacy and "Matrix" in privacy


async def test_typing_the_answer_works_as_well_as_pressing(
    bot: Harness, server: FakeBotApi
) -> None:
    parent = server.parent()
    for text in ("ons kind wordt gepest, kan iemand helpen", "Veldhoven", "9", "meisje"):
        await say(bot, parent, text)
    assert "Lumens" in parent.texts()[-1]
    assert parent.last_keyboard().labels == ["Ja, dat is goed", "Nee, liever niet"]


async def test_a_button_pressed_twice_or_too_late_counts_once(
    bot: Harness, server: FakeBotApi
) -> None:
    parent = server.parent()
    for text in ("ons kind wordt gepest, kan iemand helpen", "Veldhoven", "9"):
        await say(bot, parent, text)
    sex_question = parent.last_keyboard()
    first = parent.press("Jongen", sex_question)
    second = parent.press("Meisje", sex_question)  # a quick second tap
    await bot.settle(second)
    assert first < second
    presses = [e for e in bot.events if isinstance(e, ParentText) and e.button]
    assert presses == [ParentText("Jongen", button="jongen")]
    warnings = [text for text in server.answered.values() if text]
    assert warnings == [
        "Deze keuze is niet meer open. Typ uw antwoord, of kies bij mijn laatste bericht."
    ]
    # An older keyboard that was answered by typing cannot be pressed any more either.
    disclose = parent.last_keyboard()
    await say(bot, parent, "ja")
    await bot.settle(parent.press("Nee, liever niet", disclose))
    assert not any(isinstance(e, ParentText) and e.button == "no" for e in bot.events)
    assert disclose.reply_markup is None  # the stale buttons are taken off
    assert len([text for text in server.answered.values() if text]) == 2


async def test_a_crisis_message_in_the_middle_of_the_intake(
    bot: Harness, server: FakeBotApi
) -> None:
    parent = server.parent()
    await say(bot, parent, "ons kind wordt gepest, kan iemand helpen")
    await say(bot, parent, "Veldhoven")
    await say(bot, parent, "mijn zoon wil niet meer leven")
    crisis = "\n".join(parent.texts()[-3:])
    assert "112" in crisis and "113" in crisis
    assert any("DRINGEND" in post for post in bot.rooms.in_room("loket"))
    offer = parent.last_keyboard()
    assert offer.labels == ["Ja", "Nee"]
    await press(bot, parent, "Ja")
    assert bot.events[-1] == ParentText("Ja", button="yes")


async def test_a_restart_in_the_middle_of_an_intake(bots: Bots, server: FakeBotApi) -> None:
    first = await bots.start()
    parent = server.parent()
    for text in ("ons kind wordt gepest, kan iemand helpen", "Veldhoven", "9"):
        await say(first, parent, text)
    sex_question = parent.last_keyboard()
    await bots.stop(first)

    waiting = parent.press("Meisje", sex_question)  # pressed while the bot is down
    second = await bots.start()
    await second.settle(waiting)
    assert second.events == [ParentText("Meisje", button="meisje")]
    assert parent.last_keyboard().labels == ["Ja, dat is goed", "Nee, liever niet"]
    await say(second, parent, "ja")
    await say(second, parent, PHONE)
    await say(second, parent, "Sanne")
    await press(second, parent, "Klopt")
    [post] = second.rooms.in_room("lumens")
    assert "Veldhoven" in post and "9 jaar" in post and "meisje" in post
    async with second.app.store.transaction() as repo:
        rows = (await repo.session.execute(select(ConversationRow))).scalars().all()
    assert len(rows) == 1


async def test_personal_messages_are_deleted_before_48_hours_even_without_handover(
    bot: Harness, server: FakeBotApi, clock: Clock
) -> None:
    parent = server.parent()
    for text in (
        "ons kind wordt gepest, kan iemand helpen",
        "Veldhoven",
        "9",
        "jongen",
        "ja",
        PHONE,
        "Sanne",
    ):
        await say(bot, parent, text)
    summary = parent.last_keyboard()
    await say(bot, parent, "/mijngegevens")
    my_data, summary_again = parent.messages()[-2:]
    assert "Dit bewaar ik van u" in (my_data.text or "")
    assert len(await personal_refs(bot)) == 3  # the summary is shown again after the data

    clock.advance(hours=45)
    assert await bot.channel.sweep() == 0  # no handover, not old yet: the parent may go on
    clock.advance(hours=1, minutes=1)
    assert await bot.channel.sweep() == 3
    assert summary.deleted and my_data.deleted and summary_again.deleted
    assert await personal_refs(bot) == []


async def test_a_message_telegram_no_longer_deletes_is_not_retried(
    bot: Harness, server: FakeBotApi, clock: Clock
) -> None:
    parent = server.parent()
    await say(bot, parent, "hallo")
    await say(bot, parent, "/mijngegevens")
    my_data = parent.messages()[-2]
    assert len(await personal_refs(bot)) == 1
    clock.advance(hours=49)  # the bot was down for two days
    assert await bot.channel.sweep() == 0
    assert not my_data.deleted and await personal_refs(bot) == []
    assert [c.status for c in server.calls_of("deleteMessage")] == [400]


async def test_a_failing_turn_gets_an_apology_and_the_chat_goes_on(
    bot: Harness, server: FakeBotApi
) -> None:
    parent = server.parent()
    working = bot.app.handle_parent

    async def broken(*args: object) -> None:
        raise RuntimeError("database unavailable")

    bot.app.handle_parent = broken  # type: ignore[method-assign]
    await say(bot, parent, "hallo")
    assert parent.texts() == [
        "Sorry, er ging bij mij iets mis. Wilt u uw bericht zo nog eens sturen?"
    ]
    bot.app.handle_parent = working  # type: ignore[method-assign]
    await say(bot, parent, "hallo")
    assert "chatbot van" in parent.texts()[1]


async def test_a_rejected_token_stops_the_start_with_a_clear_error(
    bots: Bots, server: FakeBotApi
) -> None:
    other = "987654321:AAE-a_token_the_server_does_not_know"
    with pytest.raises(ConfigError) as caught:
        await bots.start(token=other)
    assert "channels.telegram.token" in str(caught.value) and other not in str(caught.value)
