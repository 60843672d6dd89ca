"""How the app opens SQLite: the pragmas every pooled connection gets."""

from __future__ import annotations

from pathlib import Path

from adremix.db import SQLITE_MMAP_BYTES, create_app_engine


def test_every_sqlite_connection_reads_through_a_memory_map(tmp_path: Path) -> None:
    engine = create_app_engine(f"sqlite:///{tmp_path / 'app.db'}")
    # Two pooled connections open at once (driver level: the app's BEGIN IMMEDIATE would
    # make the second wait for the first): the pragma is per connection, set on each.
    first, second = engine.raw_connection(), engine.raw_connection()
    try:
        for connection in (first, second):
            assert connection.execute("PRAGMA mmap_size").fetchone() == (SQLITE_MMAP_BYTES,)
            assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        first.execute("CREATE TABLE t (n INTEGER)")
        first.execute("BEGIN")
        first.execute("INSERT INTO t VALUES (1), (2)")
        first.execute("COMMIT")
        # Reads through the map see what another connection wrote (its pages still in the WAL).
        assert second.execute("SELECT sum(n) FROM t").fetchone() == (3,)
    finally:
        first.close()
        second.close()
        engine.dispose()
