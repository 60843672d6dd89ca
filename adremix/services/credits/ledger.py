"""The credit ledger: the only code that moves credits.

Every movement is one append-only `credit_transaction` row plus a conditional update of
`user.credit_balance`, in the caller's database transaction. The conditional update
(`... WHERE credit_balance + amount >= 0`) is what makes concurrent spends safe: the
database serialises updates of one row, and a spend that would overdraw matches no row.
An idempotency key (unique) makes every call safe to repeat.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from adremix.enums import CreditKind
from adremix.models import CreditTransaction, User
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


def _entry(row: CreditTransaction, *, replayed: bool) -> Entry:
    return Entry(
        id=row.id or 0,
        user_id=row.user_id,
        amount=row.amount,
        kind=row.kind,
        balance_after=row.balance_after,
        idempotency_key=row.idempotency_key,
        reference=row.reference,
        replayed=replayed,
    )


def _existing(session: Session, idempotency_key: str) -> CreditTransaction | None:
    return session.exec(
        select(CreditTransaction).where(CreditTransaction.idempotency_key == idempotency_key)
    ).first()


def get_balance(*, session: Session, user_id: int) -> int:
    balance = session.exec(select(User.credit_balance).where(User.id == user_id)).first()
    if balance is None:
        raise UnknownUser(f"No user {user_id}.")
    return balance


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
    previous = _existing(session, idempotency_key)
    if previous is not None:
        return _entry(previous, replayed=True)
    try:
        # A savepoint, so a lost race on the idempotency key undoes our balance change too.
        with session.begin_nested():
            new_balance = session.execute(
                update(User)
                .where(User.id == user_id, User.credit_balance + amount >= 0)
                .values(credit_balance=User.credit_balance + amount)
                .returning(User.credit_balance)
            ).scalar_one_or_none()
            if new_balance is None:
                available = get_balance(session=session, user_id=user_id)
                raise InsufficientCredits(needed=-amount, available=available)
            row = CreditTransaction(
                user_id=user_id,
                amount=amount,
                kind=kind,
                reference=reference,
                idempotency_key=idempotency_key,
                balance_after=new_balance,
                reason=reason,
            )
            session.add(row)
            session.flush()
    except IntegrityError:
        # Another transaction committed the same key first: return its result instead.
        previous = _existing(session, idempotency_key)
        if previous is None:
            raise
        return _entry(previous, replayed=True)
    # Keep any User object already loaded in this session in step with the database.
    user = session.get(User, user_id)
    if user is not None:
        session.refresh(user, attribute_names=["credit_balance"])
    return _entry(row, replayed=False)


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


def adjust_by_admin(
    *, session: Session, email: str, amount: int, reason: str, idempotency_key: str
) -> Entry:
    """An operator's correction: positive grants, negative takes (never below zero)."""
    if not reason.strip():
        raise ValueError("An admin adjustment needs a reason.")
    user = session.exec(
        select(User).where(User.email == email.strip().lower(), User.deleted_at.is_(None))  # type: ignore[union-attr]
    ).first()
    if user is None or user.id is None:
        raise UnknownUser(f"No user with e-mail {email}.")
    if amount == 0:
        raise ValueError("An adjustment of zero credits changes nothing.")
    return _move(
        session,
        user_id=user.id,
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
