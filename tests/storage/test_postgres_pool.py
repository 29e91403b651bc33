"""PostgreSQL's connection pool: a connection the server dropped while idle is replaced.

Runs in the suite's PostgreSQL pass (CJGBOT_TEST_POSTGRES); SQLite has no pool.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

import storage.database as database
from support.databases import new_database_url, postgres_admin_url

pytestmark = pytest.mark.skipif(
    postgres_admin_url() is None, reason="PostgreSQL pass only (set CJGBOT_TEST_POSTGRES)"
)


async def backend_pid(engine) -> int:  # type: ignore[no-untyped-def]
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def terminate(engine, pid: int) -> None:  # type: ignore[no-untyped-def]
    async with engine.connect() as connection:
        await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


async def test_an_idle_connection_the_server_dropped_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = await new_database_url(tmp_path)
    engine = database.create_engine(url, pool_size=1)
    other = database.create_engine(url, pool_size=1)
    try:
        first = await backend_pid(engine)
        await terminate(other, first)  # e.g. the server restarted overnight
        monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)  # it sat idle
        second = await backend_pid(engine)  # tested, found dead, replaced: no error
        assert second != first
    finally:
        await engine.dispose()
        await other.dispose()


async def test_only_a_connection_that_sat_idle_is_tested(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = database.create_engine(await new_database_url(tmp_path), pool_size=1)
    pings: list[object] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        pings.append(dbapi_connection)
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    try:
        assert await backend_pid(engine) == await backend_pid(engine)  # one connection
        assert pings == []  # used moments ago: no round trips to test it
        monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)
        await backend_pid(engine)
        assert len(pings) == 1
    finally:
        await engine.dispose()
