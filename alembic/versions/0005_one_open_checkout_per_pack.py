"""one open checkout per pack and buyer

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing orders hold no key: the next press of Buy on any pack creates a new order.
    with op.batch_alter_table("payment_order", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("open_key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True)
        )
        batch_op.create_unique_constraint("uq_payment_order_open_key", ["open_key"])


def downgrade() -> None:
    with op.batch_alter_table("payment_order", schema=None) as batch_op:
        batch_op.drop_constraint("uq_payment_order_open_key", type_="unique")
        batch_op.drop_column("open_key")
