"""payments and refunds as their own rows

Each Razorpay payment gets a `payment` row (what it granted, what its refunds took back)
and each refund a `payment_refund` row; `payment_order.provider_payment_id` goes.

Existing data is carried over from what the old schema recorded. A payment's grant is
its ledger entry keyed `purchase:<payment id>` (so an order that two payments both paid
for keeps both); the order's own payment id becomes a row that granted nothing when it has
no such entry (pending, failed or review orders). Refunds are the `purchase_refund`
entries keyed `purchase_refund:<refund id>`, whose reason said "Refund of N paise"; an
order marked refunded counts as refunded in full. Ledger entries are not touched, so
balances stay as they were. Old clawbacks that the new rule would not have taken (the
old code rounded each partial refund up on its own) are kept as they happened and are
reported by `python -m adremix ledger verify`.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 15:31:40.017323
"""

import re
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUND_REASON = re.compile(r"Refund of (\d+) paise")

order_table = sa.table(
    "payment_order",
    sa.column("id", sa.Integer),
    sa.column("receipt_number", sa.String),
    sa.column("amount_paise", sa.Integer),
    sa.column("currency", sa.String),
    sa.column("status", sa.String),
    sa.column("provider_payment_id", sa.String),
    sa.column("created_at", sa.DateTime),
)
ledger_table = sa.table(
    "credit_transaction",
    sa.column("idempotency_key", sa.String),
    sa.column("amount", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("reference", sa.String),
    sa.column("reason", sa.Text),
    sa.column("created_at", sa.DateTime),
)
payment_table = sa.table(
    "payment",
    sa.column("id", sa.Integer),
    sa.column("provider_payment_id", sa.String),
    sa.column("order_id", sa.Integer),
    sa.column("amount_paise", sa.Integer),
    sa.column("currency", sa.String),
    sa.column("status", sa.String),
    sa.column("captured", sa.Boolean),
    sa.column("duplicate", sa.Boolean),
    sa.column("credits_granted", sa.Integer),
    sa.column("refunded_paise", sa.Integer),
    sa.column("credits_clawed", sa.Integer),
    sa.column("clawback_shortfall", sa.Integer),
    sa.column("created_at", sa.DateTime),
    sa.column("updated_at", sa.DateTime),
)
refund_table = sa.table(
    "payment_refund",
    sa.column("provider_refund_id", sa.String),
    sa.column("payment_id", sa.Integer),
    sa.column("amount_paise", sa.Integer),
    sa.column("status", sa.String),
    sa.column("origin", sa.String),
    sa.column("created_at", sa.DateTime),
    sa.column("processed_at", sa.DateTime),
)

# What the old order status says about a payment that granted nothing.
UNGRANTED_STATUS = {"pending": "created", "created": "created", "failed": "failed"}


def upgrade() -> None:
    connection = op.get_bind()
    orders, grants, clawbacks = _read_legacy(connection)
    # Before any row references payment_order: SQLite's batch mode rebuilds the table,
    # which a foreign key pointing at it would block.
    with op.batch_alter_table("payment_order", schema=None) as batch_op:
        batch_op.drop_column("provider_payment_id")

    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "provider_payment_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("amount_paise", sa.Integer(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("captured", sa.Boolean(), nullable=False),
        sa.Column("duplicate", sa.Boolean(), nullable=False),
        sa.Column("credits_granted", sa.Integer(), nullable=False),
        sa.Column("refunded_paise", sa.Integer(), nullable=False),
        sa.Column("credits_clawed", sa.Integer(), nullable=False),
        sa.Column("clawback_shortfall", sa.Integer(), nullable=False),
        sa.Column("error_description", sa.Text(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "credits_granted >= 0 AND credits_clawed >= 0 AND clawback_shortfall >= 0 "
            "AND refunded_paise >= 0",
            name="ck_payment_amounts_nonnegative",
        ),
        sa.ForeignKeyConstraint(["order_id"], ["payment_order.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider_payment_id"),
    )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_order_id"), ["order_id"], unique=False)

    op.create_table(
        "payment_refund",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "provider_refund_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("amount_paise", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("origin", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("processed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["payment_id"], ["payment.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider_refund_id"),
    )
    with op.batch_alter_table("payment_refund", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_refund_payment_id"), ["payment_id"], unique=False
        )

    _carry_over_payments(connection, orders, grants, clawbacks)


def _read_legacy(connection: sa.Connection) -> tuple[list, dict[str, list], dict[str, list]]:
    """The orders (with their one payment id) and the purchase ledger entries by receipt."""
    entries = connection.execute(
        sa.select(
            ledger_table.c.idempotency_key,
            ledger_table.c.amount,
            ledger_table.c.kind,
            ledger_table.c.reference,
            ledger_table.c.reason,
            ledger_table.c.created_at,
        ).where(ledger_table.c.kind.in_(("purchase", "purchase_refund")))
    ).all()
    grants: dict[str, list] = {}
    clawbacks: dict[str, list] = {}
    for entry in entries:
        if entry.kind == "purchase" and entry.idempotency_key.startswith("purchase:"):
            grants.setdefault(entry.reference, []).append(entry)
        elif entry.kind == "purchase_refund" and entry.idempotency_key.startswith(
            "purchase_refund:"
        ):
            clawbacks.setdefault(entry.reference, []).append(entry)
    return connection.execute(sa.select(order_table)).all(), grants, clawbacks


def _carry_over_payments(
    connection: sa.Connection, orders: list, grants: dict[str, list], clawbacks: dict[str, list]
) -> None:
    now = datetime.now(UTC)
    for order in orders:
        rows: dict[str, dict] = {}
        for entry in grants.get(order.receipt_number, []):
            rows[entry.idempotency_key.removeprefix("purchase:")] = {
                "status": "captured",
                "captured": True,
                "credits_granted": entry.amount,
                "created_at": entry.created_at,
            }
        own = order.provider_payment_id
        if own and own not in rows:
            status = UNGRANTED_STATUS.get(order.status, "captured")
            rows[own] = {
                "status": status,
                "captured": status == "captured",
                "credits_granted": 0,
                "created_at": order.created_at,
            }
        if not rows:
            continue
        # The old code matched refunds to the order's one payment id.
        refunded_id = own if own in rows else next(iter(rows))
        refunds = []
        for entry in clawbacks.get(order.receipt_number, []):
            match = REFUND_REASON.search(entry.reason or "")
            refunds.append(
                {
                    "provider_refund_id": entry.idempotency_key.removeprefix("purchase_refund:"),
                    "amount_paise": int(match.group(1)) if match else 0,
                    "clawed": -entry.amount,
                    "created_at": entry.created_at,
                }
            )
        refunded = sum(r["amount_paise"] for r in refunds)
        if order.status == "refunded" and refunded < order.amount_paise:
            # Refunded in full, but a refund that took nothing left no ledger entry.
            refunds.append(
                {
                    "provider_refund_id": f"legacy:{order.receipt_number}",
                    "amount_paise": order.amount_paise - refunded,
                    "clawed": 0,
                    "created_at": now,
                }
            )
        for payment_id, row in rows.items():
            mine = refunds if payment_id == refunded_id else []
            refunded_paise = min(sum(r["amount_paise"] for r in mine), order.amount_paise)
            clawed = sum(r["clawed"] for r in mine)
            owed = row["credits_granted"] * refunded_paise // max(order.amount_paise, 1)
            status = row["status"]
            if refunded_paise >= order.amount_paise:
                status = "refunded"
            elif refunded_paise > 0:
                status = "partially_refunded"
            new_id = connection.execute(
                sa.insert(payment_table)
                .values(
                    provider_payment_id=payment_id,
                    order_id=order.id,
                    amount_paise=order.amount_paise,
                    currency=order.currency,
                    status=status,
                    captured=row["captured"],
                    duplicate=False,
                    credits_granted=row["credits_granted"],
                    refunded_paise=refunded_paise,
                    credits_clawed=clawed,
                    clawback_shortfall=max(0, owed - clawed),
                    created_at=row["created_at"],
                    updated_at=now,
                )
                .returning(payment_table.c.id)
            ).scalar_one()
            for refund in mine:
                connection.execute(
                    sa.insert(refund_table).values(
                        provider_refund_id=refund["provider_refund_id"],
                        payment_id=new_id,
                        amount_paise=refund["amount_paise"],
                        status="processed",
                        origin="merchant",
                        created_at=refund["created_at"],
                        processed_at=refund["created_at"],
                    )
                )
        if order.status == "paid" and refunds:
            connection.execute(
                sa.update(order_table)
                .where(order_table.c.id == order.id)
                .values(status="partially_refunded")
            )


def downgrade() -> None:
    connection = op.get_bind()
    # The order keeps the payment that paid for it, else its latest attempt.
    payments = connection.execute(
        sa.select(
            payment_table.c.order_id,
            payment_table.c.provider_payment_id,
            payment_table.c.credits_granted,
        ).order_by(payment_table.c.id)
    ).all()
    chosen: dict[int, tuple[bool, str]] = {}
    for payment in payments:
        granted = payment.credits_granted > 0
        if payment.order_id not in chosen or not chosen[payment.order_id][0]:
            chosen[payment.order_id] = (granted, payment.provider_payment_id)

    with op.batch_alter_table("payment_refund", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_refund_payment_id"))
    op.drop_table("payment_refund")
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_order_id"))
    op.drop_table("payment")

    with op.batch_alter_table("payment_order", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "provider_payment_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
            )
        )
        batch_op.create_unique_constraint(
            "uq_payment_order_provider_payment_id", ["provider_payment_id"]
        )
    for order_id, (_, payment_id) in chosen.items():
        connection.execute(
            sa.update(order_table)
            .where(order_table.c.id == order_id)
            .values(provider_payment_id=payment_id)
        )
    connection.execute(
        sa.update(order_table)
        .where(order_table.c.status == "partially_refunded")
        .values(status="paid")
    )
