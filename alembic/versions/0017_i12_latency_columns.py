"""admin console: the Overview's latency histogram as one integer column per bucket

`metrics_day.latency_histogram` was a JSON list of bucket counts. The Overview reads a
range of days on every load; as JSON each day's list had to be built by the database and
decoded again by the app (on PostgreSQL a tenth of the page's time). As columns
(`latency_le_1s` ... `latency_le_300s`, `latency_over_300s`, the buckets of
adremix.services.admin.metrics.LATENCY_BUCKETS_MS) the days are plain integer rows.
Filled here from the JSON lists (a list shorter than the buckets counts zero in the rest).

Revision ID: 0017_i12_latency_columns
Revises: 0016_i12_net_through
Create Date: 2026-12-07 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_i12_latency_columns"
down_revision: str | None = "0016_i12_net_through"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUCKETS = (
    "latency_le_1s",
    "latency_le_2s",
    "latency_le_5s",
    "latency_le_10s",
    "latency_le_20s",
    "latency_le_30s",
    "latency_le_60s",
    "latency_le_120s",
    "latency_le_300s",
    "latency_over_300s",
)


def _bucket(dialect: str, index: int) -> str:
    if dialect == "postgresql":
        return f"coalesce((latency_histogram ->> {index})::integer, 0)"
    return f"coalesce(json_extract(latency_histogram, '$[{index}]'), 0)"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name in BUCKETS:
        op.add_column(
            "metrics_day", sa.Column(name, sa.Integer(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE metrics_day SET "
        + ", ".join(f"{name} = {_bucket(dialect, n)}" for n, name in enumerate(BUCKETS))
    )
    with op.batch_alter_table("metrics_day") as batch:
        batch.drop_column("latency_histogram")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column(
        "metrics_day",
        sa.Column("latency_histogram", sa.JSON(), nullable=False, server_default="[]"),
    )
    array = "json_build_array" if dialect == "postgresql" else "json_array"
    op.execute(f"UPDATE metrics_day SET latency_histogram = {array}({', '.join(BUCKETS)})")
    with op.batch_alter_table("metrics_day") as batch:
        for name in BUCKETS:
            batch.drop_column(name)
        batch.alter_column("latency_histogram", server_default=None)
