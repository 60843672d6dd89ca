"""brand kits; region edits link to their parent generation

`brand_kit` holds a user's kits (logo, colours with roles, font, tone, words to avoid).
A generation records the kit it used (`brand_kit_id`; a copy of the kit is in its
options) and, for a region edit, the generation it was made from (`parent_id`).

Revision ID: 0012_i14_brand
Revises: 0011_i12_admin_speed
Create Date: 2026-11-25 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012_i14_brand"
down_revision: str | None = "0011_i12_admin_speed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "brand_kit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("logo_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("colors", sa.JSON(), nullable=False),
        sa.Column("font", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("font_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("font_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("tone", sa.Text(), nullable=False),
        sa.Column("avoid_words", sa.JSON(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "name", name="uq_brand_kit_name"),
    )
    op.create_index("ix_brand_kit_user_id", "brand_kit", ["user_id"])
    with op.batch_alter_table("generation") as batch:
        batch.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("brand_kit_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_generation_parent", "generation", ["parent_id"], ["id"])
        batch.create_index("ix_generation_parent", ["parent_id"])


def downgrade() -> None:
    with op.batch_alter_table("generation") as batch:
        batch.drop_index("ix_generation_parent")
        batch.drop_constraint("fk_generation_parent", type_="foreignkey")
        batch.drop_column("brand_kit_id")
        batch.drop_column("parent_id")
    op.drop_index("ix_brand_kit_user_id", table_name="brand_kit")
    op.drop_table("brand_kit")
