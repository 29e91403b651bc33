"""The loketmedewerker's day: roster, opening digest, escalation, renewed promises."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings
from flows.events import ParentText, Staff
from support.app import Clock, make_app
from support.flows import FakeNlu, at

LOKET = Staff("Bram", "loket", "@bram:cjg.example")


async def hand_over(app, address: str = "chat-1", question: str | None = None) -> None:
    for text in (
        question or "ons kind wordt gepest, kan iemand helpen",
        "Veldhoven",
        "9",
        "zoon",
        "ja",
        "06-48213579",
        "Sanne",
        "ja",
    ):
        await app.handle_parent("console", address, ParentText(text))


async def test_the_person_on_duty_is_mentioned_and_can_be_changed_today(
    settings: Settings, tmp_path: Path
) -> None:
    clock = Clock(at("2026-11-30 10:00"))  # a Monday: Anne on the roster
    app, _, rooms = await make_app(settings, tmp_path, clock, FakeNlu())
    await app.handle_parent("console", "chat-1", ParentText("mijn zoon wil niet meer leven"))
    assert rooms.mentions[-1] == ("loket", "@anne:cjg.example")
    answer = await app.handle_room_message("loket", LOKET, "!dienst chantal")
    assert answer == ["Chantal is vandaag loketmedewerker van dienst."]
    await app.handle_parent("console", "chat-2", ParentText("mijn vader slaat me"))
    assert rooms.mentions[-1] == ("loket", "@chantal:cjg.example")
    unknown = await app.handle_room_message("loket", LOKET, "!dienst zoe")
    assert "Onbekende medewerker" in unknown[0]
    refused = await app.handle_room_message(
        "lumens", Staff("Eva", "lumens", "@e:x"), "!dienst anne"
    )
    assert "mag hier niet" in refused[0]
    clock.advance(days=1)  # Tuesday: back to the roster (Bram)
    await app.handle_parent("console", "chat-3", ParentText("mijn vader slaat me"))
    assert rooms.mentions[-1] == ("loket", "@bram:cjg.example")
    await app.store.close()


async def test_the_opening_digest_lists_the_night_once(settings: Settings, tmp_path: Path) -> None:
    clock = Clock(at("2026-11-27 20:00"))  # Friday evening
    app, _, rooms = await make_app(settings, tmp_path, clock, FakeNlu())
    await app.opening_digest(at("2026-11-27 11:00"))  # the previous digest, Friday morning
    await hand_over(app, "chat-1")
    await hand_over(app, "chat-2", "alles loopt mis thuis, wie kan helpen")
    await app.handle_parent("console", "chat-3", ParentText("mijn vader slaat me"))
    for text in ("ons kind wordt gepest, wie helpt", "Veldhoven", "9", "zoon", "nee"):
        await app.handle_parent("console", "chat-4", ParentText(text))
    await app.handle_room_message("lumens", Staff("Eva", "lumens", "@e:x"), "!claim 1")
    clock.now = at("2026-11-28 10:00")  # Saturday: closed
    assert not await app.opening_digest()
    clock.now = at("2026-11-30 09:05")  # Monday morning
    assert await app.opening_digest()
    digest = [t for t in rooms.in_room("loket") if t.startswith("Overzicht")][-1]
    assert "nr. 1 (type 2) voor Lumens: opgepakt door Eva, Lumens" in digest
    assert "nr. 2 (type 3, alle CJG-partners)" in digest and "nog niet opgepakt" in digest
    assert "Dringende meldingen (noodnummers gegeven): 1" in digest
    assert "liever niets lieten doorgeven: 1" in digest
    assert "gepest" not in digest and "Sanne" not in digest  # no content, no names of parents
    assert not await app.opening_digest()  # once
    await app.store.close()


async def test_escalation_to_casusoverleg_and_klantmanager(
    settings: Settings, tmp_path: Path
) -> None:
    clock = Clock(at("2026-11-30 09:30"))
    app, _, rooms = await make_app(settings, tmp_path, clock, FakeNlu())
    await hand_over(app, "chat-1")
    await hand_over(app, "chat-2")
    clock.now = at("2026-11-30 11:45")  # not yet 3 working hours: no reminder
    await app.tick()
    assert not any("Herinnering" in t for t in rooms.in_room("lumens"))
    clock.now = at("2026-12-01 10:00")  # 3.5 working hours
    await app.tick()
    assert any("Herinnering: vraag nr. 1" in t for t in rooms.in_room("lumens"))
    clock.now = at("2026-12-02 09:45")  # 6.25 working hours: the loket is asked to act
    await app.tick()
    assert any("casusoverleg" in t and "14 040" in t for t in rooms.in_room("loket"))
    await app.handle_room_message("loket", LOKET, "!casusoverleg 1")
    [form] = [t for t in rooms.in_room("loket") if t.startswith("Aanmeldformulier")]
    assert "vraag nr. 1" in form and "9 jaar" in form and "gepest" in form
    assert "06" not in form.replace("2026", "")  # no contact details in the form
    await app.handle_room_message("loket", LOKET, "!klantmanager 2")
    async with app.store.transaction() as repo:
        one, two = await repo.get_handover(1), await repo.get_handover(2)
        events = [e.event for e in await repo.audit_events()]
    assert one is not None and one.state.escalated == "casusoverleg" and one.state.purge_at is None
    assert two is not None and two.state.closed_reason == "klantmanager" and two.state.purge_at
    assert "handover_to_casusoverleg" in events and "handover_closed_klantmanager" in events
    await app.store.close()


async def test_a_promise_that_cannot_be_kept_is_renewed_to_the_parent(
    settings: Settings, tmp_path: Path
) -> None:
    clock = Clock(at("2026-11-27 20:00"))  # Friday: promised Monday 9-12
    app, parents, _ = await make_app(settings, tmp_path, clock, FakeNlu())
    await hand_over(app, "chat-1")
    assert "maandag tussen 9 en 12 uur" in parents.texts("chat-1")[-1]
    clock.now = at("2026-11-30 11:00")
    await app.tick()
    assert "duurt langer" not in parents.texts("chat-1")[-1]
    clock.now = at("2026-11-30 12:30")  # Monday's window passed, still unclaimed
    await app.tick()
    assert "duurt langer" in parents.texts("chat-1")[-1]
    assert "morgen tussen 9 en 12 uur" in parents.texts("chat-1")[-1]
    count = len(parents.texts("chat-1"))
    await app.tick()
    assert len(parents.texts("chat-1")) == count  # told once
    await app.store.close()
