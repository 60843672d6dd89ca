"""What the database driver is asked to run, recorded below SQLAlchemy.

The ledger hands its compiled statements straight to the driver (services/credits/ledger.py),
so SQLAlchemy's cursor events never see them; these engines record every `execute` the
driver's own cursors receive, whoever calls it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import Engine

from adremix.db import create_app_engine


@dataclass(frozen=True)
class DriverCall:
    sql: str
    parameters: Any  # a dict (psycopg) or a sequence in placeholder order (sqlite3)


def _psycopg_cursor(calls: list[DriverCall]) -> type[psycopg.Cursor]:
    class RecordingCursor(psycopg.Cursor):  # type: ignore[type-arg]
        def execute(self, query: Any, params: Any = None, **options: Any) -> Any:  # type: ignore[override]
            calls.append(DriverCall(str(query), params))
            return super().execute(query, params, **options)

    return RecordingCursor


def _sqlite_connection(calls: list[DriverCall]) -> type[sqlite3.Connection]:
    class RecordingCursor(sqlite3.Cursor):
        def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:  # type: ignore[override]
            calls.append(DriverCall(sql, parameters))
            return super().execute(sql, parameters)

    class RecordingConnection(sqlite3.Connection):
        def cursor(self, factory: Any = RecordingCursor) -> Any:  # type: ignore[override]
            return super().cursor(factory)

    return RecordingConnection


def recording_engine(url: str) -> tuple[Engine, list[DriverCall]]:
    """A new engine configured as the app's, and the list its driver calls are appended to
    (SQLite's BEGIN IMMEDIATE and COMMIT included: filter as needed)."""
    calls: list[DriverCall] = []
    if url.startswith("sqlite"):
        return create_app_engine(url, factory=_sqlite_connection(calls)), calls
    return create_app_engine(url, cursor_factory=_psycopg_cursor(calls)), calls


def statements(calls: list[DriverCall]) -> list[DriverCall]:
    """The calls that are statements of the work itself, not transaction control."""
    return [
        call
        for call in calls
        if not call.sql.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))
    ]
