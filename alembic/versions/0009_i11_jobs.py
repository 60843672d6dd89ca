"""durable generation jobs: leases, per-variation outputs, New Ad drafts

A running generation is now a durable job: `attempts`, a lease (`lease_owner`,
`lease_key`, `lease_expires_at`) renewed by its worker's heartbeat, and `enqueued_at` for
the sweep. Each variation's outcome is one `generation_output` row, unique per
(generation, index), so a retried or twice-delivered variation is stored once. `ad_draft`
keeps the New Ad form (source and options) across reloads and restarts.

Generations a crash left running need nothing here: they have no lease, so the sweep
re-queues them and a worker resumes them.

Revision ID: 0009_i11_jobs
Revises: 0008_i13_billing
Create Date: 2026-11-25 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009_i11_jobs"
down_revision: str | None = "0008_i13_billing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("generation") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("lease_owner", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True)
        )
        batch.add_column(sa.Column("lease_key", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("enqueued_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch.create_index("ix_generation_status_lease", ["status", "lease_expires_at"])
    with op.batch_alter_table("generation") as batch:
        batch.alter_column("attempts", server_default=None)

    op.create_table(
        "generation_output",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation_id", sa.Integer(), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("error_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["generation_id"], ["generation.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("generation_id", "index", name="uq_generation_output_index"),
    )
    op.create_table(
        "ad_draft",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("source_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("user_id"),
    )


def downgrade() -> None:
    op.drop_table("ad_draft")
    op.drop_table("generation_output")
    with op.batch_alter_table("generation") as batch:
        batch.drop_index("ix_generation_status_lease")
        batch.drop_column("enqueued_at")
        batch.drop_column("lease_expires_at")
        batch.drop_column("lease_key")
        batch.drop_column("lease_owner")
        batch.drop_column("attempts")
