"""The in-process SQLite store: prepared statements, transactions, another process's lock.

These are about the SQLite file store itself, so they run on SQLite in every run.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from flows.state import ConversationState
from storage.crypto import FieldCipher
from storage.database import open_database
from storage.inline_sqlite import _plan, prepared
from storage.models import HandoverRow, OutboxRow, SettingRow
from storage.repository import Store
from support.flows import DETAILS

NOW = datetime(2026, 11, 25, 8, 30, 15, 123456, tzinfo=UTC)


async def _store(path: Path) -> Store:
    engine = await open_database(f"sqlite+aiosqlite:///{path}")
    store = Store(engine, FieldCipher([Fernet.generate_key()]))
    assert store._inline is not None, "a SQLite file runs in-process"
    return store


def _raw(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


async def test_prepared_statements_store_what_sqlalchemy_would(tmp_path: Path) -> None:
    """Datetimes, JSON, booleans and NULLs: byte for byte the rows SQLAlchemy writes."""
    path = tmp_path / "p.sqlite3"
    store = await _store(path)
    row = {
        "created_at": NOW,
        "target": "rooms",
        "kind": "post",
        "handover_number": None,
        "payload": store.cipher.encrypt('{"room": "loket"}'),
        "attempts": 2,
        "not_before": NOW + timedelta(seconds=3),
        "claimed_until": None,
    }
    table = OutboxRow.__table__
    async with store.transaction() as repo:
        await repo.session.execute(prepared(insert(table)), row)  # sqlite3 directly
        await repo.session.execute(insert(table), row)  # SQLAlchemy's execution
        created = await repo.create_handover(None, ("lumens", "ggd"), True, DETAILS, NOW)
    outbox = _raw(path, "SELECT * FROM outbox ORDER BY id")
    assert [r[1:] for r in outbox] == [outbox[0][1:]] * 2
    assert outbox[0][1] == "2026-11-25 08:30:15.123456"
    (handover,) = _raw(path, "SELECT targets, urgent, purged, purge_at FROM handovers")
    assert handover == ('["lumens", "ggd"]', 1, 0, None)
    async with store.transaction() as repo:
        found = await repo.get_handover(created.number, lock=True)
        claim = timedelta(minutes=2)
        claimed = await repo.claim_deliveries(["rooms"], NOW, claim, ignore_backoff=True)
    assert found is not None and found.state.targets == ["lumens", "ggd"] and found.state.urgent
    assert found.details == DETAILS
    assert [(d.attempts, d.payload) for d in claimed] == [(2, {"room": "loket"})] * 2
    await store.close()


async def test_list_parameters_run_prepared_and_the_rest_through_sqlalchemy(
    tmp_path: Path,
) -> None:
    store = await _store(tmp_path / "p.sqlite3")
    table = SettingRow.__table__
    listed = prepared(
        select(table.c.value)
        .where(table.c.key.in_(bindparam("keys", expanding=True)))
        .order_by(table.c.value)
    )
    dialect = store._inline.engine.dialect  # type: ignore[union-attr]
    assert _plan(listed, ("keys",), dialect) is not None
    computed = prepared(select(table.c.value).where(table.c.key == bindparam("k", callable_=str)))
    assert _plan(computed, (), dialect) is None
    async with store.transaction() as repo:
        for key in "abc":
            await repo.set_setting(key, key.upper())
    async with store.transaction() as repo:
        for keys, values in ((["a"], ["A"]), (["c", "a", "x"], ["A", "C"]), ([], [])):
            result = await repo.session.execute(listed, {"keys": keys})
            assert [row[0] for row in result.all()] == values
        assert await repo.get_setting("b") == "B"  # prepared, after the ORM wrote it
    await store.close()


async def test_a_failed_transaction_leaves_nothing_of_either_path(tmp_path: Path) -> None:
    """Prepared statements, Core through SQLAlchemy and the ORM share one transaction."""
    path = tmp_path / "p.sqlite3"
    store = await _store(path)
    with pytest.raises(RuntimeError, match="halfway"):
        async with store.transaction() as repo:
            await repo.save_conversation(None, "console", "a", ConversationState(), NOW, NOW)
            await repo.set_setting("k", "v")  # the ORM joins the transaction
            await repo.audit(NOW, "test", "parent")
            raise RuntimeError("halfway")
    for table in ("conversations", "settings", "audit_events"):
        assert _raw(path, f"SELECT COUNT(*) FROM {table}") == [(0,)]
    async with store.transaction() as repo:  # and the store goes on
        await repo.save_conversation(None, "console", "a", ConversationState(), NOW, NOW)
        await repo.set_setting("k", "v")
    assert _raw(path, "SELECT COUNT(*) FROM conversations") == [(1,)]
    assert _raw(path, "SELECT value FROM settings") == [("v",)]
    await store.close()


async def test_a_constraint_error_is_sqlalchemys_and_rolls_back(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite3"
    store = await _store(path)
    table = HandoverRow.__table__
    row = {
        "number": 7,
        "conversation_id": None,
        "status": "created",
        "targets": [],
        "urgent": False,
        "created_at": NOW,
        "purge_at": None,
        "purged": False,
        "state": b"",
        "details": None,
    }
    statement = prepared(insert(table))
    async with store.transaction() as repo:
        await repo.session.execute(statement, row)
    with pytest.raises(IntegrityError) as raised:
        async with store.transaction() as repo:
            await repo.audit(NOW, "before", "parent")
            await repo.session.execute(statement, row | {"status": "Sanne 0612345678"})
    assert "0612345678" not in str(raised.value)  # errors carry no values
    assert _raw(path, "SELECT COUNT(*) FROM audit_events") == [(0,)]
    assert _raw(path, "SELECT number FROM handovers") == [(7,)]
    await store.close()


async def test_waits_for_another_process_without_blocking_the_loop(tmp_path: Path) -> None:
    """Another writer holds the lock: the transaction waits in asyncio, then goes ahead."""
    path = tmp_path / "p.sqlite3"
    store = await _store(path)
    async with store.transaction() as repo:  # the schema exists, the connection is open
        await repo.audit(NOW, "first", "parent")
    holding, release = threading.Event(), threading.Event()

    def other_process() -> None:
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO settings (key, value) VALUES ('other', 'x')")
        holding.set()
        release.wait(5)
        db.execute("COMMIT")
        db.close()

    thread = threading.Thread(target=other_process)
    thread.start()
    assert holding.wait(5)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    async def write() -> None:
        async with store.transaction() as repo:
            await repo.audit(NOW, "second", "parent")

    ticking = asyncio.create_task(ticker())
    writing = asyncio.create_task(write())
    await asyncio.sleep(0.3)
    assert not writing.done(), "the other process still holds the write lock"
    assert ticks >= 20, "the event loop kept running while the transaction waited"
    release.set()
    await asyncio.wait_for(writing, 5)
    ticking.cancel()
    thread.join()
    assert _raw(path, "SELECT event FROM audit_events ORDER BY id") == [("first",), ("second",)]
    assert _raw(path, "SELECT value FROM settings WHERE key = 'other'") == [("x",)]
    await store.close()


async def test_a_loop_of_transactions_lets_other_tasks_run_now_and_then(tmp_path: Path) -> None:
    """Transactions never wait, yet a sweep of thousands does not hold up the event loop."""
    store = await _store(tmp_path / "s.sqlite3")
    ticks: list[int] = []
    done = 0

    async def ticker() -> None:
        while True:
            ticks.append(done)
            await asyncio.sleep(0)

    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    ticks.clear()
    loop = asyncio.get_running_loop()
    began = loop.time()
    while loop.time() - began < 0.2:  # a sweep: one transaction after another
        async with store.transaction() as repo:
            await repo.audit(NOW, "swept", "system")
        done += 1
    ticking.cancel()
    assert done > 100
    assert len(ticks) >= 10, "other tasks ran while the sweep went on"
    assert len(ticks) < done / 4, "but not after every transaction: each would queue again"
    await store.close()
