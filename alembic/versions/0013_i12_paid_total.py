"""admin console: each user's paid total on their row, so "has paid" needs no order read

`user.paid_paise` is what the user's payments that granted credits came to, before
refunds (what the Users table shows as paid); the capture's transaction adds to it from
now on (payments/records.py `fulfil`). Filled here from those payments. The Users table's
"has paid" filter is `paid_paise > 0`, checked in the index walked for the page's order
(both indexes carrying the balance now carry it too) instead of probing each candidate
user's orders; the page no longer sums each shown user's payments in a second query.

Revision ID: 0013_i12_paid_total
Revises: 0012_i14_brand
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_i12_paid_total"
down_revision: str | None = "0012_i14_brand"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = """
UPDATE "user" SET paid_paise = (
    SELECT sum(p.amount_paise) FROM payment p JOIN payment_order o ON o.id = p.order_id
    WHERE o.user_id = "user".id AND p.credits_granted > 0
)
WHERE id IN (
    SELECT o.user_id FROM payment_order o JOIN payment p ON p.order_id = o.id
    WHERE p.credits_granted > 0
)
"""


def upgrade() -> None:
    # A plain ALTER TABLE ... ADD COLUMN (SQLite does it in place; a batch rebuild would
    # drop the table every other table's rows reference), so the default stays.
    op.add_column(
        "user", sa.Column("paid_paise", sa.Integer(), nullable=False, server_default="0")
    )
    op.execute(BACKFILL)
    op.drop_index("ix_user_balance", table_name="user")
    op.create_index("ix_user_balance", "user", ["credit_balance", "id", "created_at", "paid_paise"])
    op.drop_index("ix_user_created_balance", table_name="user")
    op.create_index(
        "ix_user_created_balance", "user", ["created_at", "id", "credit_balance", "paid_paise"]
    )


def downgrade() -> None:
    op.drop_index("ix_user_created_balance", table_name="user")
    op.create_index("ix_user_created_balance", "user", ["created_at", "id", "credit_balance"])
    op.drop_index("ix_user_balance", table_name="user")
    op.create_index("ix_user_balance", "user", ["credit_balance", "id", "created_at"])
    op.drop_column("user", "paid_paise")
