"""Test mode: Razorpay's side of renewals, failed renewals and paid links, simulated.

Without Razorpay keys (and never in production) the test checkout stands in for Razorpay.
Razorpay charges a subscription and e-mails a payment link on its own; here the Credits
page's test buttons and `python -m adremix subscriptions simulate ...` / `quote
simulate-payment` play that part: they build the webhooks Razorpay would send, in its
payload shapes, sign them as Razorpay does, and post them through the same
`handle_webhook` a real delivery takes (signature check, event log, state rules).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from sqlmodel import select

from adremix.db import session_scope
from adremix.enums import CheckoutMode, PaymentOutcome, QuoteStatus, SubscriptionStatus
from adremix.models import GatewayPlan, PaymentOrder, Quote, Subscription
from adremix.services.payments.errors import NoSubscription, OrderNotFound, PaymentsUnavailable
from adremix.services.payments.gateways import TestCheckoutGateway, gateway_for
from adremix.services.payments.subscriptions import cycle_seconds, find_plan, plan_charge
from adremix.services.payments.webhooks import handle_webhook
from adremix.settings import get_settings


def _test_gateway() -> TestCheckoutGateway:
    gateway = gateway_for(get_settings())
    if not isinstance(gateway, TestCheckoutGateway):
        raise PaymentsUnavailable(
            "Simulations run only in test mode (no Razorpay keys, ADREMIX_ENV=dev): with "
            "Razorpay, renewals and link payments happen at Razorpay."
        )
    return gateway


@dataclass(frozen=True)
class Simulated:
    """What the simulated webhooks did, event by event."""

    events: list[tuple[str, PaymentOutcome]]


def _payment_entity(amount: int, *, captured: bool) -> dict:
    failed = not captured
    return {
        "id": "pay_test_" + secrets.token_hex(7),
        "entity": "payment",
        "amount": amount,
        "currency": "INR",
        "status": "failed" if failed else "captured",
        "order_id": "order_test_" + secrets.token_hex(7),
        "invoice_id": "inv_test_" + secrets.token_hex(7),
        "international": False,
        "method": "card",
        "amount_refunded": 0,
        "refund_status": None,
        "captured": captured,
        "description": "Recurring Payment via Subscription",
        "email": "",
        "contact": "",
        "notes": [],
        "error_code": "BAD_REQUEST_ERROR" if failed else None,
        "error_description": "Test mode: the renewal charge was declined." if failed else None,
        "created_at": int(time.time()),
    }


def simulate_renewal(*, subscription_id: str, succeed: bool) -> Simulated:
    """The subscription's next cycle is charged (`succeed`) or the charge fails (or, when
    it was cancelled at the end of its cycle, it ends).

    Success sends `subscription.charged` (after `subscription.activated` when it recovers
    from pending or halted). Failure sends `payment.failed` and `subscription.pending`, or
    `subscription.halted` when it was pending already (Razorpay halts after its retries).
    """
    gateway = _test_gateway()
    settings = get_settings()
    with session_scope() as session:
        subscription = session.exec(
            select(Subscription).where(Subscription.provider_subscription_id == subscription_id)
        ).first()
        if subscription is None or subscription.provider != CheckoutMode.TEST:
            raise NoSubscription(f"No test-mode subscription {subscription_id}.")
        if subscription.status not in (
            SubscriptionStatus.ACTIVE,
            SubscriptionStatus.PENDING,
            SubscriptionStatus.HALTED,
        ):
            raise NoSubscription(f"A {subscription.status} subscription is not charged.")
        plan = find_plan(settings, subscription.next_plan_code or subscription.plan_code)
        if plan is None:
            raise NoSubscription("Its plan is no longer in ADREMIX_SUBSCRIPTION_PLANS.")
        amount, _ = plan_charge(plan, settings)
        plan_id = session.exec(
            select(GatewayPlan.provider_plan_id).where(
                GatewayPlan.key_id == gateway.key_id,
                GatewayPlan.plan_code == plan.code,
                GatewayPlan.price_paise == amount,
            )
        ).first()
        status, paid_count = SubscriptionStatus(subscription.status), subscription.paid_count
        ends_now = subscription.cancel_at_cycle_end
        end = subscription.current_end
        # Razorpay's events are seconds (a day, really) apart; a simulation may come within
        # the second of the last event, so it is dated just after it.
        now = max(int(time.time()), subscription.status_at + 1)
    start = int(end.timestamp()) if end and succeed else now
    payment = _payment_entity(amount, captured=succeed)
    entity = {
        "id": subscription_id,
        "entity": "subscription",
        "plan_id": plan_id or "",
        "status": "active"
        if succeed
        else ("halted" if status != SubscriptionStatus.ACTIVE else "pending"),
        "current_start": start,
        "current_end": start + cycle_seconds(plan),
        "charge_at": start + cycle_seconds(plan),
        "paid_count": paid_count + (1 if succeed else 0),
        "total_count": settings.subscription_cycles,
        "remaining_count": max(settings.subscription_cycles - paid_count - 1, 0),
        "auth_attempts": 0 if succeed else 1,
        "customer_notify": True,
        "notes": [],
        "short_url": "",
        "created_at": now,
    }
    if ends_now:
        # Cancelled at the end of this cycle: Razorpay charges nothing and cancels it.
        entity.update(status="cancelled", ended_at=now, charge_at=None, paid_count=paid_count)
        events = [("subscription.cancelled", {"subscription": entity})]
    elif succeed:
        events = [("subscription.charged", {"subscription": entity, "payment": payment})]
        if status != SubscriptionStatus.ACTIVE:
            events.insert(
                0, ("subscription.activated", {"subscription": entity, "payment": payment})
            )
    else:
        later = "subscription.pending" if entity["status"] == "pending" else "subscription.halted"
        events = [
            ("payment.failed", {"payment": payment}),
            (later, {"subscription": entity, "payment": payment}),
        ]
    return Simulated(_post(gateway, events, created_at=now))


def _post(
    gateway: TestCheckoutGateway, events: list[tuple[str, dict]], *, created_at: int | None = None
) -> list[tuple[str, PaymentOutcome]]:
    outcomes = []
    for event, entities in events:
        body, signature, event_id = gateway.signed_event(event, entities, created_at=created_at)
        outcomes.append(
            (
                event,
                handle_webhook(
                    body=body,
                    signature=signature,
                    event_id=event_id,
                    secret=gateway.webhook_secret,
                    gateway=gateway,
                ),
            )
        )
    return outcomes


def simulate_link_payment(*, reference_id: str) -> Simulated:
    """The buyer pays a test-mode quote's link: `payment_link.paid` (with its order and
    payment), as Razorpay sends it."""
    gateway = _test_gateway()
    with session_scope() as session:
        quote = session.exec(select(Quote).where(Quote.reference_id == reference_id)).first()
        if quote is None:
            raise OrderNotFound(f"No quote {reference_id}.")
        order = session.get(PaymentOrder, quote.order_id)
        assert order is not None
        if quote.status != QuoteStatus.CREATED:
            raise OrderNotFound(f"Quote {reference_id} is {quote.status}.")
        link_id, amount = quote.provider_link_id or "", order.amount_paise
    payment = _payment_entity(amount, captured=True)
    payment["description"] = f"Payment for quote {reference_id}"
    now = int(time.time())
    link = {
        "id": link_id,
        "entity": "payment_link",
        "amount": amount,
        "amount_paid": amount,
        "currency": "INR",
        "reference_id": reference_id,
        "status": "paid",
        "order_id": payment["order_id"],
        "payments": [
            {
                "amount": amount,
                "created_at": now,
                "method": "card",
                "payment_id": payment["id"],
                "status": "captured",
            }
        ],
        "short_url": "",
        "updated_at": now,
    }
    order_entity = {
        "id": payment["order_id"],
        "entity": "order",
        "amount": amount,
        "amount_paid": amount,
        "amount_due": 0,
        "currency": "INR",
        "receipt": reference_id,
        "status": "paid",
        "attempts": 1,
        "notes": [],
        "created_at": now,
    }
    return Simulated(
        _post(
            gateway,
            [
                (
                    "payment_link.paid",
                    {"payment_link": link, "order": order_entity, "payment": payment},
                )
            ],
        )
    )
