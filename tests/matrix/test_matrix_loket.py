"""The loketmedewerker's day in the real loket room: !dienst, mentions, casusoverleg, digest."""

from __future__ import annotations

from bot.config import StaffMember
from bot.roster import Roster
from flows.domain import LOKET
from support.flows import at

from .conftest import World
from .test_matrix_handover import TYPE_2, conversation


def with_loket_staff(world: World, people: dict[str, str]) -> None:
    """Put the registered staff on the running bot's roster (Friday: anne)."""
    assert world.app is not None and world.channel is not None
    staff = {
        key: StaffMember(name=key.capitalize(), matrix_id=user_id)
        for key, user_id in people.items()
    }
    loket = world.settings.loket.model_copy(update={"staff": staff, "roster": {"friday": "anne"}})
    world.app.roster = Roster(loket)
    world.channel.staff_names.update({user_id: key.capitalize() for key, user_id in people.items()})


async def test_the_loket_day_in_the_loket_room(world: World) -> None:
    await world.start_bot()
    assert world.app is not None
    anne = await world.staff(LOKET, "Anne")
    bram = await world.staff(LOKET, "Bram")
    with_loket_staff(world, {"anne": anne.user_id, "bram": bram.user_id})
    bot = world.bot.user_id
    loket = world.room(LOKET)

    # Bram takes over today's duty; from now on he is the one mentioned.
    await anne.say(loket, "!dienst bram")
    await anne.wait_text(loket, "Bram is vandaag loketmedewerker van dienst", sender=bot)
    parent, room = await world.parent()
    await parent.say(room, "mijn vader slaat me")
    flag = await bram.wait_text(loket, "DRINGEND", sender=bot)
    assert flag.source["content"]["m.mentions"] == {"user_ids": [bram.user_id]}

    # A question nobody claims: the loket brings it to the casusoverleg.
    other, other_room = await world.parent()
    await conversation(
        world, other, other_room, ("ons kind wordt gepest, kan iemand helpen", *TYPE_2)
    )
    await bram.wait_text(loket, "nr. 1 (type 2) voor Lumens", sender=bot)  # offered
    await bram.say(loket, "!casusoverleg 1")
    form = await bram.wait_text(loket, "Aanmeldformulier casusoverleg", sender=bot)
    assert "vraag nr. 1" in form.source["content"]["body"]
    assert "06-48213579" not in form.source["content"]["body"]

    # Monday morning: one digest of the weekend in the loket room.
    assert await world.app.opening_digest(at("2026-11-30 09:05"))
    digest = await anne.wait_text(loket, "Overzicht sinds het loket dicht ging", sender=bot)
    body = digest.source["content"]["body"]
    assert "nr. 1" in body and "Dringende meldingen" in body
    assert "gepest" not in body
