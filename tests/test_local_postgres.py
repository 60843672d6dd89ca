"""The throwaway PostgreSQL server starts, serves SQLAlchemy, makes databases, and cleans up."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy

from tests.local_postgres import LocalPostgres

pytestmark = pytest.mark.postgres


def select_one(url: str) -> int:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(sqlalchemy.text("SELECT 1")).scalar_one())
    finally:
        engine.dispose()


def test_server_serves_sqlalchemy_and_fresh_databases() -> None:
    with LocalPostgres() as postgres:
        url = postgres.start()
        assert url == f"postgresql+psycopg://postgres@127.0.0.1:{postgres.port}/adremix"
        assert select_one(url) == 1

        extra = postgres.create_database("t_isolated")
        assert extra.endswith("/t_isolated")
        assert select_one(extra) == 1
        engine = sqlalchemy.create_engine(extra)
        try:
            with engine.connect() as connection:
                name = connection.execute(sqlalchemy.text("SELECT current_database()"))
                assert name.scalar_one() == "t_isolated"
        finally:
            engine.dispose()
        files = postgres._dir
        assert files is not None and files.is_dir()
    assert not Path(files).exists()
    with pytest.raises(sqlalchemy.exc.OperationalError):
        select_one(url + "?connect_timeout=2")


def test_stop_is_safe_before_start_and_twice() -> None:
    postgres = LocalPostgres()
    postgres.stop()
    postgres.start()
    postgres.stop()
    postgres.stop()
