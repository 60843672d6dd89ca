"""The one database engine and the session helper every service uses."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine

from adremix.settings import get_settings

POOL_RECYCLE_SECONDS = 1800
# SQLite reads the database file through a memory map of up to this size rather than
# copying each page into the connection's own cache (2 MB by default, 500 pages). A page
# of the admin console touches a few hundred pages scattered over several tables (50
# orders, each with its buyer and payment); with the small cache those were read again
# from the OS on nearly every page load, more than the SQL's own work. The map shares the
# OS's page cache between connections and processes, so it costs no memory per connection.
SQLITE_MMAP_BYTES = 1 << 30


def _prepare_sqlite(url: str) -> dict:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    return {"check_same_thread": False, "timeout": 30}


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """The app's pooled engine for a URL (one per process and URL)."""
    return create_app_engine(url)


def create_app_engine(url: str, **connect_args: Any) -> Engine:
    """A new pooled engine as the app configures it; SQLite gets WAL and a busy timeout for
    concurrent writers. `connect_args` go to the driver's connect (e.g. a cursor factory)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args=_prepare_sqlite(url) | connect_args)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            # Let SQLAlchemy, not pysqlite, issue BEGIN, so BEGIN IMMEDIATE below works.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection) -> None:  # type: ignore[no-untyped-def]
            # Take the write lock up front: SQLite otherwise fails lock upgrades
            # between two readers that both want to write, instead of waiting.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # No pre-ping: it is one more round trip on every checkout (a credit movement is one
    # statement). Connections are recycled before servers and proxies commonly drop idle
    # ones instead; one dropped anyway fails its first statement, and SQLAlchemy then
    # discards every connection of the pool opened before it, so the next checkout reconnects.
    return create_engine(
        url,
        connect_args=connect_args,
        pool_recycle=POOL_RECYCLE_SECONDS,
        pool_size=10,
        max_overflow=40,
    )


def get_engine() -> Engine:
    return engine_for(get_settings().database_url)


def dialect_insert(session: Session, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT of the session's dialect, the kind that takes `on_conflict_do_nothing`
    (PostgreSQL's or SQLite's: the generic one has no ON CONFLICT)."""
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


@lru_cache(maxsize=8)
def _sqlite_writer(url: str) -> threading.RLock:
    return threading.RLock()


def _writer_turn(engine: Engine) -> AbstractContextManager[object]:
    # SQLite has one writer at a time and every transaction here takes the write lock
    # (BEGIN IMMEDIATE). Threads of one process queue on a lock of their own instead of
    # SQLite's busy handler, which sleeps and polls, leaving the database idle between
    # them. Other processes still wait through the busy timeout.
    return _sqlite_writer(str(engine.url)) if engine.dialect.name == "sqlite" else nullcontext()


@contextmanager
def connection_scope(engine: Engine | None = None) -> Iterator[Connection]:
    """One unit of work on a bare Core connection, for work that needs no ORM session:
    commits on success, rolls back on any error."""
    engine = engine or get_engine()
    with _writer_turn(engine), engine.begin() as connection:
        yield connection


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any error."""
    engine = engine or get_engine()
    with _writer_turn(engine), Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
