"""Subscriptions through Razorpay (the fake, driven by the real SDK) and its webhooks:
every state, duplicate and out-of-order events, failed renewals, the buyer's actions,
and test mode's simulated renewals."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select
from starlette.testclient import TestClient

from adremix.__main__ import main
from adremix.db import session_scope
from adremix.enums import DocumentKind, SubscriptionStatus
from adremix.models import Subscription, TaxDocument
from adremix.services import billing, payments
from tests.conftest import app_client
from tests.factories import balance, make_user
from tests.fakes.razorpay_api import FakeRazorpay, webhook_body
from tests.razorpay_steps import post_webhook, send_captured_event, send_refund_event

STARTER_CREDITS, PRO_CREDITS = 40, 200


@pytest.fixture
def client(razorpay: FakeRazorpay) -> TestClient:
    from adremix.settings import get_settings

    return app_client(get_settings())


def subscribe(razorpay: FakeRazorpay, user_id: int, plan: str = "starter-monthly") -> str:
    """Subscribe in Checkout: Razorpay charges the first cycle; the handler confirms it."""
    checkout = payments.start_subscription(user_id=user_id, plan_code=plan)
    handler = razorpay.subscription_checkout(checkout.subscription_id)
    view = payments.confirm_subscription_checkout(
        user_id=user_id,
        subscription_id=handler["razorpay_subscription_id"],
        payment_id=handler["razorpay_payment_id"],
        signature=handler["razorpay_signature"],
    )
    assert view.status == SubscriptionStatus.ACTIVE
    return checkout.subscription_id


def send(
    client: TestClient,
    razorpay: FakeRazorpay,
    event: str,
    subscription_id: str,
    *,
    payment: dict[str, Any] | None = None,
    at: int | None = None,
    event_id: str | None = None,
    **entity: Any,
) -> str:
    """Razorpay's `subscription.*` webhook carrying the subscription as it stands (with
    `entity` overrides), and the payment when there is one."""
    body, new_id = webhook_body(
        event,
        subscription={**razorpay.subscription(subscription_id), **entity},
        payment=payment,
        created_at=at,
        event_id=event_id,
    )
    return post_webhook(client, body, event_id or new_id)["status"]


def stored(subscription_id: str) -> Subscription:
    with session_scope() as session:
        return session.exec(
            select(Subscription).where(Subscription.provider_subscription_id == subscription_id)
        ).one()


def invoices() -> list[TaxDocument]:
    with session_scope() as session:
        return list(
            session.exec(
                select(TaxDocument)
                .where(TaxDocument.kind == DocumentKind.INVOICE)
                .order_by(col(TaxDocument.id))
            ).all()
        )


def test_subscribing_grants_the_first_cycle_once_with_its_invoice(
    razorpay: FakeRazorpay, client: TestClient
) -> None:
    buyer = make_user()
    first = payments.start_subscription(user_id=buyer, plan_code="starter-monthly")
    again = payments.start_subscription(user_id=buyer, plan_code="starter-monthly")
    assert again.subscription_id == first.subscription_id  # a second press reuses it
    assert (first.amount_paise, first.credits, first.period) == (59_900, STARTER_CREDITS, "month")
    handler = razorpay.subscription_checkout(first.subscription_id)
    payments.confirm_subscription_checkout(
        user_id=buyer,
        subscription_id=first.subscription_id,
        payment_id=handler["razorpay_payment_id"],
        signature=handler["razorpay_signature"],
    )
    # Razorpay's own events for that first charge change nothing more. The card was
    # authenticated for the first charge, so Razorpay dates that event no later than the
    # payment (undated, it took the clock's next second whenever the test crossed one).
    payment = razorpay.payment(handler["razorpay_payment_id"])
    assert (
        send(
            client,
            razorpay,
            "subscription.authenticated",
            first.subscription_id,
            status="authenticated",
            at=payment["created_at"],
        )
        == "stale"
    )
    assert send(
        client, razorpay, "subscription.activated", first.subscription_id, payment=payment
    ) in ("subscription_updated", "stale")
    assert (
        send(client, razorpay, "subscription.charged", first.subscription_id, payment=payment)
        == "already_granted"
    )
    assert send_captured_event(client, razorpay, payment["id"]) == "already_granted"

    assert balance(buyer) == STARTER_CREDITS
    [invoice] = invoices()
    assert invoice.total_paise == 59_900
    assert invoice.description.startswith("Starter subscription")
    view = payments.current_subscription(user_id=buyer)
    assert view is not None and view.status == SubscriptionStatus.ACTIVE and view.current_end
    # The plan was created at Razorpay once, and is reused for the next buyer.
    subscribe(razorpay, make_user("second@x.example"))
    assert len(razorpay.plans) == 1
    [plan] = razorpay.plans.values()
    assert (plan["period"], plan["interval"], plan["item"]["amount"]) == ("monthly", 1, 59_900)


def test_a_forged_checkout_signature_grants_nothing(razorpay: FakeRazorpay) -> None:
    buyer = make_user()
    checkout = payments.start_subscription(user_id=buyer, plan_code="starter-monthly")
    handler = razorpay.subscription_checkout(checkout.subscription_id)
    with pytest.raises(payments.PaymentVerificationFailed):
        payments.confirm_subscription_checkout(
            user_id=buyer,
            subscription_id=checkout.subscription_id,
            payment_id=handler["razorpay_payment_id"],
            signature="0" * 64,
        )
    assert balance(buyer) == 0 and invoices() == []


def test_each_state_and_its_webhook(razorpay: FakeRazorpay, client: TestClient) -> None:
    buyer = make_user()
    checkout = payments.start_subscription(user_id=buyer, plan_code="starter-monthly")
    sub_id = checkout.subscription_id
    assert stored(sub_id).status == SubscriptionStatus.CREATED
    razorpay.subscription_checkout(sub_id)  # the buyer pays; the page never confirms it
    payment = razorpay.payment(razorpay.invoices[next(iter(razorpay.invoices))]["payment_id"])
    t = 1_800_000_000
    steps = [
        (
            "subscription.authenticated",
            {"status": "authenticated"},
            SubscriptionStatus.AUTHENTICATED,
        ),
        ("subscription.activated", {"status": "active"}, SubscriptionStatus.ACTIVE),
        ("subscription.pending", {"status": "pending"}, SubscriptionStatus.PENDING),
        ("subscription.halted", {"status": "halted"}, SubscriptionStatus.HALTED),
        ("subscription.activated", {"status": "active"}, SubscriptionStatus.ACTIVE),
        ("subscription.paused", {"status": "paused"}, SubscriptionStatus.PAUSED),
        ("subscription.resumed", {"status": "active"}, SubscriptionStatus.ACTIVE),
        ("subscription.updated", {"status": "active"}, SubscriptionStatus.ACTIVE),
        ("subscription.completed", {"status": "completed"}, SubscriptionStatus.COMPLETED),
    ]
    for step, (event, entity, expected) in enumerate(steps):
        assert (
            send(client, razorpay, event, sub_id, at=t + step, **entity) == "subscription_updated"
        )
        assert stored(sub_id).status == expected, event
    # charged: the cycle's credits, once
    assert (
        send(client, razorpay, "subscription.charged", sub_id, payment=payment, at=t + 20)
        == "granted"
    )
    assert balance(buyer) == STARTER_CREDITS
    # Completed is final: a later activation changes nothing, and the buyer may subscribe anew.
    assert (
        send(client, razorpay, "subscription.activated", sub_id, at=t + 30, status="active")
        == "stale"
    )
    assert (
        stored(sub_id).status == SubscriptionStatus.COMPLETED and stored(sub_id).holder_key is None
    )
    assert payments.current_subscription(user_id=buyer) is None


def test_cancelled_is_final_and_unknown_subscriptions_are_acknowledged(
    razorpay: FakeRazorpay, client: TestClient
) -> None:
    sub_id = subscribe(razorpay, make_user())
    t = 1_900_000_000
    assert (
        send(client, razorpay, "subscription.cancelled", sub_id, at=t, status="cancelled")
        == "subscription_updated"
    )
    assert (
        send(client, razorpay, "subscription.resumed", sub_id, at=t + 1, status="active") == "stale"
    )
    assert stored(sub_id).status == SubscriptionStatus.CANCELLED
    body, event_id = webhook_body(
        "subscription.activated",
        subscription={**razorpay.subscription(sub_id), "id": "sub_NotOursAtAll00"},
    )
    assert post_webhook(client, body, event_id)["status"] == "unknown_subscription"


def test_duplicate_and_out_of_order_webhooks_change_nothing(
    razorpay: FakeRazorpay, client: TestClient
) -> None:
    buyer = make_user()
    sub_id = subscribe(razorpay, buyer)
    payment, _ = razorpay.renew(sub_id)
    t = 2_000_000_000
    # The same charged event, delivered three times: one grant, one invoice.
    for _ in range(3):
        send(
            client,
            razorpay,
            "subscription.charged",
            sub_id,
            payment=payment,
            at=t,
            event_id="evt_SameCharge0001",
        )
    assert balance(buyer) == 2 * STARTER_CREDITS
    # A pending from before the recovery arrives after it: the subscription stays active.
    assert (
        send(client, razorpay, "subscription.activated", sub_id, at=t + 100, status="active")
        == "subscription_updated"
    )
    assert (
        send(client, razorpay, "subscription.pending", sub_id, at=t + 50, status="pending")
        == "stale"
    )
    assert stored(sub_id).status == SubscriptionStatus.ACTIVE
    # A second event id for the same payment (Razorpay retried with another): still one grant.
    assert (
        send(client, razorpay, "subscription.charged", sub_id, payment=payment, at=t + 101)
        == "already_granted"
    )
    assert balance(buyer) == 2 * STARTER_CREDITS
    assert len(invoices()) == 2


def test_a_failed_renewal_shows_the_banner_and_a_retry_recovers(
    razorpay: FakeRazorpay, client: TestClient
) -> None:
    buyer = make_user()
    sub_id = subscribe(razorpay, buyer)
    t = 2_100_000_000
    failed, subscription = razorpay.renew(sub_id, succeed=False)
    assert subscription["status"] == "pending"
    body, event_id = webhook_body("payment.failed", payment=failed)
    assert post_webhook(client, body, event_id)["status"] == "unknown_order"  # not an order of ours
    assert (
        send(client, razorpay, "subscription.pending", sub_id, payment=failed, at=t)
        == "subscription_updated"
    )
    view = payments.current_subscription(user_id=buyer)
    assert (
        view is not None
        and view.needs_payment_update
        and view.update_url.startswith("https://rzp.io/")
    )
    assert balance(buyer) == STARTER_CREDITS  # a failed charge grants nothing

    retried, _ = razorpay.renew(sub_id)  # Razorpay's retry goes through
    send(client, razorpay, "subscription.activated", sub_id, payment=retried, at=t + 86_400)
    assert (
        send(client, razorpay, "subscription.charged", sub_id, payment=retried, at=t + 86_400)
        == "granted"
    )
    view = payments.current_subscription(user_id=buyer)
    assert (
        view is not None
        and view.status == SubscriptionStatus.ACTIVE
        and not view.needs_payment_update
    )
    assert balance(buyer) == 2 * STARTER_CREDITS


def test_every_retry_failing_halts_the_subscription(
    razorpay: FakeRazorpay, client: TestClient
) -> None:
    sub_id = subscribe(razorpay, make_user())
    for _ in range(4):
        _, subscription = razorpay.renew(sub_id, succeed=False)
    assert subscription["status"] == "halted"
    send(client, razorpay, "subscription.halted", sub_id, at=2_200_000_000)
    assert stored(sub_id).status == SubscriptionStatus.HALTED


def test_pause_resume_change_plan_and_cancel_at_cycle_end(
    razorpay: FakeRazorpay, client: TestClient
) -> None:
    buyer = make_user()
    sub_id = subscribe(razorpay, buyer)
    assert payments.pause_subscription(user_id=buyer).status == SubscriptionStatus.PAUSED
    assert razorpay.subscription(sub_id)["status"] == "paused"
    with pytest.raises(payments.SubscriptionActionRefused):
        payments.pause_subscription(user_id=buyer)
    assert payments.resume_subscription(user_id=buyer).status == SubscriptionStatus.ACTIVE

    view = payments.change_subscription_plan(user_id=buyer, plan_code="pro-monthly")
    assert (view.plan_name, view.next_plan_name) == ("Starter", "Pro")
    assert razorpay.subscription(sub_id)["has_scheduled_changes"] is True
    payment, _ = razorpay.renew(sub_id)  # the change takes effect at renewal
    assert payment["amount"] == 199_900
    assert (
        send(client, razorpay, "subscription.charged", sub_id, payment=payment, at=2_300_000_000)
        == "granted"
    )
    view = payments.current_subscription(user_id=buyer)
    assert view is not None and (view.plan_name, view.next_plan_name) == ("Pro", "")
    assert balance(buyer) == STARTER_CREDITS + PRO_CREDITS
    assert invoices()[-1].description.startswith("Pro subscription")

    view = payments.cancel_subscription(user_id=buyer, at_cycle_end=True)
    assert view.status == SubscriptionStatus.ACTIVE and view.cancel_at_cycle_end
    assert not (view.can_pause or view.can_cancel or view.can_change_plan)
    nothing, ended = razorpay.renew(sub_id)
    assert nothing == {} and ended["status"] == "cancelled"
    send(client, razorpay, "subscription.cancelled", sub_id, at=2_400_000_000)
    assert payments.current_subscription(user_id=buyer) is None
    assert balance(buyer) == STARTER_CREDITS + PRO_CREDITS  # credits never expire
    subscribe(razorpay, buyer)  # and a new subscription may start


def test_razorpay_refusals_reach_the_buyer_and_change_nothing(razorpay: FakeRazorpay) -> None:
    buyer = make_user()
    sub_id = subscribe(razorpay, buyer)
    with pytest.raises(payments.AlreadySubscribed):
        payments.start_subscription(user_id=buyer, plan_code="pro-monthly")
    razorpay.subscriptions[sub_id]["status"] = "cancelled"  # cancelled on the dashboard
    with pytest.raises(
        payments.SubscriptionActionRefused, match="not cancellable in cancelled status"
    ):
        payments.cancel_subscription(user_id=buyer, at_cycle_end=False)
    with pytest.raises(payments.SubscriptionActionRefused, match="cannot be paused in cancelled"):
        payments.pause_subscription(user_id=buyer)
    assert stored(sub_id).status == SubscriptionStatus.ACTIVE  # until Razorpay's webhook says so
    razorpay.fail_next(503)
    razorpay.subscriptions[sub_id]["status"] = "active"
    with pytest.raises(payments.PaymentsUnavailable):
        payments.pause_subscription(user_id=buyer)


def test_a_refunded_charge_gets_its_credit_note(razorpay: FakeRazorpay, client: TestClient) -> None:
    buyer = make_user()
    sub_id = subscribe(razorpay, buyer)
    [invoice] = invoices()
    payment_id = razorpay.invoices[next(iter(razorpay.invoices))]["payment_id"]
    assert send_refund_event(client, razorpay, razorpay.dashboard_refund(payment_id)) == "refunded"
    assert balance(buyer) == 0
    with session_scope() as session:
        [note] = session.exec(
            select(TaxDocument).where(TaxDocument.kind == DocumentKind.CREDIT_NOTE)
        ).all()
    assert (note.original_id, note.total_paise) == (invoice.id, invoice.total_paise)
    assert billing.verify_register().problems == []
    assert stored(sub_id).status == SubscriptionStatus.ACTIVE  # a refund does not cancel


def test_test_mode_subscribes_and_simulates_renewals_and_failures(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    buyer = make_user()
    checkout = payments.start_subscription(user_id=buyer, plan_code="starter-monthly")
    assert checkout.mode == "test"
    with pytest.raises(payments.PaymentFailed):
        payments.pay_test_subscription(
            user_id=buyer, subscription_id=checkout.subscription_id, succeed=False
        )
    view = payments.pay_test_subscription(
        user_id=buyer, subscription_id=checkout.subscription_id, succeed=True
    )
    assert view.status == SubscriptionStatus.ACTIVE and view.test_mode
    sub_id = checkout.subscription_id

    assert main(["subscriptions", "simulate", "renewal", sub_id]) == 0
    assert "subscription.charged -> granted" in capsys.readouterr().out
    assert balance(buyer) == 2 * STARTER_CREDITS
    assert main(["subscriptions", "simulate", "failure", sub_id]) == 0
    assert stored(sub_id).status == SubscriptionStatus.PENDING
    assert main(["subscriptions", "simulate", "failure", sub_id]) == 0
    assert stored(sub_id).status == SubscriptionStatus.HALTED
    assert main(["subscriptions", "simulate", "renewal", sub_id]) == 0
    assert stored(sub_id).status == SubscriptionStatus.ACTIVE
    assert balance(buyer) == 3 * STARTER_CREDITS
    assert len(invoices()) == 3
    assert main(["subscriptions", "simulate", "renewal", "sub_nope"]) == 1
    assert billing.verify_register().problems == []


def test_test_mode_cancel_at_cycle_end_ends_at_the_next_renewal(database_url: str) -> None:
    buyer = make_user()
    checkout = payments.start_subscription(user_id=buyer, plan_code="pro-monthly")
    payments.pay_test_subscription(
        user_id=buyer, subscription_id=checkout.subscription_id, succeed=True
    )
    view = payments.cancel_subscription(user_id=buyer, at_cycle_end=True)
    assert view.cancel_at_cycle_end and view.status == SubscriptionStatus.ACTIVE
    simulated = payments.simulate_renewal(subscription_id=checkout.subscription_id, succeed=True)
    assert [event for event, _ in simulated.events] == ["subscription.cancelled"]
    assert stored(checkout.subscription_id).status == SubscriptionStatus.CANCELLED
    assert balance(buyer) == PRO_CREDITS  # nothing charged, nothing taken
