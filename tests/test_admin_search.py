"""The Users table's search read from `user_search_prefix` (each prefix of a user's terms,
keyed in sign-up order): on a randomized set of users it finds exactly what the search's
definition says, in the same order and pages, as the plans that count and sort the
matching terms do; the prefixes follow renames, deletions and a changed sign-up time,
and migration 0014 fills them as `reindex_user` keeps them."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import text

from adremix.db import session_scope
from adremix.models import User, signup_period
from adremix.services import accounts, admin
from adremix.services.accounts import VerifiedIdentity, search_terms, upsert_user
from adremix.services.admin import directory
from tests.factories import make_staff
from tests.test_migrations import alembic_config

FIRST = ["maya", "mayank", "ravi", "ravina", "anna", "an", "zoë", "o'neil"]
LAST = ["rao", "raof", "kumar", "kumaraswamy", "iyer", "das"]
DOMAINS = ["example.com", "ex.in", "bigcompany.example", "mail.co"]
START = datetime(2026, 1, 1, tzinfo=UTC)
PAGE = 4


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue("database_url" if request.param == "sqlite" else "postgres_url")


def sign_up(rng: random.Random, n: int) -> None:
    """A user as sign-in makes them, joined at a random day (several on the same moment,
    so the id breaks ties), sometimes renamed afterwards."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    email = f"{first}.{last}{n}@{rng.choice(DOMAINS)}"
    with session_scope() as session:
        user, _ = upsert_user(
            session=session,
            identity=VerifiedIdentity(email=email, name=f"{first} {last}", subject=email),
        )
        user.created_at = START + timedelta(days=rng.randrange(60))
        session.add(user)
    if rng.random() < 0.2:
        with session_scope() as session:
            upsert_user(
                session=session,
                identity=VerifiedIdentity(email=email, name=rng.choice(LAST), subject=email),
            )


def everyone() -> list[tuple[int, datetime, set[str]]]:
    with session_scope() as session:
        users = session.execute(text('SELECT id, email, name FROM "user"')).all()
        joined = {u.id: u.created_at for u in session.query(User).all()}
    return [(i, joined[i], search_terms(email=e, name=n)) for i, e, n in users]


def matches(users: list[tuple[int, datetime, set[str]]], query: dict[str, str]) -> list[int]:
    """The search's definition, read off every user: a prefix of one of their terms (or
    their id), within the sign-up window, in sign-up order (the id breaking ties)."""
    filters = admin.UserFilters.from_query(query)
    prefix = accounts.normalise_search(filters.q)
    number = filters.q.removeprefix("#")
    found = sorted(
        (joined, user_id)
        for user_id, joined, terms in users
        if any(term.startswith(prefix) for term in terms)
        or (number.isdigit() and int(number) == user_id)
    )
    if filters.joined_from:
        found = [f for f in found if f[0] >= directory.day_start(filters.joined_from)]
    if filters.joined_to:
        found = [f for f in found if f[0] < directory.day_end(filters.joined_to)]
    if filters.sort == "joined_desc":
        found.reverse()
    return [user_id for _, user_id in found]


def expected(users: list[tuple[int, datetime, set[str]]], query: dict[str, str]) -> list[int]:
    page = admin.UserFilters.from_query(query).page
    return matches(users, query)[(page - 1) * PAGE : page * PAGE]


def plan(query: dict[str, str]) -> str:
    with session_scope() as session:
        filters = admin.UserFilters.from_query(query)
        return directory._bound(filters, session.connection())[0].search


def searched(actor: int, query: dict[str, str]) -> list[int]:
    filters = admin.UserFilters.from_query(query)
    return [
        row.id for row in admin.find_users(actor_id=actor, filters=filters, page_size=PAGE).rows
    ]


def queries(rng: random.Random, users: list[tuple[int, datetime, set[str]]]) -> list[dict]:
    made = []
    for _ in range(150):
        user_id, _, terms = rng.choice(users)
        term = rng.choice(sorted(terms))
        q = rng.choice(
            [term[: rng.randrange(1, len(term) + 1)], f"#{user_id}", str(user_id), term.upper()]
        )
        query = {"q": q, "sort": rng.choice(["joined_desc", "joined_asc"])}
        query["page"] = str(rng.choice([1, 1, 2, 3]))
        if rng.random() < 0.3:
            day = (START + timedelta(days=rng.randrange(60))).date()
            query["from"] = day.isoformat()
            query["to"] = (day + timedelta(days=rng.randrange(20))).isoformat()
        made.append(query)
    return made


@pytest.mark.parametrize("broad_from", [1_000, 1], ids=["narrow", "broad"])
def test_search_plans(url: str, monkeypatch: pytest.MonkeyPatch, broad_from: int) -> None:
    """Searches sorted by sign-up (read from the prefixes), with and without a sign-up
    window, each page against the definition; the same searches sorted by e-mail (the
    plans that count the terms) find the same users."""
    rng = random.Random(14)
    boss = make_staff("boss@example.com")
    with session_scope() as session:  # made without signing in: indexed as sign-in would
        accounts.reindex_user(session, session.get_one(User, boss))
    for n in range(90):
        sign_up(rng, n)
    with session_scope() as session:
        gone, email = session.execute(
            text("SELECT id, email FROM \"user\" WHERE email LIKE 'maya.%' ORDER BY id")
        ).first()
    accounts.delete_account(user_id=gone, confirm_email=email)
    users = everyone()
    # A search longer than the prefixes kept is counted, then checked user by user along
    # the range of its first characters (broad) or its few matches sorted (narrow).
    monkeypatch.setattr(directory, "BROAD_SEARCH", broad_from)
    plans = set()
    for query in queries(rng, users):
        assert searched(boss, query) == expected(users, query), query
        plans.add(plan(query))
        # Sorted another way, the same search takes the plans that count the terms
        # (narrow, or broad along the sort's index): the same users.
        other = admin.UserFilters.from_query({**query, "sort": "email_asc", "page": "1"})
        rows = admin.find_users(actor_id=boss, filters=other, page_size=1_000).rows
        assert sorted(row.id for row in rows) == sorted(matches(users, query)), query
    assert plans == {"prefix", "prefix_checked" if broad_from == 1 else "narrow"}


def prefixes() -> set[tuple[str, str, int]]:
    with session_scope() as session:
        rows = session.execute(
            text("SELECT prefix, created_at, user_id FROM user_search_prefix")
        ).all()
    return {(prefix, str(joined), user_id) for prefix, joined, user_id in rows}


def test_prefixes_follow_the_user_and_the_migration_fills_them(url: str) -> None:
    rng = random.Random(7)
    for n in range(12):
        sign_up(rng, n)
    kept = prefixes()
    held = {(p, u) for p, _, u in kept}
    assert held == {
        (p, user_id) for user_id, _, terms in everyone() for p in accounts.search_prefixes(terms)
    }
    with session_scope() as session:  # a changed sign-up time moves the user's prefixes
        session.get_one(User, 1).created_at = START - timedelta(days=3)
    with session_scope() as session:
        joined = session.execute(text('SELECT created_at FROM "user" WHERE id = 1')).scalar_one()
    assert {j for _, j, u in prefixes() if u == 1} == {str(joined)}
    assert {(p, u) for p, _, u in prefixes()} == held
    kept = prefixes()

    config = alembic_config(url)
    command.downgrade(config, "0013_i12_paid_total")
    command.upgrade(config, "head")

    assert prefixes() == kept


# --- balance sorts within a sign-up window: read per period of four weeks ----------------

IST = timezone(timedelta(hours=5, minutes=30))  # the console's calendar


def join(rng: random.Random, n: int, at: datetime) -> None:
    """A user as the Users table sees them: sign-up time, balance, paid total."""
    paid = rng.random() < 0.4
    with session_scope() as session:
        session.add(
            User(
                email=f"user{n}@example.com",
                name=f"User {n}",
                created_at=at,
                # Most hold the same balance (the sign-up bonus), as in use.
                credit_balance=rng.randrange(0, 400) if paid else rng.choice([3, 3, 3, 0]),
                paid_paise=rng.randrange(1, 10) * 19_900 if paid else 0,
            )
        )


def window_query(rng: random.Random) -> dict[str, str]:
    start = (START + timedelta(days=rng.randrange(-3, 80))).astimezone(IST).date()
    query = {
        "from": start.isoformat(),
        "to": (start + timedelta(days=rng.randrange(-1, 100))).isoformat(),
        "sort": rng.choice(["balance_desc", "balance_asc"]),
        "page": str(rng.choice([1, 1, 2, 4])),
    }
    if rng.random() < 0.6:
        query["paid"] = rng.choice(["yes", "no"])
    if rng.random() < 0.5:
        query["min"] = str(rng.randrange(0, 5))
    if rng.random() < 0.5:
        query["max"] = str(rng.randrange(3, 300))
    return query


def by_balance(query: dict[str, str]) -> list[int]:
    """The page by the filters' definition, read off every user in Python."""
    filters = admin.UserFilters.from_query(query)
    assert filters.joined_from and filters.joined_to
    start, end = directory.day_start(filters.joined_from), directory.day_end(filters.joined_to)
    with session_scope() as session:
        users = [
            (u.credit_balance, u.id)
            for u in session.query(User).all()
            if start <= u.created_at < end
            and (filters.balance_min is None or u.credit_balance >= filters.balance_min)
            and (filters.balance_max is None or u.credit_balance <= filters.balance_max)
            and (not filters.paid or (u.paid_paise > 0) == (filters.paid == "yes"))
        ]
    users.sort(reverse=filters.sort == "balance_desc")
    return [user_id for _, user_id in users[(filters.page - 1) * PAGE : filters.page * PAGE]]


def test_balance_sorts_in_a_window_read_per_period(url: str) -> None:
    """Users joined over ~4 periods (several at a period's first and last moment);
    balance sorts within random windows (whole periods, cut ones, one day, an empty one)
    read per period, each page as the definition says."""
    rng = random.Random(15)
    boss = make_staff("boss@example.com")
    first = directory.day_start(date(1970, 1, 1) + timedelta(days=28 * signup_period(START)))
    assert signup_period(first) == signup_period(first - timedelta(seconds=1)) + 1
    moments = [START + timedelta(hours=rng.randrange(100 * 24)) for _ in range(150)]
    moments += [
        first + timedelta(days=28 * k) + edge
        for k in range(1, 5)
        for edge in (timedelta(0), timedelta(seconds=-1))
    ]
    for n, at in enumerate(moments):
        join(rng, n, at)
    by_period, windows = 0, 0
    for _ in range(120):
        query = window_query(rng)
        by_period += plan_periods(query) != 0
        windows += query["to"] >= query["from"]  # else nothing to read: an empty range
        filters = admin.UserFilters.from_query(query)
        page = admin.find_users(actor_id=boss, filters=filters, page_size=PAGE)
        assert [row.id for row in page.rows] == by_balance(query), query
    assert by_period >= windows > 100


def plan_periods(query: dict[str, str]) -> int:
    with session_scope() as session:
        filters = admin.UserFilters.from_query(query)
        return directory._bound(filters, session.connection())[0].periods


def test_the_sign_up_period_follows_the_sign_up_and_the_migration_fills_it(url: str) -> None:
    rng = random.Random(16)
    for n in range(20):
        join(rng, n, START + timedelta(hours=rng.randrange(120 * 24)))
    with session_scope() as session:
        session.get_one(User, 1).created_at = START - timedelta(days=30)

    def periods() -> dict[int, tuple[int, int]]:
        with session_scope() as session:
            return {
                u.id: (u.signup_period, signup_period(u.created_at)) for u in session.query(User)
            }

    kept = periods()
    assert all(stored == computed for stored, computed in kept.values())
    assert len({stored for stored, _ in kept.values()}) > 2

    config = alembic_config(url)
    command.downgrade(config, "0014_i12_search_prefix")
    command.upgrade(config, "head")

    assert periods() == kept
