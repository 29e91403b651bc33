"""The app end to end on SQLite: conversation, handover, claims, rights, restart, encryption."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from bot.config import Settings
from bot.retention import Sweeper
from flows.events import ParentCommand, ParentText, Staff, parse_command
from flows.state import Step
from storage.models import AuditRow, ConversationRow, HandoverRow, RegistrationRow
from support.app import Clock, make_app
from support.databases import stored_bytes
from support.flows import TYPE_3_INTAKE, FakeNlu, at

PARENT = "chat-4242"
PHONE = "06-48213579"
FIVE = ("zuidzorg", "ggd", "lumens", "cordaad", "mee")


def staff(org: str, name: str = "Eva") -> Staff:
    return Staff(name=name, organisation=org, staff_id=f"@{name.lower()}:cjg.test")


async def say(app, text: str, address: str = PARENT, button: str | None = None) -> None:
    command = parse_command(text)
    event = command if command is not None and button is None else ParentText(text, button=button)
    await app.handle_parent("console", address, event)


async def type_2(app, question: str = "ons kind wordt gepest, kan iemand helpen") -> None:
    for text in (
        question,
        "Veldhoven",
        "9",
        "zoon",
        "ja",
        f"{PHONE}, liever gebeld",
        "Sanne",
        "ja",
    ):
        await say(app, text)


@pytest.fixture
def clock() -> Clock:
    return Clock(at("2026-11-27 20:00"))


async def test_type_2_reaches_the_partner_room_and_is_claimed(
    settings: Settings, tmp_path: Path, clock: Clock
) -> None:
    app, parents, rooms = await make_app(settings, tmp_path, clock, FakeNlu())
    await type_2(app)
    assert "maandag tussen 9 en 12 uur" in parents.texts()[-1]
    [post] = rooms.in_room("lumens")
    assert "nr. 1" in post and "+31648213579" in post
    answers = await app.handle_room_message("lumens", staff("lumens"), "!claim 1")
    assert answers == []
    assert any("opgepakt door Eva, Lumens" in t for t in rooms.in_room("lumens"))
    async with app.store.transaction() as repo:
        handover = await repo.get_handover(1)
        events = [e.event for e in await repo.audit_events(handover_number=1)]
    assert handover is not None and handover.state.claimed_org == "lumens"
    assert handover.state.purge_at is not None
    assert events[:3] == ["handover_created", "handover_offered", "handover_claimed"]
    await app.store.close()


async def test_a_reaction_on_the_post_claims_it(
    settings: Settings, tmp_path: Path, clock: Clock
) -> None:
    app, _, rooms = await make_app(settings, tmp_path, clock, FakeNlu())
    await type_2(app)
    [(_, _, ref)] = [p for p in rooms.posts if p[0] == "lumens"]
    await app.handle_reaction("lumens", staff("lumens"), ref, "✅")
    async with app.store.transaction() as repo:
        handover = await repo.get_handover(1)
    assert handover is not None and handover.state.status == "claimed"
    await app.store.close()


async def test_type_3_two_staff_claim_at_once_and_exactly_one_wins(
    settings: Settings, tmp_path: Path, clock: Clock
) -> None:
    app, _, rooms = await make_app(settings, tmp_path, clock, FakeNlu())
    for text in TYPE_3_INTAKE:
        await say(app, text)
    assert {r for r, _, _ in rooms.posts} >= set(FIVE)
    assert not any("ouder@voorbeeld.nl" in t for _, t, _ in rooms.posts)
    results = await asyncio.gather(
        app.handle_room_message("ggd", staff("ggd", "Ali"), "!claim 1"),
        app.handle_room_message("mee", staff("mee", "Bo"), "!claim 1"),
    )
    refused = [r for r in results if r]
    assert len(refused) == 1 and "al opgepakt" in refused[0][0]
    async with app.store.transaction() as repo:
        handover = await repo.get_handover(1)
    assert handover is not None
    winner = handover.state.claimed_org
    assert winner in ("ggd", "mee")
    contact_rooms = [r for r, t, _ in rooms.posts if "ouder@voorbeeld.nl" in t]
    assert contact_rooms == [winner]
    for room in FIVE:
        if room != winner:
            assert not any("Nieuwe vraag" in t for t in rooms.live(room))
    await app.store.close()


async def test_release_and_reroute_by_the_loket(
    settings: Settings, tmp_path: Path, clock: Clock
) -> None:
    app, _, rooms = await make_app(settings, tmp_path, clock, FakeNlu())
    await type_2(app)
    await app.handle_room_message("lumens", staff("lumens"), "!claim 1")
    await app.handle_room_message("lumens", staff("lumens"), "!release 1")
    assert any("teruggegeven" in t for t in rooms.in_room("loket"))
    refused = await app.handle_room_message("lumens", staff("lumens"), "!route 1 ggd")
    assert refused and "niet" in refused[0]
    await app.handle_room_message("loket", staff("loket", "Anne"), "!route 1 ggd")
    assert any("Nieuwe vraag nr. 1" in t for t in rooms.live("ggd"))
    overview = await app.handle_room_message("loket", staff("loket", "Anne"), "!open")
    assert "nr. 1" in overview[0]
    unknown = await app.handle_room_message("ggd", staff("ggd"), "!claim 99")
    assert "99" in unknown[0]
    async with app.store.transaction() as repo:
        events = [e.event for e in await repo.audit_events()]
    assert "route_refused_room" in events and "command_unknown_number" in events
    await app.store.close()


async def test_messages_of_one_chat_one_at_a_time_and_no_chat_ids_kept_after(
    settings: Settings, tmp_path: Path, clock: Clock
) -> None:
    app, parents, _ = await make_app(settings, tmp_path, clock, FakeNlu())
    texts = ("ons kind wordt gepest, kan iemand helpen", "Veldhoven", "9")
    for text in texts:  # one chat, message after message
        await say(app, text, "reference")
    # Ten chats, each sending the same three messages at once: each chat's go in order.
    await asyncio.gather(*(say(app, text, f"chat-{i}") for text in texts for i in range(10)))
    steps = set()
    async with app.store.transaction() as repo:
        for address in ["reference", *(f"chat-{i}" for i in range(10))]:
            found = await repo.find_conversation("console", address)
            assert found is not None
            steps.add(found.state.step)
    assert steps == {Step.SEX}
    assert len(app._locks) == 0, "no lock (keyed by chat id) is left once nothing is in hand"
    await app.store.close()


async def test_an_nlu_server_is_asked_outside_the_transaction(
    settings: Settings, tmp_path: Path, clock: Clock
) -> None:
    """With Rasa, four parents' questions are read at the same time: the server's answer
    is not awaited while the database (on SQLite: its one write lock) is held."""
    together = threading.Barrier(4, timeout=10)

    class ServerNlu(FakeNlu):
        def parse(self, text: str):  # type: ignore[no-untyped-def]
            if "gepest" in text:
                together.wait()  # breaks (and fails the test) unless all four wait at once
            return super().parse(text)

    app, parents, _ = await make_app(settings, tmp_path, clock, ServerNlu())
    app.offload_flows = True
    question = "ons kind wordt gepest, kan iemand helpen"
    await asyncio.gather(*(say(app, question, f"chat-{i}") for i in range(4)))
    assert not together.broken
    async with app.store.transaction() as repo:
        for i in range(4):
            found = await repo.find_conversation("console", f"chat-{i}")
            assert found is not None and found.state.step == Step.PLACE
    await say(app, "Veldhoven", "chat-0")  # a plain answer: no question to the server
    assert "Hoe oud" in parents.texts()[-1]
    await app.store.close()


async def test_a_restart_mid_intake_continues_where_the_parent_was(
    settings: Settings, tmp_path: Path, clock: Clock
) -> None:
    app, _, _ = await make_app(settings, tmp_path, clock, FakeNlu())
    await say(app, "ons kind wordt gepest, kan iemand helpen")
    await say(app, "Veldhoven")
    url = app.store.engine.url.render_as_string(hide_password=False)
    await app.store.close()
    app2, parents2, rooms2 = await make_app(settings, tmp_path, clock, FakeNlu(), url=url)
    await say(app2, "9")
    assert "jongen of een meisje" in parents2.texts()[-1]
    for text in ("zoon", "ja", PHONE, "Sanne", "ja"):
        await say(app2, text)
    assert any("Veldhoven" in t and "9 jaar" in t for t in rooms2.in_room("lumens"))
    await app2.store.close()


async def test_personal_data_is_encrypted_at_rest(
    settings: Settings, tmp_path: Path, clock: Clock
) -> None:
    app, _, _ = await make_app(settings, tmp_path, clock, FakeNlu())
    await say(app, "ons kind wordt gepest op de Zonnebloemschool, kan iemand helpen")
    await say(app, "Veldhoven")
    await say(app, "9")
    await say(app, "zoon")
    await say(app, "ja")
    await say(app, f"{PHONE}, liever gebeld")
    raw = await stored_bytes(app.store.engine)
    for secret in (b"Zonnebloemschool", b"48213579", PARENT.encode()):
        assert secret not in raw
    await app.store.close()


async def test_my_data_shows_what_is_held_and_forget_deletes_it(
    settings: Settings, tmp_path: Path, clock: Clock
) -> None:
    app, parents, rooms = await make_app(settings, tmp_path, clock, FakeNlu())
    await type_2(app)
    await app.handle_parent("console", PARENT, ParentCommand("mijngegevens"))
    [shown] = [t for t in parents.texts() if t.startswith("Dit bewaar ik van u")]
    assert "nr. 1" in shown and "gepest" in shown and "+31648213579" in shown
    await say(app, "/vergeet")
    await say(app, "ja")
    assert "gewist" in parents.texts()[-1]
    assert any("op verzoek van de ouder gewist" in t for t in rooms.in_room("lumens"))
    assert not any("Nieuwe vraag" in t for t in rooms.live("lumens"))
    async with app.store.transaction() as repo:
        session = repo.session
        conversations = (await session.execute(ConversationRow.__table__.select())).all()
        handover = await session.get(HandoverRow, 1)
        registrations = (await session.execute(RegistrationRow.__table__.select())).all()
        audits = (await session.execute(AuditRow.__table__.select())).all()
    assert conversations == []
    assert handover is not None and handover.details is None
    assert len(registrations) == 1  # the anonymous registration stays
    assert any(row.event == "parent_forget" for row in audits)
    await app.store.close()


async def test_idle_conversations_expire_and_are_deleted(
    settings: Settings, tmp_path: Path, clock: Clock
) -> None:
    app, _, _ = await make_app(settings, tmp_path, clock, FakeNlu())
    await say(app, "mijn dochter slaapt slecht")
    clock.advance(hours=49)
    await Sweeper(app).sweep()
    async with app.store.transaction() as repo:
        rows = (await repo.session.execute(ConversationRow.__table__.select())).all()
        count = await repo.count_registrations(type="1")
    assert rows == [] and count == 1
    await app.store.close()
