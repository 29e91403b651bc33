"""The database engine: SQLite (WAL, secure_delete) by default, PostgreSQL for production.

`open_database(url)` creates the engine and brings the schema to the newest Alembic revision.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, InvalidatePoolError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest migration (tests/storage/test_storage.py checks it against Alembic's head):
# a database already there starts without loading Alembic at all.
HEAD_REVISION = "0003"
# PostgreSQL: a pooled connection idle this long is tested before use.
PING_AFTER_IDLE_SECONDS = 5.0


def sqlite_pragmas(dbapi_connection: Any, connection_record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten with zeros
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
        return engine
    # hide_parameters: an error never carries the values of a statement (personal data).
    # A fixed pool, no overflow: busy moments wait for a connection instead of opening
    # (and, once returned, closing) extra ones, each a TCP and authentication handshake
    # plus a cold statement cache.
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=0, hide_parameters=True)
    _ping_after_idle(engine)
    return engine


def _ping_after_idle(engine: AsyncEngine) -> None:
    """Test a pooled connection before use if it sat idle (the server may have restarted).

    SQLAlchemy's pool_pre_ping tests it before every use: three round trips (BEGIN, a
    query, ROLLBACK) per transaction, a tenth of a busy bot's time. A connection used
    moments ago is alive; and when a lost connection does fail a statement, SQLAlchemy
    replaces every connection of the pool.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def returned(dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def check(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        returned_at = record.info.get("returned_at")
        if returned_at is None or time.monotonic() - returned_at < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # as pool_pre_ping: every pooled connection is replaced
            raise InvalidatePoolError("a pooled connection was lost while idle") from error


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def migrate(engine: AsyncEngine, revision: str = "head", down: bool = False) -> None:
    from alembic import command

    def run(connection: Connection) -> None:
        config = alembic_config(connection)
        if down:
            command.downgrade(config, revision)
        else:
            command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def current_revision(engine: AsyncEngine) -> str | None:
    try:
        async with engine.connect() as connection:
            found = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return found.scalar_one_or_none()
    except DBAPIError:  # no version table yet: a new database
        return None


async def open_database(url: str, pool_size: int = 10) -> AsyncEngine:
    engine = create_engine(url, pool_size)
    if await current_revision(engine) != HEAD_REVISION:
        await migrate(engine)
    return engine
