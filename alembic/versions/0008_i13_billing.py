"""billing: subscriptions, quotes, billing profiles and GST documents (issue 13)

New tables: `gateway_plan` (plans created at Razorpay), `subscription`, `quote` (payment
links), `billing_profile`, `document_counter` (one row per series and financial year,
locked while a number is taken) and `tax_document` (tax invoices and credit notes).
`payment_order` gains `kind` (existing orders are packs) and `subscription_id`.

Revision ID: 0008_i13_billing
Revises: 0007_i10_sessions
Create Date: 2026-11-25 16:47:48.750979
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008_i13_billing"
down_revision: str | None = "0007_i10_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_counter",
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("financial_year", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "financial_year"),
    )
    op.create_table(
        "gateway_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("plan_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("price_paise", sa.Integer(), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("interval", sa.Integer(), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("provider_plan_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "key_id", "plan_code", "price_paise", "period", "interval", name="uq_gateway_plan_terms"
        ),
        sa.UniqueConstraint("provider_plan_id"),
    )
    op.create_table(
        "billing_profile",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("legal_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("address_line1", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("address_line2", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("city", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("pin_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("state_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("gstin", sqlmodel.sql.sqltypes.AutoString(length=15), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("plan_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("next_plan_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column(
            "provider_subscription_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("status_at", sa.Integer(), nullable=False),
        sa.Column("holder_key", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("paid_count", sa.Integer(), nullable=False),
        sa.Column("current_end", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("cancel_at_cycle_end", sa.Boolean(), nullable=False),
        sa.Column("short_url", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("holder_key"),
        sa.UniqueConstraint("provider_subscription_id"),
    )
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subscription_user_id"), ["user_id"], unique=False)

    op.create_table(
        "quote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("gstin", sqlmodel.sql.sqltypes.AutoString(length=15), nullable=True),
        sa.Column("reference_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("provider_link_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("short_url", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("expire_by", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["payment_order.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id"),
        sa.UniqueConstraint("provider_link_id"),
        sa.UniqueConstraint("reference_id"),
    )
    with op.batch_alter_table("quote", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quote_user_id"), ["user_id"], unique=False)

    op.create_table(
        "tax_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("financial_year", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("issued_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("source_key", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("refund_id", sa.Integer(), nullable=True),
        sa.Column("original_id", sa.Integer(), nullable=True),
        sa.Column("order_receipt", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("supplier_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("supplier_address", sa.Text(), nullable=False),
        sa.Column("supplier_gstin", sqlmodel.sql.sqltypes.AutoString(length=15), nullable=False),
        sa.Column("supplier_state", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("buyer_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("buyer_email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("buyer_address", sa.Text(), nullable=False),
        sa.Column("buyer_state", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("buyer_gstin", sqlmodel.sql.sqltypes.AutoString(length=15), nullable=True),
        sa.Column("place_of_supply", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("sac", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("rate_percent", sa.Integer(), nullable=False),
        sa.Column("taxable_paise", sa.Integer(), nullable=False),
        sa.Column("cgst_paise", sa.Integer(), nullable=False),
        sa.Column("sgst_paise", sa.Integer(), nullable=False),
        sa.Column("igst_paise", sa.Integer(), nullable=False),
        sa.Column("total_paise", sa.Integer(), nullable=False),
        sa.Column("delivery_status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("delivery_claimed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("delivered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("delivery_error", sa.Text(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('invoice', 'credit_note')", name="ck_tax_document_kind"),
        sa.CheckConstraint(
            "taxable_paise >= 0 AND cgst_paise >= 0 AND sgst_paise >= 0 AND igst_paise >= 0 AND taxable_paise + cgst_paise + sgst_paise + igst_paise = total_paise",
            name="ck_tax_document_amounts",
        ),
        sa.ForeignKeyConstraint(
            ["original_id"],
            ["tax_document.id"],
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payment.id"],
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"],
            ["payment_refund.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "financial_year", "sequence", name="uq_tax_document_sequence"),
        sa.UniqueConstraint("number"),
        sa.UniqueConstraint("source_key"),
    )
    with op.batch_alter_table("tax_document", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tax_document_payment_id"), ["payment_id"], unique=False
        )
        batch_op.create_index("ix_tax_document_user_issued", ["user_id", "issued_at"], unique=False)

    # Plain ALTER TABLE ... ADD COLUMN, which SQLite does in place: a batch rebuild would
    # drop payment_order, which payment rows reference. Every order so far sold a pack.
    op.add_column(
        "payment_order",
        sa.Column(
            "kind",
            sqlmodel.sql.sqltypes.AutoString(length=20),
            nullable=False,
            server_default="pack",
        ),
    )
    op.add_column("payment_order", sa.Column("subscription_id", sa.Integer(), nullable=True))
    op.create_index(
        "ix_payment_order_subscription_id", "payment_order", ["subscription_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_payment_order_subscription_id", table_name="payment_order")
    op.drop_column("payment_order", "subscription_id")
    op.drop_column("payment_order", "kind")

    with op.batch_alter_table("tax_document", schema=None) as batch_op:
        batch_op.drop_index("ix_tax_document_user_issued")
        batch_op.drop_index(batch_op.f("ix_tax_document_payment_id"))

    op.drop_table("tax_document")
    with op.batch_alter_table("quote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quote_user_id"))

    op.drop_table("quote")
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscription_user_id"))

    op.drop_table("subscription")
    op.drop_table("billing_profile")
    op.drop_table("gateway_plan")
    op.drop_table("document_counter")
