"""Razorpay webhooks: verified over the raw body, applied once, in any order.

Idempotent by event id (recorded in the same transaction as its effect) and by payment id
(the ledger key), so replays and duplicate events change nothing; state only moves forward.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import replace

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from adremix.db import session_scope
from adremix.enums import PaymentOutcome, PaymentStatus, RefundOrigin, RefundStatus
from adremix.models import PaymentOrder, WebhookEvent
from adremix.services.payments.duplicates import refund_duplicate_payments
from adremix.services.payments.errors import GatewayRefused, GatewayUnavailable
from adremix.services.payments.gateways import (
    GatewayPayment,
    PaymentGateway,
    webhook_signature_is_valid,
)
from adremix.services.payments.records import (
    fulfil,
    order_by_provider_id,
    payment_row,
    record_failure,
    record_payment,
)
from adremix.services.payments.refunds import record_refund, settle

log = logging.getLogger(__name__)


class WebhookRejected(Exception):
    """A webhook whose signature does not verify: answered 400, nothing changes."""


class WebhookRetryLater(Exception):
    """The webhook's effect is recorded, but refunding a duplicate payment through Razorpay
    failed: answered 503 so that Razorpay delivers it again and the refund is retried."""


def handle_webhook(
    *,
    body: bytes,
    signature: str | None,
    event_id: str | None,
    secret: str,
    gateway: PaymentGateway | None = None,
) -> PaymentOutcome:
    """Process one Razorpay webhook. Returns what happened; raises WebhookRejected on a bad
    signature. Idempotent by event id (recorded in the same transaction as the effect) and
    by payment id (the ledger key), so replays and duplicate events change nothing.

    With a gateway, a duplicate payment the event reveals is refunded after the event is
    recorded; if Razorpay cannot be reached for that, WebhookRetryLater asks for a retry.
    """
    if not webhook_signature_is_valid(body=body, signature=signature or "", secret=secret):
        log.warning("Rejected a webhook with a bad signature")
        raise WebhookRejected("bad signature")
    try:
        event = json.loads(body)
        event_type = str(event["event"])
        payload = event.get("payload") or {}
    except (ValueError, KeyError, TypeError) as exc:
        raise WebhookRejected("malformed body") from exc
    event_key = event_id or "sha256:" + hashlib.sha256(body).hexdigest()
    outcome = PaymentOutcome.DUPLICATE_EVENT
    try:
        with session_scope() as session:
            if not session.exec(
                select(WebhookEvent.id).where(WebhookEvent.event_id == event_key)
            ).first():
                record = WebhookEvent(event_id=event_key, event_type=event_type)
                session.add(record)
                session.flush()
                record.outcome = _apply_event(session, event_type, payload)
                session.add(record)
                outcome = record.outcome
    except IntegrityError:
        outcome = PaymentOutcome.DUPLICATE_EVENT  # the same event, delivered twice at once
    payment_id = str((_entity(payload, "payment") or {}).get("id") or "")
    if gateway is not None and payment_id:
        # Also on a replay: this is how a refund that failed last time is retried.
        try:
            refund_duplicate_payments(gateway=gateway, provider_payment_ids=[payment_id])
        except (GatewayUnavailable, GatewayRefused) as exc:
            log.error("Could not refund duplicate payment %s yet: %s", payment_id, exc)
            raise WebhookRetryLater(str(exc)) from exc
    return outcome


def _entity(payload: dict, name: str) -> dict | None:
    wrapper = payload.get(name) or {}
    return wrapper.get("entity") if isinstance(wrapper, dict) else None


REFUND_EVENTS = ("refund.created", "refund.processed", "refund.failed")


def _apply_event(session: Session, event_type: str, payload: dict) -> PaymentOutcome:
    if event_type in ("payment.captured", "order.paid"):
        entity = _entity(payload, "payment")
        if not entity:
            return PaymentOutcome.IGNORED
        payment = GatewayPayment.from_entity(entity)
        if payment.status != PaymentStatus.CAPTURED:
            return PaymentOutcome.IGNORED
        order = order_by_provider_id(session, payment.order_id)
        if order is None:
            return PaymentOutcome.UNKNOWN_ORDER
        return fulfil(session, order, payment)
    if event_type == "payment.failed":
        entity = _entity(payload, "payment")
        if not entity or not entity.get("id"):
            return PaymentOutcome.IGNORED
        payment = GatewayPayment.from_entity(entity)
        order = order_by_provider_id(session, payment.order_id)
        if order is None:
            return PaymentOutcome.UNKNOWN_ORDER
        row = record_payment(session, order, payment)
        record_failure(session, order, row, payment.error_description or "Payment failed")
        return PaymentOutcome.RECORDED_FAILURE
    if event_type in REFUND_EVENTS:
        return _apply_refund(session, _entity(payload, "refund") or {}, _entity(payload, "payment"))
    return PaymentOutcome.IGNORED


def _apply_refund(session: Session, refund: dict, payment_entity: dict | None) -> PaymentOutcome:
    """Record a refund against its own payment and settle that payment's credits."""
    refund_id, payment_id = str(refund.get("id") or ""), str(refund.get("payment_id") or "")
    if not refund_id or not payment_id:
        return PaymentOutcome.IGNORED
    known = payment_row(session, payment_id)
    if known is not None:
        order = session.exec(
            select(PaymentOrder).where(PaymentOrder.id == known.order_id).with_for_update()
        ).one()
    elif payment_entity and str(payment_entity.get("id")) == payment_id:
        order = order_by_provider_id(session, str(payment_entity.get("order_id") or ""))
    else:
        order = None
    if order is None:
        return PaymentOutcome.UNKNOWN_PAYMENT
    if payment_entity and str(payment_entity.get("id")) == payment_id:
        payment = GatewayPayment.from_entity(payment_entity)
        if payment.captured:
            # A capture we may only be hearing of now: it grants (once) before the refund
            # takes back, so the ledger shows both sides.
            fulfil(session, order, replace(payment, status=PaymentStatus.CAPTURED))
        else:
            record_payment(session, order, payment)
    row = payment_row(session, payment_id)
    if row is None:
        return PaymentOutcome.UNKNOWN_PAYMENT
    status = str(refund.get("status") or RefundStatus.PENDING)
    if status not in (RefundStatus.PROCESSED, RefundStatus.FAILED):
        status = RefundStatus.PENDING
    origin = (
        RefundOrigin.DUPLICATE
        if row.duplicate
        else (RefundOrigin.MERCHANT if row.captured else RefundOrigin.AUTO)
    )
    record_refund(
        session,
        payment=row,
        refund_id=refund_id,
        amount_paise=int(refund.get("amount") or 0),
        status=status,
        origin=origin,
    )
    settle(session, payment=row, order=order)
    return {
        RefundStatus.PROCESSED: PaymentOutcome.REFUNDED,
        RefundStatus.FAILED: PaymentOutcome.REFUND_FAILED,
    }.get(RefundStatus(status), PaymentOutcome.REFUND_PENDING)
