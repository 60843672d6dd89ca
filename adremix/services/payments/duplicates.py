"""Duplicate payments: a second capture on an order that another payment already paid is
refunded in full, keyed on its payment id so that no retry ever refunds it twice."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlmodel import select

from adremix.db import session_scope
from adremix.enums import RefundOrigin, RefundStatus
from adremix.models import Payment, PaymentOrder, PaymentRefund
from adremix.services.payments.gateways import PaymentGateway, gateway_for
from adremix.services.payments.records import order_by_provider_id, payment_row
from adremix.services.payments.refunds import record_refund, settle
from adremix.settings import get_settings

log = logging.getLogger(__name__)


def duplicate_refund_key(provider_payment_id: str) -> str:
    """The X-Refund-Idempotency key for refunding a duplicate payment: one per payment."""
    return f"adremix-duplicate-{provider_payment_id}"


def refund_duplicate_payments(
    *, gateway: PaymentGateway | None = None, provider_payment_ids: Iterable[str] | None = None
) -> int:
    """Refund in full every captured duplicate payment that has no refund yet (or only
    those named). Idempotent: Razorpay answers a repeated key with the first refund.
    Returns how many refunds were issued or confirmed; raises GatewayUnavailable."""
    gateway = gateway or gateway_for(get_settings())
    with session_scope() as session:
        refunded = select(PaymentRefund.payment_id).where(
            PaymentRefund.status.in_((RefundStatus.PENDING, RefundStatus.PROCESSED))  # type: ignore[attr-defined]
        )
        query = (
            select(Payment.provider_payment_id, Payment.amount_paise, PaymentOrder)
            .join(PaymentOrder, PaymentOrder.id == Payment.order_id)
            .where(
                Payment.duplicate.is_(True),  # type: ignore[attr-defined]
                Payment.captured.is_(True),  # type: ignore[attr-defined]
                Payment.refunded_paise < Payment.amount_paise,
                Payment.id.not_in(refunded),  # type: ignore[union-attr]
            )
        )
        if provider_payment_ids is not None:
            query = query.where(Payment.provider_payment_id.in_(list(provider_payment_ids)))  # type: ignore[attr-defined]
        pending = session.exec(query).all()
    done = 0
    for payment_id, amount, order in pending:
        # The whole amount, always: the same body on every retry keeps the key valid.
        refund = gateway.refund(
            payment_id,
            amount_paise=amount,
            idempotency_key=duplicate_refund_key(payment_id),
            notes={"reason": "duplicate payment", "receipt": order.receipt_number},
        )
        with session_scope() as session:
            locked = order_by_provider_id(session, order.provider_order_id or "")
            row = payment_row(session, payment_id)
            assert locked is not None and row is not None
            record_refund(
                session,
                payment=row,
                refund_id=refund.id,
                amount_paise=refund.amount,
                status=refund.status,
                origin=RefundOrigin.DUPLICATE,
            )
            settle(session, payment=row, order=locked)
        log.info(
            "Refunded duplicate payment %s on %s (%s)", payment_id, order.receipt_number, refund.id
        )
        done += 1
    return done
