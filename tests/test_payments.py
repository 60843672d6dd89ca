"""Buying credits through the real razorpay SDK against the fake Razorpay API."""

from __future__ import annotations

import pytest
from sqlmodel import select

from adremix.db import session_scope
from adremix.models import PaymentOrder
from adremix.services import payments
from adremix.services.payments import gateway_for
from adremix.settings import get_settings
from tests import factories
from tests.factories import balance, confirm, make_user
from tests.fakes.razorpay_api import FakeRazorpay, sign_payment


def order_row(receipt: str) -> PaymentOrder:
    with session_scope() as session:
        row = session.exec(select(PaymentOrder).where(PaymentOrder.receipt_number == receipt)).one()
        return row


def buy(user_id: int, package: str = "growth") -> payments.Checkout:
    return factories.buy(user_id, package)


def test_order_is_created_in_paise_with_our_receipt(
    razorpay: FakeRazorpay, database_url: str
) -> None:
    user_id = make_user()
    checkout = buy(user_id)
    order = razorpay.order(checkout.provider_order_id)
    assert (order["amount"], order["currency"], order["receipt"]) == (
        79_900,
        "INR",
        checkout.receipt_number,
    )
    assert order["notes"] == {"user_id": str(user_id), "package": "growth"}
    assert order_row(checkout.receipt_number).status == "created"


def test_authorized_payment_is_captured_and_credited_once(
    razorpay: FakeRazorpay, database_url: str
) -> None:
    user_id = make_user()
    checkout = buy(user_id)
    paid = razorpay.checkout_payment(checkout.provider_order_id)

    order = confirm(user_id, paid)
    again = confirm(user_id, paid)  # a double click, or the page retrying

    assert order.status == again.status == "paid"
    assert razorpay.payment(paid["razorpay_payment_id"])["status"] == "captured"
    assert balance(user_id) == 50
    receipt = payments.receipt_for(
        settings=get_settings(), user_id=user_id, receipt_number=checkout.receipt_number
    )
    assert receipt is not None
    assert (receipt.amount_paise, receipt.taxable_paise, receipt.tax_paise) == (
        79_900,
        67_712,
        12_188,
    )
    other = make_user(email="nosy@example.com")
    assert (
        payments.receipt_for(
            settings=get_settings(), user_id=other, receipt_number=checkout.receipt_number
        )
        is None
    )


def test_forged_signature_is_refused_without_credits(
    razorpay: FakeRazorpay, database_url: str
) -> None:
    user_id = make_user()
    checkout = buy(user_id)
    paid = razorpay.checkout_payment(checkout.provider_order_id, status="captured")
    forged = {
        **paid,
        "razorpay_signature": sign_payment(
            checkout.provider_order_id, paid["razorpay_payment_id"], "guess"
        ),
    }
    with pytest.raises(payments.PaymentVerificationFailed):
        confirm(user_id, forged)
    assert balance(user_id) == 0
    assert order_row(checkout.receipt_number).status == "created"


def test_signature_for_another_payment_is_refused(
    razorpay: FakeRazorpay, database_url: str
) -> None:
    user_id = make_user()
    checkout = buy(user_id)
    paid = razorpay.checkout_payment(checkout.provider_order_id, status="captured")
    swapped = {**paid, "razorpay_payment_id": "pay_SomeoneElses01"}
    with pytest.raises(payments.PaymentVerificationFailed):
        confirm(user_id, swapped)
    assert balance(user_id) == 0


def test_amount_mismatch_grants_nothing(razorpay: FakeRazorpay, database_url: str) -> None:
    user_id = make_user()
    checkout = buy(user_id)
    paid = razorpay.checkout_payment(checkout.provider_order_id, status="captured", amount=100)
    with pytest.raises(payments.PaymentAmountMismatch):
        confirm(user_id, paid)
    assert balance(user_id) == 0
    assert order_row(checkout.receipt_number).status == "review"


def test_failed_payment_reports_razorpays_reason(razorpay: FakeRazorpay, database_url: str) -> None:
    user_id = make_user()
    checkout = buy(user_id)
    paid = razorpay.checkout_payment(
        checkout.provider_order_id, status="failed", error_description="Card expired"
    )
    with pytest.raises(payments.PaymentFailed, match="Card expired"):
        confirm(user_id, paid)
    assert balance(user_id) == 0
    assert order_row(checkout.receipt_number).failure_reason == "Card expired"


def test_razorpay_down_when_ordering_charges_nothing(
    razorpay: FakeRazorpay, database_url: str
) -> None:
    user_id = make_user()
    razorpay.fail_next(500)
    with pytest.raises(payments.PaymentsUnavailable, match="nothing was charged"):
        buy(user_id)
    with session_scope() as session:
        assert [o.status for o in session.exec(select(PaymentOrder))] == ["failed"]


def test_razorpay_down_when_confirming_leaves_the_order_pending_for_a_retry(
    razorpay: FakeRazorpay, database_url: str
) -> None:
    user_id = make_user()
    checkout = buy(user_id)
    paid = razorpay.checkout_payment(checkout.provider_order_id)
    razorpay.fail_next(502, code="GATEWAY_ERROR", description="Bad gateway")
    with pytest.raises(payments.PaymentPending):
        confirm(user_id, paid)
    assert order_row(checkout.receipt_number).status == "pending"
    assert [o.receipt_number for o in payments.pending_orders(user_id=user_id)] == [
        checkout.receipt_number
    ]
    assert balance(user_id) == 0

    settled = payments.settle_order(
        gateway=gateway_for(get_settings()), user_id=user_id, receipt_number=checkout.receipt_number
    )
    assert settled.status == "paid" and balance(user_id) == 50
    assert payments.pending_orders(user_id=user_id) == []


def test_unknown_order_is_refused(razorpay: FakeRazorpay, database_url: str) -> None:
    user_id = make_user()
    with pytest.raises(payments.OrderNotFound):
        confirm(
            user_id,
            {
                "razorpay_order_id": "order_Nope",
                "razorpay_payment_id": "pay_x",
                "razorpay_signature": "00",
            },
        )


def test_someone_elses_order_cannot_be_confirmed(razorpay: FakeRazorpay, database_url: str) -> None:
    owner = make_user()
    thief = make_user(email="thief@example.com")
    checkout = buy(owner)
    paid = razorpay.checkout_payment(checkout.provider_order_id)
    with pytest.raises(payments.OrderNotFound):
        confirm(thief, paid)
    assert balance(thief) == 0
