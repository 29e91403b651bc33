"""Parents and staff on a real Synapse: intake, handover posts, claims, release, re-route."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.logs import JsonFormatter
from flows.domain import LOKET

from .conftest import World
from .people import Person

PHONE = "06-48213579"
FIVE = ("zuidzorg", "ggd", "lumens", "cordaad", "mee")
TYPE_2 = ("Veldhoven", "9", "zoon", "ja", f"{PHONE}, liever gebeld", "Sanne", "ja")
# Choices answered by number, as a parent does with the numbered list on Matrix:
# "2" is the second choice (meisje), "1" the first (yes, share it).
TYPE_3 = ("Veldhoven", "12", "2", "1", "ouder@voorbeeld.nl", "anoniem", "ja")


async def conversation(world: World, parent: Person, room: str, lines: tuple[str, ...]) -> None:
    for text in lines:
        mark = parent.mark()
        await parent.say(room, text)
        await parent.wait_for(room, lambda e: True, sender=world.bot.user_id, after=mark)


async def test_type_2_intake_posts_a_safe_handover_and_a_reaction_claims_it(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await world.start_bot()
    eva = await world.staff("lumens", "Eva")
    loket = await world.staff(LOKET, "Anne")
    parent, room = await world.parent()
    bot = world.bot.user_id
    question = "ons kind wordt gepest <b>op school</b> @room @eva:cjg.test, kan iemand helpen"
    await conversation(world, parent, room, (question, *TYPE_2))
    await parent.wait_text(room, "maandag tussen 9 en 12 uur", sender=bot)

    post = await eva.wait_text(world.room("lumens"), "Nieuwe vraag nr. 1", sender=bot)
    content = post.source["content"]
    body, html = content["body"], content["formatted_body"]
    for part in ("nr. 1", "type 2", "Lumens", "9 jaar", "Veldhoven", "+31648213579"):
        assert part in body
    assert content["m.mentions"] == {}
    assert content["format"] == "org.matrix.custom.html"
    assert "<strong>Nieuwe vraag nr. 1" in html
    assert "<b>op school</b>" not in html and "&lt;b&gt;op school&lt;/b&gt;" in html
    for text in (body, html):
        assert "@room" not in text and "@eva:cjg.test" not in text
    # Posts in partner rooms are end-to-end encrypted on the wire.
    assert post.decrypted

    await eva.react(world.room("lumens"), post.event_id, "✅", encrypted=True)
    await eva.wait_text(world.room("lumens"), "opgepakt door Eva, Lumens", sender=bot)
    await loket.wait_text(world.room(LOKET), "opgepakt door Eva, Lumens", sender=bot)
    assert world.app is not None
    async with world.app.store.transaction() as repo:
        handover = await repo.get_handover(1)
    assert handover is not None and handover.state.claimed_org == "lumens"
    # The bot never answers itself: one reply per parent message at most, no echo loop.
    assert len(parent.texts(room, sender=bot)) <= 3 * (1 + len(TYPE_2))
    # No personal data in any log line, as the project's formatter writes them.
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    assert any('"matrix_parent_event"' in line for line in lines)
    for secret in ("48213579", "Sanne", "gepest", "Eva", room, parent.user_id, eva.user_id):
        assert not [line for line in lines if secret in line], secret


async def test_type_3_goes_to_five_rooms_and_one_of_two_simultaneous_claims_wins(
    world: World,
) -> None:
    await world.start_bot()
    staff = {org: await world.staff(org, f"Medewerker {org}") for org in FIVE}
    parent, room = await world.parent()
    bot = world.bot.user_id
    await conversation(world, parent, room, ("alles loopt mis thuis", *TYPE_3))
    posts = {}
    for org, person in staff.items():
        posts[org] = await person.wait_text(world.room(org), "Nieuwe vraag nr. 1", sender=bot)
        assert "ouder@voorbeeld.nl" not in posts[org].source["content"]["body"]
        assert "12 jaar, meisje" in posts[org].source["content"]["body"]

    ali, bo = staff["ggd"], staff["mee"]
    await asyncio.gather(
        ali.say(world.room("ggd"), "!claim 1"), bo.say(world.room("mee"), "!claim 1")
    )
    assert world.app is not None

    async def claimed_org() -> str:
        for _ in range(100):
            async with world.app.store.transaction() as repo:
                handover = await repo.get_handover(1)
            if handover is not None and handover.state.claimed_org:
                return handover.state.claimed_org
            await asyncio.sleep(0.1)
        raise AssertionError("nobody claimed")

    winner = await claimed_org()
    loser = "mee" if winner == "ggd" else "ggd"
    await staff[loser].wait_text(world.room(loser), "is al opgepakt", sender=bot)
    await staff[winner].wait_text(world.room(winner), "ouder@voorbeeld.nl", sender=bot)
    for org in FIVE:
        if org != winner:
            await staff[org].wait_redacted(posts[org].event_id)
            assert not any("ouder@voorbeeld.nl" in t for t in staff[org].texts(world.room(org)))
    assert posts[winner].event_id not in staff[winner].redacted


async def test_release_reroute_close_and_overview_from_the_loket_room(world: World) -> None:
    await world.start_bot()
    eva = await world.staff("lumens", "Eva")
    anne = await world.staff(LOKET, "Anne")
    ggd = await world.staff("ggd", "Ali")
    parent, room = await world.parent()
    bot = world.bot.user_id
    await conversation(world, parent, room, ("ons kind wordt gepest, kan iemand helpen", *TYPE_2))
    lumens, loket = world.room("lumens"), world.room(LOKET)
    await eva.wait_text(lumens, "Nieuwe vraag nr. 1", sender=bot)

    await eva.say(lumens, "!claim 1")
    await eva.wait_text(lumens, "opgepakt door Eva", sender=bot)
    mark = eva.mark()
    await eva.say(lumens, "!route 1 ggd")
    await eva.wait_text(lumens, "mag hier niet", sender=bot, after=mark)
    await eva.say(lumens, "!release 1")
    await anne.wait_text(loket, "teruggegeven door Lumens", sender=bot)

    await anne.say(loket, "!route 1 ggd")
    post = await ggd.wait_text(world.room("ggd"), "Nieuwe vraag nr. 1", sender=bot)
    assert "+31648213579" in post.source["content"]["body"]
    await anne.wait_text(loket, "doorgezet naar GGD", sender=bot)
    mark = anne.mark()
    await anne.say(loket, "!open")
    overview = await anne.wait_text(loket, "Open vragen", sender=bot, after=mark)
    assert "nr. 1" in overview.source["content"]["body"]
    await anne.say(loket, "!close 1 casusoverleg")
    await anne.wait_text(loket, "gesloten (overgedragen via het casusoverleg)", sender=bot)
    await ggd.wait_redacted(post.event_id)
    mark = ggd.mark()
    await ggd.say(world.room("ggd"), "!help")
    await ggd.wait_text(world.room("ggd"), "!claim <nr>", sender=bot, after=mark)


async def test_claims_from_the_wrong_room_or_by_a_former_member_are_refused(
    world: World,
) -> None:
    await world.start_bot()
    eva = await world.staff("lumens", "Eva")
    ali = await world.staff("ggd", "Ali")
    parent, room = await world.parent()
    bot = world.bot.user_id
    await conversation(world, parent, room, ("ons kind wordt gepest, kan iemand helpen", *TYPE_2))
    lumens = world.room("lumens")
    post = await eva.wait_text(lumens, "Nieuwe vraag nr. 1", sender=bot)

    # A member of another partner's room cannot take a question that was not offered there.
    await ali.say(world.room("ggd"), "!claim 1")
    await ali.wait_text(world.room("ggd"), "niet aan GGD", sender=bot)

    # Eva claims while the bot is down and is removed from the room before it comes back:
    # when the bot catches up, she is no longer a member and the claim is refused.
    await world.stop_bot()
    await eva.react(lumens, post.event_id, "✅", encrypted=True)
    await eva.say(lumens, "!claim 1")
    assert world.admin is not None
    await world.admin.room_kick(lumens, eva.user_id, "test")
    watcher = await world.staff("lumens", "Wim")
    await world.start_bot()
    await watcher.wait_text(lumens, "alleen van leden van deze kamer", sender=bot)
    assert world.app is not None
    events: list[str] = []
    for _ in range(100):  # both refusals are audited (the second may still be in hand)
        async with world.app.store.transaction() as repo:
            handover = await repo.get_handover(1)
            events = [e.event for e in await repo.audit_events()]
        if events.count("command_refused_not_member") >= 2:
            break
        await asyncio.sleep(0.1)
    assert handover is not None and handover.state.claimed_org is None
    assert events.count("command_refused_not_member") == 2  # the reaction and the command
