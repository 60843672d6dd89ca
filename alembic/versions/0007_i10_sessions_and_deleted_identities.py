"""session idle timeout and deleted identities

`auth_session.last_seen_at` (existing sessions count as seen at their creation) and an
index on `expires_at` for the purge; `deleted_identity` keeps salted hashes of deleted
accounts' Google subjects and e-mail addresses, so a returning identity gets no second
sign-up bonus.

Revision ID: 0007_i10_sessions
Revises: 0006
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007_i10_sessions"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("auth_session") as batch_op:
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE auth_session SET last_seen_at = created_at")
    with op.batch_alter_table("auth_session") as batch_op:
        batch_op.alter_column("last_seen_at", existing_type=sa.DateTime(), nullable=False)
        batch_op.create_index("ix_auth_session_last_seen_at", ["last_seen_at"])
        batch_op.create_index("ix_auth_session_expires_at", ["expires_at"])
    op.create_table(
        "deleted_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identity_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("identity_hash"),
    )


def downgrade() -> None:
    op.drop_table("deleted_identity")
    with op.batch_alter_table("auth_session") as batch_op:
        batch_op.drop_index("ix_auth_session_expires_at")
        batch_op.drop_index("ix_auth_session_last_seen_at")
        batch_op.drop_column("last_seen_at")
