"""admin console: each user's sign-up week, so a balance sort in a sign-up window merges weeks

`user.signup_week` is the week (from 1970, starting at midnight in India) of `created_at`,
set with it (models.py). Indexed (signup_week, credit_balance, id, created_at,
paid_paise): the Users table sorted by balance within a sign-up window merges one ordered
range per week of the window instead of sorting every user of the window. Filled here
from `created_at`.

Revision ID: 0015_i12_signup_week
Revises: 0014_i12_search_prefix
Create Date: 2026-12-07 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_i12_signup_week"
down_revision: str | None = "0014_i12_search_prefix"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# adremix.models.signup_week when written: whole seconds since 1970, shifted to midnight
# in India (+5:30), by whole weeks; exact (integer) arithmetic on both databases.
BACKFILL = {
    "sqlite": 'UPDATE "user" SET signup_week = '
    "(CAST(strftime('%s', created_at) AS INTEGER) + 19800) / 604800",
    "postgresql": 'UPDATE "user" SET signup_week = '
    "floor((extract(epoch FROM created_at) + 19800) / 604800)::integer",
}


def upgrade() -> None:
    # A plain ALTER TABLE ... ADD COLUMN, as in 0013 (a batch rebuild would drop "user").
    op.add_column(
        "user", sa.Column("signup_week", sa.Integer(), nullable=False, server_default="0")
    )
    op.execute(BACKFILL[op.get_bind().dialect.name])
    op.create_index(
        "ix_user_week_balance",
        "user",
        ["signup_week", "credit_balance", "id", "created_at", "paid_paise"],
    )


def downgrade() -> None:
    op.drop_index("ix_user_week_balance", table_name="user")
    op.drop_column("user", "signup_week")
