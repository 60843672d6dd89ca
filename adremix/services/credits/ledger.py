"""The credit ledger: the only code that moves credits.

Every movement is one append-only `credit_transaction` row plus an update of
`user.credit_balance`, in the caller's database transaction (the caller commits). The row
is inserted only when `credit_balance + amount >= 0` under the user's row lock, and the
balance is then set from the row, so concurrent spends cannot overdraw; the unique
idempotency key (`ON CONFLICT DO NOTHING`) makes every call safe to repeat, a repeat
returning the first entry.

On PostgreSQL a movement is one statement (one round trip); on SQLite it is an
`INSERT ... ON CONFLICT ... RETURNING` and an `UPDATE` inside the BEGIN IMMEDIATE
transaction the engine opens. Core statements compiled once per dialect and handed to the
driver; no savepoint, no ORM objects, no reload of the user row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ClauseElement,
    ColumnElement,
    CompoundSelect,
    Connection,
    Engine,
    Insert,
    Integer,
    Select,
    bindparam,
    exists,
    false,
    func,
    inspect,
    literal_column,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from adremix.db import connection_scope
from adremix.enums import CreditKind
from adremix.models import CreditTransaction, User, utcnow
from adremix.services.errors import UserFacingError


class InsufficientCredits(UserFacingError):
    """A spend larger than the balance."""

    code = "insufficient_credits"

    def __init__(self, *, needed: int, available: int) -> None:
        super().__init__(f"Needs {needed} credit(s); {available} available.")
        self.needed = needed
        self.available = available


class UnknownUser(Exception):
    """No (live) user with that id or e-mail."""


@dataclass(frozen=True)
class Entry:
    """A ledger entry as callers see it; `replayed` when the key had been used before."""

    id: int
    user_id: int
    amount: int
    kind: str
    balance_after: int
    idempotency_key: str
    reference: str | None
    replayed: bool


def _entry(row: Sequence[Any], *, idempotency_key: str, replayed: bool) -> Entry:
    """An Entry from a row of _ENTRY_COLUMNS (anything after them is ignored)."""
    entry_id, user_id, amount, kind, balance_after, reference = row[:6]
    return Entry(
        id=entry_id,
        user_id=user_id,
        amount=amount,
        kind=kind,
        balance_after=balance_after,
        idempotency_key=idempotency_key,
        reference=reference,
        replayed=replayed,
    )


def get_balance(*, session: Session, user_id: int) -> int:
    balance = session.exec(select(User.credit_balance).where(User.id == user_id)).first()
    if balance is None:
        raise UnknownUser(f"No user {user_id}.")
    return balance


# --- the movement: Core statements built once, one round trip on PostgreSQL ------------

_ledger = CreditTransaction.__table__  # type: ignore[attr-defined]
_users = User.__table__  # type: ignore[attr-defined]
# What a movement returns, in this order (the key is the caller's own).
_ENTRY_COLUMNS = ("id", "user_id", "amount", "kind", "balance_after", "reference")
# A literal, not a bound parameter: the statement's parameters are exactly the call's.
_ZERO = literal_column("0", Integer)
_WRITTEN_COLUMNS = (
    "user_id",
    "amount",
    "kind",
    "reference",
    "idempotency_key",
    "balance_after",
    "reason",
    "created_at",
)


def _new_row(user_id: ColumnElement[int], balance: ColumnElement[int]) -> Select[Any]:
    """The values of a new ledger row, for INSERT ... SELECT (in _WRITTEN_COLUMNS order)."""
    return select(
        user_id,
        bindparam("amount", type_=_ledger.c.amount.type),
        bindparam("kind", type_=_ledger.c.kind.type),
        bindparam("reference", type_=_ledger.c.reference.type),
        bindparam("idempotency_key", type_=_ledger.c.idempotency_key.type),
        balance + bindparam("amount", type_=_ledger.c.amount.type),
        bindparam("reason", type_=_ledger.c.reason.type),
        bindparam("created", type_=_ledger.c.created_at.type),
    )


def _postgresql_move() -> CompoundSelect[Any]:
    """One statement: a repeat returns the first entry; otherwise lock the user's row, insert
    the entry if the balance allows, and set the balance from what was inserted.

    The balance follows the insert (not the other way round) so that a key inserted by a
    concurrent transaction (ON CONFLICT DO NOTHING) leaves the balance untouched, without
    a savepoint. FOR UPDATE makes the row lock wait for a concurrent movement and then read
    its committed balance (READ COMMITTED re-reads the newest row version).
    """
    prior = (
        select(*(_ledger.c[name] for name in _ENTRY_COLUMNS))
        .where(_ledger.c.idempotency_key == bindparam("idempotency_key"))
        .cte("prior")
    )
    account = (
        select(_users.c.id, _users.c.credit_balance)
        .where(_users.c.id == bindparam("user_id"), ~exists(prior.select()))
        .with_for_update()
        .cte("account")
    )
    amount = bindparam("amount", type_=_ledger.c.amount.type)
    entry = (
        postgresql.insert(_ledger)
        .from_select(
            _WRITTEN_COLUMNS,
            _new_row(account.c.id, account.c.credit_balance).where(
                account.c.credit_balance + amount >= _ZERO
            ),
        )
        .on_conflict_do_nothing(index_elements=[_ledger.c.idempotency_key])
        .returning(*(_ledger.c[name] for name in _ENTRY_COLUMNS))
        .cte("entry")
    )
    moved = (
        update(_users)
        .where(_users.c.id == entry.c.user_id)
        .values(credit_balance=entry.c.balance_after)
        .returning(*(entry.c[name] for name in _ENTRY_COLUMNS))
        .cte("moved")
    )
    return union_all(
        select(*moved.c, false().label("replayed")),
        select(*prior.c, true().label("replayed")),
    )


def _sqlite_entry() -> Insert:
    """Insert the entry if the balance allows and the key is new (SQLite; the caller's
    BEGIN IMMEDIATE transaction holds the write lock, so the balance read here stays true)."""
    return (
        sqlite.insert(_ledger)
        .from_select(
            _WRITTEN_COLUMNS,
            _new_row(_users.c.id, _users.c.credit_balance).where(
                _users.c.id == bindparam("user_id"),
                _users.c.credit_balance + bindparam("amount", type_=_ledger.c.amount.type) >= _ZERO,
            ),
        )
        .on_conflict_do_nothing(index_elements=[_ledger.c.idempotency_key])
        .returning(*(_ledger.c[name] for name in _ENTRY_COLUMNS))
    )


_SQLITE_SET_BALANCE = (
    update(_users)
    .where(_users.c.id == bindparam("user_id"))
    .values(credit_balance=bindparam("balance"))
)


@dataclass(frozen=True)
class _Compiled:
    """A movement statement compiled once for one dialect: the SQL its driver receives,
    the parameter order for a positional driver (sqlite3), and the bind conversions
    SQLAlchemy would have applied (SQLite stores datetimes as text)."""

    sql: str
    positions: tuple[str, ...] | None
    converters: dict[str, Callable[[Any], Any]]

    @classmethod
    def of(cls, statement: ClauseElement, dialect: Dialect) -> _Compiled:
        compiled = statement.compile(dialect=dialect)
        converters = {
            name: convert
            for name, bind in compiled.binds.items()
            if (convert := bind.type.bind_processor(dialect)) is not None
        }
        positions = tuple(compiled.positiontup or ()) if compiled.positional else None
        return cls(str(compiled), positions, converters)

    def parameters(self, params: dict[str, Any]) -> dict[str, Any] | list[Any]:
        values = {
            name: convert(params[name]) if (convert := self.converters.get(name)) else params[name]
            for name in params
        }
        if self.positions is None:
            return values
        return [values[name] for name in self.positions]


@dataclass(frozen=True)
class _Statements:
    move: _Compiled  # PostgreSQL: the whole movement; SQLite: the entry's insert
    set_balance: _Compiled | None  # SQLite only


@lru_cache(maxsize=16)
def _statements_for(dialect: Dialect) -> _Statements:
    if dialect.name == "postgresql":
        return _Statements(_Compiled.of(_postgresql_move(), dialect), None)
    if dialect.name == "sqlite":
        return _Statements(
            _Compiled.of(_sqlite_entry(), dialect), _Compiled.of(_SQLITE_SET_BALANCE, dialect)
        )
    raise NotImplementedError(f"The ledger supports PostgreSQL and SQLite, not {dialect.name}.")


def _first_row(
    connection: Connection, statement: _Compiled, params: dict[str, Any]
) -> Sequence[Any] | None:
    """Run `statement` on the connection's driver connection, inside its open transaction.

    The driver directly, not `connection.execute`: SQLAlchemy's per-execution work (context,
    result objects, events) cost this path more CPU than the database's own work on it
    (bench/ledger.py). Errors still reach callers as SQLAlchemy's exceptions, and a dropped
    connection is handled as SQLAlchemy handles one.
    """
    values = statement.parameters(params)
    cursor = connection.connection.cursor()
    try:
        cursor.execute(statement.sql, values)
        return cursor.fetchone() if cursor.description is not None else None
    except connection.dialect.loaded_dbapi.Error as error:
        raise _as_sqlalchemy_error(connection, error, cursor, statement.sql, values) from error
    finally:
        cursor.close()


def _as_sqlalchemy_error(
    connection: Connection, error: Exception, cursor: Any, sql: str, values: Any
) -> DBAPIError:
    dialect = connection.dialect
    dropped = dialect.is_disconnect(error, connection.connection.dbapi_connection, cursor)
    if dropped:
        connection.invalidate(error)
        # As SQLAlchemy does on a disconnect: the connections pooled before this one are
        # presumed dropped too, so a fresh pool replaces them instead of handing them out.
        connection.engine.dispose(close=False)
    return DBAPIError.instance(
        sql,
        values,
        error,
        dialect.loaded_dbapi.Error,
        connection_invalidated=dropped,
        dialect=dialect,
    )


def _without_entry(connection: Connection, *, user_id: int, amount: int, key: str) -> Entry:
    """Nothing was written: a repeat (perhaps committed by a concurrent transaction after
    our statement began), an overdraw, or an unknown user. Fresh reads tell which."""
    previous = connection.execute(
        select(*(_ledger.c[name] for name in _ENTRY_COLUMNS)).where(
            _ledger.c.idempotency_key == key
        )
    ).first()
    if previous is not None:
        return _entry(previous, idempotency_key=key, replayed=True)
    available = connection.execute(
        select(_users.c.credit_balance).where(_users.c.id == user_id)
    ).scalar_one_or_none()
    if available is None:
        raise UnknownUser(f"No user {user_id}.")
    if available + amount < 0:
        raise InsufficientCredits(needed=-amount, available=available)
    raise RuntimeError(f"Ledger entry {key!r} was neither written nor found.")


_USER_MAPPER = inspect(User)


def _keep_loaded_user_in_step(session: Session, user_id: int, balance: int) -> None:
    """A User this session already holds gets the new balance, without a reload (callers
    may read `user.credit_balance` after a movement in the same session)."""
    if not session.identity_map:
        return
    user = session.identity_map.get(_USER_MAPPER.identity_key_from_primary_key((user_id,)))
    if user is not None:
        set_committed_value(user, "credit_balance", balance)


def _move(
    session: Session,
    *,
    user_id: int,
    amount: int,
    kind: str,
    idempotency_key: str,
    reference: str | None,
    reason: str | None,
) -> Entry:
    # The session's connection: same transaction as the caller, none of the ORM's
    # per-object work. The caller commits (or rolls back, which undoes the movement).
    # Flush first, as an ORM query would: the caller's pending rows precede ours.
    session.flush()
    entry = _move_on(
        session.connection(),
        user_id=user_id,
        amount=amount,
        kind=kind,
        idempotency_key=idempotency_key,
        reference=reference,
        reason=reason,
    )
    if not entry.replayed:
        _keep_loaded_user_in_step(session, user_id, entry.balance_after)
    return entry


def _move_on(
    connection: Connection,
    *,
    user_id: int,
    amount: int,
    kind: str,
    idempotency_key: str,
    reference: str | None,
    reason: str | None,
) -> Entry:
    """The movement's statements on `connection`, inside its open transaction."""
    params = {
        "user_id": user_id,
        "amount": amount,
        "kind": str(kind),  # the driver gets the plain value of a StrEnum
        "reference": reference,
        "idempotency_key": idempotency_key,
        "reason": reason,
        # Not "created_at": a parameter named like a column of `user` would join the
        # UPDATE's SET clause.
        "created": utcnow(),
    }
    statements = _statements_for(connection.dialect)
    row = _first_row(connection, statements.move, params)
    if statements.set_balance is None:  # PostgreSQL: the one statement did everything
        if row is not None and row[6]:  # replayed: the key's first entry
            return _entry(row, idempotency_key=idempotency_key, replayed=True)
    elif row is not None:
        _first_row(connection, statements.set_balance, {"user_id": user_id, "balance": row[4]})
    if row is None:
        return _without_entry(connection, user_id=user_id, amount=amount, key=idempotency_key)
    return _entry(row, idempotency_key=idempotency_key, replayed=False)


def grant(
    *,
    session: Session,
    user_id: int,
    amount: int,
    kind: str,
    idempotency_key: str,
    reference: str | None = None,
    reason: str | None = None,
) -> Entry:
    """Add credits (purchase, signup bonus, refund of a failed image, admin top-up)."""
    if amount <= 0:
        raise ValueError("A grant must be positive.")
    return _move(
        session,
        user_id=user_id,
        amount=amount,
        kind=kind,
        idempotency_key=idempotency_key,
        reference=reference,
        reason=reason,
    )


def spend(
    *,
    session: Session,
    user_id: int,
    amount: int,
    idempotency_key: str,
    reference: str | None = None,
    kind: str = CreditKind.GENERATION,
    reason: str | None = None,
) -> Entry:
    """Take credits; raises InsufficientCredits rather than go below zero."""
    if amount <= 0:
        raise ValueError("A spend must be positive.")
    return _move(
        session,
        user_id=user_id,
        amount=-amount,
        kind=kind,
        idempotency_key=idempotency_key,
        reference=reference,
        reason=reason,
    )


def spend_credits(
    *,
    user_id: int,
    amount: int,
    idempotency_key: str,
    reference: str | None = None,
    kind: str = CreditKind.GENERATION,
    reason: str | None = None,
    engine: Engine | None = None,
) -> Entry:
    """`spend` as a unit of work of its own: one transaction on a bare connection.

    For a movement that stands alone (nothing else to commit with it), this skips the
    ORM session entirely: on PostgreSQL it is BEGIN, the one statement, COMMIT.
    """
    if amount <= 0:
        raise ValueError("A spend must be positive.")
    with connection_scope(engine) as connection:
        return _move_on(
            connection,
            user_id=user_id,
            amount=-amount,
            kind=kind,
            idempotency_key=idempotency_key,
            reference=reference,
            reason=reason,
        )


def refund(
    *,
    session: Session,
    user_id: int,
    amount: int,
    idempotency_key: str,
    reference: str | None = None,
    reason: str | None = None,
) -> Entry:
    """Give back credits spent on something that was not delivered."""
    return grant(
        session=session,
        user_id=user_id,
        amount=amount,
        kind=CreditKind.GENERATION_REFUND,
        idempotency_key=idempotency_key,
        reference=reference,
        reason=reason,
    )


def take_up_to(
    *,
    session: Session,
    user_id: int,
    amount: int,
    kind: str,
    idempotency_key: str,
    reference: str | None = None,
    reason: str | None = None,
) -> int:
    """Take `amount` credits, or as many as the balance holds (never below zero).

    Returns how many were taken: 0 when the balance is empty (no entry is written then).
    A repeat with the same key returns what the first call took, whatever the balance.
    """
    if amount <= 0:
        raise ValueError("A take must be positive.")
    previous = session.exec(
        select(CreditTransaction.amount).where(CreditTransaction.idempotency_key == idempotency_key)
    ).first()
    if previous is not None:
        return -previous
    wanted = min(amount, get_balance(session=session, user_id=user_id))
    while wanted > 0:
        try:
            entry = spend(
                session=session,
                user_id=user_id,
                amount=wanted,
                idempotency_key=idempotency_key,
                reference=reference,
                kind=kind,
                reason=reason,
            )
        except InsufficientCredits as exc:
            # A concurrent spend got there first: take what it left.
            wanted = min(amount, exc.available)
            continue
        return -entry.amount
    return 0


def grant_signup_bonus(*, session: Session, user_id: int, amount: int) -> Entry | None:
    """The welcome credits, once per user whatever the number of sign-ins."""
    if amount <= 0:
        return None
    return grant(
        session=session,
        user_id=user_id,
        amount=amount,
        kind=CreditKind.SIGNUP_BONUS,
        idempotency_key=f"signup_bonus:{user_id}",
        reason="Welcome credits",
    )


def adjust_balance(
    *, session: Session, user_id: int, amount: int, reason: str, idempotency_key: str
) -> Entry:
    """A staff correction: positive grants, negative takes. Never below zero (raises
    InsufficientCredits); a repeat of the key returns the first entry and moves nothing."""
    if not reason.strip():
        raise ValueError("An admin adjustment needs a reason.")
    if amount == 0:
        raise ValueError("An adjustment of zero credits changes nothing.")
    return _move(
        session,
        user_id=user_id,
        amount=amount,
        kind=CreditKind.ADMIN_ADJUSTMENT,
        idempotency_key=idempotency_key,
        reference=None,
        reason=reason.strip(),
    )


@dataclass(frozen=True)
class BalanceMismatch:
    user_id: int
    email: str
    balance: int
    ledger_sum: int


def find_mismatches(*, session: Session) -> list[BalanceMismatch]:
    """Users whose stored balance differs from the sum of their ledger entries."""
    sums = (
        select(
            CreditTransaction.user_id.label("user_id"),
            func.coalesce(func.sum(CreditTransaction.amount), 0).label("total"),
        )
        .group_by(CreditTransaction.user_id)
        .subquery()
    )
    total = func.coalesce(sums.c.total, 0)
    rows = session.execute(
        select(User.id, User.email, User.credit_balance, total)
        .outerjoin(sums, sums.c.user_id == User.id)
        .where(User.credit_balance != total)
        .order_by(User.id)
    ).all()
    return [
        BalanceMismatch(user_id=r[0], email=r[1], balance=r[2], ledger_sum=int(r[3])) for r in rows
    ]


def list_entries(
    *, session: Session, user_id: int, limit: int, offset: int = 0
) -> list[CreditTransaction]:
    """A user's entries, newest first."""
    return list(
        session.exec(
            select(CreditTransaction)
            .where(CreditTransaction.user_id == user_id)
            .order_by(CreditTransaction.created_at.desc(), CreditTransaction.id.desc())  # type: ignore[attr-defined,union-attr]
            .offset(offset)
            .limit(limit)
        )
    )


def count_entries(*, session: Session, user_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(CreditTransaction)
        .where(CreditTransaction.user_id == user_id)
    ).one()
