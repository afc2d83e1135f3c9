"""Database engines and migrations, the same way for every service.

SQLite is the embedded default (a file under ``var/``); PostgreSQL (``postgresql+asyncpg://``) is production.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, MetaData, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine, AsyncSession
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeDecorator

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Linkage stores UTC-aware datetimes only")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def in_session(session: Any, cls: type[T], ident: Any) -> T | None:
    """The ``cls`` object with primary key ``ident`` if this session already holds it (e.g. a consumer's prefetch
    loaded it for the batch), without a query; ``None`` otherwise."""
    obj = session.identity_map.get(session.identity_key(cls, ident))
    return obj if isinstance(obj, cls) else None


def added_in_session(session: Any, cls: type[T], **match: Any) -> T | None:
    """A ``cls`` object added to this session and not flushed yet whose attributes equal ``match`` (sessions do not
    autoflush, so a query cannot see it: e.g. a consumer batch opening a ticket and then handling a copy of its
    dispatch); ``None`` if there is none."""
    for obj in session.new:
        if isinstance(obj, cls) and all(getattr(obj, k) == v for k, v in match.items()):
            return obj
    return None


def sync_session(session: Any) -> Session:
    """The ORM ``Session`` behind an ``AsyncSession`` (or the session itself)."""
    return session.sync_session if isinstance(session, AsyncSession) else session


_PENDING_ROWS = "linkage_pending_rows"


def insert_at_commit(session: Any, table: Any, rows: list[dict[str, Any]]) -> bool:
    """Queue append-only rows (outbox events, timeline entries …) on the session: every queued row is inserted with
    one multi-row Core INSERT per table just before the transaction commits, with no ORM unit of work per row (a
    consumer's batch may queue hundreds). A rolled-back transaction drops its queue with it. Returns False, queueing
    nothing, inside a savepoint (it may roll back alone): the caller lets the ORM track those rows instead."""
    sync = sync_session(session)
    if sync.in_nested_transaction():
        return False
    pending: dict[Any, list[dict[str, Any]]] = sync.info.setdefault(_PENDING_ROWS, {})
    pending.setdefault(table, []).extend(rows)
    return True


def pending_rows(session: Any, table: Any) -> int:
    """How many rows of ``table`` are queued on this session (not yet inserted)."""
    return len(sync_session(session).info.get(_PENDING_ROWS, {}).get(table, ()))


@event.listens_for(Session, "before_commit")
def _insert_pending_rows(session: Session) -> None:
    pending = session.info.pop(_PENDING_ROWS, None)
    for table, rows in (pending or {}).items():
        session.execute(table.insert(), rows)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending_rows(session: Session, previous_transaction: Any) -> None:
    if not session.in_transaction():  # the whole transaction rolled back, not a savepoint inside it
        session.info.pop(_PENDING_ROWS, None)


def make_base() -> type[DeclarativeBase]:
    """A declarative base with its own metadata and naming convention (one per database)."""

    class Base(DeclarativeBase):
        metadata = MetaData(naming_convention=NAMING_CONVENTION)

    return Base


class _InlineSqliteConnection(aiosqlite.Connection):
    """aiosqlite without its worker thread: each call runs on the event loop's thread.

    Linkage gives every SQLite database file to one process and, through a one-connection pool, one transaction at
    a time, so a call never waits on a lock held by this process, and SQLite statements take microseconds. Handing
    each of them to a thread and back cost more than the statement itself (several thread hops and GIL hand-offs
    per statement; measured: intake's CPU per request fell by about a third without them)."""

    def __await__(self):  # type: ignore[no-untyped-def]
        return self._connect().__await__()

    async def _connect(self) -> "_InlineSqliteConnection":
        if self._connection is None:
            self._connection = self._connector()
        return self

    async def _execute(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    def stop(self) -> None:  # type: ignore[override]
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        self.stop()


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """An async engine; for SQLite: WAL, one pooled connection, a busy timeout (for other processes) and
    ``BEGIN IMMEDIATE`` so a read-then-write transaction never fails with ``database is locked`` on the upgrade."""
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # One connection: SQLite has a single writer anyway, and queueing in the pool (FIFO, in the event loop) is
        # fair and fast where SQLite's own busy-wait backs off for up to 100 ms a try and starves under load.
        path = database or ":memory:"

        async def connect() -> aiosqlite.Connection:
            return await _InlineSqliteConnection(
                # isolation_level=None: the driver never opens transactions itself; we issue BEGIN (below)
                lambda: sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False),
                iter_chunk_size=64)

        engine = create_async_engine(url, echo=echo, async_creator=connect, pool_size=1, max_overflow=0,
                                     pool_timeout=60)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


class _InlineCloseSession(AsyncSession):
    """A session on an SQLite engine (see :class:`_InlineSqliteConnection`), closed inline when its ``async with``
    block ends.

    SQLAlchemy closes an ``AsyncSession`` in a task of its own and waits for it behind ``asyncio.shield``, so that a
    cancellation cannot abandon the close halfway. That costs two more turns of the event loop for every session,
    and under load a turn is long: measured at 100 reports/s, intake's POSTs waited a median 40 ms inside the app,
    mostly for those turns, while using 3 ms of CPU. Here no call ever suspends, so nothing can interrupt the close
    and running it inline is just as safe."""

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        await self.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    session_class = _InlineCloseSession if engine.dialect.name == "sqlite" else AsyncSession
    return async_sessionmaker(engine, class_=session_class, expire_on_commit=False, autoflush=False)


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


def _alembic_config(script_location: Path, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


async def migrate(engine: AsyncEngine, script_location: Path, *, lock_id: int) -> None:
    """Apply every Alembic migration in ``script_location`` (``upgrade head``), serialised across processes:
    PostgreSQL takes an advisory lock for the duration, SQLite's ``BEGIN IMMEDIATE`` does the same."""
    cfg = _alembic_config(script_location, engine.url.render_as_string(hide_password=False))

    def _upgrade(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_id})
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")

    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


def run_migrations_online(connection: Connection, target_metadata: MetaData) -> None:
    """What each service's Alembic ``env.py`` calls with the connection handed over by :func:`migrate`."""
    from alembic import context

    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def env_py_main(target_metadata: MetaData) -> None:
    """Body of every ``migrations/env.py``: use the handed-over connection, or open one from the URL (CLI use)."""
    from alembic import context

    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_migrations_online(connection, target_metadata)
        return
    if context.is_offline_mode():
        context.configure(url=context.config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                          literal_binds=True, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    async def _run() -> None:
        engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
        async with engine.begin() as conn:
            await conn.run_sync(run_migrations_online, target_metadata)
        await engine.dispose()

    asyncio.run(_run())
