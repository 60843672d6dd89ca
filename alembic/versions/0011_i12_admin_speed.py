"""admin console speed: indexes the Users table's filters and sorts, its search and the
"has paid" filter can answer from alone

`ix_user_balance` gains `created_at` after the id (same order; a joined-between filter is
checked in the index while walking balances), `ix_user_created_balance` is the sign-up
order carrying the balance, `ix_payment_order_user_status` answers "has this user a paid
order" without reading orders, and `user_search_term`'s user index carries the term (a
broad search probes each user's terms in the index alone).

Revision ID: 0011_i12_admin_speed
Revises: 0010_i12_admin
Create Date: 2026-12-12 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011_i12_admin_speed"
down_revision: str | None = "0010_i12_admin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_user_balance", table_name="user")
    op.create_index("ix_user_balance", "user", ["credit_balance", "id", "created_at"])
    op.create_index("ix_user_created_balance", "user", ["created_at", "id", "credit_balance"])
    op.create_index("ix_payment_order_user_status", "payment_order", ["user_id", "status"])
    op.drop_index("ix_user_search_term_user_id", table_name="user_search_term")
    op.create_index("ix_user_search_term_user_term", "user_search_term", ["user_id", "term"])


def downgrade() -> None:
    op.drop_index("ix_user_search_term_user_term", table_name="user_search_term")
    op.create_index("ix_user_search_term_user_id", "user_search_term", ["user_id"])
    op.drop_index("ix_payment_order_user_status", table_name="payment_order")
    op.drop_index("ix_user_created_balance", table_name="user")
    op.drop_index("ix_user_balance", table_name="user")
    op.create_index("ix_user_balance", "user", ["credit_balance", "id"])
