"""Money from the admin console: credit adjustments, refunds through the Razorpay SDK
with their clawbacks and credit notes, reconciling missed webhooks, and the races."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from adremix.__main__ import main as cli
from adremix.api import build_api_app
from adremix.db import session_scope
from adremix.enums import DocumentKind
from adremix.models import (
    AdminRefund,
    AuditEntry,
    CreditTransaction,
    Payment,
    PaymentOrder,
    PaymentRefund,
    TaxDocument,
)
from adremix.services import admin
from adremix.settings import get_settings
from tests.factories import balance, buy, confirm, make_staff, make_user, spend_credits
from tests.fakes.razorpay_api import FakeRazorpay
from tests.razorpay_steps import send_refund_event

PACK_PAISE = 19_900  # the starter pack: 10 credits


def paid_pack(razorpay: FakeRazorpay, user_id: int) -> tuple[int, str]:
    """A starter pack bought and confirmed; (payment row id, Razorpay payment id)."""
    checkout = buy(user_id)
    paid = razorpay.checkout_payment(checkout.provider_order_id, status="captured")
    confirm(user_id, paid)
    provider_id = paid["razorpay_payment_id"]
    with session_scope() as session:
        row = session.exec(select(Payment).where(Payment.provider_payment_id == provider_id)).one()
        assert row.id is not None
        return row.id, provider_id


def refund(
    actor: int, payment_id: int, paise: int, key: str, committed: int = 0
) -> admin.RefundOutcome:
    return admin.refund_payment(
        actor_id=actor,
        payment_id=payment_id,
        amount_paise=paise,
        reason="Customer asked",
        idempotency_key=key,
        expected_committed_paise=committed,
    )


def audit_actions() -> list[str]:
    with session_scope() as session:
        return list(session.exec(select(AuditEntry.action).order_by(AuditEntry.seq)).all())  # type: ignore[arg-type]


def credit_notes() -> list[TaxDocument]:
    with session_scope() as session:
        return list(
            session.exec(
                select(TaxDocument).where(TaxDocument.kind == DocumentKind.CREDIT_NOTE)
            ).all()
        )


# --- credit adjustments -----------------------------------------------------------------------


def test_an_adjustment_grants_or_deducts_with_its_reason_and_actor(database_url: str) -> None:
    boss = make_staff("boss@example.com")
    target = make_user(email="target@example.com")
    granted = admin.adjust_credits(
        actor_id=boss, user_id=target, amount=12, reason="Goodwill", idempotency_key="intent-one"
    )
    deducted = admin.adjust_credits(
        actor_id=boss, user_id=target, amount=-2, reason="Typo", idempotency_key="intent-two"
    )
    assert (granted.balance_after, deducted.balance_after) == (12, 10)
    with pytest.raises(admin.AdminActionRefused, match="balance is 10"):
        admin.adjust_credits(
            actor_id=boss, user_id=target, amount=-11, reason="Too much", idempotency_key="i-3"
        )
    assert balance(target) == 10
    with session_scope() as session:
        rows = session.exec(select(CreditTransaction).order_by(CreditTransaction.id)).all()  # type: ignore[arg-type]
        entries = session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()  # type: ignore[arg-type]
    assert [(r.kind, r.amount, r.reason) for r in rows] == [
        ("admin_adjustment", 12, "Goodwill"),
        ("admin_adjustment", -2, "Typo"),
    ]
    assert [(e.actor, e.reason, e.before, e.after.count('"balance":10')) for e in entries][1] == (
        "boss@example.com",
        "Typo",
        '{"balance":12}',
        1,
    )


def test_the_same_adjustment_submitted_twice_applies_once(database_url: str) -> None:
    boss = make_staff("boss@example.com")
    target = make_user(email="target@example.com")
    first = admin.adjust_credits(
        actor_id=boss, user_id=target, amount=5, reason="Goodwill", idempotency_key="form-intent"
    )
    again = admin.adjust_credits(
        actor_id=boss, user_id=target, amount=5, reason="Goodwill", idempotency_key="form-intent"
    )
    assert (first.repeated, again.repeated) == (False, True)
    assert again.balance_after == first.balance_after == balance(target) == 5
    assert audit_actions() == ["credit_adjustment"]


def test_the_credits_grant_command_is_audited_as_the_command_line(database_url: str) -> None:
    make_user(email="vip@example.com")
    assert cli(["credits", "grant", "vip@example.com", "7", "--reason", "Prize"]) == 0
    with session_scope() as session:
        entry = session.exec(select(AuditEntry)).one()
    assert (entry.action, entry.actor, entry.actor_id, entry.reason) == (
        "credit_adjustment",
        "command line",
        None,
        "Prize",
    )


# --- refunds --------------------------------------------------------------------------------


def test_a_partial_refund_goes_through_the_sdk_and_claws_back_by_the_rule(
    razorpay: FakeRazorpay, database_url: str
) -> None:
    boss = make_staff("boss@example.com")
    buyer = make_user(email="buyer@example.com")
    payment_id, provider_id = paid_pack(razorpay, buyer)
    preview = admin.refund_preview(actor_id=boss, payment_id=payment_id)
    assert (preview.refundable_paise, preview.credits_granted, preview.balance) == (19_900, 10, 10)
    assert preview.clawback_for(6_633) == (3, 0)

    done = refund(boss, payment_id, 6_633, "intent-refund-1")

    assert (done.status, done.credits_taken, done.shortfall, done.repeated) == (
        "processed",
        3,
        0,
        False,
    )
    assert balance(buyer) == 7
    keys = razorpay.refund_idempotency_keys()
    assert list(keys) == ["adremix-admin-intent-refund-1"]  # the X-Refund-Idempotency header
    assert razorpay.payment(provider_id)["amount_refunded"] == 6_633
    with session_scope() as session:
        row = session.get(Payment, payment_id)
        assert row is not None
        assert (row.status, row.refunded_paise, row.credits_clawed) == (
            "partially_refunded",
            6_633,
            3,
        )
    (note,) = credit_notes()
    assert note.total_paise == 6_633  # issue 13: every processed refund gets its credit note
    assert audit_actions() == ["refund"]
    assert cli(["ledger", "verify"]) == 0 and cli(["invoices", "verify"]) == 0


def test_a_refund_shows_and_records_what_the_buyer_already_spent(
    razorpay: FakeRazorpay, database_url: str
) -> None:
    boss = make_staff("boss@example.com")
    buyer = make_user(email="buyer@example.com")
    payment_id, _ = paid_pack(razorpay, buyer)
    spend_credits(buyer, 8)
    preview = admin.refund_preview(actor_id=boss, payment_id=payment_id)
    assert preview.clawback_for(PACK_PAISE) == (2, 8)  # shown before confirming

    done = refund(boss, payment_id, PACK_PAISE, "intent-full")

    assert (done.credits_taken, done.shortfall) == (2, 8)
    assert balance(buyer) == 0  # never below zero
    with session_scope() as session:
        row = session.get(Payment, payment_id)
        assert row is not None
        assert (row.status, row.credits_clawed, row.clawback_shortfall) == ("refunded", 2, 8)
    assert cli(["ledger", "verify"]) == 0


def test_a_repeated_refund_submission_refunds_once(
    razorpay: FakeRazorpay, database_url: str
) -> None:
    boss = make_staff("boss@example.com")
    buyer = make_user(email="buyer@example.com")
    payment_id, _ = paid_pack(razorpay, buyer)
    first = refund(boss, payment_id, 5_000, "intent-same")
    again = refund(boss, payment_id, 5_000, "intent-same")
    assert again.repeated and again.refund_id == first.refund_id
    assert len(razorpay.refunds) == 1 and balance(buyer) == 8


def test_a_refund_of_a_changed_payment_or_over_the_amount_is_refused(
    razorpay: FakeRazorpay, database_url: str
) -> None:
    boss = make_staff("boss@example.com")
    buyer = make_user(email="buyer@example.com")
    payment_id, _ = paid_pack(razorpay, buyer)
    refund(boss, payment_id, 5_000, "intent-aaaa")
    with pytest.raises(admin.AdminActionRefused, match="changed since you opened it"):
        refund(boss, payment_id, 5_000, "intent-bbbb", committed=0)
    with pytest.raises(admin.AdminActionRefused, match="At most"):
        refund(boss, payment_id, 15_000, "intent-cccc", committed=5_000)
    assert len(razorpay.refunds) == 1


def test_razorpay_unreachable_leaves_the_refund_to_retry_with_the_same_key(
    razorpay: FakeRazorpay, database_url: str
) -> None:
    boss = make_staff("boss@example.com")
    buyer = make_user(email="buyer@example.com")
    payment_id, _ = paid_pack(razorpay, buyer)
    razorpay.fail_next(503)
    with pytest.raises(admin.AdminActionRefused, match="Retry refund"):
        refund(boss, payment_id, 10_000, "intent-flaky")
    assert admin.refund_preview(actor_id=boss, payment_id=payment_id).in_flight
    # Another admin cannot start a second refund meanwhile.
    with pytest.raises(admin.AdminActionRefused, match="being made right now"):
        refund(boss, payment_id, 10_000, "intent-other", committed=10_000)

    done = admin.retry_refund(actor_id=boss, payment_id=payment_id)

    assert done.status == "processed" and balance(buyer) == 5
    assert list(razorpay.refund_idempotency_keys()) == ["adremix-admin-intent-flaky"]
    assert not admin.refund_preview(actor_id=boss, payment_id=payment_id).in_flight


def test_a_refund_razorpay_refuses_frees_the_payment(
    razorpay: FakeRazorpay, database_url: str
) -> None:
    boss = make_staff("boss@example.com")
    buyer = make_user(email="buyer@example.com")
    payment_id, _ = paid_pack(razorpay, buyer)
    razorpay.fail_next(400, code="BAD_REQUEST_ERROR", description="Refunds are disabled")
    with pytest.raises(admin.AdminActionRefused, match="Refunds are disabled"):
        refund(boss, payment_id, 10_000, "intent-refused")
    with session_scope() as session:
        claim = session.exec(select(AdminRefund)).one()
    assert (claim.status, claim.in_flight_key) == ("failed", None)
    assert balance(buyer) == 10
    refund(boss, payment_id, 10_000, "intent-again")  # the payment is free again
    assert balance(buyer) == 5
    assert audit_actions() == ["refund", "refund"]


def test_a_pending_refund_claws_back_when_its_webhook_says_processed(
    razorpay: FakeRazorpay, database_url: str
) -> None:
    client = TestClient(build_api_app(get_settings()))
    boss = make_staff("boss@example.com")
    buyer = make_user(email="buyer@example.com")
    payment_id, _ = paid_pack(razorpay, buyer)
    razorpay.api_refund_status = "pending"

    done = refund(boss, payment_id, PACK_PAISE, "intent-slow")

    assert (done.status, done.credits_taken) == ("pending", 0)
    assert balance(buyer) == 10 and credit_notes() == []
    assert send_refund_event(client, razorpay, razorpay.finish_refund(done.refund_id)) == "refunded"
    assert balance(buyer) == 0
    assert [n.total_paise for n in credit_notes()] == [PACK_PAISE]
    with session_scope() as session:
        assert session.exec(select(PaymentRefund.status)).one() == "processed"


def test_a_failed_refund_webhook_takes_nothing(razorpay: FakeRazorpay, database_url: str) -> None:
    client = TestClient(build_api_app(get_settings()))
    boss = make_staff("boss@example.com")
    buyer = make_user(email="buyer@example.com")
    payment_id, _ = paid_pack(razorpay, buyer)
    razorpay.api_refund_status = "pending"
    done = refund(boss, payment_id, PACK_PAISE, "intent-doomed")
    failed = razorpay.finish_refund(done.refund_id, status="failed")
    assert send_refund_event(client, razorpay, failed, "refund.failed") == "refund_failed"
    assert balance(buyer) == 10 and credit_notes() == []
    with session_scope() as session:
        assert session.exec(select(PaymentRefund.status)).one() == "failed"
        assert session.get(Payment, payment_id).refunded_paise == 0  # type: ignore[union-attr]


# --- reconcile -----------------------------------------------------------------------------


def test_reconcile_grants_a_payment_whose_webhook_and_handler_never_came(
    razorpay: FakeRazorpay, database_url: str
) -> None:
    boss = make_staff("boss@example.com")
    buyer = make_user(email="buyer@example.com")
    checkout = buy(buyer)
    razorpay.checkout_payment(checkout.provider_order_id, status="captured")  # nothing told us
    with session_scope() as session:
        order = session.exec(
            select(PaymentOrder).where(PaymentOrder.receipt_number == checkout.receipt_number)
        ).one()
    assert order.id is not None

    done = admin.reconcile_order(actor_id=boss, order_id=order.id)
    again = admin.reconcile_order(actor_id=boss, order_id=order.id)

    assert (done.before, done.after, done.changed) == ("created", "paid", True)
    assert not again.changed and balance(buyer) == 10  # granted once
    assert audit_actions() == ["reconcile", "reconcile"]
    assert cli(["invoices", "verify"]) == 0


def test_reconcile_applies_a_dashboard_refund_whose_webhook_was_missed(
    razorpay: FakeRazorpay, database_url: str
) -> None:
    boss = make_staff("boss@example.com")
    buyer = make_user(email="buyer@example.com")
    payment_id, provider_id = paid_pack(razorpay, buyer)
    razorpay.dashboard_refund(provider_id, 19_900)
    with session_scope() as session:
        order_id = session.get(Payment, payment_id).order_id  # type: ignore[union-attr]

    done = admin.reconcile_order(actor_id=boss, order_id=order_id)

    assert (done.before, done.after) == ("paid", "refunded")
    assert balance(buyer) == 0 and len(credit_notes()) == 1
    assert cli(["ledger", "verify"]) == 0


# --- races ---------------------------------------------------------------------------------


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls on threads released together; each result, or the exception raised."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        start.wait()
        try:
            return call()
        except Exception as exc:  # the race's loser is refused: keep what it said
            return exc

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def two_admins_refund_at_once(razorpay: FakeRazorpay) -> None:
    first, second = make_staff("one@example.com"), make_staff("two@example.com")
    buyer = make_user(email="buyer@example.com")
    payment_id, _ = paid_pack(razorpay, buyer)
    razorpay.delay_next(0.3)  # the first refund is slow to answer: the second one waits for it

    results = at_once(
        [
            lambda: refund(first, payment_id, PACK_PAISE, "admin-one-intent"),
            lambda: refund(second, payment_id, PACK_PAISE, "admin-two-intent"),
        ]
    )

    refunded = [r for r in results if isinstance(r, admin.RefundOutcome)]
    refused = [r for r in results if isinstance(r, admin.AdminActionRefused)]
    assert (len(refunded), len(refused)) == (1, 1), results
    assert len(razorpay.refunds) == 1  # one refund at the gateway
    with session_scope() as session:
        clawbacks = session.exec(
            select(CreditTransaction).where(CreditTransaction.kind == "purchase_refund")
        ).all()
    assert [c.amount for c in clawbacks] == [-10]  # one clawback
    assert balance(buyer) == 0 and len(credit_notes()) == 1
    assert cli(["ledger", "verify"]) == 0


def test_two_admins_refunding_one_payment_at_once_make_one_refund_on_sqlite(
    razorpay: FakeRazorpay, database_url: str
) -> None:
    two_admins_refund_at_once(razorpay)


@pytest.mark.postgres
def test_two_admins_refunding_one_payment_at_once_make_one_refund_on_postgresql(
    razorpay: FakeRazorpay, postgres_url: str
) -> None:
    two_admins_refund_at_once(razorpay)


def identical_adjustments_at_once() -> None:
    boss = make_staff("boss@example.com")
    target = make_user(email="target@example.com")
    results = at_once(
        [
            lambda: admin.adjust_credits(
                actor_id=boss,
                user_id=target,
                amount=25,
                reason="Goodwill",
                idempotency_key="double-submit",
            )
            for _ in range(8)
        ]
    )
    assert all(isinstance(r, admin.Adjusted) for r in results), results
    assert sorted(r.repeated for r in results) == [False] + [True] * 7
    assert balance(target) == 25
    assert audit_actions() == ["credit_adjustment"]
    assert cli(["audit", "verify"]) == 0


def test_identical_adjustments_submitted_at_once_apply_once_on_sqlite(database_url: str) -> None:
    identical_adjustments_at_once()


@pytest.mark.postgres
def test_identical_adjustments_submitted_at_once_apply_once_on_postgresql(
    postgres_url: str,
) -> None:
    identical_adjustments_at_once()
