"""Test databases: a SQLite file by default; a fresh PostgreSQL database per test when
CJGBOT_TEST_POSTGRES is set (e.g. postgresql+asyncpg://cjgbot:cjgbot@127.0.0.1:5432/postgres).

`.ci/run` starts a PostgreSQL server from Debian's packages and runs the suite twice.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

from sqlalchemy.engine import make_url

POSTGRES_ENV = "CJGBOT_TEST_POSTGRES"
_created: list[str] = []


def postgres_admin_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def new_database_url(tmp_path: Path, name: str = "bot.sqlite3") -> str:
    """A database for one test: SQLite in `tmp_path`, or a new PostgreSQL database."""
    admin = postgres_admin_url()
    if admin is None:
        return f"sqlite+aiosqlite:///{tmp_path / name}"
    import asyncpg

    database = f"cjgtest_{uuid.uuid4().hex[:16]}"
    connection = await asyncpg.connect(_asyncpg_dsn(admin))
    try:
        await connection.execute(f'CREATE DATABASE "{database}"')
    finally:
        await connection.close()
    _created.append(database)
    return make_url(admin).set(database=database).render_as_string(hide_password=False)


async def drop_created_databases() -> None:
    admin = postgres_admin_url()
    if admin is None or not _created:
        return
    import asyncpg

    connection = await asyncpg.connect(_asyncpg_dsn(admin))
    try:
        while _created:
            await connection.execute(f'DROP DATABASE IF EXISTS "{_created.pop()}" WITH (FORCE)')
    finally:
        await connection.close()


async def stored_bytes(engine) -> bytes:  # type: ignore[no-untyped-def]
    """Everything the database holds, as bytes to search for personal data.

    SQLite: the raw file and its WAL after a checkpoint (deleted rows included, had they not
    been overwritten). PostgreSQL: every row of every table, as text.
    """
    if engine.dialect.name == "sqlite":
        async with engine.begin() as connection:
            await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        paths = [Path(f"{engine.url.database}{suffix}") for suffix in ("", "-wal")]
        return await asyncio.to_thread(
            lambda: b"".join(p.read_bytes() for p in paths if p.exists())
        )
    chunks: list[bytes] = []
    async with engine.connect() as connection:
        tables = (
            (
                await connection.exec_driver_sql(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                )
            )
            .scalars()
            .all()
        )
        for table in tables:
            rows = (
                (await connection.exec_driver_sql(f'SELECT t::text FROM "{table}" t'))
                .scalars()
                .all()
            )
            chunks.extend(row.encode() for row in rows)
    return b"\n".join(chunks)
