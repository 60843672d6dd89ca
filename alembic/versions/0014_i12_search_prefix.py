"""admin console: each prefix of a user's search terms, keyed in the Users table's order

`user_search_prefix` holds every prefix (up to 10 characters) of each user's search terms,
once per user, with the user's sign-up time, keyed (prefix, created_at, user_id): a
search is one range of that key, already newest or oldest first, instead of counting its
matching terms and then sorting them or probing user after user. Filled here from the
terms; kept by `reindex_user` from now on. The sign-up time is a copy, so a trigger
carries a change of the user's over to their prefixes.

Revision ID: 0014_i12_search_prefix
Revises: 0013_i12_paid_total
Create Date: 2026-12-07 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014_i12_search_prefix"
down_revision: str | None = "0013_i12_paid_total"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREFIX_MAX = 10  # adremix.models.SEARCH_PREFIX_MAX when written
PREFIX = sa.String(PREFIX_MAX).with_variant(sa.String(PREFIX_MAX, collation="C"), "postgresql")
LENGTHS = " UNION ALL ".join(f"SELECT {n} AS n" for n in range(1, PREFIX_MAX + 1))
BACKFILL = f"""
INSERT INTO user_search_prefix (prefix, created_at, user_id)
SELECT DISTINCT substr(t.term, 1, lengths.n), u.created_at, t.user_id
FROM user_search_term t
JOIN "user" u ON u.id = t.user_id
JOIN ({LENGTHS}) lengths ON lengths.n <= length(t.term)
"""

FOLLOW_SIGNUP = (
    "UPDATE user_search_prefix SET created_at = NEW.created_at WHERE user_id = NEW.id"
)


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "user_search_prefix",
        sa.Column("prefix", PREFIX, nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("prefix", "created_at", "user_id"),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_user_search_prefix_user", "user_search_prefix", ["user_id", "prefix"]
    )
    op.execute(BACKFILL)
    if bind.dialect.name == "sqlite":
        op.execute(
            'CREATE TRIGGER user_search_prefix_signup AFTER UPDATE OF created_at ON "user" '
            f"BEGIN {FOLLOW_SIGNUP}; END"
        )
    elif bind.dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION user_search_prefix_signup() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {FOLLOW_SIGNUP}; RETURN NULL; END $$"
        )
        op.execute(
            'CREATE TRIGGER user_search_prefix_signup AFTER UPDATE OF created_at ON "user" '
            "FOR EACH ROW EXECUTE FUNCTION user_search_prefix_signup()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute('DROP TRIGGER user_search_prefix_signup ON "user"')
        op.execute("DROP FUNCTION user_search_prefix_signup()")
    else:
        op.execute("DROP TRIGGER user_search_prefix_signup")
    op.drop_index("ix_user_search_prefix_user", table_name="user_search_prefix")
    op.drop_table("user_search_prefix")
