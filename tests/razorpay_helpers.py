"""Shared steps for payment tests: buy through the app, pay at the fake, post webhooks."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from starlette.testclient import TestClient

from adremix.db import session_scope
from adremix.services import ledger, payments
from adremix.services.payment_gateways import gateway_for
from adremix.settings import get_settings
from tests.conftest import WEBHOOK_SECRET
from tests.fakes.razorpay_api import FakeRazorpay, webhook_body


def balance(user_id: int) -> int:
    with session_scope() as session:
        return ledger.get_balance(session=session, user_id=user_id)


def give_credits(user_id: int, amount: int, key: str = "gift") -> None:
    """Credits from elsewhere (a bonus), so a clawback has more than the pack to take from."""
    with session_scope() as session:
        ledger.grant(
            session=session,
            user_id=user_id,
            amount=amount,
            kind="signup_bonus",
            idempotency_key=f"{key}:{user_id}",
        )


def spend_credits(user_id: int, amount: int, key: str = "spent") -> None:
    with session_scope() as session:
        ledger.spend(
            session=session, user_id=user_id, amount=amount, idempotency_key=f"{key}:{user_id}"
        )


def buy(user_id: int, package: str = "starter") -> payments.Checkout:
    settings = get_settings()
    return payments.start_purchase(
        settings=settings, gateway=gateway_for(settings), user_id=user_id, package_code=package
    )


def confirm(user_id: int, paid: dict[str, str]) -> Any:
    """The checkout's success handler, as the Credits page calls it."""
    return payments.confirm_checkout(
        gateway=gateway_for(get_settings()),
        user_id=user_id,
        provider_order_id=paid["razorpay_order_id"],
        payment_id=paid["razorpay_payment_id"],
        signature=paid["razorpay_signature"],
    )


def signature(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_webhook(client: TestClient, body: bytes, event_id: str) -> dict[str, Any]:
    """POST a signed webhook; returns the JSON answer (asserting a 200)."""
    response = client.post(
        "/api/razorpay/webhook",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Razorpay-Signature": signature(body),
            "x-razorpay-event-id": event_id,
        },
    )
    assert response.status_code == 200, response.text
    return response.json()


def send_refund_event(
    client: TestClient, razorpay: FakeRazorpay, refund: dict[str, Any], event: str = ""
) -> str:
    """Razorpay's refund webhook for `refund`, carrying the payment as it now stands."""
    event = event or f"refund.{refund['status'] if refund['status'] != 'pending' else 'created'}"
    body, event_id = webhook_body(
        event, refund=refund, payment=razorpay.payment(refund["payment_id"])
    )
    return post_webhook(client, body, event_id)["status"]


def send_captured_event(client: TestClient, razorpay: FakeRazorpay, payment_id: str) -> str:
    body, event_id = webhook_body("payment.captured", payment=razorpay.payment(payment_id))
    return post_webhook(client, body, event_id)["status"]
