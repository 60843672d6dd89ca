"""admin console: each user's sign-up period, so a balance sort in a window merges periods

`user.signup_period` is the four weeks (from 1970, starting at midnight in India) that
`created_at` falls in, set with it (models.py). Indexed (signup_period, credit_balance,
id, created_at, paid_paise): the Users table sorted by balance within a sign-up window
merges one ordered range per period of the window instead of sorting every user of the
window; `user.has_paid` (paid_paise > 0, set with it) follows the period in that index,
so a page of payers (or of those who never paid) is one range per period too. Filled
here from `created_at` and `paid_paise`.

Revision ID: 0015_i12_signup_period
Revises: 0014_i12_search_prefix
Create Date: 2026-12-07 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_i12_signup_period"
down_revision: str | None = "0014_i12_search_prefix"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# adremix.models.signup_period when written: whole seconds since 1970, shifted to midnight
# in India (+5:30), by whole periods of 28 days; exact (integer) arithmetic on both databases.
BACKFILL = {
    "sqlite": 'UPDATE "user" SET signup_period = '
    "(CAST(strftime('%s', created_at) AS INTEGER) + 19800) / 2419200",
    "postgresql": 'UPDATE "user" SET signup_period = '
    "floor((extract(epoch FROM created_at) + 19800) / 2419200)::integer",
}


def upgrade() -> None:
    # A plain ALTER TABLE ... ADD COLUMN, as in 0013 (a batch rebuild would drop "user").
    op.add_column(
        "user", sa.Column("signup_period", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column(
        "user", sa.Column("has_paid", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.execute(BACKFILL[op.get_bind().dialect.name])
    op.execute('UPDATE "user" SET has_paid = paid_paise > 0')
    op.create_index(
        "ix_user_period_balance",
        "user",
        ["signup_period", "has_paid", "credit_balance", "id", "created_at", "paid_paise"],
    )


def downgrade() -> None:
    op.drop_index("ix_user_period_balance", table_name="user")
    op.drop_column("user", "has_paid")
    op.drop_column("user", "signup_period")
