"""One intent, one job, one charge: concurrent repeats of a press reach the database once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from adremix.db import session_scope
from adremix.enums import CreditKind
from adremix.models import CreditTransaction, Generation, PaymentOrder
from adremix.services import generation as generations
from adremix.services import payments
from adremix.services.generation import RemixOptions
from adremix.services.storage import LocalStorage
from adremix.settings import get_settings
from tests.factories import balance, buy, confirm, funded_user, jpeg, make_user
from tests.fakes.razorpay_api import FakeRazorpay

PRESSES = 20


def start_concurrently(user_id: int, source_sha: str, key: str) -> set[int]:
    """PRESSES starts of the same intent at once; the generation ids they were given."""

    def start(_: int) -> int:
        started = generations.start_generation(
            user_id=user_id,
            client_request_id=key,
            source_sha256=source_sha,
            options=RemixOptions(instructions="Monsoon sale", variations=2),
            provider="offline",
            model="offline-v1",
            fresh=True,
        )
        return started.generation_id

    with ThreadPoolExecutor(max_workers=PRESSES) as pool:
        return set(pool.map(start, range(PRESSES)))


def reserves(generation_id: int) -> int:
    with session_scope() as session:
        return session.exec(
            select(func.count())
            .select_from(CreditTransaction)
            .where(
                CreditTransaction.kind == CreditKind.GENERATION,
                CreditTransaction.reference == str(generation_id),
            )
        ).one()


def generation_rows(user_id: int) -> int:
    with session_scope() as session:
        return session.exec(
            select(func.count()).select_from(Generation).where(Generation.user_id == user_id)
        ).one()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_twenty_concurrent_starts_with_one_key_make_one_job_and_one_reserve(
    database: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    request.getfixturevalue("database_url" if database == "sqlite" else "postgres_url")
    storage = LocalStorage(tmp_path / "files")
    user_id = funded_user(10)
    source = generations.ingest_source(user_id=user_id, data=jpeg(), storage=storage)

    ids = start_concurrently(user_id, source.sha256, key="intent-1")

    assert len(ids) == 1
    assert generation_rows(user_id) == 1
    assert reserves(ids.pop()) == 1
    assert balance(user_id) == 8


def test_a_new_key_for_the_same_options_is_a_new_job(database_url: str, tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "files")
    user_id = funded_user(10)
    source = generations.ingest_source(user_id=user_id, data=jpeg(), storage=storage)

    first = start_concurrently(user_id, source.sha256, key="intent-1")
    second = start_concurrently(user_id, source.sha256, key="intent-2")

    assert first != second
    assert generation_rows(user_id) == 2
    assert balance(user_id) == 6


# --- Buy ---------------------------------------------------------------------------------


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_twenty_rapid_buy_presses_make_one_razorpay_order(
    database: str, razorpay: FakeRazorpay, request: pytest.FixtureRequest
) -> None:
    request.getfixturevalue("database_url" if database == "sqlite" else "postgres_url")
    user_id = make_user()

    with ThreadPoolExecutor(max_workers=PRESSES) as pool:
        checkouts = list(pool.map(lambda _: buy(user_id, "growth"), range(PRESSES)))

    assert len(razorpay.orders) == 1
    assert {c.provider_order_id for c in checkouts} == set(razorpay.orders)
    assert len({c.receipt_number for c in checkouts}) == 1


def test_each_pack_has_its_own_open_order(razorpay: FakeRazorpay, database_url: str) -> None:
    user_id = make_user()
    growth, starter = buy(user_id, "growth"), buy(user_id, "starter")
    assert growth.provider_order_id != starter.provider_order_id
    assert buy(user_id, "growth") == growth


def test_an_order_older_than_the_reuse_window_is_not_reused(
    razorpay: FakeRazorpay, database_url: str
) -> None:
    user_id = make_user()
    first = buy(user_id, "growth")
    window = get_settings().checkout_reuse_minutes
    with session_scope() as session:
        order = session.exec(
            select(PaymentOrder).where(PaymentOrder.receipt_number == first.receipt_number)
        ).one()
        order.created_at = order.created_at - timedelta(minutes=window + 1)
        session.add(order)

    second = buy(user_id, "growth")

    assert second.provider_order_id != first.provider_order_id
    assert len(razorpay.orders) == 2


def test_a_failed_order_is_not_reused(razorpay: FakeRazorpay, database_url: str) -> None:
    user_id = make_user()
    first = buy(user_id, "growth")
    payments.record_checkout_failure(
        user_id=user_id, provider_order_id=first.provider_order_id, reason="Card declined"
    )
    assert buy(user_id, "growth").provider_order_id != first.provider_order_id


def test_a_paid_pack_can_be_bought_again(razorpay: FakeRazorpay, database_url: str) -> None:
    user_id = make_user()
    first = buy(user_id, "growth")
    confirm(user_id, razorpay.checkout_payment(first.provider_order_id, status="captured"))
    assert buy(user_id, "growth").provider_order_id != first.provider_order_id


def test_too_many_open_checkouts_get_a_clear_message(
    razorpay: FakeRazorpay, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADREMIX_MAX_OPEN_CHECKOUTS", "2")
    get_settings.cache_clear()
    user_id = make_user()
    buy(user_id, "starter")
    buy(user_id, "growth")

    with pytest.raises(payments.TooManyOpenCheckouts, match="2 checkouts open"):
        buy(user_id, "agency")
    assert len(razorpay.orders) == 2
    buy(user_id, "growth")  # reusing an open one is always fine


def test_razorpay_down_leaves_no_open_order_behind(
    razorpay: FakeRazorpay, database_url: str
) -> None:
    user_id = make_user()
    razorpay.fail_next(500)
    with pytest.raises(payments.PaymentsUnavailable):
        buy(user_id, "growth")
    checkout = buy(user_id, "growth")  # the next press creates a fresh order
    assert checkout.provider_order_id in razorpay.orders
