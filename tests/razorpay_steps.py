"""Razorpay's side of payment tests: signed webhooks posted to the app."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from starlette.testclient import TestClient

from tests.conftest import WEBHOOK_SECRET
from tests.fakes.razorpay_api import FakeRazorpay, webhook_body


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
