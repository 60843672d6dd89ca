"""Confirming a payment the checkout reports: verify its signature, ask the provider, grant
once. The browser's word is never enough."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel import select

from adremix.db import session_scope
from adremix.enums import OrderStatus, PaymentOutcome, PaymentStatus
from adremix.models import Payment, PaymentOrder
from adremix.services import billing
from adremix.services.credits import format_inr
from adremix.services.payments.duplicates import refund_duplicate_payments
from adremix.services.payments.errors import (
    CheckoutDeclined,
    DuplicatePayment,
    GatewayRefused,
    GatewayUnavailable,
    OrderNotFound,
    PaymentAmountMismatch,
    PaymentFailed,
    PaymentPending,
    PaymentsUnavailable,
    PaymentVerificationFailed,
)
from adremix.services.payments.gateways import PaymentGateway, TestCheckoutGateway, gateway_for
from adremix.services.payments.records import (
    MISMATCH_MESSAGE,
    fulfil,
    granting_payment,
    order_by_provider_id,
    payment_row,
    record_failure,
    record_payment,
)
from adremix.settings import get_settings

log = logging.getLogger(__name__)


DUPLICATE_REFUNDED = (
    "This order was already paid, so this second payment of {amount} added no credits and "
    "has been refunded in full. Banks take 5–7 working days to show a refund."
)
DUPLICATE_RELEASED = (
    "This order was already paid, so this second payment of {amount} was not taken: "
    "Razorpay releases the held amount back to you automatically."
)


@dataclass(frozen=True)
class ConfirmedOrder:
    """Where an order stands after its payment was confirmed (or looked at again)."""

    receipt_number: str
    credits: int
    status: OrderStatus


def _confirmed(order: PaymentOrder) -> ConfirmedOrder:
    return ConfirmedOrder(order.receipt_number, order.credits, OrderStatus(order.status))


def confirm_checkout(
    *,
    user_id: int,
    provider_order_id: str,
    payment_id: str,
    signature: str,
    gateway: PaymentGateway | None = None,
) -> ConfirmedOrder:
    """The checkout's success handler: verify, confirm with the provider, grant once."""
    gateway = gateway or gateway_for(get_settings())
    with session_scope() as session:
        order = order_by_provider_id(session, provider_order_id)
        if order is None or order.user_id != user_id:
            raise OrderNotFound("That order does not exist.")
        if not gateway.signature_is_valid(
            order_id=provider_order_id, payment_id=payment_id, signature=signature
        ):
            log.warning(
                "Refused a forged payment signature for %s (payment %s)",
                order.receipt_number,
                payment_id,
            )
            raise PaymentVerificationFailed(
                "We could not verify this payment, so no credits were added. If money left "
                f"your account, contact support and quote order {order.receipt_number}."
            )
        row = payment_row(session, payment_id)
        if row is not None and row.credits_granted > 0:
            return _confirmed(order)  # a double click, or the page retrying
        if row is not None and row.duplicate:
            raise DuplicatePayment(DUPLICATE_REFUNDED.format(amount=format_inr(row.amount_paise)))
        if row is None:
            # The signature ties this payment id to our order: remember it for retries.
            assert order.id is not None
            session.add(
                Payment(
                    provider_payment_id=payment_id,
                    order_id=order.id,
                    amount_paise=order.amount_paise,
                    currency=order.currency,
                )
            )
        if order.status in (OrderStatus.CREATED, OrderStatus.FAILED):
            order.status = OrderStatus.PENDING
            session.add(order)
    return _settle_payment(gateway=gateway, order=order, payment_id=payment_id)


def settle_order(
    *, user_id: int, receipt_number: str, gateway: PaymentGateway | None = None
) -> ConfirmedOrder:
    """Ask the provider again about the order's unconfirmed payment, and grant if captured."""
    gateway = gateway or gateway_for(get_settings())
    with session_scope() as session:
        order = session.exec(
            select(PaymentOrder).where(PaymentOrder.receipt_number == receipt_number)
        ).first()
        if order is None or order.user_id != user_id:
            raise OrderNotFound("That order does not exist.")
        if order.status != OrderStatus.PENDING:
            return _confirmed(order)
        payment_id = session.exec(
            select(Payment.provider_payment_id)
            .where(
                Payment.order_id == order.id,
                Payment.status.in_((PaymentStatus.CREATED, PaymentStatus.AUTHORIZED)),  # type: ignore[attr-defined]
                Payment.credits_granted == 0,
                Payment.duplicate.is_(False),  # type: ignore[attr-defined]
            )
            .order_by(Payment.id.desc())  # type: ignore[union-attr]
        ).first()
    if payment_id is None:
        return _confirmed(order)
    return _settle_payment(gateway=gateway, order=order, payment_id=payment_id)


def _already_paid(order_id: int | None) -> bool:
    with session_scope() as session:
        return granting_payment(session, order_id) is not None


def _settle_payment(
    *, gateway: PaymentGateway, order: PaymentOrder, payment_id: str
) -> ConfirmedOrder:
    """Fetch one payment of the order, capture it if only authorised, grant if captured."""
    try:
        payment = gateway.fetch_payment(payment_id)
        if payment.order_id != order.provider_order_id:
            raise PaymentVerificationFailed("That payment belongs to a different order.")
        if payment.status == PaymentStatus.AUTHORIZED and _already_paid(order.id):
            # Never capture a second payment for a paid order: left uncaptured, Razorpay
            # releases the authorisation itself, and no money moves at all.
            with session_scope() as session:
                locked = order_by_provider_id(session, order.provider_order_id or "")
                assert locked is not None
                record_payment(session, locked, payment)
            raise DuplicatePayment(DUPLICATE_RELEASED.format(amount=format_inr(payment.amount)))
        if payment.status == PaymentStatus.AUTHORIZED:
            payment = gateway.capture(payment)
    except GatewayUnavailable as exc:
        raise PaymentPending(
            "Your payment is being confirmed. Credits will appear as soon as Razorpay "
            "confirms it; you can close this page."
        ) from exc
    except GatewayRefused as exc:
        raise PaymentFailed(f"Razorpay could not confirm the payment: {exc}") from exc
    with session_scope() as session:
        locked = order_by_provider_id(session, order.provider_order_id or "")
        assert locked is not None
        if payment.status != PaymentStatus.CAPTURED:
            row = record_payment(session, locked, payment)
            if payment.status == PaymentStatus.FAILED:
                record_failure(session, locked, row, payment.error_description or "")
            outcome = payment.status
        else:
            outcome = fulfil(session, locked, payment)
    if outcome == PaymentStatus.FAILED:
        raise PaymentFailed(payment.error_description or "The payment failed.")
    if outcome == PaymentStatus.REFUNDED:
        raise PaymentFailed("Razorpay returned this payment to you, so no credits were added.")
    if outcome == PaymentStatus.CREATED:
        raise PaymentPending("Your payment is still being processed by the bank.")
    if outcome == PaymentOutcome.AMOUNT_MISMATCH:
        raise PaymentAmountMismatch(MISMATCH_MESSAGE)
    if outcome == PaymentOutcome.DUPLICATE_PAYMENT:
        try:
            refund_duplicate_payments(gateway=gateway, provider_payment_ids=[payment.id])
        except (GatewayUnavailable, GatewayRefused):
            log.exception("Refunding duplicate payment %s failed; it will be retried", payment.id)
        raise DuplicatePayment(DUPLICATE_REFUNDED.format(amount=format_inr(payment.amount)))
    billing.deliver_soon()  # e-mail the invoice the payment was just given
    return _confirmed(locked)


def record_checkout_failure(
    *, user_id: int, provider_order_id: str, reason: str
) -> CheckoutDeclined:
    """The checkout reported a failed payment: keep the reason, grant nothing. Returns the
    error to show the buyer."""
    with session_scope() as session:
        order = order_by_provider_id(session, provider_order_id)
        if order is not None and order.user_id == user_id and order.status == OrderStatus.CREATED:
            order.status = OrderStatus.FAILED
            order.failure_reason = reason[:500]
            session.add(order)
    return CheckoutDeclined(reason)


def pay_test_checkout(*, user_id: int, provider_order_id: str, succeed: bool) -> ConfirmedOrder:
    """The test checkout's Pay / Fail buttons: a payment signed as Razorpay signs it, then
    the same confirmation path as a real one. Raises CheckoutDeclined for Fail."""
    gateway = gateway_for(get_settings())
    if not isinstance(gateway, TestCheckoutGateway):
        raise PaymentsUnavailable("The test checkout is not available on this server.")
    signed = gateway.pay(provider_order_id, succeed=succeed)
    if succeed:
        return confirm_checkout(
            user_id=user_id,
            provider_order_id=signed["razorpay_order_id"],
            payment_id=signed["razorpay_payment_id"],
            signature=signed["razorpay_signature"],
            gateway=gateway,
        )
    reason = gateway.fetch_payment(signed["razorpay_payment_id"]).error_description or ""
    raise record_checkout_failure(
        user_id=user_id, provider_order_id=provider_order_id, reason=reason
    )
