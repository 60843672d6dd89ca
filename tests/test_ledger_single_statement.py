"""A credit movement is one statement on PostgreSQL (an insert and an update on SQLite),
inside the caller's transaction, and keeps the ledger's promises: never below zero, once
per idempotency key, a repeat returning the first entry."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError

from adremix.db import engine_for, session_scope
from adremix.models import CreditTransaction, User
from adremix.services import credits as ledger
from tests.driver_calls import DriverCall, recording_engine, statements
from tests.factories import funded_user


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest) -> str:
    """The test's database, migrated and in use by `session_scope()`: SQLite, PostgreSQL."""
    fixture = "database_url" if request.param == "sqlite" else "postgres_url"
    return request.getfixturevalue(fixture)


@pytest.fixture
def recorded(url: str) -> Iterator[tuple[Engine, list[DriverCall]]]:
    """An engine configured as the app's whose driver records every statement it runs."""
    engine, calls = recording_engine(url)
    with engine.connect():  # the connection's own set-up (SQLite's PRAGMAs) before any test
        pass
    yield engine, calls
    engine.dispose()


@contextmanager
def statements_sent(calls: list[DriverCall]) -> Iterator[list[str]]:
    """The SQL statements handed to the driver inside the block (transaction control aside)."""
    start = len(calls)
    sent: list[str] = []
    yield sent
    sent.extend(call.sql for call in statements(calls[start:]))


def balance_and_entries(url: str, user_id: int) -> tuple[int, int]:
    with session_scope(engine_for(url)) as session:
        assert ledger.find_mismatches(session=session) == []
        entries = session.execute(
            select(func.count())
            .select_from(CreditTransaction)
            .where(CreditTransaction.user_id == user_id)
        ).scalar_one()
        return ledger.get_balance(session=session, user_id=user_id), entries


def test_a_spend_is_one_statement_on_postgresql_and_two_on_sqlite(
    url: str, recorded: tuple[Engine, list[DriverCall]]
) -> None:
    user_id = funded_user(10)
    engine, calls = recorded
    per_movement = 1 if engine.dialect.name == "postgresql" else 2

    with statements_sent(calls) as sent, session_scope(engine) as session:
        entry = ledger.spend(session=session, user_id=user_id, amount=4, idempotency_key="g:1")
    assert len(sent) == per_movement, sent
    assert (entry.amount, entry.balance_after, entry.replayed) == (-4, 6, False)

    # A repeat: one statement on PostgreSQL (it returns the first entry); on SQLite the
    # insert that wrote nothing and one read of the first entry.
    with statements_sent(calls) as sent, session_scope(engine) as session:
        again = ledger.spend(session=session, user_id=user_id, amount=4, idempotency_key="g:1")
    assert len(sent) == per_movement, sent
    assert again == dataclasses.replace(entry, replayed=True)
    assert balance_and_entries(url, user_id) == (6, 2)


def test_a_spend_on_its_own_is_one_transaction_without_the_orm(
    url: str, recorded: tuple[Engine, list[DriverCall]]
) -> None:
    user_id = funded_user(10)
    engine, calls = recorded
    per_movement = 1 if engine.dialect.name == "postgresql" else 2

    with statements_sent(calls) as sent:
        entry = ledger.spend_credits(
            engine=engine, user_id=user_id, amount=4, idempotency_key="s:1"
        )
    assert len(sent) == per_movement, sent
    assert (entry.amount, entry.balance_after, entry.replayed) == (-4, 6, False)

    again = ledger.spend_credits(user_id=user_id, amount=4, idempotency_key="s:1")
    assert again == dataclasses.replace(entry, replayed=True)
    with pytest.raises(ledger.InsufficientCredits):
        ledger.spend_credits(user_id=user_id, amount=7, idempotency_key="s:2")
    assert balance_and_entries(url, user_id) == (6, 2)


def test_parallel_repeats_of_one_spend_apply_it_once(url: str) -> None:
    user_id = funded_user(10)

    def reserve(_: int) -> ledger.Entry:
        with session_scope(engine_for(url)) as session:
            return ledger.spend(
                session=session, user_id=user_id, amount=3, idempotency_key="generation:7:reserve"
            )

    with ThreadPoolExecutor(max_workers=16) as pool:
        entries = list(pool.map(reserve, range(48)))

    assert [entry.replayed for entry in entries].count(False) == 1
    assert {(entry.id, entry.amount, entry.balance_after) for entry in entries} == {
        (entries[0].id, -3, 7)
    }
    assert balance_and_entries(url, user_id) == (7, 2)


def test_a_repeat_is_replayed_even_when_the_balance_no_longer_covers_it(url: str) -> None:
    user_id = funded_user(5)
    with session_scope() as session:
        first = ledger.spend(session=session, user_id=user_id, amount=5, idempotency_key="g:2")
    with session_scope() as session:
        again = ledger.spend(session=session, user_id=user_id, amount=5, idempotency_key="g:2")
    assert (again.id, again.replayed, again.balance_after) == (first.id, True, 0)
    assert balance_and_entries(url, user_id) == (0, 2)


def test_an_overdraw_says_what_is_needed_and_writes_nothing(url: str) -> None:
    user_id = funded_user(2)
    with pytest.raises(ledger.InsufficientCredits) as raised, session_scope() as session:
        ledger.spend(session=session, user_id=user_id, amount=3, idempotency_key="g:3")
    assert (raised.value.needed, raised.value.available) == (3, 2)
    assert balance_and_entries(url, user_id) == (2, 1)


def test_a_movement_for_an_unknown_user_is_refused(url: str) -> None:
    with pytest.raises(ledger.UnknownUser), session_scope() as session:
        ledger.grant(
            session=session, user_id=987654, amount=5, kind="purchase", idempotency_key="nobody"
        )
    with session_scope() as session:
        assert session.execute(select(func.count()).select_from(CreditTransaction)).scalar() == 0


def test_a_spend_in_a_rolled_back_caller_transaction_leaves_no_trace(url: str) -> None:
    user_id = funded_user(10)

    class CallerFailed(Exception):
        pass

    with pytest.raises(CallerFailed), session_scope() as session:
        session.add(User(email="other@example.com"))  # the caller's own work, same transaction
        ledger.spend(session=session, user_id=user_id, amount=4, idempotency_key="g:4")
        raise CallerFailed

    assert balance_and_entries(url, user_id) == (10, 1)
    with session_scope() as session:
        assert session.exec(select(User).where(User.email == "other@example.com")).first() is None
        # The key was never used: it spends now.
        entry = ledger.spend(session=session, user_id=user_id, amount=4, idempotency_key="g:4")
    assert (entry.replayed, entry.balance_after) == (False, 6)


def test_a_user_loaded_by_the_caller_shows_the_new_balance_without_a_reload(
    url: str, recorded: tuple[Engine, list[DriverCall]]
) -> None:
    user_id = funded_user(10)
    engine, calls = recorded
    per_movement = 1 if engine.dialect.name == "postgresql" else 2
    with session_scope(engine) as session:
        user = session.get(User, user_id)
        assert user is not None and user.credit_balance == 10
        with statements_sent(calls) as sent:
            ledger.spend(session=session, user_id=user_id, amount=3, idempotency_key="g:5")
            assert user.credit_balance == 7
            ledger.grant(
                session=session, user_id=user_id, amount=5, kind="purchase", idempotency_key="p:5"
            )
            assert user.credit_balance == 12
            assert user not in session.dirty  # in step with the database, nothing to flush
        assert len(sent) == 2 * per_movement, sent
    assert balance_and_entries(url, user_id) == (12, 3)


def _waiting_on_a_lock(url: str) -> bool:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()
    return bool(row and row[0])


@pytest.mark.postgres
@pytest.mark.parametrize("funds", [5, 10], ids=["then_too_little", "then_enough"])
def test_racing_repeat_waits_and_is_replayed(postgres_url: str, funds: int) -> None:
    """The second transaction's statement starts before the first commits, so it cannot
    see the first entry: it waits on the user's row lock, then must neither overdraw,
    nor report an overdraw, nor move the balance a second time."""
    user_id = funded_user(funds)
    engine = engine_for(postgres_url)
    first_session = session_scope(engine)
    session = first_session.__enter__()
    first = ledger.spend(session=session, user_id=user_id, amount=5, idempotency_key="g:6")

    outcome: list[ledger.Entry | BaseException] = []

    def repeat() -> None:
        try:
            with session_scope(engine) as other:
                outcome.append(
                    ledger.spend(session=other, user_id=user_id, amount=5, idempotency_key="g:6")
                )
        except BaseException as exc:
            outcome.append(exc)

    racer = threading.Thread(target=repeat)
    racer.start()
    deadline = time.monotonic() + 10
    while not _waiting_on_a_lock(postgres_url):
        assert time.monotonic() < deadline, "the repeat never waited for the first spend"
        time.sleep(0.02)
    first_session.__exit__(None, None, None)  # commit the first spend
    racer.join(timeout=10)

    assert len(outcome) == 1 and isinstance(outcome[0], ledger.Entry), outcome
    assert (outcome[0].id, outcome[0].replayed) == (first.id, True)
    assert balance_and_entries(postgres_url, user_id) == (funds - 5, 2)


@pytest.mark.postgres
def test_a_connection_the_server_dropped_costs_one_transaction_then_the_pool_reconnects(
    postgres_url: str,
) -> None:
    """No pre-ping on checkout (a round trip per transaction): a dropped connection fails
    its transaction, which moves nothing, and the pool replaces all its older connections."""
    user_id = funded_user(10)
    engine = engine_for(postgres_url)
    held = [engine.connect() for _ in range(3)]  # three pooled connections
    for connection in held:
        connection.close()
    dsn = make_url(postgres_url).set(drivername="postgresql").render_as_string()
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )

    with pytest.raises(DBAPIError) as raised, session_scope(engine) as session:
        ledger.spend(session=session, user_id=user_id, amount=1, idempotency_key="g:7")
    assert raised.value.connection_invalidated

    for attempt in range(2):  # the other two stale connections are not handed out
        with session_scope(engine) as session:
            entry = ledger.spend(
                session=session, user_id=user_id, amount=1, idempotency_key=f"g:8:{attempt}"
            )
        assert not entry.replayed
    assert balance_and_entries(postgres_url, user_id) == (8, 3)


def test_a_refused_movement_raises_sqlalchemys_error_and_writes_nothing(url: str) -> None:
    """The ledger speaks to the driver directly; callers still get SQLAlchemy's exceptions
    (an unknown kind breaks the table's CHECK constraint)."""
    user_id = funded_user(10)
    with pytest.raises(IntegrityError), session_scope() as session:
        ledger.grant(session=session, user_id=user_id, amount=5, kind="bogus", idempotency_key="k")
    assert balance_and_entries(url, user_id) == (10, 1)
