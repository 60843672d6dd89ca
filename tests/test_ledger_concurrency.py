"""200 parallel spends of 1 credit against a balance of 50: exactly 50 succeed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from adremix.db import engine_for, session_scope
from adremix.services import credits as ledger
from tests.factories import make_user
from tests.ledger_race import spend_concurrently


def _race(url: str) -> None:
    engine = engine_for(url)
    user_id = make_user(email="racer@example.com")
    with session_scope(engine) as session:
        ledger.grant(
            session=session, user_id=user_id, amount=50, kind="purchase", idempotency_key="fund"
        )

    succeeded, refused = spend_concurrently(engine, user_id=user_id, attempts=200, workers=32)

    assert (succeeded, refused) == (50, 150)
    with session_scope(engine) as session:
        assert ledger.get_balance(session=session, user_id=user_id) == 0
        assert ledger.find_mismatches(session=session) == []


def test_parallel_spends_never_overdraw_on_sqlite(database_url: str) -> None:
    _race(database_url)


@pytest.mark.postgres
def test_parallel_spends_never_overdraw_on_postgresql(postgres_url: str) -> None:
    _race(postgres_url)


@pytest.mark.postgres
def test_parallel_grants_with_one_key_apply_once_on_postgresql(postgres_url: str) -> None:
    engine = engine_for(postgres_url)
    user_id = make_user(email="dup@example.com")

    def grant(_: int) -> bool:
        with session_scope(engine) as session:
            entry = ledger.grant(
                session=session,
                user_id=user_id,
                amount=10,
                kind="purchase",
                idempotency_key="purchase:pay_same",
            )
        return entry.replayed

    with ThreadPoolExecutor(max_workers=16) as pool:
        replayed = list(pool.map(grant, range(64)))
    assert replayed.count(False) == 1
    with session_scope(engine) as session:
        assert ledger.get_balance(session=session, user_id=user_id) == 10
        assert ledger.find_mismatches(session=session) == []
