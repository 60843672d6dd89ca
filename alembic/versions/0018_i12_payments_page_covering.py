"""admin console: the Payments page's orders read from their index alone

`ix_payment_order_created` (created_at, id) and `ix_payment_order_status_created`
(status, created_at, id) gave the page's order ids in order; each order's row was then
read by its id, one scattered table page per order (the ids of a page's orders are not
together). Both indexes now also carry what the page shows of an order (its buyer's id,
receipt number, kind, credits, amount, status, provider and Razorpay order id, all short
bounded strings or integers), so a page of orders is one walk of a few index pages and
only the buyer and the payments are looked up, by key, for those 50 orders.

Revision ID: 0018_i12_payments_page_covering
Revises: 0017_i12_latency_columns
Create Date: 2026-12-07 23:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018_i12_payments_page_covering"
down_revision: str | None = "0017_i12_latency_columns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# adremix.models.PAYMENTS_PAGE_ORDER_COLUMNS when written.
SHOWN = [
    "user_id",
    "receipt_number",
    "kind",
    "credits",
    "amount_paise",
    "status",
    "provider",
    "provider_order_id",
]


def _replace(created: list[str], by_status: list[str]) -> None:
    op.drop_index("ix_payment_order_created", table_name="payment_order")
    op.drop_index("ix_payment_order_status_created", table_name="payment_order")
    op.create_index("ix_payment_order_created", "payment_order", created)
    op.create_index("ix_payment_order_status_created", "payment_order", by_status)


def upgrade() -> None:
    _replace(
        ["created_at", "id", *SHOWN],
        ["status", "created_at", "id", *(c for c in SHOWN if c != "status")],
    )


def downgrade() -> None:
    _replace(["created_at", "id"], ["status", "created_at", "id"])
