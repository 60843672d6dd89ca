"""stored images and usage events

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 07:27:34.261232
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "stored_image",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "sha256", "kind", name="uq_stored_image_owner"),
    )
    with op.batch_alter_table("stored_image", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stored_image_sha256"), ["sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_stored_image_user_id"), ["user_id"], unique=False)

    op.create_table(
        "usage_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("generation_id", sa.Integer(), nullable=False),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("images_requested", sa.Integer(), nullable=False),
        sa.Column("images_delivered", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("error_class", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["generation_id"],
            ["generation.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("usage_event", schema=None) as batch_op:
        batch_op.create_index("ix_usage_event_created", ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_usage_event_user_id"), ["user_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("usage_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_event_user_id"))
        batch_op.drop_index("ix_usage_event_created")

    op.drop_table("usage_event")
    with op.batch_alter_table("stored_image", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stored_image_user_id"))
        batch_op.drop_index(batch_op.f("ix_stored_image_sha256"))

    op.drop_table("stored_image")
