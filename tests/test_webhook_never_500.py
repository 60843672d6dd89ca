"""The Razorpay webhook never answers 500: signed events Razorpay might send, or shapes it
should not, are recorded and acknowledged; only a bad signature is refused (400); order
state only moves forward."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from adremix.api import build_api_app
from adremix.db import session_scope
from adremix.models import PaymentOrder, WebhookEvent
from adremix.settings import get_settings
from tests.factories import balance, make_user
from tests.fakes.razorpay_api import FakeRazorpay, webhook_body
from tests.razorpay_steps import signature
from tests.test_razorpay_webhook import paid_order, post


@pytest.fixture
def client(razorpay: FakeRazorpay) -> TestClient:
    # raise_server_exceptions off: a 500 must show up as a 500, not as a test error.
    return TestClient(build_api_app(get_settings()), raise_server_exceptions=False)


def deliver(client: TestClient, body: bytes, event_id: str = "evt_test_1") -> tuple[int, str]:
    response = client.post(
        "/api/razorpay/webhook",
        content=body,
        headers={"X-Razorpay-Signature": signature(body), "x-razorpay-event-id": event_id},
    )
    return response.status_code, response.text


def recorded_events() -> list[tuple[str, str]]:
    with session_scope() as session:
        return [(e.event_type, e.outcome) for e in session.exec(select(WebhookEvent)).all()]


SIGNED_BUT_ODD = {
    "not-json": b"not json at all",
    "json-list": b"[1, 2, 3]",
    "no-event-name": b'{"payload": {}}',
    "event-name-not-a-string": b'{"event": {"a": 1}, "payload": {}}',
    "payload-a-list": b'{"event": "payment.captured", "payload": []}',
    "entity-a-string": json.dumps(
        {"event": "payment.captured", "payload": {"payment": {"entity": "pay_1"}}}
    ).encode(),
    "amount-not-a-number": json.dumps(
        {
            "event": "payment.captured",
            "payload": {
                "payment": {
                    "entity": {
                        "id": "pay_odd",
                        "status": "captured",
                        "amount": "lots",
                        "currency": "INR",
                        "order_id": "order_unknown",
                    }
                }
            },
        }
    ).encode(),
    "refund-amount-not-a-number": json.dumps(
        {
            "event": "refund.processed",
            "payload": {
                "refund": {"entity": {"id": "rfnd_1", "payment_id": "pay_x", "amount": "x"}}
            },
        }
    ).encode(),
}


@pytest.mark.parametrize("body", SIGNED_BUT_ODD.values(), ids=SIGNED_BUT_ODD.keys())
def test_a_signed_body_of_any_shape_is_acknowledged_and_recorded(
    client: TestClient, database_url: str, body: bytes
) -> None:
    status, _ = deliver(client, body)
    assert status == 200
    assert len(recorded_events()) == 1
    # Delivered again: a duplicate, still 200, still one record.
    assert deliver(client, body)[0] == 200
    assert len(recorded_events()) == 1


def test_an_unknown_event_type_with_a_long_name_and_id_is_recorded(
    client: TestClient, database_url: str
) -> None:
    body = json.dumps({"event": "x" * 500, "payload": {}}).encode()
    status, text = deliver(client, body, event_id="e" * 300)
    assert status == 200 and json.loads(text) == {"status": "ignored"}
    ((event_type, outcome),) = recorded_events()
    assert len(event_type) <= 60 and outcome == "ignored"
    with session_scope() as session:
        assert len(session.exec(select(WebhookEvent.event_id)).one()) <= 80


def test_a_payment_for_an_order_we_never_made_is_recorded(
    razorpay: FakeRazorpay, client: TestClient, database_url: str
) -> None:
    for event in ("payment.captured", "order.paid", "payment.failed"):
        body = json.dumps(
            {
                "event": event,
                "payload": {
                    "payment": {
                        "entity": {
                            "id": f"pay_{event}",
                            "status": "failed" if event == "payment.failed" else "captured",
                            "amount": 19900,
                            "currency": "INR",
                            "order_id": "order_not_ours",
                        }
                    }
                },
            }
        ).encode()
        status, text = deliver(client, body, event_id=f"evt_{event}")
        assert status == 200 and json.loads(text) == {"status": "unknown_order"}


def test_an_unsigned_or_badly_signed_event_is_refused(
    client: TestClient, database_url: str
) -> None:
    body = b'{"event": "payment.captured", "payload": {}}'
    for sig in ("", "0" * 64, signature(body, "another-secret")):
        response = client.post(
            "/api/razorpay/webhook", content=body, headers={"X-Razorpay-Signature": sig}
        )
        assert response.status_code == 400
    assert recorded_events() == []


def test_a_paid_order_never_becomes_failed(
    razorpay: FakeRazorpay, client: TestClient, database_url: str
) -> None:
    user_id = make_user()
    _, handler = paid_order(razorpay, user_id)
    captured, event_id = webhook_body(
        "payment.captured", payment=razorpay.payment(handler["razorpay_payment_id"])
    )
    assert post(client, captured, event_id) == 200
    # A failed attempt on the same order, reported afterwards (or replayed out of order).
    failed_attempt = {
        **razorpay.payment(handler["razorpay_payment_id"]),
        "id": "pay_earlier_attempt",
        "status": "failed",
        "captured": False,
        "error_description": "Bank declined",
    }
    body, failed_event = webhook_body("payment.failed", payment=failed_attempt)
    assert post(client, body, failed_event) == 200
    with session_scope() as session:
        assert session.exec(select(PaymentOrder)).one().status == "paid"
    assert balance(user_id) == 10
