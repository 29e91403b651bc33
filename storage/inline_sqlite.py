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
when the repository uses the ORM. The statements of every message are marked `prepared`:
they are compiled once, with SQLAlchemy's own type processing, and then run on the sqlite3
connection directly (a few microseconds instead of some tens for SQLAlchemy's execution
machinery). Transactions are begun and committed on the sqlite3 connection too; SQLAlchemy
joins one only when a statement of its own needs it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql import Executable
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

from storage.database import sqlite_pragmas

PREPARED = "cjgbot_prepared"
GIVE_WAY_SECONDS = 0.005
E = TypeVar("E", bound=Executable)


def prepared(statement: E) -> E:
    """Mark a Core statement as one of the hot ones (see the module docstring).

    Other databases ignore the mark. A statement that cannot run prepared (an expanding
    IN list, a Python-side default that is a function) runs through SQLAlchemy as usual.
    """
    return statement.execution_options(**{PREPARED: True})


class PreparedResult:
    """The part of SQLAlchemy's Result the repository uses, for a prepared statement."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def all(self) -> list[tuple[Any, ...]]:
        return self._rows

    def one_or_none(self) -> tuple[Any, ...] | None:
        if len(self._rows) > 1:
            raise ValueError("more than one row")
        return self._rows[0] if self._rows else None

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        if len(self._rows) != 1:
            raise ValueError(f"{len(self._rows)} rows, expected one")
        return self._rows[0][0]


_NO_DEFAULT = object()


@dataclass(frozen=True, slots=True)
class _Plan:
    """A statement compiled for sqlite3: SQL text, how to fill and convert the parameters.

    A list parameter (`IN`, an expanding bind) gets as many placeholders as it has values;
    the SQL text for each length is made once.
    """

    sql: str
    params: tuple[tuple[str, Any, Any, bool], ...]  # (name, processor, default, expanding)
    results: tuple[Any, ...] | None  # result processors of a SELECT, None when all are None
    expanding: tuple[str, ...]
    sql_by_lengths: dict[tuple[int, ...], str] = field(default_factory=dict)

    def runs(self, values: dict[str, Any]) -> bool:
        """False for an empty list: SQLAlchemy renders that case (an always-false test)."""
        return all(values.get(name) for name in self.expanding)

    def run(self, dbapi: sqlite3.Connection, values: dict[str, Any]) -> PreparedResult:
        args: list[Any] = []
        for name, process, default, expanding in self.params:
            value = values.get(name, default)
            if value is _NO_DEFAULT:
                raise KeyError(f"no value for parameter {name!r}")
            if expanding:
                args.extend(value if process is None else [process(v) for v in value])
            else:
                args.append(value if process is None else process(value))
        sql = self.sql
        if self.expanding:
            sql = self._sql([len(values[name]) for name in self.expanding])
        try:
            cursor = dbapi.execute(sql, args)
            rows = cursor.fetchall()
        except sqlite3.Error as error:  # as SQLAlchemy raises them, without the values
            raise DBAPIError.instance(
                sql, args, error, sqlite3.Error, hide_parameters=True
            ) from error
        if self.results is not None:
            results = self.results
            rows = [
                tuple(v if p is None else p(v) for p, v in zip(results, row, strict=True))
                for row in rows
            ]
        return PreparedResult(rows, cursor.rowcount)

    def _sql(self, lengths: list[int]) -> str:
        key = tuple(lengths)
        sql = self.sql_by_lengths.get(key)
        if sql is None:
            sql = self.sql
            for name, length in zip(self.expanding, lengths, strict=True):
                sql = sql.replace(f"__[POSTCOMPILE_{name}]", ", ".join("?" * length))
            if len(self.sql_by_lengths) < 256:
                self.sql_by_lengths[key] = sql
        return sql


def _plan(statement: Any, keys: tuple[str, ...], dialect: Dialect) -> _Plan | None:
    """Compile `statement` for parameters `keys`; None when it must run through SQLAlchemy."""
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    if compiled.positiontup is None or compiled.literal_execute_params:
        return None
    defaults: dict[str, Any] = {}
    for column in getattr(compiled, "insert_prefetch", ()) + getattr(
        compiled, "update_prefetch", ()
    ):
        default = column.default
        if default is None or not default.is_scalar:
            return None
        defaults[column.key] = default.arg
    params = []
    expanding = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        if bind.callable is not None:
            return None
        if bind.expanding:
            if f"__[POSTCOMPILE_{name}]" not in compiled.string or name in expanding:
                return None  # rendered in a way this plan does not know
            expanding.append(name)
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        default = defaults.get(name, _NO_DEFAULT if bind.required else bind.value)
        params.append((name, process, default, bool(bind.expanding)))
    results = None
    if statement.is_select:
        processors = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.selected_columns
        )
        if any(p is not None for p in processors):
            results = processors
    return _Plan(compiled.string, tuple(params), results, tuple(expanding))


class InlineSession:
    """The part of AsyncSession the repository uses, over one connection's transaction."""

    def __init__(
        self,
        connection: Connection,
        dbapi: sqlite3.Connection,
        sessions: sessionmaker[Session],
        plans: dict[tuple[int, tuple[str, ...]], tuple[Any, _Plan | None]],
    ) -> None:
        self._connection = connection
        self._dbapi = dbapi
        self._sessions = sessions
        self._plans = plans
        self._session: Session | None = None

    @property
    def orm(self) -> Session:
        if self._session is None:
            self._joined()  # the session joins the transaction, never ends it
            self._session = self._sessions(bind=self._connection)
        return self._session

    def _joined(self) -> Connection:
        """SQLAlchemy's connection, in (its view of) the transaction begun on sqlite3."""
        if not self._connection.in_transaction():
            self._connection.begin()  # no BEGIN: see _begin_immediate
        return self._connection

    async def execute(self, statement: Any, params: Any = None, **kwargs: Any) -> Any:
        if not statement._propagate_attrs and not kwargs:
            if statement._execution_options.get(PREPARED):
                values = params or {}
                plan = self._plan(statement, values)
                if plan is not None and plan.runs(values):
                    return plan.run(self._dbapi, values)
            # Core (not ORM) statements: straight to the connection, without the session's
            # per-statement machinery. A session would not flush for them either.
            return self._joined().execute(statement, params)
        return self.orm.execute(statement, params, **kwargs)

    def _plan(self, statement: Any, params: dict[str, Any]) -> _Plan | None:
        key = (id(statement), tuple(params))
        cached = self._plans.get(key)
        if cached is None or cached[0] is not statement:
            # The statement is kept with its plan, so its id is never another's.
            plan = _plan(statement, key[1], self._connection.dialect)
            cached = self._plans[key] = (statement, plan)
        return cached[1]

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
    return isinstance(error, sqlite3.OperationalError) and "locked" in str(error)


def _begin_immediate(connection: Connection) -> None:
    """SQLAlchemy begins: on its own (a maintenance command) it must take the write lock."""
    if not connection.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
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
        self._gave_way = 0.0  # when a transaction last let other tasks run first
        self._owner: asyncio.Task[Any] | None = None
        self._connection: Connection | None = None
        self._dbapi: sqlite3.Connection | None = None
        self._plans: dict[tuple[int, tuple[str, ...]], tuple[Any, _Plan | None]] = {}

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
            hide_parameters=True,
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
        # Statements here never wait, so a loop of transactions (a sweep) would never give
        # the event loop a turn: every GIVE_WAY_SECONDS, let the other ready tasks (health,
        # leases, timers) run first. Not at every transaction: a message would go to the
        # back of the queue once more each time, and in a burst wait for all the others.
        now = time.monotonic()
        if now - self._gave_way >= GIVE_WAY_SECONDS:
            self._gave_way = now
            await asyncio.sleep(0)
        async with self._lock:
            self._owner = task
            try:
                connection, dbapi = await self._begin()
                inline = InlineSession(connection, dbapi, self._sessions, self._plans)
                try:
                    yield inline
                    await inline.flush()
                    inline.close()
                    if connection.in_transaction():
                        connection.commit()  # SQLAlchemy joined: it commits on sqlite3
                    if dbapi.in_transaction:
                        dbapi.execute("COMMIT")
                    self._after_commit()
                except BaseException:
                    inline.close()
                    self._rollback(connection, dbapi)
                    raise
            finally:
                self._owner = None

    def _rollback(self, connection: Connection, dbapi: sqlite3.Connection) -> None:
        try:
            if connection.in_transaction():
                connection.rollback()
            if dbapi.in_transaction:
                dbapi.execute("ROLLBACK")
        except Exception:  # the connection is broken: start afresh next time
            self._drop_connection()
            raise

    async def _begin(self) -> tuple[Connection, sqlite3.Connection]:
        """The connection in a transaction that holds SQLite's write lock (BEGIN IMMEDIATE)."""
        try:
            return self._try_begin()
        except sqlite3.OperationalError as error:
            if not _is_busy(error):
                raise DBAPIError.instance("BEGIN IMMEDIATE", (), error, sqlite3.Error) from error
        try:
            async for attempt in AsyncRetrying(  # another process writes: wait for it
                retry=retry_if_exception(_is_busy),
                wait=wait_exponential(multiplier=0.001, max=0.05),
                stop=stop_after_delay(BUSY_WAIT_SECONDS),
                reraise=True,
            ):
                with attempt:
                    return self._try_begin()
        except sqlite3.Error as error:  # as SQLAlchemy would raise it
            raise DBAPIError.instance("BEGIN IMMEDIATE", (), error, sqlite3.Error) from error
        raise AssertionError("unreachable: AsyncRetrying returns or raises")

    def _try_begin(self) -> tuple[Connection, sqlite3.Connection]:
        if self._connection is None:
            self._connection = self.engine.connect()
            self._dbapi = self._connection.connection.driver_connection  # type: ignore[assignment]
        assert self._dbapi is not None
        try:
            self._dbapi.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if not _is_busy(error):
                self._drop_connection()  # a fresh start next time
            raise
        return self._connection, self._dbapi

    def _drop_connection(self) -> None:
        if self._connection is not None:
            self._connection.invalidate()
            self._connection.close()
        self._connection = None
        self._dbapi = None

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
            self._dbapi = None
        self.engine.dispose()
