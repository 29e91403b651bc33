"""`cjgbot matrix setup` against a real Synapse: what the rooms look like, and the re-check."""

from __future__ import annotations

import yaml
from nio import RoomGetStateError, RoomPutStateError

from bot.channels.matrix import configured_rooms, invite_member, setup_rooms
from bot.config import StaffMember
from flows.domain import LOKET

from .conftest import World


async def test_setup_creates_private_encrypted_rooms_only_the_bot_can_change(
    world: World,
) -> None:
    rooms = configured_rooms(world.settings)
    assert set(rooms) == {LOKET, *(p.id for p in world.settings.partners)}
    assert world.admin is not None
    for room_id in rooms.values():
        state = await world.admin.room_get_state(room_id)
        assert not isinstance(state, RoomGetStateError)
        by_type = {e["type"]: e["content"] for e in state.events if e.get("state_key") == ""}
        assert by_type["m.room.encryption"]["algorithm"] == "m.megolm.v1.aes-sha2"
        assert by_type["m.room.join_rules"]["join_rule"] == "invite"
        assert by_type["m.room.history_visibility"]["history_visibility"] == "joined"
        assert by_type["m.room.guest_access"]["guest_access"] == "forbidden"
        assert by_type["m.room.create"].get("m.federate") is False
        levels = by_type["m.room.power_levels"]
        assert levels["state_default"] == 100 and levels["users_default"] == 0
        for action in ("invite", "kick", "ban", "redact"):
            assert levels[action] == 100
        assert levels["events"]["m.room.history_visibility"] == 100
        assert not [u for u, lvl in levels["users"].items() if u != world.bot.user_id and lvl]
        name = by_type["m.room.name"]["name"]
        assert name.startswith("CJG") and "@" not in name

    eva = await world.staff("lumens", "Eva")
    lumens = rooms["lumens"]
    for event_type, content in (
        ("m.room.name", {"name": "Eva's kamer"}),
        ("m.room.history_visibility", {"history_visibility": "shared"}),
        ("m.room.encryption", {"algorithm": "m.megolm.v1.aes-sha2", "rotation_period_ms": 1}),
    ):
        answer = await eva.client.room_put_state(lumens, event_type, content)
        assert isinstance(answer, RoomPutStateError) and answer.status_code == "M_FORBIDDEN"
    denied = await eva.client.room_invite(lumens, world.bot.user_id.replace("cjgbot", "x"))
    assert getattr(denied, "status_code", None) == "M_FORBIDDEN"


async def test_setup_checks_configured_rooms_repairs_them_and_invites_loket_staff(
    world: World,
) -> None:
    anne = await world.person("anne", "Anne")
    settings = world.settings.model_copy(
        update={
            "loket": world.settings.loket.model_copy(
                update={"staff": {"anne": StaffMember(name="Anne", matrix_id=anne.user_id)}}
            )
        }
    )
    assert world.admin is not None
    loket = configured_rooms(settings)[LOKET]
    await world.admin.room_put_state(
        loket, "m.room.history_visibility", {"history_visibility": "shared"}
    )
    await world.admin.room_put_state(loket, "m.room.topic", {"topic": "Sanne 0648213579"})

    report = await setup_rooms(settings)
    assert report.ok, report.summary()
    assert not any(r.created for r in report.rooms)
    [loket_report] = [r for r in report.rooms if r.logical == LOKET]
    assert set(loket_report.fixed) == {"history_visibility", "topic"}
    assert loket_report.invited == 1
    assert all(not r.fixed for r in report.rooms if r.logical != LOKET)
    state = await world.admin.room_get_state_event(loket, "m.room.history_visibility")
    assert state.content["history_visibility"] == "joined"
    await anne.join(loket)  # the invite arrived

    data = yaml.safe_load(report.as_yaml())
    assert data["loket"]["room"] == loket
    assert {p["id"]: p["room"] for p in data["partners"]} == {
        k: v for k, v in configured_rooms(settings).items() if k != LOKET
    }

    wim = await world.person("wim", "Wim")
    await invite_member(settings, "ggd", wim.user_id)
    await wim.join(configured_rooms(settings)["ggd"])
