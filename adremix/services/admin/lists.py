"""The console's other tables: payments (orders with their payments), the webhook log,
recent generation failures and the audit log. Each is newest first, filterable, paged
through the URL, and read with plain SQL over the indexes migration 0009 added."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, literal, or_, select, true
from sqlalchemy.sql import ColumnElement, Subquery

from adremix.db import session_scope
from adremix.enums import AuditAction, GenerationStatus, OrderStatus
from adremix.models import (
    AuditEntry,
    Generation,
    Payment,
    PaymentOrder,
    User,
    WebhookEvent,
    WebhookRejection,
)
from adremix.services.admin.access import ACTOR_VALUES, Permission, admit_read, require
from adremix.services.admin.params import (
    choice,
    day_end,
    day_start,
    non_empty,
    paging,
    parse_date,
    parse_int,
    parse_page,
)

PAGE_SIZE = 50
EXPORT_BATCH = 2_000
MAX_QUERY = 80
MAX_BUYER_ORDERS = 1_000

_orders = PaymentOrder.__table__  # type: ignore[attr-defined]
_payments = Payment.__table__  # type: ignore[attr-defined]
_users = User.__table__  # type: ignore[attr-defined]
_events = WebhookEvent.__table__  # type: ignore[attr-defined]
_rejections = WebhookRejection.__table__  # type: ignore[attr-defined]
_generations = Generation.__table__  # type: ignore[attr-defined]
_audit = AuditEntry.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Page:
    rows: list[Any] = field(default_factory=list)
    page: int = 1
    has_next: bool = False


def _paged(connection, query, page: int, page_size: int) -> tuple[list, bool]:  # type: ignore[no-untyped-def]
    rows = connection.execute(query.limit(page_size + 1).offset((page - 1) * page_size)).all()
    return rows[:page_size], len(rows) > page_size


def _date_range(column, start: date | None, end: date | None) -> list[ColumnElement[bool]]:  # type: ignore[no-untyped-def]
    found = []
    if start:
        found.append(column >= day_start(start))
    if end:
        found.append(column < day_end(end))
    return found


# --- payments -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentFilters:
    q: str = ""  # a receipt number, Razorpay order or payment id, or a buyer's e-mail
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> PaymentFilters:
        return cls(
            q=params.get("q", "").strip()[:MAX_QUERY],
            status=choice(params.get("status"), tuple(OrderStatus)),
            date_from=parse_date(params.get("from")),
            date_to=parse_date(params.get("to")),
            page=parse_page(params.get("page")),
        )

    def to_query(self) -> dict[str, str]:
        return non_empty(
            {
                "q": self.q,
                "status": self.status,
                "from": self.date_from.isoformat() if self.date_from else "",
                "to": self.date_to.isoformat() if self.date_to else "",
                "page": "" if self.page == 1 else str(self.page),
            }
        )


# The Payments page's rows are tuples with names, not frozen dataclasses: a frozen
# dataclass sets each field through object.__setattr__ (3 us a row here): a page's hundred
# of them took 0.3 ms, about a seventh of the whole request on SQLite.
class PaymentSummary(NamedTuple):
    id: int
    provider_payment_id: str
    amount_paise: int
    status: str
    duplicate: bool
    credits_granted: int
    refunded_paise: int
    credits_clawed: int
    clawback_shortfall: int
    error: str


class OrderRow(NamedTuple):
    id: int
    receipt_number: str
    kind: str
    credits: int
    amount_paise: int
    status: str
    provider: str
    provider_order_id: str
    created_at: datetime
    user_id: int
    email: str
    payments: list[PaymentSummary]  # filled in as the order's rows are read


def _matching_orders(connection, q: str) -> list[int]:  # type: ignore[no-untyped-def]
    """Orders a search names: by receipt number, Razorpay order or payment id, or every
    order of the buyer with that e-mail address. Each is one unique-index lookup, done
    first so the page query never walks the table testing each row."""
    found = set(
        connection.execute(
            select(_orders.c.id).where(
                or_(_orders.c.receipt_number == q, _orders.c.provider_order_id == q)
            )
        ).scalars()
    )
    found.update(
        connection.execute(
            select(_payments.c.order_id).where(_payments.c.provider_payment_id == q)
        ).scalars()
    )
    buyer = connection.execute(select(_users.c.id).where(_users.c.email == q.lower())).scalar()
    if buyer is not None:
        found.update(
            connection.execute(
                select(_orders.c.id).where(_orders.c.user_id == buyer).limit(MAX_BUYER_ORDERS)
            ).scalars()
        )
    return sorted(found)


def _payment_conditions(connection, filters: PaymentFilters) -> list[ColumnElement[bool]]:  # type: ignore[no-untyped-def]
    found: list[ColumnElement[bool]] = []
    if filters.q:
        found.append(_orders.c.id.in_(_matching_orders(connection, filters.q)))
    if filters.status:
        found.append(_orders.c.status == filters.status)
    found += _date_range(_orders.c.created_at, filters.date_from, filters.date_to)
    return found or [true()]


# What a page shows of an order: all of it in the Payments page's order indexes
# (models.PAYMENTS_PAGE_ORDER_COLUMNS), so a page's orders come from the index walk that
# finds them, never from their scattered rows.
_ORDER_COLUMNS = (
    _orders.c.id,
    _orders.c.receipt_number,
    _orders.c.kind,
    _orders.c.credits,
    _orders.c.amount_paise,
    _orders.c.status,
    _orders.c.provider,
    _orders.c.provider_order_id,
    _orders.c.created_at,
    _orders.c.user_id,
)


_PAYMENT_COLUMNS = (
    _payments.c.id,
    _payments.c.provider_payment_id,
    _payments.c.amount_paise,
    _payments.c.status,
    _payments.c.duplicate,
    _payments.c.credits_granted,
    _payments.c.refunded_paise,
    _payments.c.credits_clawed,
    _payments.c.clawback_shortfall,
    _payments.c.error_description,
)
_NEWEST = (_orders.c.created_at.desc(), _orders.c.id.desc())


def _orders_page(where, order_by, limit, offset=None) -> Subquery:  # type: ignore[no-untyped-def]
    """A page of orders (`_ORDER_COLUMNS`): limited first, so only its orders are joined."""
    page = select(*_ORDER_COLUMNS).where(*where).order_by(*order_by).limit(limit)
    return (page if offset is None else page.offset(offset)).subquery("page")


def _with_payments_query(page: Subquery, *, actor: bool = False) -> Select:  # type: ignore[type-arg]
    """The orders of `page` (`_orders_page`) with their buyers' e-mail addresses and their
    payments, in one statement: one row per (order, payment). The buyer and the payments
    are looked up by key for the page's orders only. Unordered: `_order_rows` puts the
    page's few rows in order, where SQLite would sort them in a temporary B-tree (the
    page is materialised, so its order is not known to the outer query). With `actor`,
    each row ends with the actor's row as the role check reads it
    (access.ACTOR_VALUES), so a page makes its check in the same statement."""
    return select(
        *page.c, _users.c.email, *_PAYMENT_COLUMNS, *(ACTOR_VALUES if actor else ())
    ).select_from(
        page.join(_users, _users.c.id == page.c.user_id).outerjoin(
            _payments, _payments.c.order_id == page.c.id
        )
    )


def _order_rows(rows, *, newest: bool) -> list[OrderRow]:  # type: ignore[no-untyped-def]
    """`_with_payments_query` rows as orders, newest first (else by id), each with its
    payments in id order."""
    orders: dict[int, OrderRow] = {}
    for r in rows:
        order = orders.get(r[0])
        if order is None:
            order = orders[r[0]] = OrderRow(*r[:7], r[7] or "", r[8], r[9], r[10], [])
        if r[11] is not None:
            order.payments.append(PaymentSummary(*r[11:20], r[20] or ""))
    for order in orders.values():
        if len(order.payments) > 1:
            order.payments.sort()  # by id, the first field
    if newest:
        return sorted(orders.values(), key=_newest_order, reverse=True)
    return sorted(orders.values(), key=_order_id)


def _newest_order(order: OrderRow) -> tuple[datetime, int]:
    return order.created_at, order.id


def _order_id(order: OrderRow) -> int:
    return order.id


@lru_cache(maxsize=16)
def _payments_page(postgres: bool, status: bool, since: bool, until: bool) -> Select:  # type: ignore[type-arg]
    """A Payments page without a search, built once for each set of filters in use (its
    values bound): building and keying a statement costs as much as running this one.
    The page's orders (and one more, to know whether a next page exists) come from the
    order index alone (migration 0018), then their buyers and payments."""
    created = _orders.c.created_at
    where = [
        *([_orders.c.status == bindparam("status")] if status else []),
        *([created >= bindparam("since", type_=created.type)] if since else []),
        *([created < bindparam("until", type_=created.type)] if until else []),
    ]
    page = _orders_page(where, _NEWEST, paging("limit", postgres), paging("offset", postgres))
    return _with_payments_query(page, actor=True)


def list_payments(*, actor_id: int, filters: PaymentFilters, page_size: int = PAGE_SIZE) -> Page:
    """Orders, newest first, each with its Razorpay payments."""
    with session_scope() as session:
        connection = session.connection()
        postgres = connection.dialect.name == "postgresql"
        limits = {
            "limit": page_size + 1,
            "offset": (filters.page - 1) * page_size,
            "actor_id": actor_id,
        }
        if filters.q:
            page = _orders_page(
                _payment_conditions(connection, filters),
                _NEWEST,
                paging("limit", postgres),
                paging("offset", postgres),
            )
            rows = connection.execute(_with_payments_query(page, actor=True), limits)
        else:
            since, until = filters.date_from, filters.date_to
            rows = connection.execute(
                _payments_page(
                    postgres, bool(filters.status), since is not None, until is not None
                ),
                {
                    **limits,
                    "status": filters.status,
                    "since": day_start(since) if since else None,
                    "until": day_end(until) if until else None,
                },
            )
        found = rows.all()
        if found:
            admit_read(actor_id, found[0][-len(ACTOR_VALUES) :], Permission.VIEW)
        else:
            require(session, actor_id, Permission.VIEW)
        orders = _order_rows(found, newest=True)
        return Page(orders[:page_size], filters.page, len(orders) > page_size)


def payments_for_export(filters: PaymentFilters) -> Iterator[list[OrderRow]]:
    where = replace(filters, page=1)
    last_id = 0
    while True:
        with session_scope() as session:
            connection = session.connection()
            page = _orders_page(
                [*_payment_conditions(connection, where), _orders.c.id > last_id],
                (_orders.c.id,),
                EXPORT_BATCH,
            )
            batch = _order_rows(connection.execute(_with_payments_query(page)), newest=False)
        if not batch:
            return
        yield batch
        last_id = batch[-1].id


# --- webhook log ----------------------------------------------------------------------------

WEBHOOK_SHOW = {"problems": "Problems only", "rejected": "Bad signature only"}


@dataclass(frozen=True)
class WebhookFilters:
    event_type: str = ""  # a prefix: "refund." or "payment.captured"
    show: str = ""  # a WEBHOOK_SHOW key, or "" for every delivery
    page: int = 1

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> WebhookFilters:
        return cls(
            event_type=params.get("type", "").strip()[:60],
            show=choice(params.get("show"), WEBHOOK_SHOW),
            page=parse_page(params.get("page")),
        )

    def to_query(self) -> dict[str, str]:
        return non_empty(
            {
                "type": self.event_type,
                "show": self.show,
                "page": "" if self.page == 1 else str(self.page),
            }
        )


@dataclass(frozen=True)
class WebhookRow:
    id: int
    event_id: str
    event_type: str
    outcome: str
    received_at: datetime
    signature_ok: bool
    processed_at: datetime | None
    error: str


def _webhook_parts(filters: WebhookFilters) -> list:
    """The selects of processed events and of refused deliveries the filters ask for."""
    events = select(
        _events.c.id,
        _events.c.event_id,
        _events.c.event_type,
        _events.c.outcome,
        _events.c.received_at,
        literal(True).label("signature_ok"),
        _events.c.processed_at,
        _events.c.error,
    )
    refused = select(
        _rejections.c.id,
        _rejections.c.claimed_event_id,
        _rejections.c.claimed_type,
        literal("rejected"),
        _rejections.c.received_at,
        literal(False),
        literal(None, type_=_events.c.processed_at.type),
        _rejections.c.reason,
    )
    if filters.event_type:
        end = filters.event_type + "\U0010ffff"
        events = events.where(
            _events.c.event_type >= filters.event_type, _events.c.event_type < end
        )
        refused = refused.where(
            _rejections.c.claimed_type >= filters.event_type, _rejections.c.claimed_type < end
        )
    if filters.show == "problems":
        events = events.where(_events.c.error.is_not(None))
    return [refused] if filters.show == "rejected" else [events, refused]


def _newest_first(row) -> tuple:  # type: ignore[no-untyped-def]
    return (row[4], row[5], row[0])


def _webhook_row(r) -> WebhookRow:  # type: ignore[no-untyped-def]
    return WebhookRow(
        id=r[0],
        event_id=r[1],
        event_type=r[2],
        outcome=r[3],
        received_at=r[4],
        signature_ok=bool(r[5]),
        processed_at=r[6],
        error=r[7] or "",
    )


def webhook_log(*, actor_id: int, filters: WebhookFilters, page_size: int = PAGE_SIZE) -> Page:
    """Webhook deliveries, newest first: processed events and refused signatures. Each
    table gives its newest rows on its own index; the page is cut from the two merged."""
    wanted = filters.page * page_size + 1
    with session_scope() as session:
        require(session, actor_id, Permission.VIEW)
        connection = session.connection()
        rows = []
        for part in _webhook_parts(filters):
            table = part.get_final_froms()[0]
            rows += connection.execute(
                part.order_by(table.c.received_at.desc(), table.c.id.desc()).limit(wanted)
            ).all()
    rows.sort(key=_newest_first, reverse=True)
    start = (filters.page - 1) * page_size
    shown = rows[start : start + page_size]
    return Page([_webhook_row(r) for r in shown], filters.page, len(rows) > start + page_size)


def webhooks_for_export(filters: WebhookFilters) -> Iterator[list[WebhookRow]]:
    """Every delivery, processed events first then refused ones, in batches by id."""
    for part in _webhook_parts(filters):
        table = part.get_final_froms()[0]
        last_id = 0
        while True:
            with session_scope() as session:
                rows = (
                    session.connection()
                    .execute(
                        part.where(table.c.id > last_id).order_by(table.c.id).limit(EXPORT_BATCH)
                    )
                    .all()
                )
            if not rows:
                break
            yield [_webhook_row(r) for r in rows]
            last_id = rows[-1][0]


# --- generation failures --------------------------------------------------------------------

FAILED = (GenerationStatus.FAILED, GenerationStatus.PARTIAL)


@dataclass(frozen=True)
class FailureFilters:
    status: str = ""  # failed or partial; "" for both
    page: int = 1

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> FailureFilters:
        return cls(status=choice(params.get("status"), FAILED), page=parse_page(params.get("page")))

    def to_query(self) -> dict[str, str]:
        return non_empty({"status": self.status, "page": "" if self.page == 1 else str(self.page)})


@dataclass(frozen=True)
class FailureRow:
    generation_id: int
    created_at: datetime
    status: str
    provider: str
    model: str
    variations: int
    credits_refunded: int
    error: str
    user_id: int
    email: str


def _failures_query(filters: FailureFilters):  # type: ignore[no-untyped-def]
    statuses = (filters.status,) if filters.status else FAILED
    return (
        select(
            _generations.c.id,
            _generations.c.created_at,
            _generations.c.status,
            _generations.c.provider,
            _generations.c.model,
            _generations.c.variations,
            _generations.c.credits_reserved - _generations.c.credits_spent,
            _generations.c.error_message,
            _users.c.id,
            _users.c.email,
        )
        .join(_users, _users.c.id == _generations.c.user_id)
        .where(_generations.c.status.in_(statuses))
    )


def _failure_row(r) -> FailureRow:  # type: ignore[no-untyped-def]
    return FailureRow(
        generation_id=r[0],
        created_at=r[1],
        status=r[2],
        provider=r[3],
        model=r[4],
        variations=r[5],
        credits_refunded=max(0, r[6]),
        error=r[7] or "",
        user_id=r[8],
        email=r[9],
    )


def recent_failures(*, actor_id: int, filters: FailureFilters, page_size: int = PAGE_SIZE) -> Page:
    """Generations that failed wholly or in part, newest first, with what was refunded."""
    with session_scope() as session:
        require(session, actor_id, Permission.VIEW)
        query = _failures_query(filters).order_by(
            _generations.c.created_at.desc(), _generations.c.id.desc()
        )
        rows, has_next = _paged(session.connection(), query, filters.page, page_size)
        return Page([_failure_row(r) for r in rows], filters.page, has_next)


def failures_for_export(filters: FailureFilters) -> Iterator[list[FailureRow]]:
    last_id = 0
    while True:
        with session_scope() as session:
            rows = (
                session.connection()
                .execute(
                    _failures_query(filters)
                    .where(_generations.c.id > last_id)
                    .order_by(_generations.c.id)
                    .limit(EXPORT_BATCH)
                )
                .all()
            )
        if not rows:
            return
        yield [_failure_row(r) for r in rows]
        last_id = rows[-1][0]


# --- the audit log --------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    action: str = ""
    actor: str = ""  # an e-mail address (or "command line")
    user_id: int | None = None  # entries about this user
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> AuditFilters:
        return cls(
            action=choice(params.get("action"), tuple(AuditAction)),
            actor=params.get("actor", "").strip().lower()[:320],
            user_id=parse_int(params.get("user")),
            date_from=parse_date(params.get("from")),
            date_to=parse_date(params.get("to")),
            page=parse_page(params.get("page")),
        )

    def to_query(self) -> dict[str, str]:
        return non_empty(
            {
                "action": self.action,
                "actor": self.actor,
                "user": "" if self.user_id is None else str(self.user_id),
                "from": self.date_from.isoformat() if self.date_from else "",
                "to": self.date_to.isoformat() if self.date_to else "",
                "page": "" if self.page == 1 else str(self.page),
            }
        )


@dataclass(frozen=True)
class AuditRow:
    seq: int
    created_at: datetime
    actor: str
    actor_role: str
    action: str
    target_type: str
    target_id: str
    reason: str
    before: str
    after: str
    entry_hash: str


def _audit_query(filters: AuditFilters):  # type: ignore[no-untyped-def]
    query = select(
        _audit.c.seq,
        _audit.c.created_at,
        _audit.c.actor,
        _audit.c.actor_role,
        _audit.c.action,
        _audit.c.target_type,
        _audit.c.target_id,
        _audit.c.reason,
        _audit.c.before,
        _audit.c.after,
        _audit.c.entry_hash,
    )
    if filters.action:
        query = query.where(_audit.c.action == filters.action)
    if filters.actor:
        query = query.where(_audit.c.actor == filters.actor)
    if filters.user_id is not None:
        query = query.where(
            _audit.c.target_type == "user", _audit.c.target_id == str(filters.user_id)
        )
    return query.where(*_date_range(_audit.c.created_at, filters.date_from, filters.date_to))


def audit_log(*, actor_id: int, filters: AuditFilters, page_size: int = PAGE_SIZE) -> Page:
    """Audit entries, newest first."""
    with session_scope() as session:
        require(session, actor_id, Permission.VIEW)
        query = _audit_query(filters).order_by(_audit.c.seq.desc())
        rows, has_next = _paged(session.connection(), query, filters.page, page_size)
        return Page([AuditRow(*r) for r in rows], filters.page, has_next)


def audit_for_export(filters: AuditFilters) -> Iterator[list[AuditRow]]:
    last_seq = 0
    while True:
        with session_scope() as session:
            rows = (
                session.connection()
                .execute(
                    _audit_query(filters)
                    .where(_audit.c.seq > last_seq)
                    .order_by(_audit.c.seq)
                    .limit(EXPORT_BATCH)
                )
                .all()
            )
        if not rows:
            return
        yield [AuditRow(*r) for r in rows]
        last_seq = rows[-1][0]
