"""The NLU worker process: same readings, used by the app, and never needed to answer."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text as text_sql

from bot.config import Settings, load_settings
from bot.runtime import Runtime, build_runtime
from flows.events import ParentText
from support.app import RecordingParents, RecordingRooms
from support.polling import eventually

QUESTION = "ons kind wordt gepest op school, kan iemand ons helpen?"  # to a partner
TEXTS = [
    "mijn dochter van 3 slaapt heel slecht, ze wordt elke nacht wakker",
    "ons kind wordt gepest op school, kan iemand ons helpen?",
    "my son of 14 doesn't want to go to school anymore",
    "ik wil niet meer leven",
    "🙂🙂🙂",
    "x" * 6000,
    "half an emoji \ud83d from a broken client",
]


SCRIPT = [  # to a handover, with a correction and a contact detail on the way
    "hoi",
    "ons kind wordt gepest op school, kan iemand ons helpen?",
    "Veldhoven",
    "negen",
    "zoon",
    "ja",
    "06-48213579, liever gebeld",
    "Sanne",
    "ja",
]


def with_worker(tmp_path: Path, worker: bool = True) -> Settings:
    return load_settings(
        environ={
            "CJGBOT__STORAGE__DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/bot.sqlite3",
            "CJGBOT__STORAGE__KEY_FILE": str(tmp_path / "secret.key"),
            "CJGBOT__NLU__WORKER_PROCESS": "true" if worker else "false",
        }
    )


def turns_decided_here(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the turns the app decides in this process (not in the worker)."""
    import bot.app

    decided: list[str] = []
    real = bot.app.conversation.handle

    def handle(state, event, *args, **kwargs):  # type: ignore[no-untyped-def]
        decided.append(getattr(event, "text", type(event).__name__))
        return real(state, event, *args, **kwargs)

    monkeypatch.setattr(bot.app.conversation, "handle", handle)
    return decided


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    runtime = await build_runtime(with_worker(tmp_path), RecordingRooms())
    runtime.app.add_parent_channel("console", RecordingParents())
    yield runtime
    await runtime.close()


def counting(runtime: Runtime) -> list[str]:
    """Record the texts the flows read in this process (not in the worker)."""
    read: list[str] = []

    def understand(text: str):  # type: ignore[no-untyped-def]
        read.append(text)
        return runtime.nlu.parse(text)

    for channel, ctx in runtime.app.contexts.items():
        runtime.app.contexts[channel] = dataclasses.replace(ctx, understand=understand)
    return read


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_the_worker_reads_messages_as_the_bot_itself_does(runtime: Runtime) -> None:
    worker = runtime.nlu_worker
    assert worker is not None and worker.alive
    readings = await asyncio.gather(*(worker.parse(text) for text in TEXTS))
    assert readings == [runtime.nlu.parse(text) for text in TEXTS]


async def test_the_app_uses_the_worker_and_reads_plain_answers_itself(runtime: Runtime) -> None:
    read = counting(runtime)
    app = runtime.app
    await app.handle_parent("console", "p1", ParentText(QUESTION))
    await app.handle_parent("console", "p1", ParentText("Veldhoven"))
    await app.handle_parent("console", "p1", ParentText("9"))
    assert read == []  # the question went to the worker; the answers need no classifier
    parents = app.parents["console"]
    assert isinstance(parents, RecordingParents)
    assert len(parents.sent) >= 3  # every message was answered


async def test_a_dead_worker_changes_nothing_for_parents(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = runtime.nlu_worker
    assert worker is not None
    app = runtime.app
    decided = turns_decided_here(monkeypatch)
    await app.handle_parent("console", "p5", ParentText(QUESTION))
    assert decided == []  # decided in the worker
    up = runtime.app.metrics.registry.get_sample_value
    assert up("cjgbot_nlu_worker_up") == 1.0
    os.kill(worker.pid, signal.SIGKILL)
    await eventually(lambda: not worker.alive)
    assert not worker.alive and up("cjgbot_nlu_worker_up") == 0.0  # operators see it
    await eventually(lambda: gone(worker.pid))
    assert gone(worker.pid)  # collected: no zombie left while the bot runs on
    await app.handle_parent("console", "p5", ParentText("Veldhoven"))
    assert decided == ["Veldhoven"]  # the turn is decided here, from the stored state
    parents = app.parents["console"]
    assert isinstance(parents, RecordingParents)
    assert "hoe oud" in parents.texts("p5")[-1].lower()  # the next question: the age
    read = counting(runtime)
    await app.handle_parent("console", "p2", ParentText("mijn dochter van 3 slaapt heel slecht"))
    assert read == ["mijn dochter van 3 slaapt heel slecht"]  # read in the process instead
    assert any("slaap" in text.lower() for text in parents.texts("p2"))


async def test_a_hanging_worker_is_stopped_and_the_bot_reads_by_itself(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.nlu_worker as nlu_worker

    worker = runtime.nlu_worker
    assert worker is not None
    monkeypatch.setattr(nlu_worker, "ANSWER_WITHIN_SECONDS", 0.5)
    monkeypatch.setattr(nlu_worker, "MAX_WAITING", 2)
    os.kill(worker.pid, signal.SIGSTOP)  # it hangs
    waiting = [asyncio.create_task(worker.parse(text)) for text in TEXTS[:2]]
    await asyncio.sleep(0.05)
    assert await worker.parse(TEXTS[2]) is None  # the queue is full: at once, no wait
    assert await asyncio.gather(*waiting) == [None, None]  # too late: given up
    assert not worker.alive
    # and stopped for good (SIGKILL ends a stopped process too)
    await eventually(lambda: gone(worker.pid))
    assert gone(worker.pid)
    read = counting(runtime)
    await runtime.app.handle_parent("console", "p3", ParentText(QUESTION))
    assert read == [QUESTION]


CRISIS_FIRST = ["ik wil niet meer leven", "ja"]  # a handover on a brand-new conversation
FORGET = ["hoi", "mijn dochter van 3 slaapt heel slecht", "/vergeet", "ja", "hallo"]


@pytest.mark.parametrize(
    "script", [SCRIPT, CRISIS_FIRST, FORGET], ids=["intake", "crisis", "forget"]
)
async def test_the_worker_decides_turns_as_the_bot_itself_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: list[str]
) -> None:
    """The same parent, the same answers, posts and stored state, with or without it."""
    from flows.events import parse_command
    from support.app import Clock
    from support.flows import at

    transcripts = []
    for worker in (True, False):
        place = tmp_path / str(worker)
        place.mkdir()
        rooms = RecordingRooms()
        clock = Clock(at("2026-11-30 23:59"))  # the month changes on the way (registrations)
        runtime = await build_runtime(with_worker(place, worker), rooms, clock=clock)
        assert (runtime.nlu_worker is not None) == worker
        parents = RecordingParents()
        runtime.app.add_parent_channel("console", parents)
        decided = turns_decided_here(monkeypatch)
        for text in script:
            event = parse_command(text) or ParentText(text)
            await runtime.app.handle_parent("console", "p1", event)
            clock.advance(seconds=30)
        monkeypatch.undo()
        async with runtime.store.transaction() as repo:
            found = await repo.find_conversation("console", "p1")
            handovers = await repo.open_handovers()
            months = await repo.session.execute(text_sql("SELECT month FROM registrations"))
        transcripts.append(
            (
                parents.texts("p1"),
                [(room, text) for room, text, _ in rooms.posts],
                found.state.model_dump() if found else None,
                [(h.number, h.details) for h in handovers],
                sorted(row[0] for row in months.all()),
            )
        )
        texts = [t for t in script if parse_command(t) is None]
        assert [d for d in decided if d in texts] == ([] if worker else texts)
        await runtime.close()
    with_it, without = transcripts
    assert with_it == without


async def test_a_state_changed_meanwhile_is_decided_again_here(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the worker decided, the stored state changed: its turn is not stored."""
    app = runtime.app
    worker = runtime.nlu_worker
    assert worker is not None
    await app.handle_parent("console", "p4", ParentText(QUESTION))
    real_turn = worker.turn

    async def turn_then_another_instance_saves(*args, **kwargs):  # type: ignore[no-untyped-def]
        decided = await real_turn(*args, **kwargs)
        async with app.store.transaction() as repo:  # e.g. another instance, one turn on
            found = await repo.find_conversation("console", "p4")
            assert found is not None
            found.state.language = "en"  # say, the parent asked for English
            await repo.save_conversation(found.id, "console", "p4", found.state, app.clock(), None)
        return decided

    monkeypatch.setattr(worker, "turn", turn_then_another_instance_saves)
    decided = turns_decided_here(monkeypatch)
    await app.handle_parent("console", "p4", ParentText("Veldhoven"))
    assert decided == ["Veldhoven"]  # decided again, here, on the state as it was then
    async with app.store.transaction() as repo:
        found = await repo.find_conversation("console", "p4")
    assert found is not None and found.state.question is not None
    assert found.state.question.place == "Veldhoven"  # the answer, not lost
    assert found.state.language == "en"  # nor the change made meanwhile


async def test_a_busy_bot_does_not_stop_a_worker_that_answers(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bot reads answers late (its loop was busy, e.g. in a burst): no hang, no kill."""
    import time

    import bot.nlu_worker as nlu_worker

    worker = runtime.nlu_worker
    assert worker is not None
    monkeypatch.setattr(nlu_worker, "ANSWER_WITHIN_SECONDS", 0.3)
    waiting = [asyncio.create_task(worker.parse(text)) for text in TEXTS * 20]
    await asyncio.sleep(0)  # all sent
    time.sleep(0.6)  # noqa: ASYNC251 (the loop is busy past the deadline on purpose)
    readings = await asyncio.gather(*waiting)
    assert readings == [runtime.nlu.parse(text) for text in TEXTS * 20]
    await asyncio.sleep(0.8)  # past the next check, too
    assert worker.alive and not gone(worker.pid)


async def test_closing_the_bot_ends_the_worker(tmp_path: Path) -> None:
    runtime = await build_runtime(with_worker(tmp_path), RecordingRooms())
    assert runtime.nlu_worker is not None
    pid = runtime.nlu_worker.pid
    await runtime.close()
    assert gone(pid)  # exited and reaped: no zombie left


def test_the_worker_is_off_with_a_rasa_server_or_when_switched_off() -> None:
    rasa = load_settings(
        environ={"CJGBOT__NLU__BACKEND": "rasa", "CJGBOT__NLU__WORKER_PROCESS": "true"}
    )
    off = load_settings(environ={"CJGBOT__NLU__WORKER_PROCESS": "false"})
    assert not rasa.nlu.use_worker_process()
    assert not off.nlu.use_worker_process()


async def test_an_answer_that_cannot_be_read_stops_the_worker_not_the_parent(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.nlu_worker as nlu_worker

    worker = runtime.nlu_worker
    assert worker is not None

    def unreadable(data: bytes) -> object:
        raise ValueError("not a pickle")

    monkeypatch.setattr(nlu_worker.pickle, "loads", unreadable)
    assert await asyncio.wait_for(worker.parse(QUESTION), 5) is None  # no wait for ever
    monkeypatch.undo()
    assert not worker.alive
    await runtime.app.handle_parent("console", "p7", ParentText(QUESTION))
    parents = runtime.app.parents["console"]
    assert isinstance(parents, RecordingParents) and parents.texts("p7")
    await eventually(lambda: gone(worker.pid), within=6)  # its socket closed: it exits
    assert gone(worker.pid)


def test_a_parent_text_carries_nothing_the_worker_would_drop() -> None:
    """The worker is asked with the text and the button: a new field must go along too."""
    assert {f.name for f in dataclasses.fields(ParentText)} == {"text", "nlu", "button"}


async def test_states_kept_for_the_worker_go_after_their_time_unasked() -> None:
    from bot.app import _Recent

    kept = _Recent(size=2, seconds=0.05)
    kept.put("a", b"state a")
    kept.put("b", b"state b")
    kept.put("c", b"state c")
    assert kept.get("a", None) is None and kept.get("c", None) == b"state c"  # the oldest left
    await asyncio.sleep(0.2)  # nothing put or asked meanwhile
    assert len(kept) == 0


async def test_a_dead_workers_kept_states_are_dropped(runtime: Runtime) -> None:
    app = runtime.app
    worker = runtime.nlu_worker
    assert worker is not None
    await app.handle_parent("console", "p6", ParentText(QUESTION))
    assert len(app._stored_states) == 1
    os.kill(worker.pid, signal.SIGKILL)
    await eventually(lambda: not worker.alive)
    await app.handle_parent("console", "p6", ParentText("Veldhoven"))
    assert len(app._stored_states) == 0
