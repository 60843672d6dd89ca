"""The payment records: each Razorpay payment of an order, moved only forward, and the
one place a captured payment turns into credits.

Every function here runs inside the caller's transaction; callers lock the order first
(`order_by_provider_id` selects it FOR UPDATE), so concurrent paths settle one at a time.
"""

from __future__ import annotations

import logging

from sqlalchemy import update
from sqlmodel import Session, select

from adremix.enums import CreditKind, OrderKind, OrderStatus, PaymentOutcome, PaymentStatus
from adremix.models import Payment, PaymentOrder, Quote, User, utcnow
from adremix.services import billing, credits
from adremix.services.credits import find_package
from adremix.services.payments.gateways import GatewayPayment
from adremix.services.payments.refunds import settle
from adremix.settings import get_settings

log = logging.getLogger(__name__)


def order_by_provider_id(session: Session, provider_order_id: str) -> PaymentOrder | None:
    return session.exec(
        select(PaymentOrder)
        .where(PaymentOrder.provider_order_id == provider_order_id)
        .with_for_update()
    ).first()


def payment_row(session: Session, provider_payment_id: str) -> Payment | None:
    """A payment row. Callers lock its order first: every writer of a payment does."""
    return session.exec(
        select(Payment).where(Payment.provider_payment_id == provider_payment_id)
    ).first()


# How far along Razorpay's payment life a status is; a row only ever moves forward, so a
# late or replayed event cannot undo a capture. A failed payment can still be authorised
# later (late authorisation), so failed ranks below authorized.
_PROGRESS = {
    PaymentStatus.CREATED: 0,
    PaymentStatus.FAILED: 1,
    PaymentStatus.AUTHORIZED: 2,
    PaymentStatus.CAPTURED: 3,
}


def record_payment(session: Session, order: PaymentOrder, payment: GatewayPayment) -> Payment:
    """Create or move forward the row for a payment Razorpay told us about."""
    status = payment.status
    if status not in _PROGRESS:  # Razorpay's "refunded": our refund rows say how much
        status = PaymentStatus.CAPTURED if payment.captured else PaymentStatus.AUTHORIZED
    row = payment_row(session, payment.id)
    if row is None:
        assert order.id is not None
        row = Payment(
            provider_payment_id=payment.id,
            order_id=order.id,
            amount_paise=payment.amount,
            currency=payment.currency or order.currency,
            status=status,
        )
    elif (
        row.status in _PROGRESS
        and _PROGRESS[PaymentStatus(status)] > _PROGRESS[PaymentStatus(row.status)]
    ):
        row.status = status
    if row.credits_granted == 0 and payment.amount:
        row.amount_paise = payment.amount  # a row made from the checkout had the order's
        row.currency = payment.currency or row.currency
    row.captured = row.captured or payment.captured or status == PaymentStatus.CAPTURED
    if payment.error_description and row.status == PaymentStatus.FAILED:
        row.error_description = payment.error_description
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return row


def granting_payment(
    session: Session, order_id: int | None, *, besides: int | None = None
) -> Payment | None:
    """The payment that paid for the order (granted its credits), other than `besides`."""
    return session.exec(
        select(Payment).where(
            Payment.order_id == order_id, Payment.credits_granted > 0, Payment.id != besides
        )
    ).first()


MISMATCH_MESSAGE = (
    "The amount paid does not match this order. No credits were added; "
    "our team has been notified and will sort it out."
)


def fulfil(session: Session, order: PaymentOrder, payment: GatewayPayment) -> PaymentOutcome:
    """Grant the order's credits for a captured payment, once.

    Returns GRANTED, ALREADY_GRANTED, AMOUNT_MISMATCH (recorded on the order, status
    "review", rather than raised, so that the record is committed) or DUPLICATE_PAYMENT
    (another payment already paid for this order: this one grants nothing and is to be
    refunded by `refund_duplicate_payments`).
    """
    row = record_payment(session, order, payment)
    if row.credits_granted > 0:
        return PaymentOutcome.ALREADY_GRANTED
    if row.duplicate or granting_payment(session, order.id, besides=row.id) is not None:
        if not row.duplicate:
            log.warning(
                "Order %s was already paid; payment %s is a duplicate and will be refunded",
                order.receipt_number,
                payment.id,
            )
            row.duplicate = True
            session.add(row)
        return PaymentOutcome.DUPLICATE_PAYMENT
    if payment.amount != order.amount_paise or payment.currency != order.currency:
        log.error(
            "Amount mismatch on %s: paid %s %s, order is %s %s",
            order.receipt_number,
            payment.amount,
            payment.currency,
            order.amount_paise,
            order.currency,
        )
        order.status = OrderStatus.REVIEW
        order.failure_reason = "The amount paid does not match the order."
        session.add(order)
        return PaymentOutcome.AMOUNT_MISMATCH
    entry = credits.grant(
        session=session,
        user_id=order.user_id,
        amount=order.credits,
        kind=CreditKind.PURCHASE,
        idempotency_key=f"purchase:{payment.id}",
        reference=order.receipt_number,
    )
    row.credits_granted = entry.amount
    order.status = OrderStatus.PAID
    order.paid_at = order.paid_at or utcnow()
    order.failure_reason = None
    session.add(order)
    # The buyer's paid total, in this same transaction as the credits it bought.
    session.execute(
        update(User)
        .where(User.id == order.user_id)  # type: ignore[arg-type]
        .values(
            paid_paise=User.paid_paise + row.amount_paise,
            has_paid=User.paid_paise + row.amount_paise > 0,
        )
    )
    # Refunds Razorpay reported before the capture reached us are settled now.
    settle(session, payment=row, order=order)
    # The tax invoice, numbered in this same transaction: a payment is never recorded
    # without its invoice, and a rolled-back one leaves no gap in the numbering. Last,
    # so that the series' counter row stays locked for as short a time as possible.
    quote_gstin = (
        session.exec(select(Quote.gstin).where(Quote.order_id == order.id)).first()
        if order.kind == OrderKind.QUOTE
        else None
    )
    billing.issue_invoice(
        session,
        payment=row,
        order=order,
        description=order_description(order),
        buyer_gstin=quote_gstin,
    )
    if row.refunded_paise:
        billing.issue_credit_notes(session, payment=row)
    return PaymentOutcome.ALREADY_GRANTED if entry.replayed else PaymentOutcome.GRANTED


def order_description(order: PaymentOrder) -> str:
    """What an order sold, as its tax invoice describes the supply."""
    settings = get_settings()
    if order.kind == OrderKind.SUBSCRIPTION:
        plan = next((p for p in settings.subscription_plans if p.code == order.package_code), None)
        name = plan.name if plan else order.package_code
        return f"{name} subscription: {order.credits} AdRemix credits for one billing cycle"
    if order.kind == OrderKind.QUOTE:
        return f"AdRemix credits as quoted ({order.receipt_number}): {order.credits} credits"
    package = find_package(settings.credit_packages, order.package_code)
    name = package.name if package else order.package_code
    return f"{name} credit pack: {order.credits} AdRemix credits (1 credit = 1 image)"


def record_failure(session: Session, order: PaymentOrder, row: Payment, reason: str) -> None:
    """A failed attempt fails the order only if no other attempt is paid or under way."""
    others = session.exec(
        select(Payment).where(Payment.order_id == order.id, Payment.id != row.id)
    ).all()
    busy = any(
        p.credits_granted > 0 or p.status in (PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED)
        for p in others
    ) or (
        # The checkout reported another payment id that Razorpay has not confirmed yet.
        order.status == OrderStatus.PENDING
        and any(p.status == PaymentStatus.CREATED for p in others)
    )
    if order.status in (OrderStatus.CREATED, OrderStatus.PENDING) and not busy:
        order.status = OrderStatus.FAILED
        order.failure_reason = reason[:500]
        session.add(order)
