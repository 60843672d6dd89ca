"""Each user's paid total (`user.paid_paise`, what the Users table shows and filters "has
paid" on): kept by the capture's own transaction, left alone by refunds and replays, and
filled by migration 0013 from the payments that granted credits."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from adremix.db import session_scope
from adremix.services import admin
from tests.factories import buy, confirm, make_staff, make_user
from tests.fakes.razorpay_api import FakeRazorpay
from tests.test_migrations import alembic_config

STARTER, GROWTH = 19_900, 79_900  # the packs' prices (settings' defaults)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, razorpay: FakeRazorpay) -> str:
    """The test's database, SQLite or PostgreSQL, after `razorpay` (which configures the
    SQLite one)."""
    return request.getfixturevalue("database_url" if request.param == "sqlite" else "postgres_url")


def paid_totals() -> dict[str, int]:
    with session_scope() as session:
        rows = session.execute(text('SELECT email, paid_paise FROM "user" ORDER BY id')).all()
    return {email: paid for email, paid in rows}


def paid_flags() -> dict[str, bool]:
    """`user.has_paid`, the key the balance pages in a sign-up window range on."""
    with session_scope() as session:
        rows = session.execute(text('SELECT email, has_paid FROM "user" ORDER BY id')).all()
    return {email: bool(flag) for email, flag in rows}


def has_paid(boss: int, answer: str) -> list[str]:
    page = admin.find_users(actor_id=boss, filters=admin.UserFilters(paid=answer))
    return [row.email for row in page.rows]


def payment_id(receipt_number: str) -> int:
    with session_scope() as session:
        return session.execute(
            text(
                "SELECT p.id FROM payment p JOIN payment_order o ON o.id = p.order_id "
                "WHERE o.receipt_number = :r"
            ),
            {"r": receipt_number},
        ).scalar_one()


def business(razorpay: FakeRazorpay) -> int:
    """A buyer of two packs (one refunded in part, one in full), a buyer whose payment
    failed, and one who never bought; returns the admin's id."""
    boss = make_staff("boss@example.com")
    buyer, declined = make_user("buyer@example.com"), make_user("declined@example.com")
    make_user("browser@example.com")
    first, second = buy(buyer), buy(buyer, "growth")
    for checkout in (first, second):
        paid = razorpay.checkout_payment(checkout.provider_order_id, status="captured")
        confirm(buyer, paid)
        confirm(buyer, paid)  # a replay (a double submit) grants and adds nothing more
    failed = buy(declined)
    razorpay.checkout_payment(failed.provider_order_id, status="failed")
    for checkout, amount in ((first, STARTER // 2), (second, GROWTH)):
        admin.refund_payment(
            actor_id=boss,
            payment_id=payment_id(checkout.receipt_number),
            amount_paise=amount,
            reason="Refund",
            idempotency_key=f"refund-{checkout.receipt_number}",
            expected_committed_paise=0,
        )
    return boss


def test_a_capture_adds_to_the_buyers_total_and_refunds_leave_it(
    razorpay: FakeRazorpay, url: str
) -> None:
    boss = make_staff("boss@example.com")
    buyer = make_user("buyer@example.com")
    assert paid_totals()["buyer@example.com"] == 0
    assert "buyer@example.com" in has_paid(boss, "no")

    checkout = buy(buyer)
    paid = razorpay.checkout_payment(checkout.provider_order_id, status="captured")
    confirm(buyer, paid)
    confirm(buyer, paid)  # replayed: already granted

    assert paid_totals()["buyer@example.com"] == STARTER
    assert has_paid(boss, "yes") == ["buyer@example.com"]
    assert "buyer@example.com" not in has_paid(boss, "no")
    assert paid_flags() == {"boss@example.com": False, "buyer@example.com": True}

    admin.refund_payment(
        actor_id=boss,
        payment_id=payment_id(checkout.receipt_number),
        amount_paise=STARTER,
        reason="All of it",
        idempotency_key="refund-all",
        expected_committed_paise=0,
    )
    # What was paid before refunds: a refunded buyer has still paid.
    assert paid_totals()["buyer@example.com"] == STARTER
    assert has_paid(boss, "yes") == ["buyer@example.com"]
    (row,) = admin.find_users(actor_id=boss, filters=admin.UserFilters(paid="yes")).rows
    assert row.paid_paise == STARTER


def test_the_migration_fills_the_totals_the_captures_keep(razorpay: FakeRazorpay, url: str) -> None:
    business(razorpay)
    kept = paid_totals()
    assert kept == {
        "boss@example.com": 0,
        "buyer@example.com": STARTER + GROWTH,
        "declined@example.com": 0,
        "browser@example.com": 0,
    }

    flags = paid_flags()
    assert flags == {email: paid > 0 for email, paid in kept.items()}
    config = alembic_config(url)
    command.downgrade(config, "0012_i14_brand")
    command.upgrade(config, "head")

    assert paid_totals() == kept
    assert paid_flags() == flags
