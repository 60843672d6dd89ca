"""Migration 0006 turns yesterday's orders and ledger into payment and refund rows."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import select

from adremix.__main__ import main as cli
from adremix.db import engine_for, session_scope
from adremix.models import Payment, PaymentOrder, PaymentRefund
from adremix.services import credits, payments
from adremix.settings import get_settings
from tests.conftest import configure_app
from tests.test_migrations import alembic_config

SECRET = "whsec_migration"
NOW = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)


class Legacy:
    """Rows written the way the code before 0006 wrote them."""

    def __init__(self, url: str) -> None:
        self.engine = engine_for(url)
        self.orders = 0

    def user(self, email: str) -> int:
        with self.engine.begin() as db:
            return db.execute(
                text(
                    'INSERT INTO "user" (email, name, avatar_url, credit_balance, is_admin, '
                    "preferences, created_at) VALUES (:e, 'U', '', 0, false, '{}', :now) "
                    "RETURNING id"
                ),
                {"e": email, "now": NOW},
            ).scalar_one()

    def order(self, user_id: int, status: str, payment_id: str | None, credits: int = 10) -> str:
        self.orders += 1
        receipt = f"AR-LEGACY-{self.orders}"
        amount = {10: 19_900, 50: 79_900}[credits]
        with self.engine.begin() as db:
            db.execute(
                text(
                    "INSERT INTO payment_order (receipt_number, user_id, package_code, credits, "
                    "amount_paise, tax_paise, currency, status, provider, provider_order_id, "
                    "provider_payment_id, created_at, paid_at) VALUES (:r, :u, 'starter', :c, "
                    ":a, 0, 'INR', :s, 'razorpay', :o, :p, :now, :paid)"
                ),
                {
                    "r": receipt,
                    "u": user_id,
                    "c": credits,
                    "a": amount,
                    "s": status,
                    "o": f"order_{receipt}",
                    "p": payment_id,
                    "now": NOW,
                    "paid": NOW if status in ("paid", "refunded") else None,
                },
            )
        return receipt

    def entry(
        self, user_id: int, amount: int, kind: str, key: str, ref: str | None, reason: str = ""
    ) -> None:
        with self.engine.begin() as db:
            balance = db.execute(
                text(
                    'UPDATE "user" SET credit_balance = credit_balance + :a WHERE id = :u '
                    "RETURNING credit_balance"
                ),
                {"a": amount, "u": user_id},
            ).scalar_one()
            db.execute(
                text(
                    "INSERT INTO credit_transaction (user_id, amount, kind, reference, "
                    "idempotency_key, balance_after, reason, created_at) "
                    "VALUES (:u, :a, :k, :r, :key, :b, :why, :now)"
                ),
                {
                    "u": user_id,
                    "a": amount,
                    "k": kind,
                    "r": ref,
                    "key": key,
                    "b": balance,
                    "why": reason or None,
                    "now": NOW,
                },
            )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def legacy_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A database at revision 0004 (before payment rows), on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'legacy.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.create_database("t_legacy_" + uuid.uuid4().hex[:12])
    command.upgrade(alembic_config(url), "0004")
    configure_app(monkeypatch, DATABASE_URL=url, RAZORPAY_WEBHOOK_SECRET=SECRET)
    yield url
    get_settings.cache_clear()
    engine_for(url).dispose()


def rows_by_payment(url: str) -> dict[str, Payment]:
    with session_scope(engine_for(url)) as session:
        return {p.provider_payment_id: p for p in session.exec(select(Payment)).all()}


def order_statuses(url: str) -> dict[str, str]:
    with session_scope(engine_for(url)) as session:
        return {o.receipt_number: o.status for o in session.exec(select(PaymentOrder)).all()}


def test_existing_orders_become_payments_and_the_ledger_still_verifies(legacy_url: str) -> None:
    old = Legacy(legacy_url)
    uid = old.user("old@example.com")
    paid = old.order(uid, "paid", "pay_A")
    old.entry(uid, 10, "purchase", "purchase:pay_A", paid)
    full = old.order(uid, "refunded", "pay_B")
    old.entry(uid, 10, "purchase", "purchase:pay_B", full)
    old.entry(uid, -10, "purchase_refund", "purchase_refund:rfnd_B", full, "Refund of 19900 paise")
    half = old.order(uid, "paid", "pay_C", credits=50)
    old.entry(uid, 50, "purchase", "purchase:pay_C", half)
    old.entry(uid, -25, "purchase_refund", "purchase_refund:rfnd_C", half, "Refund of 39950 paise")
    pending = old.order(uid, "pending", "pay_D")
    review = old.order(uid, "review", "pay_E")
    twice = old.order(uid, "paid", "pay_F1")  # late authorisation, granted twice back then
    old.entry(uid, 10, "purchase", "purchase:pay_F1", twice)
    old.entry(uid, 10, "purchase", "purchase:pay_F2", twice)
    spent = old.order(uid, "refunded", "pay_G")  # refunded after the credits were spent
    old.entry(uid, 10, "purchase", "purchase:pay_G", spent)
    old.entry(uid, -10, "generation", "generation:1", "1")
    old.order(uid, "created", None)
    with old.engine.connect() as db:
        before = db.execute(text('SELECT credit_balance FROM "user"')).scalar_one()

    command.upgrade(alembic_config(legacy_url), "head")

    rows = rows_by_payment(legacy_url)
    summary = {
        pid: (
            r.status,
            r.captured,
            r.credits_granted,
            r.refunded_paise,
            r.credits_clawed,
            r.clawback_shortfall,
        )
        for pid, r in rows.items()
    }
    assert summary == {
        "pay_A": ("captured", True, 10, 0, 0, 0),
        "pay_B": ("refunded", True, 10, 19_900, 10, 0),
        "pay_C": ("partially_refunded", True, 50, 39_950, 25, 0),
        "pay_D": ("created", False, 0, 0, 0, 0),
        "pay_E": ("captured", True, 0, 0, 0, 0),
        "pay_F1": ("captured", True, 10, 0, 0, 0),
        "pay_F2": ("captured", True, 10, 0, 0, 0),
        "pay_G": ("refunded", True, 10, 19_900, 0, 10),
    }
    statuses = order_statuses(legacy_url)
    assert (statuses[half], statuses[paid], statuses[full], statuses[pending]) == (
        "partially_refunded",
        "paid",
        "refunded",
        "pending",
    )
    assert statuses[review] == "review"
    with session_scope(engine_for(legacy_url)) as session:
        refund_ids = sorted(session.exec(select(PaymentRefund.provider_refund_id)).all())
        assert credits.get_balance(session=session, user_id=uid) == before
    assert refund_ids == ["legacy:" + spent, "rfnd_B", "rfnd_C"]
    assert cli(["ledger", "verify"]) == 0
    assert [o.receipt_number for o in payments.pending_orders(user_id=uid)] == [pending]

    # The rest of the half-refunded payment is refunded after the upgrade: 25 more back.
    event = {
        "entity": "event",
        "event": "refund.processed",
        "contains": ["refund"],
        "payload": {
            "refund": {
                "entity": {
                    "id": "rfnd_C2",
                    "entity": "refund",
                    "amount": 39_950,
                    "payment_id": "pay_C",
                    "status": "processed",
                    "notes": [],
                }
            }
        },
    }
    body = json.dumps(event).encode()
    outcome = payments.handle_webhook(
        body=body,
        signature=hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest(),
        event_id="evt_after_upgrade",
        secret=SECRET,
    )
    assert outcome == "refunded"
    assert rows_by_payment(legacy_url)["pay_C"].credits_clawed == 50
    assert order_statuses(legacy_url)[half] == "refunded"
    assert cli(["ledger", "verify"]) == 0

    command.downgrade(alembic_config(legacy_url), "0004")
    with old.engine.connect() as db:
        back = dict(
            db.execute(text("SELECT receipt_number, provider_payment_id FROM payment_order")).all()
        )
        status = dict(db.execute(text("SELECT receipt_number, status FROM payment_order")).all())
    assert (back[paid], back[twice], back[pending], back[half]) == (
        "pay_A",
        "pay_F1",
        "pay_D",
        "pay_C",
    )
    assert status[half] == "refunded"


def test_over_clawbacks_of_the_old_code_are_reported_not_hidden(
    legacy_url: str, capsys: pytest.CaptureFixture
) -> None:
    old = Legacy(legacy_url)
    uid = old.user("victim@example.com")
    old.entry(uid, 3, "signup_bonus", "bonus", None)
    receipt = old.order(uid, "paid", "pay_X")
    old.entry(uid, 10, "purchase", "purchase:pay_X", receipt)
    for n, amount in enumerate((6_633, 6_633, 6_634)):  # the old code took 4 each time
        old.entry(
            uid,
            -4,
            "purchase_refund",
            f"purchase_refund:r{n}",
            receipt,
            f"Refund of {amount} paise",
        )

    command.upgrade(alembic_config(legacy_url), "head")

    row = rows_by_payment(legacy_url)["pay_X"]
    assert (row.refunded_paise, row.credits_clawed, row.status) == (19_900, 12, "refunded")
    assert cli(["ledger", "verify"]) == 1
    assert "clawed back 12 (+0 short) of only 10 granted" in capsys.readouterr().err
