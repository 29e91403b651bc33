"""The outbox: room messages survive a homeserver that is away, an instance without the
Matrix lease, and are never sent once their handover's data was deleted."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings
from bot.retention import Sweeper
from flows.events import ParentText, Staff
from support.app import Clock, make_app
from support.flows import TYPE_3_INTAKE, FakeNlu, at

INTAKE = (
    "ons kind wordt gepest, kan iemand helpen",
    "Veldhoven",
    "9",
    "zoon",
    "ja",
    "06-48213579",
    "Sanne",
    "ja",
)


async def hand_over(app, address: str = "chat-1") -> None:  # type: ignore[no-untyped-def]
    for text in INTAKE:
        await app.handle_parent("console", address, ParentText(text))


async def pending(app) -> int:  # type: ignore[no-untyped-def]
    async with app.store.transaction() as repo:
        return await repo.pending_deliveries()


async def test_a_post_that_fails_is_retried_not_lost(settings: Settings, tmp_path: Path) -> None:
    clock = Clock(at("2026-11-27 20:00"))
    app, parents, rooms = await make_app(settings, tmp_path, clock, FakeNlu())
    real_post = rooms.post
    calls = 0

    async def homeserver_away(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        raise ConnectionError("homeserver away")

    rooms.post = homeserver_away  # type: ignore[method-assign]
    await hand_over(app)
    assert "doorgegeven" in parents.texts()[-1]  # the parent is answered all the same
    assert rooms.posts == [] and calls == 1
    assert await pending(app) >= 1
    await app.dispatcher.flush()  # within the backoff: not tried again yet
    assert calls == 1
    rooms.post = real_post  # type: ignore[method-assign]
    clock.advance(seconds=2)
    await app.dispatcher.flush()
    assert len(rooms.in_room("lumens")) == 1 and "Nieuwe vraag nr. 1" in rooms.in_room("lumens")[0]
    assert await pending(app) == 0
    # The late post is known as the handover's copy: a ✅ on it claims the handover.
    [ref] = [ref for room, _, ref in rooms.posts if room == "lumens"]
    await app.handle_reaction("lumens", Staff("Eva", "lumens", "@eva:x"), ref, "✅")
    async with app.store.transaction() as repo:
        handover = await repo.get_handover(1)
    assert handover is not None and handover.state.claimed_org == "lumens"
    await app.store.close()


async def test_order_is_kept_per_target(settings: Settings, tmp_path: Path) -> None:
    clock = Clock(at("2026-11-27 20:00"))
    app, _, rooms = await make_app(settings, tmp_path, clock, FakeNlu())
    app.dispatcher.rooms_ready = lambda: False  # e.g. another instance serves Matrix
    await hand_over(app, "chat-1")
    await hand_over(app, "chat-2")
    assert rooms.posts == []
    app.dispatcher.rooms_ready = lambda: True
    await app.dispatcher.flush()
    lumens = rooms.in_room("lumens")
    assert len(lumens) == 2 and "nr. 1" in lumens[0] and "nr. 2" in lumens[1]
    await app.store.close()


async def test_an_instance_without_the_rooms_leaves_posts_to_the_one_with_them(
    settings: Settings, tmp_path: Path
) -> None:
    clock = Clock(at("2026-11-27 20:00"))
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.sqlite3'}"
    telegram_side, parents, rooms_a = await make_app(settings, tmp_path, clock, FakeNlu(), url)
    matrix_side, _, rooms_b = await make_app(settings, tmp_path, clock, FakeNlu(), url)
    telegram_side.dispatcher.rooms_ready = lambda: False
    await hand_over(telegram_side)
    assert rooms_a.posts == [] and "doorgegeven" in parents.texts()[-1]
    await matrix_side.dispatcher.flush()
    assert len(rooms_b.in_room("lumens")) == 1
    await matrix_side.dispatcher.flush()
    assert len(rooms_b.in_room("lumens")) == 1  # delivered once
    await telegram_side.store.close()
    await matrix_side.store.close()


async def test_undelivered_copies_are_never_sent_after_deletion(
    settings: Settings, tmp_path: Path
) -> None:
    clock = Clock(at("2026-11-27 20:00"))
    zero = settings.model_copy(
        update={"retention": settings.retention.model_copy(update={"days": 0})}
    )
    app, _, rooms = await make_app(zero, tmp_path, clock, FakeNlu())
    await hand_over(app)
    await app.handle_room_message("lumens", Staff("Eva", "lumens", "@eva:x"), "!claim 1")
    app.dispatcher.rooms_ready = lambda: False  # the rooms are away from now on
    await app.handle_room_message("lumens", Staff("Eva", "lumens", "@eva:x"), "!sluit 1")
    report = await Sweeper(app).sweep()
    assert report.handovers_purged == 1
    app.dispatcher.rooms_ready = lambda: True
    before = len(rooms.posts)
    await app.dispatcher.flush()
    # Only redactions (and the room purge) went out; no post of the deleted handover.
    assert len(rooms.posts) == before
    assert rooms.redacted and await pending(app) == 0
    await app.store.close()


async def test_a_claim_drops_undelivered_copies_in_the_other_rooms_only(
    settings: Settings, tmp_path: Path
) -> None:
    clock = Clock(at("2026-11-27 20:00"))
    app, _, rooms = await make_app(settings, tmp_path, clock, FakeNlu())
    app.dispatcher.rooms_ready = lambda: False  # the homeserver is away for a while
    for text in TYPE_3_INTAKE:
        await app.handle_parent("console", "chat-3", ParentText(text))
    await app.handle_room_message("lumens", Staff("Eva", "lumens", "@eva:x"), "!claim 1")
    app.dispatcher.rooms_ready = lambda: True
    await app.dispatcher.flush()
    partners = {p.id for p in settings.partners} - {"lumens"}
    elsewhere = [text for room, text, _ in rooms.posts if room in partners]
    # The other partners never see the question, only that Lumens took it.
    assert elsewhere and all("opgepakt door Lumens" in text for text in elsewhere)
    assert any("Nieuwe vraag nr. 1" in text for text in rooms.in_room("lumens"))
    assert await pending(app) == 0
    await app.store.close()


async def test_parents_handing_over_at_once_do_not_wait_for_each_others_posts(
    settings: Settings, tmp_path: Path
) -> None:
    """A handover's posts go with the flush already running, which then goes round once more."""
    import asyncio

    clock = Clock(at("2026-11-27 20:00"))
    app, _, rooms = await make_app(settings, tmp_path, clock, FakeNlu())
    for address in ("chat-1", "chat-2", "chat-3"):
        for text in INTAKE[:-1]:
            await app.handle_parent("console", address, ParentText(text))
    real_post = rooms.post
    first_flush_running, homeserver_answers = asyncio.Event(), asyncio.Event()

    async def slow_homeserver(*args, **kwargs):  # type: ignore[no-untyped-def]
        first_flush_running.set()
        await homeserver_answers.wait()
        return await real_post(*args, **kwargs)

    rooms.post = slow_homeserver  # type: ignore[method-assign]
    first = asyncio.create_task(app.handle_parent("console", "chat-1", ParentText("ja")))
    await first_flush_running.wait()
    # While chat-1's posts are on their way, two more parents confirm: they are answered
    # without waiting for that delivery to end (it has not ended).
    await asyncio.wait_for(
        asyncio.gather(
            app.handle_parent("console", "chat-2", ParentText("ja")),
            app.handle_parent("console", "chat-3", ParentText("ja")),
        ),
        timeout=10,
    )
    assert not first.done() and rooms.posts == []
    homeserver_answers.set()
    await first  # and the running flush delivered their posts too, before it ended
    lumens = rooms.in_room("lumens")
    assert len(lumens) == 3 and all(f"nr. {n}" in lumens[n - 1] for n in (1, 2, 3))
    assert await pending(app) == 0
    await app.store.close()
