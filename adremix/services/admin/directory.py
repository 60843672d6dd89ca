"""The console's Users table: search, filters, sort and pages, fast on 100,000 users.

A search is a prefix of one of the user's search terms (e-mail address, its local part
and domain, name, each word of the name; services/accounts/users.py keeps them) or an
exact id: an index range, never a scan. Sorted by sign-up, it is one range of the terms'
prefixes keyed in that order (`user_search_prefix`), read no further than the page.
Each sort has its own index ending in the id, and filters are written so each can use
its index or be checked row by row while walking the sort's (a balance sort within a
sign-up window reads it per period of four weeks, each one range of an index); "has
paid" and the paid total are the user's own column (`paid_paise`), so a page is one
read of the users table. A page is fetched one row long to know whether there is a next one, so no
page counts the whole table.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    Integer,
    Select,
    and_,
    bindparam,
    exists,
    false,
    func,
    not_,
    or_,
    select,
    true,
    union,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql import ColumnElement, Subquery

from adremix.db import session_scope
from adremix.enums import Role
from adremix.models import (
    SEARCH_PREFIX_MAX,
    User,
    UserSearchPrefix,
    UserSearchTerm,
    signup_period,
)
from adremix.services.accounts import (
    SEARCH_TERM_MAX,
    effective_role,
    normalise_search,
    staff_emails,
)
from adremix.services.admin.access import ACTOR_VALUES, Permission, admit_read, require
from adremix.services.admin.params import (
    MAX_SEARCH,
    choice,
    day_end,
    day_start,
    inline,
    non_empty,
    paging,
    parse_date,
    parse_int,
    parse_page,
)
from adremix.settings import Settings, get_settings

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
_prefixes = UserSearchPrefix.__table__  # type: ignore[attr-defined]


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


class UserRow(NamedTuple):
    """One user of the table (a tuple with names: a frozen dataclass sets each field through
    object.__setattr__, a tenth of a search's whole request for a page of 50)."""

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
# page sooner than sorting every match (see `_bound`).
BROAD_SEARCH = 1_000

# Every value below is a bound parameter, so each shape of page (which filters it uses, not
# their values) is one statement, built and compiled once: building and keying a statement
# cost as much as running one of these.
_IN_RANGE = and_(_terms.c.term >= bindparam("prefix"), _terms.c.term < bindparam("prefix_end"))
# The matching terms, counted in the term index up to `broad_from` of them.
_MATCHES = select(func.count()).select_from(
    select(_terms.c.user_id).where(_IN_RANGE).limit(inline("broad_from")).subquery()
)


@dataclass(frozen=True)
class _Shape:
    """Which filters a page uses, and how (not their values)."""

    search: str = ""  # "", "prefix", "prefix_checked", "narrow" or "broad" (see `_bound`)
    search_id: bool = False  # the search is also a user's id
    joined_from: bool = False
    joined_to: bool = False
    suspended: str = ""
    balance_min: bool = False
    balance_max: bool = False
    role: str = ""
    admins: bool = False  # ADREMIX_ADMIN_EMAILS names someone
    support: bool = False  # ADREMIX_SUPPORT_EMAILS names someone
    sort: str = "joined_desc"
    paid: str = ""
    # A balance sort in a sign-up window, read per period (`_period_page`): how many
    # periods are merged (SQLite), or -1: each read by a lateral subquery (PostgreSQL).
    periods: int = 0
    postgres: bool = False  # how its LIMIT and OFFSET are written (`paging`)


# Beyond this many periods (about 20 years) a window's users are sorted instead.
MAX_PERIODS = 256
# SQLite merges at least this many periods (those past the window's match no one), so
# that one statement serves every window of up to eight periods (seven months).
MIN_MERGED = 8


def _periods(filters: UserFilters) -> list[int]:
    """The periods a balance sort's sign-up window spans ([] if not such a page)."""
    if not (
        filters.sort in ("balance_desc", "balance_asc")
        and filters.joined_from
        and filters.joined_to
        and not filters.q
    ):
        return []
    first = signup_period(day_start(filters.joined_from))
    last = signup_period(day_end(filters.joined_to) - timedelta(seconds=1))
    return list(range(first, last + 1)) if last - first < MAX_PERIODS else []


def _by_prefix(filters: UserFilters) -> bool:
    """Whether a search's page can be read from `user_search_prefix` in its order: sorted
    by sign-up, filtered (if at all) by a sign-up window, which that key carries."""
    return filters.sort in ("joined_desc", "joined_asc") and not (
        filters.paid
        or filters.suspended
        or filters.role
        or filters.balance_min is not None
        or filters.balance_max is not None
    )


def _bound(filters: UserFilters, connection=None) -> tuple[_Shape, dict[str, Any]]:  # type: ignore[no-untyped-def]
    """The filters' shape and values. A search is a prefix of one of the user's terms (or
    the user's id).

    Sorted by sign-up (and filtered by nothing else than a sign-up window), a search of
    up to SEARCH_PREFIX_MAX characters is one range of `user_search_prefix`'s key, in the
    page's order ("prefix"). Otherwise the matching terms are counted, at most
    BROAD_SEARCH of them (with a `connection`): a narrow search lists its few matches and
    sorts them; a broad one would sort thousands, so its page is walked in order instead,
    each user checked against their terms (the user_id index): along the range of the
    search's first SEARCH_PREFIX_MAX characters if sorted by sign-up ("prefix_checked"),
    else along the sort's index ("broad")."""
    values: dict[str, Any] = {}
    search, search_id = "", None
    if filters.q:
        prefix = normalise_search(filters.q)[:SEARCH_TERM_MAX]
        values |= {
            "prefix": prefix,
            "prefix_end": prefix + PREFIX_END,
            "head": prefix[:SEARCH_PREFIX_MAX],
        }
        by_prefix = _by_prefix(filters)
        if by_prefix and len(prefix) <= SEARCH_PREFIX_MAX:
            search = "prefix"
        elif (
            connection is not None
            and connection.execute(_MATCHES, {**values, "broad_from": BROAD_SEARCH}).scalar_one()
            >= BROAD_SEARCH
        ):
            search = "prefix_checked" if by_prefix else "broad"
        else:
            search = "narrow"
        number = filters.q.removeprefix("#")
        search_id = int(number) if number.isdigit() and len(number) < 10 else None
    admins, support = staff_emails() if filters.role else (frozenset(), frozenset())
    postgres = connection is not None and connection.dialect.name == "postgresql"
    periods = _periods(filters) if connection is not None else []
    merged = 0
    if periods and postgres:
        merged = -1
        values["periods"] = periods
    elif periods:
        # Padded (to a power of two) with a period no one signed up in: a few statements
        # serve every window, each compiled once (a dozen merged selects take milliseconds).
        merged = max(MIN_MERGED, 1 << (len(periods) - 1).bit_length())
        padded = periods + [-1] * (merged - len(periods))
        values |= {f"period{n}": period for n, period in enumerate(padded)}
    values |= {
        "search_id": search_id,
        "joined_from": day_start(filters.joined_from) if filters.joined_from else None,
        "joined_to": day_end(filters.joined_to) if filters.joined_to else None,
        "balance_min": filters.balance_min,
        "balance_max": filters.balance_max,
        "admins": sorted(admins),
        "support": sorted(support),
    }
    shape = _Shape(
        search=search,
        search_id=search_id is not None,
        joined_from=filters.joined_from is not None,
        joined_to=filters.joined_to is not None,
        suspended=filters.suspended,
        balance_min=filters.balance_min is not None,
        balance_max=filters.balance_max is not None,
        role=filters.role,
        admins=bool(admins),
        support=bool(support),
        sort=filters.sort,
        paid=filters.paid,
        periods=merged,
        postgres=postgres,
    )
    return shape, values


def _search(shape: _Shape) -> ColumnElement[bool]:
    search_id = bindparam("search_id", type_=Integer)
    if shape.search == "broad":
        condition: ColumnElement[bool] = exists().where(_terms.c.user_id == _users.c.id, _IN_RANGE)
        return or_(condition, _users.c.id == search_id) if shape.search_id else condition
    matching = select(_terms.c.user_id).where(_IN_RANGE)
    # The id joins the list rather than being OR-ed beside it: PostgreSQL would answer
    # `id IN (...) OR id = n` by testing every user.
    return _users.c.id.in_(matching.union(select(search_id)) if shape.search_id else matching)


def _role(shape: _Shape) -> ColumnElement[bool]:
    stored = func.coalesce(_users.c.role, "")  # never NULL, so NOT works as meant
    admins = _users.c.email.in_(bindparam("admins", expanding=True))
    support = _users.c.email.in_(bindparam("support", expanding=True))
    is_admin = or_(stored == Role.ADMIN, admins if shape.admins else false())
    is_support = and_(~is_admin, or_(stored == Role.SUPPORT, support if shape.support else false()))
    if shape.role == Role.ADMIN:
        return is_admin
    if shape.role == Role.SUPPORT:
        return is_support
    if shape.role == "staff":
        return or_(is_admin, is_support)
    return not_(or_(is_admin, is_support))


def _where(shape: _Shape) -> list[ColumnElement[bool]]:
    """The filters as SQL, their values bound parameters (see `_bound`)."""
    found: list[ColumnElement[bool]] = []
    if shape.search:
        found.append(_search(shape))
    if shape.joined_from:
        found.append(_users.c.created_at >= bindparam("joined_from"))
    if shape.joined_to:
        found.append(_users.c.created_at < bindparam("joined_to"))
    if shape.suspended:
        suspended = _users.c.suspended_at.is_not(None)
        found.append(suspended if shape.suspended == "yes" else ~suspended)
    if shape.balance_min:
        found.append(_users.c.credit_balance >= bindparam("balance_min"))
    if shape.balance_max:
        found.append(_users.c.credit_balance <= bindparam("balance_max"))
    if shape.role:
        found.append(_role(shape))
    if shape.sort == "seen_desc":
        # Everyone signs in when their account is made; rows without a sign-in (imported
        # ones) would sort first on PostgreSQL and last on SQLite, so they are left out.
        found.append(_users.c.last_login_at.is_not(None))
    if shape.paid:
        paid = _users.c.paid_paise > 0
        found.append(paid if shape.paid == "yes" else ~paid)
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


def _prefix_page(shape: _Shape) -> Subquery:
    """A search's page of ids read along `user_search_prefix`'s key (see `_bound`): the
    range of the search's first SEARCH_PREFIX_MAX characters, in sign-up order, within
    the sign-up window if any. A user's id searched for joins it: the first
    offset + limit entries of the range and that user, sorted and cut once more."""
    newest = shape.sort == "joined_desc"
    key = (_prefixes.c.created_at, _prefixes.c.user_id)
    found = [_prefixes.c.prefix == bindparam("head")]
    if shape.search == "prefix_checked":
        found.append(exists().where(_terms.c.user_id == _prefixes.c.user_id, _IN_RANGE))
    window = []
    if shape.joined_from:
        window.append(lambda at: at >= bindparam("joined_from"))
    if shape.joined_to:
        window.append(lambda at: at < bindparam("joined_to"))
    found += [within(_prefixes.c.created_at) for within in window]
    ranged = (
        select(_prefixes.c.user_id.label("id"), _prefixes.c.created_at)
        .where(*found)
        .order_by(*[c.desc() if newest else c.asc() for c in key])
    )
    if not shape.search_id:
        return (
            ranged.limit(paging("limit", shape.postgres))
            .offset(paging("offset", shape.postgres))
            .subquery("page")
        )
    head = ranged.limit(paging("reach", shape.postgres)).subquery("head")
    searched = select(_users.c.id, _users.c.created_at).where(
        _users.c.id == bindparam("search_id", type_=Integer),
        *[within(_users.c.created_at) for within in window],
    )
    both = union(select(head.c.id, head.c.created_at), searched).subquery("candidates")
    return (
        select(both.c.id)
        .order_by(*[c.desc() if newest else c.asc() for c in (both.c.created_at, both.c.id)])
        .limit(paging("limit", shape.postgres))
        .offset(paging("offset", shape.postgres))
        .subquery("page")
    )


def _paid(shape: _Shape) -> list[ColumnElement[bool]]:
    """ "Has paid" as the equality ix_user_period_balance ranges on (`_where` keeps the
    paid total's own test beside it)."""
    return [_users.c.has_paid == (shape.paid == "yes")] if shape.paid else []


def _period_page(shape: _Shape) -> Subquery:
    """A balance sort's page of ids within a sign-up window, read per period (four weeks,
    `user.signup_period`) of the window: each period's users in balance order are one
    range of `ix_user_period_balance`, instead of sorting every user of the window. At
    the window's two ends a period is cut by the sign-up time, checked in the index.

    SQLite merges the ranges (a UNION ALL under the page's ORDER BY and LIMIT is merged
    lazily), reading about the page and what the filters pass over. PostgreSQL would plan
    each arm of such a union on every call (a millisecond each), so it reads the first
    offset + limit users of each period by a lateral subquery (planned once, whatever the
    window) and sorts those."""
    desc = shape.sort == "balance_desc"
    if shape.periods < 0:
        period = (
            func.unnest(bindparam("periods", type_=ARRAY(Integer)))
            .table_valued("period")
            .render_derived(name="periods")
        )
        arm = (
            select(_users.c.id, _users.c.credit_balance)
            .where(_users.c.signup_period == period.c.period, *_paid(shape), *_where(shape))
            .order_by(*_order_by(shape.sort))
            .limit(paging("reach", shape.postgres))
            .lateral("arm")
        )
        columns = (arm.c.credit_balance, arm.c.id)
        return (
            select(arm.c.id)
            .select_from(period)
            .join(arm, true())
            .order_by(*[c.desc() if desc else c.asc() for c in columns])
            .limit(paging("limit", shape.postgres))
            .offset(paging("offset", shape.postgres))
            .subquery("page")
        )
    arms = [
        select(_users.c.id, _users.c.credit_balance).where(
            _users.c.signup_period == bindparam(f"period{n}"), *_paid(shape), *_where(shape)
        )
        for n in range(shape.periods)
    ]
    merged = union_all(*arms)
    columns = (merged.selected_columns.credit_balance, merged.selected_columns.id)
    # Bound, unlike PostgreSQL's (see `inline`): SQLite plans a statement alike whatever
    # its LIMIT, and one text per shape is prepared once, not once per page.
    return (
        merged.order_by(*[c.desc() if desc else c.asc() for c in columns])
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
        .subquery("page")
    )


@lru_cache(maxsize=256)
def _users_page(shape: _Shape) -> Select:  # type: ignore[type-arg]
    """A page of users: its ids (and one more, to know whether a next page exists) read
    from the indexes alone, as the sort's index or a joined-between window's range carry
    every filtered column, so no user's row is read before it is known to be on the
    page; then those users.

    A search sorted by sign-up is read along its prefix (`_prefix_page`), a balance sort
    within a joined-between window per period of it (`_period_page`). Such a window open
    at one end (or with a search) sorts the window's users (an index range as long as
    the window) instead of walking the balance index: sign-ups take ids in
    time order, so a window's users sit together at one end of each balance value's run
    (most users hold the same few balances), and the walk can pass over most of the
    table to reach them. `+ 0` keeps the planners (SQLite's has no statistics of value
    ranges) from taking the balance index for the order."""
    if shape.search in ("prefix", "prefix_checked") or shape.periods:
        ids = _prefix_page(shape) if shape.search else _period_page(shape)
        return select(*_COLUMNS).join(ids, ids.c.id == _users.c.id).order_by(*_order_by(shape.sort))
    by_window = shape.sort in ("balance_desc", "balance_asc") and (
        shape.joined_from or shape.joined_to
    )
    page = (
        select(_users.c.id)
        .where(*_where(shape))
        .order_by(*_order_by(shape.sort, by_window=by_window))
        .limit(paging("limit", shape.postgres))
        .offset(paging("offset", shape.postgres))
        .subquery("page")
    )
    return select(*_COLUMNS).join(page, page.c.id == _users.c.id).order_by(*_order_by(shape.sort))


_COLUMNS = (
    _users.c.id,
    _users.c.email,
    _users.c.name,
    _users.c.role,
    _users.c.credit_balance,
    _users.c.created_at,
    _users.c.last_login_at,
    # Shown as yes / no: read as such, with no time to convert on each row.
    _users.c.suspended_at.is_not(None),
    _users.c.deleted_at.is_not(None),
    _users.c.paid_paise,
)


@lru_cache(maxsize=256)
def _checked_page(shape: _Shape) -> Select:  # type: ignore[type-arg]
    """The page, each row ending with the actor's row as the role check reads it
    (access.ACTOR_VALUES), so the check is made in the page's own statement."""
    return _users_page(shape).add_columns(*ACTOR_VALUES)


def _row(values, settings: Settings, staff: frozenset[str]) -> UserRow:  # type: ignore[no-untyped-def]
    """A user of the table; `staff`: every address the settings give a role."""
    user_id, email, name, stored_role, balance, joined, seen, suspended, deleted, paid = values[
        : len(_COLUMNS)
    ]
    if deleted or (stored_role is None and email.strip().lower() not in staff):
        role = None  # effective_role's answer, without its lookups (most rows of a page)
    else:
        role = effective_role(email=email, stored=stored_role, settings=settings)
    return UserRow(
        user_id,
        email,
        name,
        role or "",
        balance,
        joined,
        seen,
        bool(suspended),
        bool(deleted),
        paid,
    )


def find_users(*, actor_id: int, filters: UserFilters, page_size: int = PAGE_SIZE) -> UsersPage:
    """One page of users matching every filter, in the chosen order."""
    with session_scope() as session:
        connection = session.connection()
        shape, values = _bound(filters, connection)
        offset = (filters.page - 1) * page_size
        limits = {"limit": page_size + 1, "offset": offset, "reach": offset + page_size + 1}
        found = connection.execute(
            _checked_page(shape), values | limits | {"actor_id": actor_id}
        ).all()
        if found:
            admit_read(actor_id, found[0][-len(ACTOR_VALUES) :], Permission.VIEW)
        else:
            require(session, actor_id, Permission.VIEW)
        settings = get_settings()  # once, not once a row
        staff = settings.admin_emails | settings.support_emails
        return UsersPage(
            rows=[_row(row, settings, staff) for row in found[:page_size]],
            page=filters.page,
            has_next=len(found) > page_size,
        )


EXPORT_BATCH = 2_000


@lru_cache(maxsize=64)
def _export_batch(shape: _Shape) -> Select:  # type: ignore[type-arg]
    return (
        select(*_COLUMNS)
        .where(*_where(shape), _users.c.id > bindparam("after"))
        .order_by(_users.c.id)
        .limit(EXPORT_BATCH)
    )


def users_for_export(filters: UserFilters) -> Iterator[list[UserRow]]:
    """Every user matching the filters, in batches (by id, each its own short read), for
    the CSV export; the caller has checked the actor's role."""
    shape, values = _bound(replace(filters, page=1))
    last_id = 0
    while True:
        with session_scope() as session:
            rows = (
                session.connection()
                .execute(_export_batch(shape), values | {"after": last_id})
                .all()
            )
            if not rows:
                return
        settings = get_settings()
        staff = settings.admin_emails | settings.support_emails
        yield [_row(row, settings, staff) for row in rows]
        last_id = rows[-1][0]
