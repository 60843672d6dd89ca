"""Refunds settle credits exactly, payment by payment (issue 15's money defects first)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from adremix.__main__ import main as cli
from adremix.api import build_api_app
from adremix.db import session_scope
from adremix.models import CreditTransaction, Payment, PaymentOrder, PaymentRefund
from adremix.services import payments
from adremix.services.payments import gateway_for
from adremix.settings import get_settings
from adremix.state.credits import _payment_row as credits_page_row
from tests.factories import balance, buy, confirm, give_credits, make_user, spend_credits
from tests.fakes.razorpay_api import FakeRazorpay, webhook_body
from tests.razorpay_steps import (
    post_webhook,
    send_captured_event,
    send_refund_event,
    signature,
)

FIXTURES = Path(__file__).parent / "fixtures" / "razorpay"


@pytest.fixture
def client(razorpay: FakeRazorpay) -> TestClient:
    return TestClient(build_api_app(get_settings()))


def order_status(receipt: str) -> str:
    with session_scope() as session:
        return session.exec(
            select(PaymentOrder.status).where(PaymentOrder.receipt_number == receipt)
        ).one()


def payment_row(payment_id: str) -> Payment:
    with session_scope() as session:
        return session.exec(select(Payment).where(Payment.provider_payment_id == payment_id)).one()


def ledger_kinds() -> list[tuple[str, int]]:
    with session_scope() as session:
        rows = session.exec(select(CreditTransaction).order_by(CreditTransaction.id)).all()
        return [(row.kind, row.amount) for row in rows]


def verify() -> int:
    """`python -m adremix ledger verify`, in-process."""
    return cli(["ledger", "verify"])


def paid_order(razorpay: FakeRazorpay, user_id: int) -> tuple[payments.Checkout, str]:
    checkout = buy(user_id)
    paid = razorpay.checkout_payment(checkout.provider_order_id, status="captured")
    confirm(user_id, paid)
    return checkout, paid["razorpay_payment_id"]


# --- the three money defects, as they were reported ----------------------------------


def test_auto_refund_of_a_payment_left_pending_takes_no_credits(
    razorpay: FakeRazorpay, client: TestClient, database_url: str
) -> None:
    user_id = make_user()
    give_credits(user_id, 3)
    checkout = buy(user_id)
    paid = razorpay.checkout_payment(checkout.provider_order_id)  # authorised only
    razorpay.fail_next(503)  # Razorpay unreachable while confirming
    with pytest.raises(payments.PaymentPending):
        confirm(user_id, paid)
    assert order_status(checkout.receipt_number) == "pending"

    refund = razorpay.auto_refund(paid["razorpay_payment_id"])
    assert razorpay.payment(paid["razorpay_payment_id"])["captured"] is False
    send_refund_event(client, razorpay, refund)

    assert balance(user_id) == 3
    assert order_status(checkout.receipt_number) == "refunded"
    assert payments.pending_orders(user_id=user_id) == []
    row = payment_row(paid["razorpay_payment_id"])
    assert (row.status, row.captured, row.credits_granted, row.refunded_paise) == (
        "refunded",
        False,
        0,
        19_900,
    )
    assert (row.credits_clawed, row.clawback_shortfall) == (0, 0)
    with session_scope() as session:
        assert session.exec(select(PaymentRefund.origin)).one() == "auto"
    assert verify() == 0


def test_refund_of_an_order_in_review_takes_no_credits(
    razorpay: FakeRazorpay, client: TestClient, database_url: str
) -> None:
    user_id = make_user()
    give_credits(user_id, 3)
    checkout = buy(user_id)
    paid = razorpay.checkout_payment(checkout.provider_order_id, status="captured", amount=9_900)
    with pytest.raises(payments.PaymentAmountMismatch):
        confirm(user_id, paid)
    assert order_status(checkout.receipt_number) == "review"

    refund = razorpay.dashboard_refund(paid["razorpay_payment_id"])
    send_refund_event(client, razorpay, refund)

    assert balance(user_id) == 3
    assert order_status(checkout.receipt_number) == "refunded"
    row = payment_row(paid["razorpay_payment_id"])
    assert (row.amount_paise, row.refunded_paise, row.credits_granted) == (9_900, 9_900, 0)
    assert ledger_kinds() == [("signup_bonus", 3)]
    assert verify() == 0


def test_three_partial_refunds_take_back_exactly_the_pack(
    razorpay: FakeRazorpay, client: TestClient, database_url: str
) -> None:
    user_id = make_user()
    give_credits(user_id, 3)
    checkout = buy(user_id)  # 10 credits for 19,900 paise
    paid = razorpay.checkout_payment(checkout.provider_order_id, status="captured")
    confirm(user_id, paid)
    assert balance(user_id) == 13

    seen = []
    for amount in (6_633, 6_633, 6_634):
        refund = razorpay.dashboard_refund(paid["razorpay_payment_id"], amount)
        send_refund_event(client, razorpay, refund)
        seen.append((balance(user_id), order_status(checkout.receipt_number)))

    # floor(10 * refunded so far / 19,900): 3, then 6, then all 10.
    assert seen == [(10, "partially_refunded"), (7, "partially_refunded"), (3, "refunded")]
    (line,) = payments.payment_history(user_id=user_id)
    assert credits_page_row(line)["note"] == "₹199.00 refunded · 10 credit(s) taken back"
    row = payment_row(paid["razorpay_payment_id"])
    assert (row.status, row.refunded_paise, row.credits_clawed) == ("refunded", 19_900, 10)
    assert [amount for kind, amount in ledger_kinds() if kind == "purchase_refund"] == [-3, -3, -4]
    assert verify() == 0


def test_a_second_captured_payment_is_refunded_in_full_and_grants_nothing(
    razorpay: FakeRazorpay, client: TestClient, database_url: str
) -> None:
    user_id = make_user()
    checkout = buy(user_id)
    first = razorpay.checkout_payment(checkout.provider_order_id, status="failed")
    second = razorpay.checkout_payment(checkout.provider_order_id, status="captured")
    confirm(user_id, second)
    assert balance(user_id) == 10

    # The bank authorises the first attempt after all, and the account auto-captures it.
    razorpay.late_authorize(first["razorpay_payment_id"], captured=True)
    for _ in range(2):  # Razorpay delivering the capture twice changes nothing
        send_captured_event(client, razorpay, first["razorpay_payment_id"])

    assert balance(user_id) == 10
    late = razorpay.payment(first["razorpay_payment_id"])
    assert (late["status"], late["amount_refunded"]) == ("refunded", 19_900)
    (refund,) = [r for r in razorpay.refunds.values() if r["payment_id"] == late["id"]]
    assert razorpay.refund_idempotency_keys() == {
        payments.duplicate_refund_key(late["id"]): refund["id"]
    }
    assert send_refund_event(client, razorpay, refund) == "refunded"
    assert balance(user_id) == 10
    assert order_status(checkout.receipt_number) == "paid"
    row = payment_row(late["id"])
    assert (row.duplicate, row.credits_granted, row.status, row.refunded_paise) == (
        True,
        0,
        "refunded",
        19_900,
    )
    lines = payments.payment_history(user_id=user_id)
    assert [(line.duplicate, line.status) for line in lines] == [
        (True, "refunded"),
        (False, "captured"),
    ]
    shown = [credits_page_row(line) for line in lines]  # what the Credits page lists
    assert shown[0]["note"].startswith("A duplicate payment was refunded in full")
    assert (shown[0]["status"], shown[0]["receipt"]) == ("Refunded", "")
    assert (shown[1]["note"], shown[1]["receipt"]) == ("10 credits added", checkout.receipt_number)
    assert verify() == 0


def test_a_clawback_larger_than_the_balance_stops_at_zero(
    razorpay: FakeRazorpay, client: TestClient, database_url: str
) -> None:
    user_id = make_user()
    checkout = buy(user_id)
    paid = razorpay.checkout_payment(checkout.provider_order_id, status="captured")
    confirm(user_id, paid)
    spend_credits(user_id, 8)

    refund = razorpay.dashboard_refund(paid["razorpay_payment_id"])
    send_refund_event(client, razorpay, refund)

    assert balance(user_id) == 0
    assert order_status(checkout.receipt_number) == "refunded"
    row = payment_row(paid["razorpay_payment_id"])
    assert (row.credits_granted, row.credits_clawed, row.clawback_shortfall) == (10, 2, 8)
    assert verify() == 0


# --- the rule, the lifecycle, and events out of order ----------------------------------


@pytest.mark.parametrize(
    ("granted", "refunded", "amount", "owed"),
    [
        (10, 0, 19_900, 0),
        (10, 1_989, 19_900, 0),  # less than one credit's worth: nothing yet
        (10, 1_990, 19_900, 1),
        (10, 6_633, 19_900, 3),
        (10, 13_266, 19_900, 6),
        (10, 19_899, 19_900, 9),
        (10, 19_900, 19_900, 10),
        (10, 25_000, 19_900, 10),  # never more than granted
        (0, 19_900, 19_900, 0),  # a payment that granted nothing owes nothing
        (50, 39_950, 79_900, 25),
    ],
)
def test_the_clawback_rule_rounds_the_running_total_down(
    granted: int, refunded: int, amount: int, owed: int
) -> None:
    assert (
        payments.credits_to_claw(
            credits_granted=granted, refunded_paise=refunded, amount_paise=amount
        )
        == owed
    )


def test_a_pending_refund_takes_credits_only_once_processed(
    razorpay: FakeRazorpay, client: TestClient, database_url: str
) -> None:
    user_id = make_user()
    checkout, payment_id = paid_order(razorpay, user_id)
    pending = razorpay.dashboard_refund(payment_id, 9_950, status="pending")
    assert send_refund_event(client, razorpay, pending, "refund.created") == "refund_pending"
    assert balance(user_id) == 10

    failed = razorpay.dashboard_refund(payment_id, 100, status="pending")
    send_refund_event(client, razorpay, failed, "refund.created")
    assert (
        send_refund_event(client, razorpay, razorpay.finish_refund(failed["id"], status="failed"))
        == "refund_failed"
    )
    assert balance(user_id) == 10

    processed = razorpay.finish_refund(pending["id"])
    for _ in range(2):
        assert send_refund_event(client, razorpay, processed) == "refunded"
    # A refund.created that Razorpay delivers late does not move it back.
    send_refund_event(client, razorpay, pending, "refund.created")
    assert balance(user_id) == 5
    assert order_status(checkout.receipt_number) == "partially_refunded"
    with session_scope() as session:
        statuses = sorted(session.exec(select(PaymentRefund.status)).all())
    assert statuses == ["failed", "processed"]
    assert verify() == 0


def test_a_refund_heard_of_before_its_capture_grants_then_takes_back(
    razorpay: FakeRazorpay, client: TestClient, database_url: str
) -> None:
    user_id = make_user()
    give_credits(user_id, 3)
    checkout = buy(user_id)
    paid = razorpay.checkout_payment(checkout.provider_order_id, status="captured")
    at_capture = razorpay.payment(paid["razorpay_payment_id"])  # what payment.captured carries
    refund = razorpay.dashboard_refund(paid["razorpay_payment_id"])
    send_refund_event(client, razorpay, refund)  # the browser never came back
    assert balance(user_id) == 3
    body, event_id = webhook_body("payment.captured", payment=at_capture)
    assert post_webhook(client, body, event_id)["status"] == "already_granted"
    assert balance(user_id) == 3
    assert ledger_kinds() == [("signup_bonus", 3), ("purchase", 10), ("purchase_refund", -10)]
    assert order_status(checkout.receipt_number) == "refunded"
    assert verify() == 0


def test_razorpays_published_refund_sample_is_settled(
    razorpay: FakeRazorpay, client: TestClient, database_url: str
) -> None:
    user_id = make_user()
    checkout, payment_id = paid_order(razorpay, user_id)
    event = json.loads((FIXTURES / "refund_processed_webhook.json").read_text())
    refund = event["payload"]["refund"]["entity"]
    payment = event["payload"]["payment"]["entity"]
    refund.update(payment_id=payment_id, amount=3_980)
    payment.update(
        id=payment_id, order_id=checkout.provider_order_id, amount=19_900, amount_refunded=3_980
    )
    body = json.dumps(event).encode()
    assert post_webhook(client, body, "evt_published_sample")["status"] == "refunded"
    assert balance(user_id) == 8  # floor(10 * 3,980 / 19,900) = 2 back
    assert payment_row(payment_id).status == "partially_refunded"


def test_the_fake_refund_has_the_fields_of_razorpays_own_mock(
    razorpay: FakeRazorpay, database_url: str
) -> None:
    user_id = make_user()
    _, payment_id = paid_order(razorpay, user_id)
    published = json.loads((FIXTURES / "fake_refund.json").read_text())
    ours = razorpay.dashboard_refund(payment_id, 500)
    assert set(published) <= set(ours)
    both = [k for k, v in published.items() if k != "notes" and None not in (v, ours[k])]
    assert {k: type(published[k]) for k in both} == {k: type(ours[k]) for k in both}
    assert ours["notes"] == []  # Razorpay sends empty notes as a JSON list


def test_refunds_of_unknown_payments_are_acknowledged_and_change_nothing(
    razorpay: FakeRazorpay, client: TestClient, database_url: str
) -> None:
    event = json.loads((FIXTURES / "refund_processed_webhook.json").read_text())
    body = json.dumps(event).encode()
    assert post_webhook(client, body, "evt_stranger")["status"] == "unknown_payment"
    with session_scope() as session:
        assert session.exec(select(Payment)).all() == []


# --- duplicate payments -----------------------------------------------------------------


def test_razorpay_down_while_refunding_a_duplicate_asks_for_redelivery(
    razorpay: FakeRazorpay, client: TestClient, database_url: str
) -> None:
    user_id = make_user()
    checkout = buy(user_id)
    first = razorpay.checkout_payment(checkout.provider_order_id, status="failed")
    confirm(user_id, razorpay.checkout_payment(checkout.provider_order_id, status="captured"))
    late = razorpay.late_authorize(first["razorpay_payment_id"], captured=True)
    body, event_id = webhook_body("payment.captured", payment=late)
    headers = {"X-Razorpay-Signature": signature(body), "x-razorpay-event-id": event_id}

    razorpay.fail_next(503)
    assert client.post("/api/razorpay/webhook", content=body, headers=headers).status_code == 503
    assert razorpay.payment(late["id"])["amount_refunded"] == 0
    assert payment_row(late["id"]).duplicate and balance(user_id) == 10

    for _ in range(2):  # Razorpay's redeliveries
        again = client.post("/api/razorpay/webhook", content=body, headers=headers)
        assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    assert razorpay.payment(late["id"])["amount_refunded"] == 19_900
    assert len(razorpay.refunds) == 1
    assert payment_row(late["id"]).status == "refunded" and balance(user_id) == 10


def test_a_duplicate_the_browser_reports_is_refunded_or_released_never_credited(
    razorpay: FakeRazorpay, database_url: str
) -> None:
    user_id = make_user()
    checkout = buy(user_id)
    attempts = [
        razorpay.checkout_payment(checkout.provider_order_id, status="failed") for _ in range(2)
    ]
    confirm(user_id, razorpay.checkout_payment(checkout.provider_order_id, status="captured"))

    # Authorised late but not captured: we never capture it, so no money moves.
    razorpay.late_authorize(attempts[0]["razorpay_payment_id"])
    with pytest.raises(payments.DuplicatePayment, match="releases the held amount"):
        confirm(user_id, attempts[0])
    assert razorpay.payment(attempts[0]["razorpay_payment_id"])["status"] == "authorized"

    # Captured late (auto-capture): refunded in full at once.
    razorpay.late_authorize(attempts[1]["razorpay_payment_id"], captured=True)
    with pytest.raises(payments.DuplicatePayment, match="refunded in full"):
        confirm(user_id, attempts[1])
    assert razorpay.payment(attempts[1]["razorpay_payment_id"])["status"] == "refunded"
    with pytest.raises(payments.DuplicatePayment):
        confirm(user_id, attempts[1])  # a retry neither refunds again nor credits
    assert len(razorpay.refunds) == 1
    assert balance(user_id) == 10
    assert order_status(checkout.receipt_number) == "paid"
    assert verify() == 0


def test_refund_requests_are_idempotent_on_their_key(
    razorpay: FakeRazorpay, database_url: str
) -> None:
    user_id = make_user()
    _, payment_id = paid_order(razorpay, user_id)
    gateway = gateway_for(get_settings())
    first = gateway.refund(
        payment_id, amount_paise=19_900, idempotency_key="k-0123456789", notes={}
    )
    again = gateway.refund(
        payment_id, amount_paise=19_900, idempotency_key="k-0123456789", notes={}
    )
    assert first == again and len(razorpay.refunds) == 1
    with pytest.raises(payments.GatewayRefused, match="same idempotency key"):
        gateway.refund(payment_id, amount_paise=100, idempotency_key="k-0123456789", notes={})


def test_the_offline_test_checkout_refunds_idempotently(database_url: str) -> None:
    from adremix.services.payments import TestCheckoutGateway

    gateway = TestCheckoutGateway(signing_key="k")
    order_id = gateway.create_order(amount_paise=19_900, receipt="r", notes={})
    payment_id = gateway.pay(order_id, succeed=True)["razorpay_payment_id"]
    first = gateway.refund(payment_id, amount_paise=19_900, idempotency_key="key-1", notes={})
    assert gateway.refund(payment_id, amount_paise=19_900, idempotency_key="key-1", notes={}) == (
        first
    )
    assert gateway.fetch_payment(payment_id).status == "refunded"


# --- ledger verify ----------------------------------------------------------------------


def test_ledger_verify_reports_broken_refund_invariants(
    razorpay: FakeRazorpay, client: TestClient, database_url: str, capsys: pytest.CaptureFixture
) -> None:
    user_id = make_user()
    checkout, payment_id = paid_order(razorpay, user_id)
    send_refund_event(client, razorpay, razorpay.dashboard_refund(payment_id, 9_950))
    assert verify() == 0
    with session_scope() as session:
        row = session.exec(select(Payment)).one()
        row.credits_clawed = 12  # more than the 10 it granted
        session.add(row)
    assert verify() == 1
    err = capsys.readouterr().err
    assert f"{checkout.receipt_number} {payment_id}: clawed back 12" in err
    assert "ledger takes back 5 credit(s); its payments say 12" in err
    with session_scope() as session:
        row = session.exec(select(Payment)).one()
        row.credits_clawed, row.clawback_shortfall = 3, 0  # the rule says 5
        session.add(row)
    assert verify() == 1
    assert "call for 5 credit(s) back; clawed 3" in capsys.readouterr().err
