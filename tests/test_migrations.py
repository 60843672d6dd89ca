"""Alembic owns the schema: migrations build it from nothing and match the models exactly."""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from adremix import models  # noqa: F401  (registers the tables)
from adremix.db import engine_for
from adremix.models import PAYMENTS_PAGE_ORDER_COLUMNS
from adremix.services.admin.metrics import LATENCY_COLUMNS
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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, not migrated: SQLite or PostgreSQL (0017 uses each one's JSON)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'schema.db'}"
    server = request.getfixturevalue("postgres_server")
    return server.create_database(f"m_{uuid.uuid4().hex[:12]}")


FULL = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]


def test_0017_moves_the_latency_histogram_into_columns_and_back(empty_url: str) -> None:
    config = alembic_config(empty_url)
    engine = engine_for(empty_url)
    command.upgrade(config, "0016_i12_net_through")
    with engine.begin() as connection:
        # A list shorter than the buckets (the code before 0017 padded one) counts zero in
        # the rest.
        for day, histogram in (("2026-01-01", FULL), ("2026-01-02", [7, 2])):
            connection.execute(
                text(
                    "INSERT INTO metrics_day (day, signups, invoiced_paise, credit_noted_paise, "
                    "gst_paise, credits_purchased, credits_clawed, credits_spent, "
                    "credits_refunded, credits_bonus, credits_adjusted, credits_other, "
                    "generations, generations_succeeded, generations_partial, "
                    "generations_failed, latency_ms_total, latency_histogram, "
                    "credits_net_through) VALUES (:day, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
                    "0, 0, 0, :histogram, 0)"
                ),
                {"day": date.fromisoformat(day), "histogram": json.dumps(histogram)},
            )

    command.upgrade(config, "0017_i12_latency_columns")
    buckets = ", ".join(LATENCY_COLUMNS)
    with engine.connect() as connection:
        rows = connection.execute(text(f"SELECT {buckets} FROM metrics_day ORDER BY day")).all()
    assert [list(row) for row in rows] == [FULL, [7, 2] + [0] * 8]

    command.downgrade(config, "0016_i12_net_through")
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT latency_histogram FROM metrics_day ORDER BY day")
        ).scalars()
        back = [value if isinstance(value, list) else json.loads(value) for value in stored]
    assert back == [FULL, [7, 2] + [0] * 8]


def _order_indexes(url: str) -> dict[str, list[str]]:
    indexes = inspect(engine_for(url)).get_indexes("payment_order")
    wanted = ("ix_payment_order_created", "ix_payment_order_status_created")
    return {i["name"]: i["column_names"] for i in indexes if i["name"] in wanted}


def test_0018_widens_the_payments_page_order_indexes_and_back(empty_url: str) -> None:
    config = alembic_config(empty_url)
    command.upgrade(config, "0017_i12_latency_columns")
    narrow = {
        "ix_payment_order_created": ["created_at", "id"],
        "ix_payment_order_status_created": ["status", "created_at", "id"],
    }
    assert _order_indexes(empty_url) == narrow

    command.upgrade(config, "0018_i12_payments_page_covering")
    shown = list(PAYMENTS_PAGE_ORDER_COLUMNS)
    assert _order_indexes(empty_url) == {
        "ix_payment_order_created": ["created_at", "id", *shown],
        "ix_payment_order_status_created": [
            "status",
            "created_at",
            "id",
            *(c for c in shown if c != "status"),
        ],
    }

    command.downgrade(config, "0017_i12_latency_columns")
    assert _order_indexes(empty_url) == narrow
