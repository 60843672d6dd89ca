"""admin console: roles, suspension, search terms, audit log, admin refunds, metrics

`user` gains `role` (taking over from `is_admin`, which goes) and `suspended_at`, and the
indexes the console's Users table sorts and filters on; `user_search_term` holds what a
user is found by (filled here for existing users). `audit_entry` is the hash-chained,
append-only audit log (triggers refuse UPDATE and DELETE) with `audit_head`, its last
link. `admin_refund` tracks refunds asked for in the console; `metrics_day` and
`metrics_watermark` keep the Overview's daily figures. `webhook_event` records when each
event was processed and any error (existing ones: when received); `webhook_rejection` keeps
deliveries refused for their signature. Indexes for the Payments page and the failures list.

Revision ID: 0010_i12_admin
Revises: 0009_i11_jobs
Create Date: 2026-12-10 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010_i12_admin"
down_revision: str | None = "0009_i11_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_TERM = sa.String(120).with_variant(sa.String(120, collation="C"), "postgresql")
GENESIS = "0" * 64
APPEND_ONLY = "audit_entry is append-only"


def _terms(email: str, name: str) -> set[str]:
    """The search terms of a user, as services/admin/users.py makes them (at this revision)."""
    email = (email or "").strip().lower()
    name = " ".join((name or "").lower().split())
    local, _, domain = email.partition("@")
    terms = {email, local, domain, name, *name.split(" ")}
    return {term[:120] for term in terms if term}


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name

    op.add_column("user", sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
    op.add_column("user", sa.Column("suspended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.execute('UPDATE "user" SET role = \'admin\' WHERE is_admin')
    # A plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): rebuilding "user" in batch mode
    # would drop the table every other table's rows reference.
    op.drop_column("user", "is_admin")
    op.create_index("ix_user_created", "user", ["created_at", "id"])
    op.create_index("ix_user_balance", "user", ["credit_balance", "id"])
    op.create_index("ix_user_last_login", "user", ["last_login_at", "id"])
    op.create_index("ix_user_suspended", "user", ["suspended_at"])
    op.create_index("ix_user_role", "user", ["role"])

    op.create_table(
        "user_search_term",
        sa.Column("term", SEARCH_TERM, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("term", "user_id"),
    )
    op.create_index("ix_user_search_term_user_id", "user_search_term", ["user_id"])
    users = bind.execute(sa.text('SELECT id, email, name FROM "user"')).all()
    rows = [{"term": t, "user_id": uid} for uid, email, name in users for t in _terms(email, name)]
    if rows:
        op.bulk_insert(
            sa.table("user_search_term", sa.column("term"), sa.column("user_id")), rows
        )

    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("actor_role", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("target_type", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("target_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("after", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("entry_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seq"),
        sa.UniqueConstraint("idempotency_key"),
        sa.UniqueConstraint("entry_hash"),
    )
    op.create_index("ix_audit_entry_action", "audit_entry", ["action", "seq"])
    op.create_index("ix_audit_entry_target", "audit_entry", ["target_type", "target_id", "seq"])
    op.create_index("ix_audit_entry_actor", "audit_entry", ["actor_id", "created_at"])
    op.create_index("ix_audit_entry_created", "audit_entry", ["created_at"])
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_entry_no_{verb.lower()} BEFORE {verb} ON audit_entry "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
            "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()"
        )

    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("entry_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(
        sa.table("audit_head", sa.column("id"), sa.column("seq"), sa.column("entry_hash")),
        [{"id": 1, "seq": 0, "entry_hash": GENESIS}],
    )

    op.create_table(
        "admin_refund",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("amount_paise", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("in_flight_key", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("provider_refund_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["payment_id"], ["payment.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
        sa.UniqueConstraint("in_flight_key"),
    )
    op.create_index("ix_admin_refund_payment_id", "admin_refund", ["payment_id"])

    op.create_table(
        "metrics_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("signups", sa.Integer(), nullable=False),
        sa.Column("invoiced_paise", sa.Integer(), nullable=False),
        sa.Column("credit_noted_paise", sa.Integer(), nullable=False),
        sa.Column("gst_paise", sa.Integer(), nullable=False),
        sa.Column("credits_purchased", sa.Integer(), nullable=False),
        sa.Column("credits_clawed", sa.Integer(), nullable=False),
        sa.Column("credits_spent", sa.Integer(), nullable=False),
        sa.Column("credits_refunded", sa.Integer(), nullable=False),
        sa.Column("credits_bonus", sa.Integer(), nullable=False),
        sa.Column("credits_adjusted", sa.Integer(), nullable=False),
        sa.Column("credits_other", sa.Integer(), nullable=False),
        sa.Column("generations", sa.Integer(), nullable=False),
        sa.Column("generations_succeeded", sa.Integer(), nullable=False),
        sa.Column("generations_partial", sa.Integer(), nullable=False),
        sa.Column("generations_failed", sa.Integer(), nullable=False),
        sa.Column("latency_ms_total", sa.Integer(), nullable=False),
        sa.Column("latency_histogram", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "metrics_watermark",
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("source"),
    )

    op.add_column("webhook_event", sa.Column("processed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column("webhook_event", sa.Column("error", sa.Text(), nullable=True))
    op.execute("UPDATE webhook_event SET processed_at = received_at")
    op.create_index("ix_webhook_event_received", "webhook_event", ["received_at", "id"])
    op.create_table(
        "webhook_rejection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("claimed_event_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("claimed_type", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("body_sha256"),
    )
    op.create_index("ix_webhook_rejection_received", "webhook_rejection", ["received_at", "id"])

    op.create_index("ix_payment_order_created", "payment_order", ["created_at", "id"])
    op.create_index(
        "ix_payment_order_status_created", "payment_order", ["status", "created_at", "id"]
    )
    op.create_index("ix_generation_status_created", "generation", ["status", "created_at", "id"])


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.drop_index("ix_generation_status_created", table_name="generation")
    op.drop_index("ix_payment_order_status_created", table_name="payment_order")
    op.drop_index("ix_payment_order_created", table_name="payment_order")
    op.drop_index("ix_webhook_rejection_received", table_name="webhook_rejection")
    op.drop_table("webhook_rejection")
    op.drop_index("ix_webhook_event_received", table_name="webhook_event")
    op.drop_column("webhook_event", "error")
    op.drop_column("webhook_event", "processed_at")
    op.drop_table("metrics_watermark")
    op.drop_table("metrics_day")
    op.drop_index("ix_admin_refund_payment_id", table_name="admin_refund")
    op.drop_table("admin_refund")
    op.drop_table("audit_head")
    if dialect == "postgresql":
        op.execute("DROP TRIGGER audit_entry_no_truncate ON audit_entry")
        op.execute("DROP TRIGGER audit_entry_append_only ON audit_entry")
        op.execute("DROP FUNCTION audit_entry_append_only()")
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER audit_entry_no_update")
        op.execute("DROP TRIGGER audit_entry_no_delete")
    op.drop_table("audit_entry")
    op.drop_index("ix_user_search_term_user_id", table_name="user_search_term")
    op.drop_table("user_search_term")
    for index in ("ix_user_role", "ix_user_suspended", "ix_user_last_login", "ix_user_balance", "ix_user_created"):
        op.drop_index(index, table_name="user")
    op.add_column(
        "user", sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.execute("UPDATE \"user\" SET is_admin = true WHERE role = 'admin'")
    op.drop_column("user", "suspended_at")
    op.drop_column("user", "role")
