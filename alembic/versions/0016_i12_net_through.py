"""admin console: every balance together at the end of each summed day

`metrics_day.credits_net_through` is the credits held by all users together at the end
of that day: the net credit movement of that day and of every day before it. The
Overview's "outstanding" figure for a range starts from the last day before the range,
one row by the primary key, instead of summing every day before the range on each
page load (two years of days cost the Overview a third of its time). The refresh that
changes a day's figures brings this day and the days after it up to date
(services/admin/metrics.py). Filled here from the days already summed.

Revision ID: 0016_i12_net_through
Revises: 0015_i12_signup_period
Create Date: 2026-12-07 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_i12_net_through"
down_revision: str | None = "0015_i12_signup_period"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# adremix.services.admin.metrics.DayFigures.net_credits, when written.
NET = (
    "d.credits_purchased - d.credits_clawed - d.credits_spent + d.credits_refunded"
    " + d.credits_bonus + d.credits_adjusted + d.credits_other"
)


def upgrade() -> None:
    op.add_column(
        "metrics_day",
        sa.Column("credits_net_through", sa.Integer(), nullable=False, server_default="0"),
    )
    op.execute(
        "UPDATE metrics_day SET credits_net_through = "
        f"(SELECT coalesce(sum({NET}), 0) FROM metrics_day AS d WHERE d.day <= metrics_day.day)"
    )


def downgrade() -> None:
    with op.batch_alter_table("metrics_day") as batch:
        batch.drop_column("credits_net_through")
