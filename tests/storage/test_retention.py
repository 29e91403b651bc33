"""PRODUCT.md "Retention", rule by rule, with proof on the raw database file."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config import Settings
from bot.retention import Sweeper
from flows.events import ParentText, Staff, parse_command
from storage.models import ConversationRow, HandoverRow, RegistrationRow
from support.app import Clock, make_app
from support.databases import stored_bytes
from support.flows import FakeNlu, at

PHONE, EMAIL, NAME = "06-48213579", "ouder.uniek73@voorbeeld.nl", "Philomena"
QUESTION = "ons kind wordt gepest bij de Kwartelkoningschool, kan iemand helpen"
SECRETS = (PHONE, "48213579", EMAIL, NAME, "Kwartelkoningschool", "chat-31337")
ADDRESS = "chat-31337"


async def say(app, text: str) -> None:
    await app.handle_parent("console", ADDRESS, parse_command(text) or ParentText(text))


async def hand_over(app) -> None:
    for text in (QUESTION, "Veldhoven", "9", "zoon", "ja", f"{PHONE} {EMAIL}", NAME, "ja"):
        await say(app, text)


async def count(app, table) -> int:
    async with app.store.transaction() as repo:
        return len((await repo.session.execute(table.__table__.select())).all())


@pytest.fixture
def clock() -> Clock:
    return Clock(at("2026-11-27 20:00"))


async def test_deletion_means_gone_at_most_4_weeks_after_a_claim(
    settings: Settings, tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    app, _, rooms = await make_app(settings, tmp_path, clock, FakeNlu())
    await hand_over(app)
    clock.advance(days=3)
    await app.handle_room_message("lumens", Staff("Eva", "lumens", "@eva:x"), "!claim 1")
    sweeper = Sweeper(app)
    clock.advance(days=27, hours=23)
    report = await sweeper.sweep()
    assert report.handovers_purged == 0  # not yet due
    async with app.store.transaction() as repo:
        held = await repo.get_handover(1)
    assert held is not None and held.details is not None and NAME in held.details.contact
    clock.advance(hours=2)  # 28 days after the claim have passed
    report = await sweeper.sweep()
    assert report.handovers_purged == 1 and report.conversations_deleted == 1
    raw = await stored_bytes(app.store.engine)
    for secret in SECRETS:
        assert secret.encode() not in raw, f"{secret} still in the database file"
    # The room copies were redacted, the registration stays, nothing personal was logged.
    posted = {ref for room, text, ref in rooms.posts if "gepest" in text or PHONE in text}
    assert posted and posted <= {ref for _, ref in rooms.redacted}
    assert await count(app, RegistrationRow) == 1
    assert await count(app, ConversationRow) == 0
    for record in caplog.records:
        for secret in SECRETS:
            assert secret not in record.getMessage()
    await app.store.close()


async def test_the_clock_does_not_run_while_ownership_is_unresolved(
    settings: Settings, tmp_path: Path, clock: Clock
) -> None:
    app, _, rooms = await make_app(settings, tmp_path, clock, FakeNlu())
    await hand_over(app)
    clock.advance(days=60)
    await app.tick()  # the loket is reminded instead
    report = await Sweeper(app).sweep()
    assert report.handovers_purged == 0
    assert any("nog niet opgepakt" in t for t in rooms.in_room("loket"))
    async with app.store.transaction() as repo:
        handover = await repo.get_handover(1)
    assert handover is not None and handover.details is not None
    await app.store.close()


async def test_a_release_resets_the_deletion_clock(
    settings: Settings, tmp_path: Path, clock: Clock
) -> None:
    app, _, _ = await make_app(settings, tmp_path, clock, FakeNlu())
    await hand_over(app)
    eva = Staff("Eva", "lumens", "@eva:x")
    await app.handle_room_message("lumens", eva, "!claim 1")
    clock.advance(days=10)
    await app.handle_room_message("lumens", eva, "!release 1")
    clock.advance(days=30)
    assert (await Sweeper(app).sweep()).handovers_purged == 0
    await app.store.close()


async def test_personal_data_is_gone_at_most_4_weeks_after_the_loket_closed_it(
    settings: Settings, tmp_path: Path, clock: Clock
) -> None:
    app, _, _ = await make_app(settings, tmp_path, clock, FakeNlu())
    await hand_over(app)
    await app.handle_room_message(
        "loket", Staff("Anne", "loket", "@anne:x"), "!close 1 klantmanager"
    )
    clock.advance(days=28, minutes=1)
    assert (await Sweeper(app).sweep()).handovers_purged == 1
    async with app.store.transaction() as repo:
        row = await repo.session.get(HandoverRow, 1)
    assert row is not None and row.details is None and row.purged
    await app.store.close()


async def test_a_type_1_conversation_is_deleted_once_handled(
    settings: Settings, tmp_path: Path, clock: Clock
) -> None:
    app, _, _ = await make_app(settings, tmp_path, clock, FakeNlu())
    await say(app, "mijn dochter slaapt slecht, ze heet Philomena")
    await say(app, "ja")
    clock.advance(hours=49)
    report = await Sweeper(app).sweep()
    assert report.conversations_closed == 1
    assert await count(app, ConversationRow) == 0
    assert NAME.encode() not in await stored_bytes(app.store.engine)
    assert await count(app, RegistrationRow) == 1
    await app.store.close()


async def test_retention_zero_days_means_the_next_sweep(
    settings: Settings, tmp_path: Path, clock: Clock
) -> None:
    zero = settings.model_copy(
        update={"retention": settings.retention.model_copy(update={"days": 0})}
    )
    app, _, _ = await make_app(zero, tmp_path, clock, FakeNlu())
    await hand_over(app)
    await app.handle_room_message("lumens", Staff("Eva", "lumens", "@eva:x"), "!claim 1")
    assert (await Sweeper(app).sweep()).handovers_purged == 1
    await app.store.close()


async def test_a_failed_redaction_is_finished_by_the_next_sweep(
    settings: Settings, tmp_path: Path, clock: Clock
) -> None:
    app, _, rooms = await make_app(settings, tmp_path, clock, FakeNlu())
    await hand_over(app)
    await app.handle_room_message("lumens", Staff("Eva", "lumens", "@eva:x"), "!claim 1")
    clock.advance(days=29)
    real_redact = rooms.redact

    async def homeserver_away(room: str, ref: str) -> None:
        raise ConnectionError("homeserver away")

    rooms.redact = homeserver_away  # type: ignore[method-assign]
    report = await Sweeper(app).sweep()
    assert report.handovers_purged == 1 and report.redactions_pending > 0
    rooms.redact = real_redact  # type: ignore[method-assign]
    report = await Sweeper(app).sweep()
    assert report.redactions_pending == 0 and report.room_copies_redacted > 0
    await app.store.close()


async def test_old_audit_events_are_purged(
    settings: Settings, tmp_path: Path, clock: Clock
) -> None:
    app, _, _ = await make_app(settings, tmp_path, clock, FakeNlu())
    await hand_over(app)
    clock.advance(days=366)
    report = await Sweeper(app, audit_days=365).sweep()
    assert report.audit_events_purged >= 2
    await app.store.close()


async def test_the_registration_stays_when_everything_personal_is_gone(
    settings: Settings, tmp_path: Path, clock: Clock
) -> None:
    app, _, _ = await make_app(settings, tmp_path, clock, FakeNlu())
    await hand_over(app)
    await say(app, "/vergeet")
    await say(app, "ja")
    clock.advance(days=1)
    await Sweeper(app).sweep()
    assert await count(app, ConversationRow) == 0
    async with app.store.transaction() as repo:
        assert await repo.count_registrations(type="2", forwarded_to="lumens") == 1
    await app.store.close()


async def test_a_parent_can_see_what_is_stored_delete_it_now_and_ask_the_loket_for_more(
    settings: Settings, tmp_path: Path, clock: Clock
) -> None:
    app, parents, rooms = await make_app(settings, tmp_path, clock, FakeNlu())
    await hand_over(app)
    await say(app, "/mijngegevens")
    shown = parents.texts(ADDRESS)[-1]
    assert "Kwartelkoningschool" in shown and "+31648213579" in shown
    await say(app, "/verzoek")
    await say(app, "Iets laten verbeteren")
    assert any("Verzoek van een ouder over vraag nr. 1" in t for t in rooms.in_room("loket"))
    assert "loketmedewerker van dienst" in parents.texts(ADDRESS)[-1]
    await say(app, "/vergeet")
    await say(app, "ja")
    assert "Alles is gewist" in parents.texts(ADDRESS)[-1]
    async with app.store.transaction() as repo:
        handover = await repo.get_handover(1)
    assert handover is not None and handover.details is None
    assert await count(app, ConversationRow) == 0
    await app.store.close()
