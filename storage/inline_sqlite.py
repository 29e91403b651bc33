"""SQLite in-process: one connection, statements run at once on the event loop's thread.

A SQLite file has one writer at a time. Instead of a pool of aiosqlite connections that
compete for that lock (and a thread hop per statement), the store keeps one plain sqlite3
connection, hands it to one transaction at a time (an asyncio lock, first come first
served) and starts every transaction with BEGIN IMMEDIATE, so a transaction that reads and
then writes never fails halfway on another process's write (the CLI's `purge`, a second
instance). While another process writes, BEGIN IMMEDIATE is retried with asyncio sleeps:
the event loop never blocks in SQLite's busy handler. WAL checkpoints (copying the log into
the database file, with an fsync) run in a thread of their own every few hundred commits,
not inside a commit on the event loop.
`InlineSession` gives the repository the awaitable interface of SQLAlchemy's AsyncSession:
Core statements go straight to the connection; an ORM session joins the transaction only
when the repository uses the ORM.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

from storage.database import sqlite_pragmas


class InlineSession:
    """The part of AsyncSession the repository uses, over one connection's transaction."""

    def __init__(self, connection: Connection, sessions: sessionmaker[Session]) -> None:
        self._connection = connection
        self._sessions = sessions
        self._session: Session | None = None

    @property
    def orm(self) -> Session:
        if self._session is None:  # joins the connection's transaction, never ends it
            self._session = self._sessions(bind=self._connection)
        return self._session

    async def execute(self, statement: Any, params: Any = None, **kwargs: Any) -> Any:
        if not statement._propagate_attrs and not kwargs:
            # Core (not ORM) statements: straight to the connection, without the session's
            # per-statement machinery. A session would not flush for them either.
            return self._connection.execute(statement, params)
        return self.orm.execute(statement, params, **kwargs)

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        return self.orm.get(*args, **kwargs)

    async def flush(self) -> None:
        if self._session is not None:
            self._session.flush()

    def add(self, instance: object) -> None:
        self.orm.add(instance)

    @asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[None]:
        with self.orm.begin_nested():
            yield

    def close(self) -> None:
        if self._session is not None:
            self._session.close()


# How long a transaction waits for another process's write before it gives up.
BUSY_WAIT_SECONDS = 30.0
# Commits between two background checkpoints (a commit adds a few pages to the log).
CHECKPOINT_EVERY = 250


def _connect(dbapi_connection: Any, connection_record: object) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy, not the driver, says BEGIN
    sqlite_pragmas(dbapi_connection, connection_record)
    dbapi_connection.execute("PRAGMA busy_timeout=0")  # wait in asyncio, not in SQLite
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")  # see InlineSqlite._after_commit


def _is_busy(error: BaseException) -> bool:
    return isinstance(error, OperationalError) and "locked" in str(error.orig)


def _begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


class InlineSqlite:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.path = str(engine.url.database)
        self._commits = 0
        self._checkpointer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-checkpoint")
        self._checkpoint_db: sqlite3.Connection | None = None
        self._checkpointing: asyncio.Future[None] | None = None
        # Bound to a connection in a transaction, a session joins it and leaves its end to us.
        self._sessions = sessionmaker(expire_on_commit=False)
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self._connection: Connection | None = None

    @classmethod
    def for_engine(cls, engine: AsyncEngine) -> InlineSqlite | None:
        """An inline twin of a SQLite file engine; None for other databases."""
        url = engine.url
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        sync = create_sync_engine(
            url.set(drivername="sqlite"),
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
        )
        event.listen(sync, "connect", _connect)
        event.listen(sync, "begin", _begin_immediate)
        return cls(sync)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[InlineSession]:
        task = asyncio.current_task()
        if task is not None and task is self._owner:
            # Would wait for itself for ever: a bug, so say so at once.
            raise RuntimeError("a transaction is already open in this task")
        # Statements here never wait, so a loop of transactions would never give the event
        # loop a turn: let every other ready task (health, leases, timers) run first.
        await asyncio.sleep(0)
        async with self._lock:
            self._owner = task
            try:
                connection = await self._begin()
                inline = InlineSession(connection, self._sessions)
                try:
                    yield inline
                    await inline.flush()
                    inline.close()
                    connection.commit()
                    self._after_commit()
                except BaseException:
                    inline.close()
                    connection.rollback()
                    raise
            finally:
                self._owner = None

    async def _begin(self) -> Connection:
        """The connection in a transaction that holds SQLite's write lock (BEGIN IMMEDIATE)."""
        try:
            return self._try_begin()
        except OperationalError as error:
            if not _is_busy(error):
                raise
        async for attempt in AsyncRetrying(  # another process writes: wait for it
            retry=retry_if_exception(_is_busy),
            wait=wait_exponential(multiplier=0.001, max=0.05),
            stop=stop_after_delay(BUSY_WAIT_SECONDS),
            reraise=True,
        ):
            with attempt:
                return self._try_begin()
        raise AssertionError("unreachable: AsyncRetrying returns or raises")

    def _try_begin(self) -> Connection:
        if self._connection is None:
            self._connection = self.engine.connect()
        try:
            self._connection.begin()
        except BaseException:
            self._connection.close()  # a fresh start next time
            self._connection = None
            raise
        return self._connection

    def _after_commit(self) -> None:
        self._commits += 1
        if self._commits < CHECKPOINT_EVERY:
            return
        if self._checkpointing is not None and not self._checkpointing.done():
            return
        self._commits = 0
        loop = asyncio.get_running_loop()
        self._checkpointing = loop.run_in_executor(self._checkpointer, self._passive_checkpoint)

    def _passive_checkpoint(self) -> None:
        """In the checkpoint thread: copy what it can, never waiting for readers or writers."""
        if self._checkpoint_db is None:
            self._checkpoint_db = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False
            )
            self._checkpoint_db.execute("PRAGMA busy_timeout=1000")
        self._checkpoint_db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    async def checkpoint(self) -> None:
        """Best effort: while another process reads, SQLite leaves the WAL for next time."""
        async with self._lock:
            connection = self._connection or self.engine.connect()
            connection.connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            if self._connection is None:
                connection.close()

    def close(self) -> None:
        self._checkpointer.shutdown(wait=True)
        if self._checkpoint_db is not None:
            self._checkpoint_db.close()
            self._checkpoint_db = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self.engine.dispose()
