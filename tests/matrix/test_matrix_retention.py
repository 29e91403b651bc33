"""Mentions of the person on duty, deleting personal replies, purging rooms on Synapse."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic import SecretStr

from flows.domain import LOKET

from .conftest import World
from .synapse import Synapse
from .test_matrix_handover import TYPE_2, conversation


async def test_only_the_person_on_duty_is_mentioned(world: World) -> None:
    channel = await world.start_bot()
    anne = await world.staff(LOKET, "Anne")
    await channel.rooms.post(
        LOKET, "Vraag nr. 4 wacht op u @room", "reminder", 4, mention=anne.user_id
    )
    post = await anne.wait_text(world.room(LOKET), "Vraag nr. 4", sender=world.bot.user_id)
    content = post.source["content"]
    assert content["m.mentions"] == {"user_ids": [anne.user_id]}
    assert content["body"].startswith("Anne: Vraag nr. 4")
    assert f'href="https://matrix.to/#/{anne.user_id}">Anne</a>' in content["formatted_body"]
    assert "@room" not in content["body"]


async def test_personal_replies_in_the_parents_chat_are_redacted_by_the_sweep(
    world: World,
) -> None:
    await world.start_bot()
    parent, room = await world.parent(encrypted=True)
    bot = world.bot.user_id
    await conversation(world, parent, room, ("ons kind wordt gepest, kan iemand helpen",
                                             *TYPE_2))
    summary = await parent.wait_text(room, "Ik vat uw vraag zo samen", sender=bot)
    assert world.app is not None
    later = world.clock() + timedelta(days=2)  # older than any channel's maximum age
    deleted = await world.app.delete_personal_messages(later)
    assert deleted >= 1
    await parent.wait_redacted(summary.event_id)
    # Nothing left to do: the rows are gone once their messages are.
    assert await world.app.delete_personal_messages(later) == 0


async def test_purge_asks_synapse_to_remove_the_rooms_history(
    world: World, synapse: Synapse
) -> None:
    world.settings.channels["matrix"]["admin_token"] = synapse.admin.access_token
    channel = await world.start_bot()
    assert channel.config.admin_token == SecretStr(synapse.admin.access_token)
    ref = await channel.rooms.post("lumens", "Nieuwe vraag nr. 9 (test)", "handover", 9)
    assert ref is not None
    await channel.rooms.redact("lumens", ref)
    purge_id = await channel.purge_history(world.room("lumens"))
    assert purge_id
    status = ""
    for _ in range(100):
        answer = await asyncio.to_thread(
            synapse.admin_get, f"/_synapse/admin/v1/purge_history_status/{purge_id}"
        )
        status = answer["status"]
        if status != "active":
            break
        await asyncio.sleep(0.1)
    assert status == "complete"
    await channel.rooms.purge("lumens")  # the sweeper's entry point does the same


# Made up for this test only (the Synapse database is shared by the whole session).
UNIQUE = ("Zilverreigerschool", "ouder.zilver77@voorbeeld.nl", "Philomena", "39481726")


async def test_deletion_means_gone_on_synapse_after_a_claim(
    world: World, synapse: Synapse
) -> None:
    """PRODUCT.md Retention on Matrix: room copies redacted, then purged from the homeserver."""
    from nio import RoomGetEventError, RoomGetEventResponse

    from bot.retention import Sweeper

    world.settings.channels["matrix"]["admin_token"] = synapse.admin.access_token
    await world.start_bot()
    assert world.app is not None
    eva = await world.staff("lumens", "Eva")
    parent, room = await world.parent(encrypted=True)
    bot = world.bot.user_id
    await conversation(world, parent, room, (
        "ons kind wordt gepest bij de Zilverreigerschool, kan iemand helpen",
        "Veldhoven", "9", "zoon", "ja", "06-39481726 ouder.zilver77@voorbeeld.nl",
        "Philomena", "ja",
    ))
    lumens = world.room("lumens")
    post = await eva.wait_text(lumens, "Nieuwe vraag nr. 1", sender=bot)
    assert "Zilverreigerschool" in post.body
    await eva.say(lumens, "!claim 1")
    await eva.wait_text(lumens, "opgepakt door", sender=bot)

    world.clock.advance(days=28, minutes=1)
    report = await Sweeper(world.app).sweep()
    assert report.handovers_purged == 1 and report.redactions_pending == 0

    # The client API: the handover post is redacted (and, purged, no longer served at all).
    answer = await eva.client.room_get_event(lumens, post.event_id)
    if isinstance(answer, RoomGetEventResponse):
        assert answer.event.source.get("content", {}) == {}
    else:
        assert isinstance(answer, RoomGetEventError)
    # The homeserver's own database holds none of it: not in events, state or names.
    raw = (synapse.workdir / "homeserver.db").read_bytes()
    wal = synapse.workdir / "homeserver.db-wal"
    if wal.exists():
        raw += wal.read_bytes()
    for secret in UNIQUE:
        assert secret.encode() not in raw
    # The anonymous registration is still there.
    async with world.app.store.transaction() as repo:
        assert await repo.count_registrations(type="2") == 1
