"""POST /api/razorpay/webhook: signed, idempotent, and one grant per payment whatever arrives."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from adremix.api import build_api_app
from adremix.db import session_scope
from adremix.models import CreditTransaction, Payment, PaymentOrder, WebhookEvent
from adremix.services import credits, payments
from adremix.services.payments import gateway_for
from adremix.settings import get_settings
from tests.factories import balance, make_user
from tests.fakes.razorpay_api import FakeRazorpay, webhook_body
from tests.razorpay_steps import signature


@pytest.fixture
def client(razorpay: FakeRazorpay) -> TestClient:
    return TestClient(build_api_app(get_settings()))


def post(client: TestClient, body: bytes, event_id: str, *, sig: str | None = None) -> int:
    response = client.post(
        "/api/razorpay/webhook",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Razorpay-Signature": sig if sig is not None else signature(body),
            "x-razorpay-event-id": event_id,
        },
    )
    return response.status_code


def new_order(user_id: int) -> payments.Checkout:
    settings = get_settings()
    return payments.start_purchase(
        settings=settings, gateway=gateway_for(settings), user_id=user_id, package_code="starter"
    )


def paid_order(razorpay: FakeRazorpay, user_id: int) -> tuple[payments.Checkout, dict]:
    checkout = new_order(user_id)
    handler = razorpay.checkout_payment(checkout.provider_order_id, status="captured")
    return checkout, handler


def test_captured_payment_webhook_grants_credits_when_the_browser_never_returned(
    razorpay: FakeRazorpay, client: TestClient, database_url: str
) -> None:
    user_id = make_user()
    _, handler = paid_order(razorpay, user_id)
    body, event_id = webhook_body(
        "payment.captured", payment=razorpay.payment(handler["razorpay_payment_id"])
    )
    assert post(client, body, event_id) == 200
    assert balance(user_id) == 10
    with session_scope() as session:
        order = session.exec(select(PaymentOrder)).one()
        payment = session.exec(select(Payment)).one()
    assert order.status == "paid"
    assert (payment.provider_payment_id, payment.order_id, payment.credits_granted) == (
        handler["razorpay_payment_id"],
        order.id,
        10,
    )


def test_the_same_event_posted_fifty_times_credits_once(
    razorpay: FakeRazorpay, client: TestClient, database_url: str
) -> None:
    user_id = make_user()
    _, handler = paid_order(razorpay, user_id)
    body, event_id = webhook_body(
        "payment.captured", payment=razorpay.payment(handler["razorpay_payment_id"])
    )
    statuses = [post(client, body, event_id) for _ in range(50)]
    assert statuses == [200] * 50
    assert balance(user_id) == 10
    with session_scope() as session:
        assert len(session.exec(select(WebhookEvent)).all()) == 1
        assert len(session.exec(select(CreditTransaction)).all()) == 1


def test_order_paid_and_payment_captured_for_one_payment_credit_once(
    razorpay: FakeRazorpay, client: TestClient, database_url: str
) -> None:
    user_id = make_user()
    checkout, handler = paid_order(razorpay, user_id)
    payment = razorpay.payment(handler["razorpay_payment_id"])
    order = razorpay.order(checkout.provider_order_id)
    for event in ("order.paid", "payment.captured"):  # distinct events, one payment
        body, event_id = webhook_body(event, payment=payment, order=order)
        assert post(client, body, event_id) == 200
    assert balance(user_id) == 10


def race_browser_and_webhook(client: TestClient, razorpay: FakeRazorpay, user_id: int) -> None:
    """The checkout's success handler and the webhook arrive at the same moment."""
    _, handler = paid_order(razorpay, user_id)
    body, event_id = webhook_body(
        "payment.captured", payment=razorpay.payment(handler["razorpay_payment_id"])
    )
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def browser() -> None:
        start.wait()
        try:
            payments.confirm_checkout(
                gateway=gateway_for(get_settings()),
                user_id=user_id,
                provider_order_id=handler["razorpay_order_id"],
                payment_id=handler["razorpay_payment_id"],
                signature=handler["razorpay_signature"],
            )
        except BaseException as exc:
            errors.append(exc)

    def webhook() -> None:
        start.wait()
        if post(client, body, event_id) != 200:
            errors.append(AssertionError("webhook refused"))

    threads = [threading.Thread(target=browser), threading.Thread(target=webhook)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_success_handler_and_webhook_racing_credit_once(
    razorpay: FakeRazorpay, client: TestClient, database_url: str
) -> None:
    user_id = make_user()
    for round_ in range(8):
        race_browser_and_webhook(client, razorpay, user_id)
        assert balance(user_id) == 10 * (round_ + 1)
    with session_scope() as session:
        assert credits.find_mismatches(session=session) == []


def test_tampered_body_is_refused_and_changes_nothing(
    razorpay: FakeRazorpay, client: TestClient, database_url: str
) -> None:
    user_id = make_user()
    _, handler = paid_order(razorpay, user_id)
    body, event_id = webhook_body(
        "payment.captured", payment=razorpay.payment(handler["razorpay_payment_id"])
    )
    tampered = body.replace(b'"amount":1990', b'"amount":1991')
    assert tampered != body
    assert post(client, tampered, event_id, sig=signature(body)) == 400
    assert balance(user_id) == 0


def test_wrong_secret_or_missing_signature_is_refused(
    razorpay: FakeRazorpay, client: TestClient, database_url: str
) -> None:
    user_id = make_user()
    _, handler = paid_order(razorpay, user_id)
    body, event_id = webhook_body(
        "payment.captured", payment=razorpay.payment(handler["razorpay_payment_id"])
    )
    assert post(client, body, event_id, sig=signature(body, "not-the-secret")) == 400
    assert post(client, body, event_id, sig="") == 400
    assert balance(user_id) == 0
    with session_scope() as session:
        assert session.exec(select(WebhookEvent)).all() == []


def test_unknown_event_is_acknowledged_and_ignored(
    razorpay: FakeRazorpay, client: TestClient, database_url: str
) -> None:
    body, event_id = webhook_body("subscription.charged")
    response = client.post(
        "/api/razorpay/webhook",
        content=body,
        headers={"X-Razorpay-Signature": signature(body), "x-razorpay-event-id": event_id},
    )
    assert response.status_code == 200 and response.json() == {"status": "ignored"}


def test_payment_failed_records_the_reason(
    razorpay: FakeRazorpay, client: TestClient, database_url: str
) -> None:
    user_id = make_user()
    checkout = new_order(user_id)
    handler = razorpay.checkout_payment(
        checkout.provider_order_id, status="failed", error_description="Bank declined"
    )
    body, event_id = webhook_body(
        "payment.failed", payment=razorpay.payment(handler["razorpay_payment_id"])
    )
    assert post(client, body, event_id) == 200
    with session_scope() as session:
        order = session.exec(select(PaymentOrder)).one()
    assert (order.status, order.failure_reason) == ("failed", "Bank declined")
    assert balance(user_id) == 0


def test_processed_refund_takes_the_credits_back_once(
    razorpay: FakeRazorpay, client: TestClient, database_url: str
) -> None:
    user_id = make_user()
    _, handler = paid_order(razorpay, user_id)
    payment = razorpay.payment(handler["razorpay_payment_id"])
    body, event_id = webhook_body("payment.captured", payment=payment)
    assert post(client, body, event_id) == 200 and balance(user_id) == 10

    import razorpay as razorpay_sdk

    from tests.fakes.razorpay_api import KEY_ID, KEY_SECRET

    sdk = razorpay_sdk.Client(auth=(KEY_ID, KEY_SECRET), base_url=razorpay.base_url)
    refund = sdk.payment.refund(payment["id"], {"amount": payment["amount"]}, timeout=5)
    body, event_id = webhook_body("refund.processed", refund=refund, payment=payment)
    for _ in range(3):
        assert post(client, body, event_id) == 200
    assert balance(user_id) == 0
    with session_scope() as session:
        kinds = [t.kind for t in session.exec(select(CreditTransaction))]
        order = session.exec(select(PaymentOrder)).one()
    assert kinds == ["purchase", "purchase_refund"] and order.status == "refunded"


def test_a_late_failure_of_an_earlier_attempt_does_not_fail_a_pending_success(
    razorpay: FakeRazorpay, client: TestClient, database_url: str
) -> None:
    user_id = make_user()
    checkout = new_order(user_id)
    settings = get_settings()
    failed = razorpay.checkout_payment(checkout.provider_order_id, status="failed")
    succeeded = razorpay.checkout_payment(checkout.provider_order_id, status="authorized")
    razorpay.fail_next(503, code="SERVER_ERROR")  # Razorpay down while confirming
    with pytest.raises(payments.PaymentPending):
        payments.confirm_checkout(
            gateway=gateway_for(settings),
            user_id=user_id,
            provider_order_id=succeeded["razorpay_order_id"],
            payment_id=succeeded["razorpay_payment_id"],
            signature=succeeded["razorpay_signature"],
        )
    body, event_id = webhook_body(
        "payment.failed", payment=razorpay.payment(failed["razorpay_payment_id"])
    )
    assert post(client, body, event_id) == 200
    with session_scope() as session:
        assert session.exec(select(PaymentOrder)).one().status == "pending"
    settled = payments.settle_order(
        gateway=gateway_for(settings), user_id=user_id, receipt_number=checkout.receipt_number
    )
    assert settled.status == "paid" and balance(user_id) == 10


def test_razorpays_published_payment_sample_is_acknowledged(
    razorpay: FakeRazorpay, client: TestClient, database_url: str
) -> None:
    """razorpay-python's own webhook mock: an event for an order that is not ours."""
    body = Path(__file__).parent / "fixtures/razorpay/fake_payment_authorized_webhook.json"
    raw = body.read_bytes()
    assert post(client, raw, "evt_sdk_mock") == 200
    with session_scope() as session:
        assert [e.outcome for e in session.exec(select(WebhookEvent))] == ["ignored"]
