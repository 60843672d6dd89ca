"""The console's Users table: search, filters, sort and pages, fast on 100,000 users.

A search is a prefix of one of the user's search terms (e-mail address, its local part
and domain, name, each word of the name; services/accounts/users.py keeps them) or an
exact id: an index range, never a scan. Each sort has its own index ending in the id, and
filters are written so each can use its index or be checked row by row while walking the
sort's; "has paid" and the paid total are the user's own column (`paid_paise`), so a page
is one read of the users table. A page is fetched one row long to know whether there is a
next one, so no page counts the whole table.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import and_, exists, false, func, literal, not_, or_, select, true
from sqlalchemy.sql import ColumnElement

from adremix.db import session_scope
from adremix.enums import Role
from adremix.models import User, UserSearchTerm
from adremix.services.accounts import (
    SEARCH_TERM_MAX,
    effective_role,
    normalise_search,
    staff_emails,
)
from adremix.services.admin.access import Permission, require
from adremix.services.admin.params import (
    MAX_SEARCH,
    choice,
    day_end,
    day_start,
    non_empty,
    parse_date,
    parse_int,
    parse_page,
)

PAGE_SIZE = 50
SORTS = {
    "joined_desc": "Newest first",
    "joined_asc": "Oldest first",
    "balance_desc": "Highest balance",
    "balance_asc": "Lowest balance",
    "seen_desc": "Recently signed in",
    "email_asc": "E-mail A–Z",
}
YES_NO = ("yes", "no")
ROLE_FILTERS = {"staff": "Any staff", Role.ADMIN: "Admin", Role.SUPPORT: "Support", "none": "None"}
# Past the last code point: every string starting with a prefix sorts below prefix + this.
PREFIX_END = "\U0010ffff"

_users = User.__table__  # type: ignore[attr-defined]
_terms = UserSearchTerm.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class UserFilters:
    """What the Users table shows; round-trips through the URL so a view can be shared."""

    q: str = ""
    joined_from: date | None = None
    joined_to: date | None = None
    paid: str = ""  # "yes", "no" or "" (either)
    suspended: str = ""
    balance_min: int | None = None
    balance_max: int | None = None
    role: str = ""  # a ROLE_FILTERS key, or ""
    sort: str = "joined_desc"
    page: int = 1

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> UserFilters:
        return cls(
            q=" ".join(params.get("q", "").split())[:MAX_SEARCH],
            joined_from=parse_date(params.get("from")),
            joined_to=parse_date(params.get("to")),
            paid=choice(params.get("paid"), YES_NO),
            suspended=choice(params.get("suspended"), YES_NO),
            balance_min=parse_int(params.get("min")),
            balance_max=parse_int(params.get("max")),
            role=choice(params.get("role"), ROLE_FILTERS),
            sort=choice(params.get("sort"), SORTS, "joined_desc"),
            page=parse_page(params.get("page")),
        )

    def to_query(self) -> dict[str, str]:
        """Only what differs from the defaults, so links stay short."""
        return non_empty(
            {
                "q": self.q,
                "from": self.joined_from.isoformat() if self.joined_from else "",
                "to": self.joined_to.isoformat() if self.joined_to else "",
                "paid": self.paid,
                "suspended": self.suspended,
                "min": "" if self.balance_min is None else str(self.balance_min),
                "max": "" if self.balance_max is None else str(self.balance_max),
                "role": self.role,
                "sort": "" if self.sort == "joined_desc" else self.sort,
                "page": "" if self.page == 1 else str(self.page),
            }
        )


@dataclass(frozen=True)
class UserRow:
    id: int
    email: str
    name: str
    role: str
    balance: int
    joined_at: datetime
    last_seen_at: datetime | None
    suspended: bool
    deleted: bool
    paid_paise: int  # captured money that granted credits, before refunds


@dataclass(frozen=True)
class UsersPage:
    rows: list[UserRow] = field(default_factory=list)
    page: int = 1
    has_next: bool = False


# A search matching at least this many terms is "broad" (a common name, a mail domain, one
# letter): walking the users in the page's order and probing each one's terms finds a
# page sooner than sorting every match (see `_search`).
BROAD_SEARCH = 1_000


def _search(q: str, connection=None) -> ColumnElement[bool]:  # type: ignore[no-untyped-def]
    """Users with a term starting with `q` (or the user with id `q`).

    A narrow search lists its few matches and sorts them; a broad one would sort
    thousands, so instead the users are walked in the page's order, each checked by its
    own terms (the user_id index), until the page is full. Which one is decided by
    counting the matching terms, at most BROAD_SEARCH of them, in the term index."""
    prefix = normalise_search(q)[:SEARCH_TERM_MAX]
    in_range = and_(_terms.c.term >= prefix, _terms.c.term < prefix + PREFIX_END)
    broad = connection is not None and (
        connection.execute(
            select(func.count()).select_from(
                select(_terms.c.user_id).where(in_range).limit(BROAD_SEARCH).subquery()
            )
        ).scalar_one()
        >= BROAD_SEARCH
    )
    number = q.removeprefix("#")
    user_id = int(number) if number.isdigit() and len(number) < 10 else None
    if broad:
        condition: ColumnElement[bool] = exists().where(_terms.c.user_id == _users.c.id, in_range)
        return condition if user_id is None else or_(condition, _users.c.id == user_id)
    matching = select(_terms.c.user_id).where(in_range)
    # The id joins the list rather than being OR-ed beside it: PostgreSQL would answer
    # `id IN (...) OR id = n` by testing every user.
    return _users.c.id.in_(
        matching if user_id is None else matching.union(select(literal(user_id)))
    )


def _role(role: str) -> ColumnElement[bool]:
    admins, support = staff_emails()
    stored = func.coalesce(_users.c.role, "")  # never NULL, so NOT works as meant
    is_admin = or_(stored == Role.ADMIN, _users.c.email.in_(admins) if admins else false())
    is_support = and_(
        ~is_admin,
        or_(stored == Role.SUPPORT, _users.c.email.in_(support) if support else false()),
    )
    if role == Role.ADMIN:
        return is_admin
    if role == Role.SUPPORT:
        return is_support
    if role == "staff":
        return or_(is_admin, is_support)
    return not_(or_(is_admin, is_support))


def conditions(filters: UserFilters, connection=None) -> list[ColumnElement[bool]]:  # type: ignore[no-untyped-def]
    """The filters as SQL; with a `connection`, a search is first sized (see `_search`)."""
    found: list[ColumnElement[bool]] = []
    if filters.q:
        found.append(_search(filters.q, connection))
    if filters.joined_from:
        found.append(_users.c.created_at >= day_start(filters.joined_from))
    if filters.joined_to:
        found.append(_users.c.created_at < day_end(filters.joined_to))
    if filters.suspended:
        suspended = _users.c.suspended_at.is_not(None)
        found.append(suspended if filters.suspended == "yes" else ~suspended)
    if filters.balance_min is not None:
        found.append(_users.c.credit_balance >= filters.balance_min)
    if filters.balance_max is not None:
        found.append(_users.c.credit_balance <= filters.balance_max)
    if filters.role:
        found.append(_role(filters.role))
    if filters.sort == "seen_desc":
        # Everyone signs in when their account is made; rows without a sign-in (imported
        # ones) would sort first on PostgreSQL and last on SQLite, so they are left out.
        found.append(_users.c.last_login_at.is_not(None))
    if filters.paid:
        paid = _users.c.paid_paise > 0
        found.append(paid if filters.paid == "yes" else ~paid)
    return found or [true()]


def _order_by(sort: str, *, by_window: bool = False) -> list:
    """The sort's columns. `by_window`: a balance sort taken from the joined-between
    window's users rather than by walking the balance index (see `_page_ids`)."""
    balance = _users.c.credit_balance + 0 if by_window else _users.c.credit_balance
    ordering = {
        "joined_desc": [_users.c.created_at.desc(), _users.c.id.desc()],
        "joined_asc": [_users.c.created_at.asc(), _users.c.id.asc()],
        "balance_desc": [balance.desc(), _users.c.id.desc()],
        "balance_asc": [balance.asc(), _users.c.id.asc()],
        "seen_desc": [_users.c.last_login_at.desc(), _users.c.id.desc()],
        "email_asc": [_users.c.email.asc()],
    }
    return ordering[sort]


def _page_ids(filters: UserFilters, connection, page_size: int):  # type: ignore[no-untyped-def]
    """The ids of a page (and one more, to know whether a next page exists), read from
    the indexes alone: the sort's index, or a joined-between window's range, carry every
    filtered column, so no user's row is read before it is known to be on the page.

    A balance sort with a joined-between window sorts the window's users (an index range
    as long as the window) instead of walking the balance index: sign-ups take ids in
    time order, so a window's users sit together at one end of each balance value's run
    (most users hold the same few balances), and the walk can pass over most of the
    table to reach them. `+ 0` keeps the planners (SQLite's has no statistics of value
    ranges) from taking the balance index for the order."""
    by_window = filters.sort in ("balance_desc", "balance_asc") and bool(
        filters.joined_from or filters.joined_to
    )
    return (
        select(_users.c.id)
        .where(*conditions(filters, connection))
        .order_by(*_order_by(filters.sort, by_window=by_window))
        .limit(page_size + 1)
        .offset((filters.page - 1) * page_size)
        .subquery("page")
    )


_COLUMNS = (
    _users.c.id,
    _users.c.email,
    _users.c.name,
    _users.c.role,
    _users.c.credit_balance,
    _users.c.created_at,
    _users.c.last_login_at,
    _users.c.suspended_at,
    _users.c.deleted_at,
    _users.c.paid_paise,
)


def _row(values) -> UserRow:  # type: ignore[no-untyped-def]
    user_id, email, name, stored_role, balance, joined, seen, suspended, deleted, paid = values
    return UserRow(
        id=user_id,
        email=email,
        name=name,
        role=(effective_role(email=email, stored=stored_role) or "") if deleted is None else "",
        balance=balance,
        joined_at=joined,
        last_seen_at=seen,
        suspended=suspended is not None,
        deleted=deleted is not None,
        paid_paise=paid,
    )


def find_users(*, actor_id: int, filters: UserFilters, page_size: int = PAGE_SIZE) -> UsersPage:
    """One page of users matching every filter, in the chosen order."""
    with session_scope() as session:
        require(session, actor_id, Permission.VIEW)
        connection = session.connection()
        page = _page_ids(filters, connection, page_size)
        rows = connection.execute(
            select(*_COLUMNS)
            .join(page, page.c.id == _users.c.id)
            .order_by(*_order_by(filters.sort))
        ).all()
        return UsersPage(
            rows=[_row(row) for row in rows[:page_size]],
            page=filters.page,
            has_next=len(rows) > page_size,
        )


EXPORT_BATCH = 2_000


def users_for_export(filters: UserFilters) -> Iterator[list[UserRow]]:
    """Every user matching the filters, in batches (by id, each its own short read), for
    the CSV export; the caller has checked the actor's role."""
    last_id = 0
    where = conditions(replace(filters, page=1))
    while True:
        with session_scope() as session:
            connection = session.connection()
            rows = connection.execute(
                select(*_COLUMNS)
                .where(*where, _users.c.id > last_id)
                .order_by(_users.c.id)
                .limit(EXPORT_BATCH)
            ).all()
            if not rows:
                return
        yield [_row(row) for row in rows]
        last_id = rows[-1][0]
