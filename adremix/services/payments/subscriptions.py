"""Subscriptions: plans created at Razorpay on demand, Checkout with `subscription_id`,
`subscription.*` webhooks, and the buyer's cancel / pause / resume / change of plan.

Every charged cycle becomes an order of its own (kind "subscription") with the charge
as its payment, fulfilled by the same `fulfil` as a pack: credits under the ledger key
`purchase:<payment id>` (once, whichever of the checkout handler, `subscription.charged`
or `payment.captured` arrives first) and a tax invoice in the same transaction.

A subscription's state only moves forward in time. Each change carries the time Razorpay
gave it (the webhook's `created_at`; our own clock for the answer to our own request);
an event older than the state on record changes nothing, as does anything after
cancelled, completed or expired. So a late `subscription.pending` cannot undo the
`subscription.activated` of a recovered renewal, whatever order they are delivered in.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from adremix.db import session_scope
from adremix.enums import (
    FINAL_SUBSCRIPTION_STATUSES,
    LIVE_SUBSCRIPTION_STATUSES,
    CheckoutMode,
    OrderKind,
    OrderStatus,
    PaymentOutcome,
    PaymentStatus,
    SubscriptionStatus,
)
from adremix.models import GatewayPlan, PaymentOrder, Subscription, utcnow
from adremix.services import billing
from adremix.services.credits import gst_breakup
from adremix.services.payments.checkout import new_receipt_number
from adremix.services.payments.errors import (
    AlreadySubscribed,
    GatewayRefused,
    GatewayUnavailable,
    NoSubscription,
    PaymentFailed,
    PaymentPending,
    PaymentsUnavailable,
    PaymentVerificationFailed,
    SubscriptionActionRefused,
    UnknownPlan,
)
from adremix.services.payments.gateways import (
    GatewayPayment,
    GatewaySubscription,
    PaymentGateway,
    TestCheckoutGateway,
    gateway_for,
)
from adremix.services.payments.records import fulfil, order_by_provider_id, payment_row
from adremix.settings import Settings, SubscriptionPlan, get_settings

log = logging.getLogger(__name__)

# A created subscription's checkout may be paid for this long (Razorpay's expire_by).
CHECKOUT_VALID = timedelta(hours=24)
# Two events of the same second (Razorpay's times are whole seconds) are ordered by this:
# the first charge sends authenticated, activated and charged at once, and a renewal that
# recovers is newer than the failure before it. Final states are final in any case.
_SAME_SECOND_ORDER = {
    SubscriptionStatus.CREATED: 0,
    SubscriptionStatus.AUTHENTICATED: 1,
    SubscriptionStatus.PENDING: 2,
    SubscriptionStatus.HALTED: 3,
    SubscriptionStatus.PAUSED: 4,
    SubscriptionStatus.ACTIVE: 5,
    SubscriptionStatus.CANCELLED: 6,
    SubscriptionStatus.COMPLETED: 6,
    SubscriptionStatus.EXPIRED: 6,
}
# Test mode's stand-in for Razorpay's calendar: a cycle of this many seconds.
_PERIOD_SECONDS = {
    "daily": 86_400,
    "weekly": 7 * 86_400,
    "monthly": 30 * 86_400,
    "yearly": 365 * 86_400,
}
PERIOD_LABELS = {"daily": "day", "weekly": "week", "monthly": "month", "yearly": "year"}


# --- plans ------------------------------------------------------------------------------


def find_plan(settings: Settings, code: str) -> SubscriptionPlan | None:
    return next((p for p in settings.subscription_plans if p.code == code), None)


def cycle_seconds(plan: SubscriptionPlan) -> int:
    return _PERIOD_SECONDS[plan.period] * plan.interval


def plan_charge(plan: SubscriptionPlan, settings: Settings) -> tuple[int, int]:
    """(amount charged per cycle, GST in it), in paise: as packs are priced."""
    tax = gst_breakup(
        plan.price_paise, percent=settings.gst_percent, inclusive=settings.prices_include_gst
    )
    return tax.total_paise, tax.tax_paise


def ensure_gateway_plan(plan: SubscriptionPlan, gateway: PaymentGateway, settings: Settings) -> str:
    """The Razorpay plan for these terms, created the first time it is needed."""
    amount, _ = plan_charge(plan, settings)
    terms = (
        GatewayPlan.key_id == gateway.key_id,
        GatewayPlan.plan_code == plan.code,
        GatewayPlan.price_paise == amount,
        GatewayPlan.period == plan.period,
        GatewayPlan.interval == plan.interval,
    )
    with session_scope() as session:
        known = session.exec(select(GatewayPlan).where(*terms)).first()
        if known is not None:
            if known.credits != plan.credits:
                known.credits = plan.credits
                session.add(known)
            return known.provider_plan_id
    try:
        plan_id = gateway.create_plan(
            name=f"AdRemix {plan.name}",
            amount_paise=amount,
            period=plan.period,
            interval=plan.interval,
            notes={"plan_code": plan.code, "credits": str(plan.credits)},
        )
    except (GatewayUnavailable, GatewayRefused) as exc:
        raise PaymentsUnavailable(
            "Subscriptions are unreachable right now; nothing was charged. Please try again."
        ) from exc
    try:
        with session_scope() as session:
            session.add(
                GatewayPlan(
                    key_id=gateway.key_id,
                    plan_code=plan.code,
                    price_paise=amount,
                    period=plan.period,
                    interval=plan.interval,
                    credits=plan.credits,
                    provider_plan_id=plan_id,
                )
            )
    except IntegrityError:
        # Another request created the same plan at the same time: use the one recorded.
        with session_scope() as session:
            return session.exec(select(GatewayPlan.provider_plan_id).where(*terms)).one()
    return plan_id


def _plan_of(session: Session, provider_plan_id: str) -> GatewayPlan | None:
    return session.exec(
        select(GatewayPlan).where(GatewayPlan.provider_plan_id == provider_plan_id)
    ).first()


# --- what the Credits page shows --------------------------------------------------------


@dataclass(frozen=True)
class PlanOffer:
    code: str
    name: str
    credits: int
    price_paise: int
    period: str  # "month", "year", ...
    per_credit_paise: int


def plan_offers(settings: Settings | None = None) -> list[PlanOffer]:
    settings = settings or get_settings()
    offers = []
    for plan in settings.subscription_plans:
        amount, _ = plan_charge(plan, settings)
        period = PERIOD_LABELS[plan.period]
        offers.append(
            PlanOffer(
                code=plan.code,
                name=plan.name,
                credits=plan.credits,
                price_paise=amount,
                period=period if plan.interval == 1 else f"{plan.interval} {period}s",
                per_credit_paise=(amount + plan.credits // 2) // plan.credits,
            )
        )
    return offers


@dataclass(frozen=True)
class SubscriptionView:
    """The buyer's subscription as the Credits page shows it."""

    provider_subscription_id: str
    plan_code: str
    plan_name: str
    credits: int
    price_paise: int
    status: SubscriptionStatus
    current_end: datetime | None
    cancel_at_cycle_end: bool
    next_plan_name: str
    update_url: str
    test_mode: bool

    @property
    def needs_payment_update(self) -> bool:
        return self.status in (SubscriptionStatus.PENDING, SubscriptionStatus.HALTED)

    @property
    def can_pause(self) -> bool:
        return self.status == SubscriptionStatus.ACTIVE and not self.cancel_at_cycle_end

    @property
    def can_resume(self) -> bool:
        return self.status == SubscriptionStatus.PAUSED

    @property
    def can_cancel(self) -> bool:
        return self.status in LIVE_SUBSCRIPTION_STATUSES and not self.cancel_at_cycle_end

    @property
    def can_change_plan(self) -> bool:
        return self.status == SubscriptionStatus.ACTIVE and not self.cancel_at_cycle_end


def _view(subscription: Subscription, settings: Settings) -> SubscriptionView:
    plan = find_plan(settings, subscription.plan_code)
    next_plan = find_plan(settings, subscription.next_plan_code or "")
    amount = plan_charge(plan, settings)[0] if plan else 0
    end = subscription.current_end
    return SubscriptionView(
        provider_subscription_id=subscription.provider_subscription_id,
        plan_code=subscription.plan_code,
        plan_name=plan.name if plan else subscription.plan_code,
        credits=plan.credits if plan else 0,
        price_paise=amount,
        status=SubscriptionStatus(subscription.status),
        current_end=end if end is None or end.tzinfo else end.replace(tzinfo=UTC),
        cancel_at_cycle_end=subscription.cancel_at_cycle_end,
        next_plan_name=next_plan.name if next_plan else "",
        update_url=subscription.short_url,
        test_mode=subscription.provider == CheckoutMode.TEST,
    )


def _current(session: Session, user_id: int, *, lock: bool = False) -> Subscription | None:
    query = select(Subscription).where(Subscription.holder_key == str(user_id))
    return session.exec(query.with_for_update() if lock else query).first()


def current_subscription(
    *, user_id: int, settings: Settings | None = None
) -> SubscriptionView | None:
    """The buyer's subscription, if they have one (paid for, or being paid for)."""
    settings = settings or get_settings()
    with session_scope() as session:
        subscription = _current(session, user_id)
        if subscription is None or subscription.status not in LIVE_SUBSCRIPTION_STATUSES:
            return None
        return _view(subscription, settings)


# --- state ------------------------------------------------------------------------------


def _move(subscription: Subscription, status: str, at: int, *, answer: bool = False) -> bool:
    """Take `status` if it is news: never after a final state, never from an older event.

    `answer` is Razorpay's reply to our own request just now: the freshest word there is.
    """
    if status not in _SAME_SECOND_ORDER:
        return False
    if subscription.status in FINAL_SUBSCRIPTION_STATUSES:
        return False
    if not answer:
        if at < subscription.status_at:
            return False
        if at == subscription.status_at and (
            _SAME_SECOND_ORDER[SubscriptionStatus(status)]
            < _SAME_SECOND_ORDER[SubscriptionStatus(subscription.status)]
        ):
            return False
    subscription.status = status
    subscription.status_at = max(subscription.status_at, at)
    if status in FINAL_SUBSCRIPTION_STATUSES:
        subscription.holder_key = None  # the buyer may subscribe again
        subscription.cancel_at_cycle_end = False
    subscription.updated_at = utcnow()
    return True


def _take_entity(
    session: Session,
    subscription: Subscription,
    entity: GatewaySubscription,
    at: int,
    *,
    answer: bool = False,
) -> bool:
    """Apply a subscription entity from Razorpay: state, counters, cycle end, plan."""
    moved = _move(subscription, entity.status, at, answer=answer)
    if not moved and (at < subscription.status_at and not answer):
        return False  # a stale event: nothing in it is news
    subscription.paid_count = max(subscription.paid_count, entity.paid_count)
    if entity.current_end:
        subscription.current_end = datetime.fromtimestamp(entity.current_end, UTC)
    if entity.short_url:
        subscription.short_url = entity.short_url
    if entity.plan_id:
        plan = _plan_of(session, entity.plan_id)
        if plan is not None and plan.plan_code != subscription.plan_code:
            subscription.plan_code = plan.plan_code  # a scheduled plan change took effect
            if subscription.next_plan_code == plan.plan_code:
                subscription.next_plan_code = None
    session.add(subscription)
    return moved


def _by_provider_id(session: Session, provider_subscription_id: str) -> Subscription | None:
    return session.exec(
        select(Subscription)
        .where(Subscription.provider_subscription_id == provider_subscription_id)
        .with_for_update()
    ).first()


# --- charges ----------------------------------------------------------------------------


def record_charge(
    session: Session, subscription: Subscription, payment: GatewayPayment, *, plan_id: str = ""
) -> PaymentOutcome:
    """A captured charge of the subscription: its cycle's order, credits and invoice (once
    per payment id). The caller holds the subscription's row lock."""
    row = payment_row(session, payment.id)
    if row is not None:
        order = session.exec(
            select(PaymentOrder).where(PaymentOrder.id == row.order_id).with_for_update()
        ).one()
        return fulfil(session, order, payment)
    settings = get_settings()
    gateway_plan = _plan_of(session, plan_id) if plan_id else None
    plan_code = gateway_plan.plan_code if gateway_plan else subscription.plan_code
    plan = find_plan(settings, plan_code)
    credits = plan.credits if plan else (gateway_plan.credits if gateway_plan else 0)
    if credits <= 0:
        log.error(
            "Charge %s on %s: no plan to grant from",
            payment.id,
            subscription.provider_subscription_id,
        )
        return PaymentOutcome.IGNORED
    order = order_by_provider_id(session, payment.order_id) if payment.order_id else None
    if order is None:
        expected_amount, expected_tax = plan_charge(plan, settings) if plan else (0, 0)
        assert subscription.id is not None
        order = PaymentOrder(
            receipt_number=new_receipt_number(utcnow()),
            user_id=subscription.user_id,
            kind=OrderKind.SUBSCRIPTION,
            package_code=plan_code,
            subscription_id=subscription.id,
            credits=credits,
            # What was charged: the order is for this cycle's charge, whatever it was.
            amount_paise=payment.amount,
            tax_paise=expected_tax if payment.amount == expected_amount else 0,
            currency=payment.currency or "INR",
            status=OrderStatus.PENDING,
            provider=subscription.provider,
            provider_order_id=payment.order_id or None,
        )
        session.add(order)
        session.flush()
    return fulfil(session, order, payment)


# --- webhooks -----------------------------------------------------------------------------


def apply_subscription_event(
    session: Session, event_type: str, payload: dict, *, event_at: int
) -> PaymentOutcome:
    """One `subscription.*` webhook (already verified and recorded by its event id)."""
    entity = (payload.get("subscription") or {}).get("entity") or {}
    if not entity.get("id"):
        return PaymentOutcome.IGNORED
    subscription = _by_provider_id(session, str(entity["id"]))
    if subscription is None:
        return PaymentOutcome.UNKNOWN_SUBSCRIPTION
    gateway_entity = GatewaySubscription.from_entity(entity)
    if event_type == "subscription.charged":
        moved = _take_entity(session, subscription, gateway_entity, event_at)
        payment_entity = (payload.get("payment") or {}).get("entity") or {}
        if not payment_entity.get("id"):
            return PaymentOutcome.SUBSCRIPTION_UPDATED if moved else PaymentOutcome.STALE_EVENT
        payment = GatewayPayment.from_entity(payment_entity)
        if not payment.captured and payment.status != PaymentStatus.CAPTURED:
            return PaymentOutcome.IGNORED
        # A charge grants whatever the event's age: credits are keyed on the payment id.
        return record_charge(
            session,
            subscription,
            replace(payment, status=PaymentStatus.CAPTURED, captured=True),
            plan_id=gateway_entity.plan_id,
        )
    if event_type == "subscription.updated":
        # No change of state (Razorpay's docs); the plan or the cycle may have changed.
        _take_entity(
            session, subscription, replace(gateway_entity, status=subscription.status), event_at
        )
        return PaymentOutcome.SUBSCRIPTION_UPDATED
    moved = _take_entity(session, subscription, gateway_entity, event_at)
    return PaymentOutcome.SUBSCRIPTION_UPDATED if moved else PaymentOutcome.STALE_EVENT


# --- the buyer's actions ----------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionCheckout:
    """What the page needs to open Checkout for a new subscription."""

    subscription_id: str
    key_id: str
    mode: CheckoutMode
    plan_name: str
    credits: int
    amount_paise: int
    period: str


def start_subscription(
    *,
    user_id: int,
    plan_code: str,
    settings: Settings | None = None,
    gateway: PaymentGateway | None = None,
) -> SubscriptionCheckout:
    """A subscription to pay for in Checkout; reuses this plan's unpaid one."""
    settings = settings or get_settings()
    gateway = gateway or gateway_for(settings)
    plan = find_plan(settings, plan_code)
    if plan is None:
        raise UnknownPlan("That plan is not on sale.")
    amount, _ = plan_charge(plan, settings)
    period = PERIOD_LABELS[plan.period]

    def checkout(subscription_id: str) -> SubscriptionCheckout:
        return SubscriptionCheckout(
            subscription_id, gateway.key_id, gateway.mode, plan.name, plan.credits, amount, period
        )

    with session_scope() as session:
        current = _current(session, user_id, lock=True)
        if current is not None and current.status in LIVE_SUBSCRIPTION_STATUSES:
            held = find_plan(settings, current.plan_code)
            raise AlreadySubscribed(
                f"You already subscribe to {held.name if held else current.plan_code}. "
                "Change its plan instead of starting another."
            )
        if current is not None:
            created = (
                current.created_at
                if current.created_at.tzinfo
                else current.created_at.replace(tzinfo=UTC)
            )
            if (
                current.status == SubscriptionStatus.CREATED
                and current.plan_code == plan.code
                and current.provider == gateway.mode
                and created > utcnow() - CHECKOUT_VALID + timedelta(minutes=5)
            ):
                return checkout(current.provider_subscription_id)
            current.holder_key = None  # an unpaid checkout of another plan: let it lapse
            session.add(current)
    plan_id = ensure_gateway_plan(plan, gateway, settings)
    try:
        created_at_gateway = gateway.create_subscription(
            plan_id=plan_id,
            total_count=settings.subscription_cycles,
            expire_by=int(time.time() + CHECKOUT_VALID.total_seconds()),
            notes={"user_id": str(user_id), "plan_code": plan.code},
        )
    except (GatewayUnavailable, GatewayRefused) as exc:
        raise PaymentsUnavailable(
            "Subscriptions are unreachable right now; nothing was charged. Please try again."
        ) from exc
    try:
        with session_scope() as session:
            session.add(
                Subscription(
                    user_id=user_id,
                    plan_code=plan.code,
                    provider=gateway.mode,
                    provider_subscription_id=created_at_gateway.id,
                    status=SubscriptionStatus.CREATED,
                    holder_key=str(user_id),
                    short_url=created_at_gateway.short_url,
                )
            )
    except IntegrityError as exc:
        raise PaymentsUnavailable(
            "Another subscription checkout was opened at the same moment. Please try again."
        ) from exc
    return checkout(created_at_gateway.id)


def _owned(session: Session, user_id: int, provider_subscription_id: str) -> Subscription:
    subscription = _by_provider_id(session, provider_subscription_id)
    if subscription is None or subscription.user_id != user_id:
        raise NoSubscription("That subscription does not exist.")
    return subscription


def confirm_subscription_checkout(
    *,
    user_id: int,
    subscription_id: str,
    payment_id: str,
    signature: str,
    gateway: PaymentGateway | None = None,
) -> SubscriptionView:
    """Checkout's success handler for a subscription: verify, confirm, grant the first cycle.

    The signature (HMAC of `payment_id|subscription_id`) ties the payment to the
    subscription; the payment is then fetched. Our subscriptions start at once with no
    add-ons, so their Checkout payment is the first cycle's charge: captured, it grants
    that cycle now (the `subscription.charged` webhook then finds it granted).
    """
    settings = get_settings()
    gateway = gateway or gateway_for(settings)
    with session_scope() as session:
        _owned(session, user_id, subscription_id)
    if not gateway.subscription_signature_is_valid(
        subscription_id=subscription_id, payment_id=payment_id, signature=signature
    ):
        log.warning("Refused a forged subscription signature for %s", subscription_id)
        raise PaymentVerificationFailed(
            "We could not verify this payment, so no credits were added. If money left your "
            "account, contact support and quote " + subscription_id + "."
        )
    try:
        payment = gateway.fetch_payment(payment_id)
    except GatewayUnavailable as exc:
        raise PaymentPending(
            "Your subscription is being confirmed. Credits appear as soon as Razorpay "
            "confirms it; you can close this page."
        ) from exc
    except GatewayRefused as exc:
        raise PaymentFailed(f"Razorpay could not confirm the payment: {exc}") from exc
    if payment.status == PaymentStatus.FAILED:
        raise PaymentFailed(payment.error_description or "The payment failed.")
    now = int(time.time())
    with session_scope() as session:
        subscription = _owned(session, user_id, subscription_id)
        if payment.status == PaymentStatus.CAPTURED or payment.captured:
            _move(subscription, SubscriptionStatus.ACTIVE, now, answer=True)
            subscription.paid_count = max(subscription.paid_count, 1)
            session.add(subscription)
            record_charge(session, subscription, payment)
        else:
            _move(subscription, SubscriptionStatus.AUTHENTICATED, now, answer=True)
            session.add(subscription)
    _refresh(subscription_id, gateway)
    billing.deliver_soon()
    with session_scope() as session:
        return _view(_owned(session, user_id, subscription_id), settings)


def _refresh(subscription_id: str, gateway: PaymentGateway) -> None:
    """Take Razorpay's current word on the subscription (its cycle end, mostly); best effort."""
    try:
        entity = gateway.fetch_subscription(subscription_id)
    except (GatewayUnavailable, GatewayRefused):
        return
    with session_scope() as session:
        subscription = _by_provider_id(session, subscription_id)
        if subscription is not None:
            _take_entity(session, subscription, entity, int(time.time()))


def pay_test_subscription(*, user_id: int, subscription_id: str, succeed: bool) -> SubscriptionView:
    """The test checkout's Pay / Fail for a subscription: a payment signed as Razorpay
    signs it, then the same confirmation as a real one."""
    settings = get_settings()
    gateway = gateway_for(settings)
    if not isinstance(gateway, TestCheckoutGateway):
        raise PaymentsUnavailable("The test checkout is not available on this server.")
    with session_scope() as session:
        plan = find_plan(settings, _owned(session, user_id, subscription_id).plan_code)
    if plan is None:
        raise UnknownPlan("That plan is not on sale.")
    signed = gateway.pay_subscription(
        subscription_id,
        amount_paise=plan_charge(plan, settings)[0],
        cycle_seconds=cycle_seconds(plan),
        succeed=succeed,
    )
    return confirm_subscription_checkout(
        user_id=user_id,
        subscription_id=subscription_id,
        payment_id=signed["razorpay_payment_id"],
        signature=signed["razorpay_signature"],
        gateway=gateway,
    )


def _act(
    user_id: int,
    allowed: tuple[SubscriptionStatus, ...],
    refusal: str,
    request,  # type: ignore[no-untyped-def]
    *,
    gateway: PaymentGateway | None,
    cancel_at_cycle_end: bool = False,
    next_plan_code: str | None = None,
) -> SubscriptionView:
    settings = get_settings()
    gateway = gateway or gateway_for(settings)
    with session_scope() as session:
        subscription = _current(session, user_id)
        if subscription is None or subscription.status not in LIVE_SUBSCRIPTION_STATUSES:
            raise NoSubscription("You have no subscription.")
        if subscription.status not in allowed or subscription.cancel_at_cycle_end:
            raise SubscriptionActionRefused(refusal)
        provider_id = subscription.provider_subscription_id
    try:
        answer: GatewaySubscription = request(gateway, provider_id)
    except GatewayRefused as exc:
        raise SubscriptionActionRefused(f"Razorpay refused: {exc}") from exc
    except GatewayUnavailable as exc:
        raise PaymentsUnavailable("Razorpay is unreachable right now; nothing changed.") from exc
    with session_scope() as session:
        subscription = _owned(session, user_id, provider_id)
        _take_entity(session, subscription, answer, int(time.time()), answer=True)
        if cancel_at_cycle_end:
            subscription.cancel_at_cycle_end = True
        if next_plan_code is not None:
            subscription.next_plan_code = next_plan_code
        session.add(subscription)
        session.flush()
        return _view(subscription, settings)


def cancel_subscription(
    *, user_id: int, at_cycle_end: bool, gateway: PaymentGateway | None = None
) -> SubscriptionView:
    """Cancel now, or at the end of the paid cycle (then it stays active until then).
    Razorpay cannot undo a cancellation; credits already granted stay."""
    if at_cycle_end:
        return _act(
            user_id,
            (SubscriptionStatus.ACTIVE,),
            "Only an active subscription can be cancelled at the end of its cycle.",
            lambda g, sid: g.cancel_subscription(sid, at_cycle_end=True),
            gateway=gateway,
            cancel_at_cycle_end=True,
        )
    return _act(
        user_id,
        LIVE_SUBSCRIPTION_STATUSES,
        "This subscription is already ending.",
        lambda g, sid: g.cancel_subscription(sid, at_cycle_end=False),
        gateway=gateway,
    )


def pause_subscription(*, user_id: int, gateway: PaymentGateway | None = None) -> SubscriptionView:
    """Pause renewals now (Razorpay pauses only active subscriptions)."""
    return _act(
        user_id,
        (SubscriptionStatus.ACTIVE,),
        "Only an active subscription can be paused.",
        lambda g, sid: g.pause_subscription(sid),
        gateway=gateway,
    )


def resume_subscription(*, user_id: int, gateway: PaymentGateway | None = None) -> SubscriptionView:
    return _act(
        user_id,
        (SubscriptionStatus.PAUSED,),
        "Only a paused subscription can be resumed.",
        lambda g, sid: g.resume_subscription(sid),
        gateway=gateway,
    )


def change_subscription_plan(
    *, user_id: int, plan_code: str, gateway: PaymentGateway | None = None
) -> SubscriptionView:
    """Switch to another plan from the next renewal on (its price and credits then)."""
    settings = get_settings()
    gateway = gateway or gateway_for(settings)
    plan = find_plan(settings, plan_code)
    if plan is None:
        raise UnknownPlan("That plan is not on sale.")
    with session_scope() as session:
        current = _current(session, user_id)
        if current is not None and current.plan_code == plan.code:
            raise SubscriptionActionRefused(f"You are on the {plan.name} plan already.")
    plan_id = ensure_gateway_plan(plan, gateway, settings)
    return _act(
        user_id,
        (SubscriptionStatus.ACTIVE,),
        "Only an active subscription can change plan.",
        lambda g, sid: g.change_subscription_plan(sid, plan_id=plan_id),
        gateway=gateway,
        next_plan_code=plan.code,
    )
