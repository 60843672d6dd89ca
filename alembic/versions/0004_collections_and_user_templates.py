"""collections and user templates

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 07:34:38.527147
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "collection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "name", name="uq_collection_user_name"),
    )
    with op.batch_alter_table("collection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_collection_user_id"), ["user_id"], unique=False)

    op.create_table(
        "user_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "name", name="uq_user_template_name"),
    )
    with op.batch_alter_table("user_template", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_template_user_id"), ["user_id"], unique=False)

    op.create_table(
        "collection_item",
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("generation_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["collection.id"],
        ),
        sa.ForeignKeyConstraint(
            ["generation_id"],
            ["generation.id"],
        ),
        sa.PrimaryKeyConstraint("collection_id", "generation_id"),
    )
    with op.batch_alter_table("collection_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_collection_item_generation_id"), ["generation_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("collection_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_collection_item_generation_id"))

    op.drop_table("collection_item")
    with op.batch_alter_table("user_template", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_template_user_id"))

    op.drop_table("user_template")
    with op.batch_alter_table("collection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_collection_user_id"))

    op.drop_table("collection")
