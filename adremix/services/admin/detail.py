"""A user's page in the console: profile, balance, ledger, orders and payments with their
refunds, generations (failures first to the eye), sessions and what staff did to them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy import func

from adremix.db import session_scope
from adremix.enums import ACTIVE_GENERATION_STATUSES, AdminRefundStatus
from adremix.models import (
    AdminRefund,
    AuditEntry,
    AuthSession,
    CreditTransaction,
    Generation,
    Payment,
    PaymentOrder,
    PaymentRefund,
    User,
    utcnow,
)
from adremix.services.accounts import effective_role, settings_role
from adremix.services.admin.access import ACTOR, Permission, admit_read
from adremix.services.admin.lists import FAILED
from adremix.services.admin.params import inline
from adremix.services.errors import UserFacingError

RECENT = 25


class UnknownAccount(UserFacingError):
    """No user with that id."""


@dataclass(frozen=True)
class LedgerLine:
    id: int
    created_at: datetime
    kind: str
    amount: int
    balance_after: int
    reference: str
    reason: str


@dataclass(frozen=True)
class RefundLine:
    provider_refund_id: str
    amount_paise: int
    status: str
    origin: str
    created_at: datetime


@dataclass(frozen=True)
class PaymentLine:
    id: int
    provider_payment_id: str
    amount_paise: int
    status: str
    captured: bool
    duplicate: bool
    credits_granted: int
    refunded_paise: int
    credits_clawed: int
    clawback_shortfall: int
    created_at: datetime
    error: str
    refunds: list[RefundLine] = field(default_factory=list)
    # An admin's refund of it that Razorpay has not answered yet (retry is safe).
    refund_in_flight: bool = False


@dataclass(frozen=True)
class OrderLine:
    id: int
    receipt_number: str
    kind: str
    package_code: str
    credits: int
    amount_paise: int
    status: str
    provider: str
    provider_order_id: str
    created_at: datetime
    payments: list[PaymentLine] = field(default_factory=list)


@dataclass(frozen=True)
class GenerationLine:
    id: int
    created_at: datetime
    status: str
    provider: str
    model: str
    variations: int
    credits_spent: int
    credits_refunded: int
    error: str
    latency_ms: int | None


@dataclass(frozen=True)
class SessionLine:
    id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    user_agent: str


@dataclass(frozen=True)
class AuditLine:
    seq: int
    created_at: datetime
    actor: str
    action: str
    reason: str
    before: str
    after: str


@dataclass(frozen=True)
class UserDetail:
    id: int
    email: str
    name: str
    avatar_url: str
    google_linked: bool
    role: str
    role_from_settings: str  # the role ADREMIX_ADMIN_EMAILS / _SUPPORT_EMAILS give, if any
    stored_role: str
    balance: int
    joined_at: datetime
    last_seen_at: datetime | None
    suspended_at: datetime | None
    deleted: bool
    ledger: list[LedgerLine]
    ledger_total: int
    orders: list[OrderLine]
    generations: list[GenerationLine]
    failed_generations: int
    sessions: list[SessionLine]
    audit: list[AuditLine]


_users = User.__table__  # type: ignore[attr-defined]
_ledger = CreditTransaction.__table__  # type: ignore[attr-defined]
_orders = PaymentOrder.__table__  # type: ignore[attr-defined]
_payments = Payment.__table__  # type: ignore[attr-defined]
_refunds = PaymentRefund.__table__  # type: ignore[attr-defined]
_admin_refunds = AdminRefund.__table__  # type: ignore[attr-defined]
_generations = Generation.__table__  # type: ignore[attr-defined]
_sessions = AuthSession.__table__  # type: ignore[attr-defined]
_audit = AuditEntry.__table__  # type: ignore[attr-defined]

# Each panel is one select built once (its user id a bound parameter), read as plain
# values: no ORM object is built for a row that is only turned into a dataclass. `_page`
# puts them in one statement; the profile carries the two counts as subqueries.
_USER = (
    _users.c.id,
    _users.c.email,
    _users.c.name,
    _users.c.avatar_url,
    _users.c.oidc_subject,
    _users.c.role,
    _users.c.credit_balance,
    _users.c.created_at,
    _users.c.last_login_at,
    _users.c.suspended_at,
    _users.c.deleted_at,
    sa.select(func.count())
    .select_from(_ledger)
    .where(_ledger.c.user_id == _users.c.id)
    .scalar_subquery(),
    sa.select(func.count())
    .select_from(_generations)
    .where(_generations.c.user_id == _users.c.id, _generations.c.status.in_(FAILED))
    .scalar_subquery(),
)
_LEDGER = (
    sa.select(
        _ledger.c.id,
        _ledger.c.created_at,
        _ledger.c.kind,
        _ledger.c.amount,
        _ledger.c.balance_after,
        func.coalesce(_ledger.c.reference, ""),
        func.coalesce(_ledger.c.reason, ""),
    )
    .where(_ledger.c.user_id == sa.bindparam("user_id"))
    .order_by(_ledger.c.created_at.desc(), _ledger.c.id.desc())
    .limit(inline("recent", RECENT))
)
_recent_orders = (
    sa.select(_orders)
    .where(_orders.c.user_id == sa.bindparam("user_id"))
    .order_by(_orders.c.created_at.desc(), _orders.c.id.desc())
    .limit(inline("recent", RECENT))
    .subquery()
)
# The user's last orders, each with its payments and their refunds (outer joins: an order
# may have none), and whether an admin's refund of the payment awaits Razorpay's answer.
_ORDERS = (
    sa.select(
        _recent_orders.c.id,
        _recent_orders.c.receipt_number,
        _recent_orders.c.kind,
        _recent_orders.c.package_code,
        _recent_orders.c.credits,
        _recent_orders.c.amount_paise,
        _recent_orders.c.status,
        _recent_orders.c.provider,
        func.coalesce(_recent_orders.c.provider_order_id, ""),
        _recent_orders.c.created_at,
        _payments.c.id,
        _payments.c.provider_payment_id,
        _payments.c.amount_paise,
        _payments.c.status,
        _payments.c.captured,
        _payments.c.duplicate,
        _payments.c.credits_granted,
        _payments.c.refunded_paise,
        _payments.c.credits_clawed,
        _payments.c.clawback_shortfall,
        _payments.c.created_at,
        func.coalesce(_payments.c.error_description, ""),
        sa.exists()
        .where(
            _admin_refunds.c.payment_id == _payments.c.id,
            _admin_refunds.c.status == AdminRefundStatus.REQUESTED,
        )
        .label("in_flight"),
        _refunds.c.id,
        _refunds.c.provider_refund_id,
        _refunds.c.amount_paise,
        _refunds.c.status,
        _refunds.c.origin,
        _refunds.c.created_at,
    )
    .select_from(
        _recent_orders.outerjoin(_payments, _payments.c.order_id == _recent_orders.c.id).outerjoin(
            _refunds, _refunds.c.payment_id == _payments.c.id
        )
    )
    .order_by(
        _recent_orders.c.created_at.desc(),
        _recent_orders.c.id.desc(),
        _payments.c.id,
        _refunds.c.id,
    )
)
_GENERATIONS = (
    sa.select(
        _generations.c.id,
        _generations.c.created_at,
        _generations.c.status,
        _generations.c.provider,
        _generations.c.model,
        _generations.c.variations,
        _generations.c.credits_reserved,
        _generations.c.credits_spent,
        _generations.c.error_message,
        _generations.c.latency_ms,
    )
    .where(_generations.c.user_id == sa.bindparam("user_id"))
    .order_by(_generations.c.created_at.desc(), _generations.c.id.desc())
    .limit(inline("recent", RECENT))
)
_SESSIONS = (
    sa.select(
        _sessions.c.id,
        _sessions.c.created_at,
        _sessions.c.last_seen_at,
        _sessions.c.expires_at,
        _sessions.c.user_agent,
    )
    .where(
        _sessions.c.user_id == sa.bindparam("user_id"),
        _sessions.c.revoked_at.is_(None),
        _sessions.c.expires_at > sa.bindparam("now"),
    )
    .order_by(_sessions.c.last_seen_at.desc())
    .limit(inline("recent", RECENT))
)
_AUDIT = (
    sa.select(
        _audit.c.seq,
        _audit.c.created_at,
        _audit.c.actor,
        _audit.c.action,
        _audit.c.reason,
        _audit.c.before,
        _audit.c.after,
    )
    .where(_audit.c.target_type == "user", _audit.c.target_id == sa.bindparam("target_id"))
    .order_by(_audit.c.seq.desc())
    .limit(inline("recent", RECENT))
)


_LEDGER_ROW = (int, "at", None, int, int, None, None)
_ORDER_ROW = (
    *(int, None, None, None, int, int, None, None, None, "at"),  # the order
    *(int, None, int, None, bool, bool, int, int, int, int, "at", None, bool),  # payment
    *(int, None, int, None, None, "at"),  # refund
)
_GENERATION_ROW = (int, "at", None, None, None, int, int, int, None, None)
_SESSION_ROW = (int, "at", "at", "at", None)
_AUDIT_ROW = (int, "at", None, None, None, None, None)


def _at(value: str | None) -> datetime | None:
    """A time as a JSON array carries it: ISO text, without an offset from SQLite
    (which stores UTC), with the session's offset from PostgreSQL."""
    if value is None:
        return None
    at = datetime.fromisoformat(value)
    return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)


def _typed(rows: list | None, kinds: tuple) -> list[tuple]:  # type: ignore[type-arg]
    """A panel's rows from its JSON array, each value as the table column's type (SQLite
    gives booleans as 0 and 1; times are text in JSON)."""
    return [
        tuple(
            value if kind is None or value is None else _at(value) if kind == "at" else kind(value)
            for kind, value in zip(kinds, row, strict=True)
        )
        for row in rows or ()
    ]


@lru_cache(maxsize=4)
def _page(dialect: str) -> sa.Select:  # type: ignore[type-arg]
    """The whole page in one statement built once per dialect (their JSON functions
    differ): the profile and its two counts, and each panel's rows as one JSON array of
    arrays, a scalar subquery each. One round trip instead of six; each panel is still
    its own index range (the user's id is a bound parameter)."""
    array, aggregate = (
        (func.json_build_array, func.json_agg)
        if dialect == "postgresql"
        else (func.json_array, func.json_group_array)
    )

    def rows(panel: sa.Select) -> sa.ScalarSelect:  # type: ignore[type-arg]
        inner = panel.subquery()
        return sa.select(aggregate(array(*inner.c), type_=sa.JSON)).scalar_subquery()

    # The actor's row (access.ACTOR) LEFT JOIN the user's: the role check is read in
    # this same statement; no row at all means no such actor, NULLs no such user.
    return sa.select(
        *ACTOR.c,
        *_USER,
        rows(_LEDGER),
        rows(_ORDERS),
        rows(_GENERATIONS),
        rows(_SESSIONS),
        rows(_AUDIT),
    ).select_from(ACTOR.outerjoin(_users, _users.c.id == sa.bindparam("user_id")))


def _order_lines(rows: list) -> list[OrderLine]:  # type: ignore[type-arg]
    """Orders from the joined rows: one row per (order, payment, refund), newest order
    first, its payments and their refunds in id order."""
    rows.sort(key=lambda r: (-r[9].timestamp(), -r[0], r[10] or 0, r[23] or 0))
    orders: dict[int, OrderLine] = {}
    payments: dict[int, PaymentLine] = {}
    for r in rows:
        order = orders.get(r[0])
        if order is None:
            order = orders[r[0]] = OrderLine(*r[:10])
        if r[10] is None:
            continue
        payment = payments.get(r[10])
        if payment is None:
            payment = payments[r[10]] = PaymentLine(*r[10:22], refund_in_flight=bool(r[22]))
            order.payments.append(payment)
        if r[23] is not None:
            payment.refunds.append(RefundLine(*r[24:29]))
    return list(orders.values())


def _newest_first(rows: list[tuple]) -> list[tuple]:  # type: ignore[type-arg]
    """A panel's rows by (time, id), newest first, as its subquery ordered them."""
    return sorted(rows, key=lambda r: (r[1], r[0]), reverse=True)


def generation_line(r) -> GenerationLine:  # type: ignore[no-untyped-def]
    """A generation from a `_GENERATIONS` row."""
    (gid, created_at, status, provider, model, variations, reserved, spent, error, latency) = r
    finished = status not in ACTIVE_GENERATION_STATUSES
    return GenerationLine(
        id=gid,
        created_at=created_at,
        status=status,
        provider=provider,
        model=model,
        variations=variations,
        credits_spent=spent,
        # What a finished generation did not deliver was given back (ledger kind
        # generation_refund, referencing it).
        credits_refunded=max(0, reserved - spent) if finished else 0,
        error=error or "",
        latency_ms=latency,
    )


def user_detail(*, actor_id: int, user_id: int) -> UserDetail:
    """Everything the console shows about one user."""
    with session_scope() as session:
        connection = session.connection()  # a Core statement: no ORM dispatch
        found = connection.execute(
            _page(connection.dialect.name),
            {"actor_id": actor_id, "user_id": user_id, "target_id": str(user_id), "now": utcnow()},
        ).first()
        admit_read(actor_id, found, Permission.VIEW)
        user = found[len(ACTOR.c) :]  # type: ignore[index]
        if user[0] is None:
            raise UnknownAccount("There is no user with that id.")
    (uid, email, name, avatar, subject, stored, balance, joined, seen, suspended, deleted) = user[
        :11
    ]
    ledger_total, failed, ledger, orders, generations, sessions, audit = user[11:]
    from_settings = settings_role(email) if deleted is None else None
    return UserDetail(
        id=uid,
        email=email,
        name=name,
        avatar_url=avatar,
        google_linked=subject is not None,
        role=(effective_role(email=email, stored=stored) or "") if deleted is None else "",
        role_from_settings=from_settings or "",
        stored_role=stored or "",
        balance=balance,
        joined_at=joined,
        last_seen_at=seen,
        suspended_at=suspended,
        deleted=deleted is not None,
        ledger=[LedgerLine(*e) for e in _newest_first(_typed(ledger, _LEDGER_ROW))],
        ledger_total=ledger_total,
        orders=_order_lines(_typed(orders, _ORDER_ROW)),
        generations=[
            generation_line(g) for g in _newest_first(_typed(generations, _GENERATION_ROW))
        ],
        failed_generations=failed,
        sessions=[
            SessionLine(*r)
            for r in sorted(_typed(sessions, _SESSION_ROW), key=lambda r: r[2], reverse=True)
        ],
        audit=[AuditLine(*a) for a in sorted(_typed(audit, _AUDIT_ROW), reverse=True)],
    )
