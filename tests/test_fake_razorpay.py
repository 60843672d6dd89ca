"""The fake Razorpay API behaves like Razorpay when driven through the real `razorpay` SDK."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import razorpay
import requests
from razorpay.errors import BadRequestError, GatewayError, ServerError, SignatureVerificationError

from tests.fakes.razorpay_api import KEY_ID, KEY_SECRET, FakeRazorpay, webhook_body

TIMEOUT = {"timeout": 5}


@pytest.fixture(scope="module")
def server() -> Iterator[FakeRazorpay]:
    fake = FakeRazorpay().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(server: FakeRazorpay) -> FakeRazorpay:
    server.reset()
    return server


@pytest.fixture
def sdk(fake: FakeRazorpay) -> razorpay.Client:
    return razorpay.Client(auth=(KEY_ID, KEY_SECRET), base_url=fake.base_url)


def new_order(sdk: razorpay.Client, amount: int = 19_900) -> dict[str, Any]:
    return sdk.order.create(
        {"amount": amount, "currency": "INR", "receipt": "rcpt_1", "notes": {"user_id": "7"}},
        **TIMEOUT,
    )


def test_order_is_created_and_fetched(sdk: razorpay.Client, fake: FakeRazorpay) -> None:
    order = new_order(sdk)
    assert order["id"].startswith("order_") and len(order["id"]) == len("order_") + 14
    assert order["id"][len("order_") :].isalnum()
    assert {k: order[k] for k in ("entity", "amount", "amount_paid", "amount_due")} == {
        "entity": "order",
        "amount": 19_900,
        "amount_paid": 0,
        "amount_due": 19_900,
    }
    assert (order["currency"], order["receipt"], order["status"], order["attempts"]) == (
        "INR",
        "rcpt_1",
        "created",
        0,
    )
    assert order["notes"] == {"user_id": "7"}
    assert isinstance(order["created_at"], int)
    assert sdk.order.fetch(order["id"], **TIMEOUT) == order
    assert fake.order(order["id"]) == order
    assert fake.requests[0] == (
        "POST",
        "/v1/orders",
        {"amount": 19_900, "currency": "INR", "receipt": "rcpt_1", "notes": {"user_id": "7"}},
    )


@pytest.mark.parametrize(
    "body",
    [
        {"amount": 99, "currency": "INR", "receipt": "r"},
        {"amount": 199.0, "currency": "INR", "receipt": "r"},
        {"amount": True, "currency": "INR", "receipt": "r"},
        {"currency": "INR", "receipt": "r"},
        {"amount": 19_900, "currency": "USD", "receipt": "r"},
        {"amount": 19_900, "currency": "INR", "receipt": 12},
        {"amount": 19_900, "currency": "INR", "receipt": "r" * 41},
        {"amount": 19_900, "currency": "INR", "receipt": "r", "notes": "x"},
        {"amount": 19_900, "currency": "INR", "receipt": "r", "surprise": 1},
    ],
)
def test_invalid_order_is_refused(sdk: razorpay.Client, body: dict[str, Any]) -> None:
    with pytest.raises(BadRequestError):
        sdk.order.create(body, **TIMEOUT)


def test_unknown_ids_are_bad_requests(sdk: razorpay.Client) -> None:
    with pytest.raises(BadRequestError, match="The id provided does not exist"):
        sdk.order.fetch("order_doesnotexist00", **TIMEOUT)
    with pytest.raises(BadRequestError, match="The id provided does not exist"):
        sdk.payment.fetch("pay_doesnotexist000", **TIMEOUT)


def test_authorized_payment_is_captured_once(sdk: razorpay.Client, fake: FakeRazorpay) -> None:
    order = new_order(sdk)
    handler = fake.checkout_payment(order["id"])
    assert set(handler) == {"razorpay_order_id", "razorpay_payment_id", "razorpay_signature"}
    payment = sdk.payment.fetch(handler["razorpay_payment_id"], **TIMEOUT)
    assert payment["id"].startswith("pay_") and payment["entity"] == "payment"
    assert (payment["status"], payment["captured"], payment["order_id"]) == (
        "authorized",
        False,
        order["id"],
    )
    assert (payment["amount"], payment["currency"], payment["method"]) == (19_900, "INR", "card")
    assert sdk.order.fetch(order["id"], **TIMEOUT)["status"] == "attempted"

    captured = sdk.payment.capture(payment["id"], 19_900, {"currency": "INR"}, **TIMEOUT)
    assert (captured["status"], captured["captured"]) == ("captured", True)
    assert fake.payment(payment["id"])["status"] == "captured"
    paid = sdk.order.fetch(order["id"], **TIMEOUT)
    assert (paid["status"], paid["amount_paid"], paid["amount_due"]) == ("paid", 19_900, 0)

    with pytest.raises(BadRequestError, match="already been captured"):
        sdk.payment.capture(payment["id"], 19_900, {"currency": "INR"}, **TIMEOUT)


def test_capture_must_match_the_authorized_amount(sdk: razorpay.Client, fake: FakeRazorpay) -> None:
    handler = fake.checkout_payment(new_order(sdk)["id"])
    payment_id = handler["razorpay_payment_id"]
    with pytest.raises(BadRequestError, match="equal to the amount authorized"):
        sdk.payment.capture(payment_id, 100, {"currency": "INR"}, **TIMEOUT)
    with pytest.raises(BadRequestError):
        sdk.payment.capture(payment_id, 19_900, {"currency": "USD"}, **TIMEOUT)
    assert fake.payment(payment_id)["status"] == "authorized"


def test_failed_and_auto_captured_checkouts(sdk: razorpay.Client, fake: FakeRazorpay) -> None:
    order = new_order(sdk)
    failed = fake.checkout_payment(order["id"], status="failed")
    payment = sdk.payment.fetch(failed["razorpay_payment_id"], **TIMEOUT)
    assert (payment["status"], payment["error_description"]) == (
        "failed",
        "Your card was declined",
    )
    with pytest.raises(BadRequestError):
        sdk.payment.capture(payment["id"], 19_900, {"currency": "INR"}, **TIMEOUT)

    captured = fake.checkout_payment(order["id"], status="captured")
    assert sdk.payment.fetch(captured["razorpay_payment_id"], **TIMEOUT)["captured"] is True
    assert fake.order(order["id"])["status"] == "paid"
    assert fake.order(order["id"])["attempts"] == 2


def test_checkout_signature_verifies_with_the_sdk(sdk: razorpay.Client, fake: FakeRazorpay) -> None:
    handler = fake.checkout_payment(new_order(sdk)["id"])
    assert sdk.utility.verify_payment_signature(handler)
    forged = {**handler, "razorpay_payment_id": "pay_someoneelse0000"}
    with pytest.raises(SignatureVerificationError):
        sdk.utility.verify_payment_signature(forged)


def test_server_error_then_recovery(sdk: razorpay.Client, fake: FakeRazorpay) -> None:
    fake.fail_next(500)
    with pytest.raises(ServerError, match="Internal error"):
        new_order(sdk)
    assert new_order(sdk)["status"] == "created"


def test_gateway_errors_can_be_scripted_for_several_calls(
    sdk: razorpay.Client, fake: FakeRazorpay
) -> None:
    fake.fail_next(502, count=2, code="GATEWAY_ERROR", description="Bad gateway")
    for _ in range(2):
        with pytest.raises(GatewayError, match="Bad gateway"):
            new_order(sdk)
    new_order(sdk)


def test_slow_answer_times_the_client_out(sdk: razorpay.Client, fake: FakeRazorpay) -> None:
    fake.delay_next(1.0)
    with pytest.raises(requests.exceptions.Timeout):
        sdk.order.create({"amount": 19_900, "currency": "INR", "receipt": "r"}, timeout=0.2)
    assert new_order(sdk)["status"] == "created"


def test_wrong_key_secret_is_refused(fake: FakeRazorpay) -> None:
    intruder = razorpay.Client(auth=(KEY_ID, "not_the_secret"), base_url=fake.base_url)
    with pytest.raises(BadRequestError, match="Authentication failed"):
        intruder.order.create({"amount": 19_900, "currency": "INR", "receipt": "r"}, **TIMEOUT)
    assert fake.orders == {}
    answer = requests.get(f"{fake.base_url}/v1/orders/order_x", timeout=5)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "BAD_REQUEST_ERROR"


def test_refunds_partial_then_full(sdk: razorpay.Client, fake: FakeRazorpay) -> None:
    handler = fake.checkout_payment(new_order(sdk)["id"], status="captured")
    payment_id = handler["razorpay_payment_id"]
    refund = sdk.payment.refund(
        payment_id, {"amount": 9_900, "notes": {"reason": "test"}}, **TIMEOUT
    )
    assert refund["id"].startswith("rfnd_") and refund["entity"] == "refund"
    assert (refund["payment_id"], refund["amount"], refund["currency"], refund["status"]) == (
        payment_id,
        9_900,
        "INR",
        "processed",
    )
    assert refund["notes"] == {"reason": "test"}
    payment = sdk.payment.fetch(payment_id, **TIMEOUT)
    assert (payment["status"], payment["amount_refunded"]) == ("captured", 9_900)

    with pytest.raises(BadRequestError):
        sdk.payment.refund(payment_id, {"amount": 10_001}, **TIMEOUT)
    rest = sdk.payment.refund(payment_id, {}, **TIMEOUT)
    assert rest["amount"] == 10_000
    payment = sdk.payment.fetch(payment_id, **TIMEOUT)
    assert (payment["status"], payment["amount_refunded"]) == ("refunded", 19_900)
    with pytest.raises(BadRequestError):
        sdk.payment.refund(payment_id, {}, **TIMEOUT)


def test_only_captured_payments_are_refunded(sdk: razorpay.Client, fake: FakeRazorpay) -> None:
    handler = fake.checkout_payment(new_order(sdk)["id"])
    with pytest.raises(BadRequestError):
        sdk.payment.refund(handler["razorpay_payment_id"], {}, **TIMEOUT)


def test_webhook_body_is_razorpays_envelope(sdk: razorpay.Client, fake: FakeRazorpay) -> None:
    order = new_order(sdk)
    payment = fake.payment(
        fake.checkout_payment(order["id"], status="captured")["razorpay_payment_id"]
    )
    body, event_id = webhook_body(
        "payment.captured", payment=payment, order=fake.order(order["id"])
    )
    assert event_id.startswith("evt_")
    assert b" " not in body.replace(b"buyer@example.com", b"")  # compact, like Razorpay's
    envelope = json.loads(body)
    assert (envelope["entity"], envelope["event"]) == ("event", "payment.captured")
    assert envelope["account_id"].startswith("acc_")
    assert envelope["contains"] == ["payment", "order"]
    assert envelope["payload"]["payment"]["entity"] == payment
    assert "refund" not in envelope["payload"]
    signature = hmac.new(b"whsec", body, hashlib.sha256).hexdigest()
    assert sdk.utility.verify_webhook_signature(body.decode(), signature, "whsec")
    assert webhook_body("refund.processed", refund={"id": "rfnd_1"}, event_id="evt_1")[1] == (
        "evt_1"
    )


# --- plans, subscriptions, invoices, payment links --------------------------------------

FIXTURES = Path(__file__).parent / "fixtures" / "razorpay"


def sample_keys(name: str) -> set[str]:
    return set(json.loads((FIXTURES / name).read_text()))


def new_plan(sdk: razorpay.Client, amount: int = 59_900) -> dict[str, Any]:
    return sdk.plan.create(
        {
            "period": "monthly",
            "interval": 1,
            "item": {"name": "Starter", "amount": amount, "currency": "INR"},
        },
        **TIMEOUT,
    )


def test_plans_answer_like_the_published_sample(sdk: razorpay.Client) -> None:
    plan = new_plan(sdk)
    assert sample_keys("fake_plan.json") <= set(plan)
    sample_item = json.loads((FIXTURES / "fake_plan.json").read_text())["item"]
    assert set(sample_item) <= set(plan["item"])
    assert sdk.plan.fetch(plan["id"], **TIMEOUT) == plan
    with pytest.raises(BadRequestError, match="period"):
        sdk.plan.create(
            {
                "period": "fortnightly",
                "interval": 1,
                "item": {"name": "x", "amount": 100, "currency": "INR"},
            },
            **TIMEOUT,
        )
    with pytest.raises(BadRequestError, match="daily plan must be at least 7"):
        sdk.plan.create(
            {
                "period": "daily",
                "interval": 1,
                "item": {"name": "x", "amount": 100, "currency": "INR"},
            },
            **TIMEOUT,
        )
    with pytest.raises(BadRequestError, match=r"atleast INR 1\.00"):
        new_plan(sdk, amount=99)
    with pytest.raises(BadRequestError, match="does not exist"):
        sdk.plan.fetch("plan_Missing000000001", **TIMEOUT)


def test_a_subscription_lives_through_checkout_renewals_and_its_actions(
    sdk: razorpay.Client, fake: FakeRazorpay
) -> None:
    plan = new_plan(sdk)
    with pytest.raises(BadRequestError, match="total count field is required"):
        sdk.subscription.create({"plan_id": plan["id"]}, **TIMEOUT)
    with pytest.raises(BadRequestError, match="is/are not required"):
        sdk.subscription.create(
            {"plan_id": plan["id"], "total_count": 6, "colour": "red"}, **TIMEOUT
        )
    subscription = sdk.subscription.create({"plan_id": plan["id"], "total_count": 6}, **TIMEOUT)
    assert sample_keys("fake_subscription_paused.json") - {"pause_initiated_by"} <= set(
        subscription
    )
    assert (subscription["status"], subscription["paid_count"], subscription["short_url"][:16]) == (
        "created",
        0,
        "https://rzp.io/i",
    )
    handler = fake.subscription_checkout(subscription["id"])
    # Checkout signs `payment_id|subscription_id`; the SDK's helper agrees.
    assert sdk.utility.verify_subscription_payment_signature(dict(handler))
    active = sdk.subscription.fetch(subscription["id"], **TIMEOUT)
    assert (active["status"], active["paid_count"], active["remaining_count"]) == ("active", 1, 5)
    [invoice] = sdk.invoice.all({"subscription_id": subscription["id"]}, **TIMEOUT)["items"]
    assert sample_keys("fake_invoice.json") <= set(invoice)
    assert (invoice["status"], invoice["payment_id"]) == ("paid", handler["razorpay_payment_id"])

    paused = sdk.subscription.pause(subscription["id"], {"pause_at": "now"}, **TIMEOUT)
    assert paused["status"] == "paused"
    with pytest.raises(BadRequestError, match="cannot be paused in paused status"):
        sdk.subscription.pause(subscription["id"], {"pause_at": "now"}, **TIMEOUT)
    assert (
        sdk.subscription.resume(subscription["id"], {"resume_at": "now"}, **TIMEOUT)["status"]
        == "active"
    )
    other = new_plan(sdk, amount=199_900)
    edited = sdk.subscription.edit(
        subscription["id"], {"plan_id": other["id"], "schedule_change_at": "cycle_end"}, **TIMEOUT
    )
    assert (edited["plan_id"], edited["has_scheduled_changes"]) == (plan["id"], True)
    payment, renewed = fake.renew(subscription["id"])
    assert (renewed["plan_id"], payment["amount"], renewed["paid_count"]) == (
        other["id"],
        199_900,
        2,
    )
    cancelled = sdk.subscription.cancel(
        subscription["id"], {"cancel_at_cycle_end": False}, **TIMEOUT
    )
    assert cancelled["status"] == "cancelled" and cancelled["ended_at"]
    with pytest.raises(
        BadRequestError, match=r"Subscription is not cancellable in cancelled status\."
    ):
        sdk.subscription.cancel(subscription["id"], {"cancel_at_cycle_end": False}, **TIMEOUT)


def test_pausing_an_authenticated_subscription_cancels_it(
    sdk: razorpay.Client, fake: FakeRazorpay
) -> None:
    # Razorpay's docs: "If you pause a Subscription in the authenticated state, it goes to
    # the cancelled state."
    subscription = sdk.subscription.create(
        {"plan_id": new_plan(sdk)["id"], "total_count": 6}, **TIMEOUT
    )
    fake.subscriptions[subscription["id"]]["status"] = "authenticated"
    assert (
        sdk.subscription.pause(subscription["id"], {"pause_at": "now"}, **TIMEOUT)["status"]
        == "cancelled"
    )


def test_failed_renewals_go_pending_then_halted(sdk: razorpay.Client, fake: FakeRazorpay) -> None:
    subscription = sdk.subscription.create(
        {"plan_id": new_plan(sdk)["id"], "total_count": 6}, **TIMEOUT
    )
    fake.subscription_checkout(subscription["id"])
    statuses = [fake.renew(subscription["id"], succeed=False)[1]["status"] for _ in range(4)]
    assert statuses == ["pending", "pending", "pending", "halted"]
    with pytest.raises(ValueError, match="does not charge a halted"):
        fake.renew(subscription["id"])


def test_payment_links_answer_like_the_published_sample(
    sdk: razorpay.Client, fake: FakeRazorpay
) -> None:
    soon = int(time.time())
    body = {
        "amount": 25_000_000,
        "currency": "INR",
        "reference_id": "AR-QUOTE-1",
        "description": "5000 credits",
        "customer": {"email": "cfo@bigco.example"},
        "expire_by": soon + 30 * 86_400,
        "callback_url": "https://adremix.example/callback",
        "callback_method": "get",
    }
    link = sdk.payment_link.create(body, **TIMEOUT)
    assert (link["status"], link["amount_paid"], link["reference_id"]) == (
        "created",
        0,
        "AR-QUOTE-1",
    )
    with pytest.raises(BadRequestError, match="already exists"):
        sdk.payment_link.create(body, **TIMEOUT)
    with pytest.raises(
        BadRequestError, match="expire_by: timestamp must be atleast 15 minutes in future"
    ):
        sdk.payment_link.create(
            {**body, "reference_id": "AR-QUOTE-2", "expire_by": soon + 60}, **TIMEOUT
        )
    with pytest.raises(BadRequestError, match="callback_method"):
        sdk.payment_link.create(
            {**body, "reference_id": "AR-QUOTE-3", "callback_method": "post"}, **TIMEOUT
        )
    params, paid, order, payment = fake.pay_link(link["id"])
    assert sample_keys("fake_payment_link.json") <= set(paid)
    assert paid["order_id"] == order["id"] == payment["order_id"]
    assert sdk.utility.verify_payment_link_signature(
        {
            "payment_link_id": params["razorpay_payment_link_id"],
            "payment_link_reference_id": params["razorpay_payment_link_reference_id"],
            "payment_link_status": params["razorpay_payment_link_status"],
            "razorpay_payment_id": params["razorpay_payment_id"],
            "razorpay_signature": params["razorpay_signature"],
        }
    )
    with pytest.raises(BadRequestError, match="cannot be cancelled in paid status"):
        sdk.payment_link.cancel(link["id"], **TIMEOUT)
