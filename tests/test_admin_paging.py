"""How the console's paged statements are written: on SQLite every page of one statement
is one text (LIMIT and OFFSET bound: its planner plans alike whatever they are, and the
driver prepares a text once); on PostgreSQL the LIMIT and OFFSET are in the text, so a
prepared statement is planned for the rows it really returns."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from adremix.db import get_engine
from adremix.services import admin
from tests.factories import make_staff, make_user


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue("database_url" if request.param == "sqlite" else "postgres_url")


@contextmanager
def statements(marker: str) -> Iterator[list[str]]:
    """The texts of the SELECTs naming `marker` run inside the block."""
    seen: list[str] = []
    engine = get_engine()

    def record(conn, cursor, statement: str, *args: object) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().startswith("SELECT") and marker in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


PAGES: dict[str, tuple[str, Callable[[int, int], object]]] = {
    "payments": (
        "payment_order",
        lambda actor, page: admin.list_payments(
            actor_id=actor, filters=admin.PaymentFilters(status="paid", page=page)
        ),
    ),
    "users by balance": (
        "credit_balance",  # not in the role check's read
        lambda actor, page: admin.find_users(
            actor_id=actor, filters=admin.UserFilters(sort="balance_desc", page=page)
        ),
    ),
    "users in a window by balance": (
        "credit_balance",
        lambda actor, page: admin.find_users(
            actor_id=actor,
            filters=admin.UserFilters.from_query(
                {"from": "2026-01-01", "to": "2026-03-01", "sort": "balance_asc", "page": str(page)}
            ),
        ),
    ),
}


@pytest.mark.parametrize("page_kind", list(PAGES))
def test_page_texts(url: str, page_kind: str) -> None:
    """Pages 1-3 of one statement: one text on SQLite, three on PostgreSQL. (A short name:
    PostgreSQL test databases are named after the first 40 letters of the test's id.)"""
    actor = make_staff()
    make_user(email="someone@example.com")
    marker, load = PAGES[page_kind]
    with statements(marker) as seen:
        for page in (1, 2, 3):
            load(actor, page)
    assert len(seen) == 3
    if url.startswith("sqlite"):
        assert len(set(seen)) == 1, seen
    else:
        assert len(set(seen)) == 3, seen
