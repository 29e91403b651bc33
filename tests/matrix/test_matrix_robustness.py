"""Restarts, encryption, an absent homeserver and rate limits, on a real Synapse."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.app import App
from bot.channels.matrix import MatrixChannel, MatrixLoginError, run_matrix
from bot.config import Settings
from bot.runtime import flow_contexts
from flows.domain import LOKET
from storage.crypto import FieldCipher
from storage.database import open_database
from storage.repository import Store
from support.flows import FakeNlu
from support.polling import eventually

from .conftest import World, make_world
from .synapse import Synapse
from .test_matrix_handover import PHONE, conversation


async def test_a_restart_mid_intake_neither_replays_nor_misses_messages(world: World) -> None:
    # A tiny timeline limit makes the first sync after the restart 'limited', so the
    # messages sent while the bot was down must be fetched from the gap.
    await world.start_bot(timeline_limit=2)
    eva = await world.staff("lumens", "Eva")
    parent, room = await world.parent()
    bot = world.bot.user_id
    await conversation(world, parent, room, ("ons kind wordt gepest, kan iemand helpen",
                                             "Veldhoven"))
    await parent.wait_text(room, "Hoe oud is uw kind", sender=bot)
    answered_before = len(parent.texts(room, sender=bot))

    await world.stop_bot()
    for text in ("9", "zoon", "ja", f"{PHONE}, liever gebeld"):
        await parent.say(room, text)
    channel = await world.start_bot(timeline_limit=2)
    await parent.wait_text(room, "Hoe mogen we u noemen", sender=bot)
    assert channel.backfilled >= 2  # the sync after the restart was limited: a gap was fetched
    await conversation(world, parent, room, ("Sanne", "ja"))
    post = await eva.wait_text(world.room("lumens"), "Nieuwe vraag nr. 1", sender=bot)
    assert "9 jaar" in post.source["content"]["body"]

    replies = parent.texts(room, sender=bot)
    # Every message after the restart got its answer exactly once, in order.
    after = replies[answered_before:]
    assert sum("jongen of een meisje" in t for t in after) == 1
    assert sum("Hoe oud is uw kind" in t for t in replies) == 1
    # A second restart with nothing new: nothing is handled again.
    await world.stop_bot()
    channel = await world.start_bot()
    await asyncio.sleep(1.5)
    assert channel.handled == 0
    assert len(parent.texts(room, sender=bot)) == len(replies)


async def test_an_encrypted_parent_room_works_and_survives_a_restart(world: World) -> None:
    await world.start_bot()
    parent, room = await world.parent(encrypted=True)
    bot = world.bot.user_id
    await conversation(world, parent, room, ("ons kind wordt gepest, kan iemand helpen",))
    reply = await parent.wait_text(room, "plaats", sender=bot)
    assert reply.decrypted  # the bot's answer was end-to-end encrypted
    await world.stop_bot()
    # The parent's client keeps its megolm session: the restarted bot must still hold the
    # inbound session in its E2E store to read the next message.
    mark = parent.mark()
    await parent.say(room, "Veldhoven")
    await world.start_bot()
    answer = await parent.wait_text(room, "Hoe oud", sender=bot, after=mark)
    assert answer.decrypted
    channel = world.channel
    assert channel is not None
    # The bot books the event as handled just after replying.
    assert await eventually(lambda: channel.handled == 1)


async def test_the_bot_rides_out_a_homeserver_restart_and_delivers_what_it_could_not_send(
    world: World, synapse: Synapse
) -> None:
    channel = await world.start_bot()
    anne = await world.staff(LOKET, "Anne")
    parent, room = await world.parent()
    synapse.stop()
    try:
        pending = asyncio.create_task(channel.rooms.post(LOKET, "Testbericht 1", "note", None))
        await asyncio.sleep(1.5)
        assert not pending.done()
    finally:
        synapse.start()
    ref = await asyncio.wait_for(pending, 30)
    assert ref is not None
    assert channel.stats.retried > 0
    posted = await anne.wait_text(world.room(LOKET), "Testbericht 1", sender=world.bot.user_id)
    assert posted.event_id == ref
    mark = parent.mark()
    await parent.say(room, "hallo")
    await parent.wait_for(room, lambda e: True, sender=world.bot.user_id, after=mark)


async def test_rate_limited_sends_wait_for_retry_after_and_all_arrive_in_order(
    synapse: Synapse, settings: Settings, tmp_path: Path
) -> None:
    world = await make_world(synapse, settings, tmp_path)
    try:
        await world.start_bot()
        anne = await world.staff(LOKET, "Anne")
        synapse.override_ratelimit(world.bot.user_id, 2, 2)
        channel = world.channel
        assert channel is not None
        refs = [await channel.rooms.post(LOKET, f"Bericht {i}", "note", None) for i in range(6)]
        assert all(refs)
        assert channel.stats.rate_limited > 0
        for i in range(6):
            await anne.wait_text(world.room(LOKET), f"Bericht {i}", sender=world.bot.user_id)
        order = [t for t in anne.texts(world.room(LOKET)) if t.startswith("Bericht ")]
        assert order == [f"Bericht {i}" for i in range(6)]
    finally:
        synapse.override_ratelimit(world.bot.user_id, 0, 0)
        await world.close()


async def test_group_rooms_are_left_and_media_is_politely_refused(world: World) -> None:
    await world.start_bot()
    bot = world.bot.user_id
    parent, room = await world.parent()
    await parent.client.room_send(
        room, "m.room.message", {"msgtype": "m.image", "body": "foto.jpg", "url": "mxc://x/y"}
    )
    await parent.wait_text(room, "alleen tekst lezen", sender=bot)
    # Element keeps unknown /commands to itself: "!privacy" works as "/privacy".
    mark = parent.mark()
    await parent.say(room, "!privacy")
    await parent.wait_text(room, "Gemeente Veldhoven", sender=bot, after=mark)
    # When the parent leaves the chat, the bot leaves too.
    await parent.client.room_leave(room)
    assert world.admin is not None
    for _ in range(100):
        joined = await world.admin.joined_rooms()
        if room not in joined.rooms:
            break
        await asyncio.sleep(0.1)
    assert room not in joined.rooms

    host = await world.person("host")
    guest = await world.person("guest")
    group = (await host.client.room_create(invite=[bot, guest.user_id])).room_id
    await guest.join(group)
    await host.wait_joined(group, bot)
    await host.say(group, "hallo allemaal")
    await host.wait_text(group, "één-op-één", sender=bot)
    for _ in range(50):
        await host.sync(timeout_ms=200)
        if bot not in host.client.rooms[group].users:
            break
    assert bot not in host.client.rooms[group].users


async def test_a_wrong_password_is_a_clear_error(world: World) -> None:
    config = world.matrix.model_copy(update={"password": SecretStr("wrong")})
    channel = MatrixChannel(config, {})
    engine = await open_database(f"sqlite+aiosqlite:///{world.tmp / 'other.sqlite3'}")
    store = Store(engine, FieldCipher.from_environment(world.tmp / "secret.key"))
    app = App(store, flow_contexts(world.settings, FakeNlu()), channel.rooms)  # type: ignore[arg-type]
    try:
        with pytest.raises(MatrixLoginError, match="M_FORBIDDEN"):
            await asyncio.wait_for(run_matrix(app, channel), 30)
    finally:
        await store.close()


async def test_a_message_the_bot_cannot_decrypt_gets_a_request_to_send_it_again(
    world: World,
) -> None:
    await world.start_bot()
    bot = world.bot.user_id
    parent, room = await world.parent(encrypted=True)
    await parent.client.joined_members(room)
    if parent.client.should_query_keys:
        await parent.client.keys_query()
    devices = list(parent.client.device_store.active_user_devices(bot))
    assert devices
    for device in devices:
        parent.client.blacklist_device(device)  # the bot's device gets no room key
    mark = parent.mark()
    await parent.say(room, "ons kind wordt gepest, kan iemand helpen")
    notice = await parent.wait_text(room, "niet lezen", sender=bot, after=mark, within=20)
    assert "could not read" in notice.source["content"]["body"]
    channel = world.channel
    assert channel is not None
    assert await eventually(lambda: channel.handled == 1)


async def test_an_access_token_works_instead_of_a_password_but_only_for_its_device(
    world: World,
) -> None:
    token = SecretStr(world.bot.access_token)
    await world.start_bot(password=None, access_token=token, device_id=world.bot.device_id)
    parent, room = await world.parent()
    await parent.say(room, "hallo")
    await parent.wait_for(room, lambda e: True, sender=world.bot.user_id)
    await world.stop_bot()
    with pytest.raises(MatrixLoginError, match="another device"):
        await world.start_bot(password=None, access_token=token, device_id="OTHERDEVICE")
