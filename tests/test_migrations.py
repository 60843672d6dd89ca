"""Alembic owns the schema: migrations build it from nothing and match the models exactly."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from adremix import models  # noqa: F401  (registers the tables)
from adremix.db import engine_for
from tests.app_server import ROOT


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    return config


def test_migrations_match_models_and_downgrade_cleanly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'schema.db'}"
    config = alembic_config(url)
    engine = engine_for(url)

    command.upgrade(config, "head")

    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == [], f"models and migrations differ: {differences}"
    tables = set(inspect(engine).get_table_names())
    assert {"user", "auth_session", "credit_transaction", "generation", "payment_order"} <= tables

    command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
