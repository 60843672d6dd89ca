"""Razorpay webhooks: verified over the raw body, applied once, in any order.

Idempotent by event id (recorded in the same transaction as its effect) and by payment id
(the ledger key), so replays and duplicate events change nothing; state only moves forward.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import replace
from datetime import timedelta

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, func, select

from adremix.db import session_scope
from adremix.enums import PaymentOutcome, PaymentStatus, RefundOrigin, RefundStatus
from adremix.models import PaymentOrder, WebhookEvent, WebhookRejection, utcnow
from adremix.services import billing
from adremix.services.payments.duplicates import refund_duplicate_payments
from adremix.services.payments.errors import GatewayRefused, GatewayUnavailable
from adremix.services.payments.gateways import (
    GatewayPayment,
    PaymentGateway,
    webhook_signature_is_valid,
)
from adremix.services.payments.quotes import apply_payment_link_event
from adremix.services.payments.records import (
    fulfil,
    order_by_provider_id,
    payment_row,
    record_failure,
    record_payment,
)
from adremix.services.payments.refunds import record_refund, settle
from adremix.services.payments.subscriptions import apply_subscription_event

log = logging.getLogger(__name__)


class WebhookRejected(Exception):
    """A webhook whose signature does not verify: answered 400, nothing changes."""


class WebhookRetryLater(Exception):
    """The webhook could not be applied now (refunding a duplicate payment through Razorpay
    failed, or the database is unavailable): answered 503 so that Razorpay delivers it
    again and the work is retried."""


# Column sizes of webhook_event: longer values are shortened, never a database error.
EVENT_KEY_MAX = 80
EVENT_TYPE_MAX = 60


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
        _record_rejected(body, event_id, signed=bool(signature))
        raise WebhookRejected("bad signature")
    event_key = _event_key(event_id, body)
    event_type, payload, event_at = _parse(body)
    if payload is None:
        # Signed by Razorpay, so not an attack; answering non-2xx would only make Razorpay
        # retry it for a day and then disable the webhook.
        log.error("Webhook %s is signed but not a Razorpay event; recorded, ignored", event_key)
        return _record_only(
            event_key, event_type, PaymentOutcome.MALFORMED, error="not a Razorpay event"
        )
    outcome = PaymentOutcome.DUPLICATE_EVENT
    try:
        with session_scope() as session:
            if not session.exec(
                select(WebhookEvent.id).where(WebhookEvent.event_id == event_key)
            ).first():
                record = WebhookEvent(event_id=event_key, event_type=event_type)
                session.add(record)
                session.flush()
                record.outcome = _apply_event(session, event_type, payload, event_at)
                record.processed_at = utcnow()
                session.add(record)
                outcome = record.outcome
    except IntegrityError:
        outcome = PaymentOutcome.DUPLICATE_EVENT  # the same event, delivered twice at once
    except (ValueError, TypeError, KeyError, AttributeError):
        # A field of the wrong type (an amount that is not a number, an entity that is a
        # list): nothing was applied (rolled back). Recorded so a replay is not retried.
        log.exception(
            "Webhook %s (%s) has malformed fields; recorded, ignored", event_key, event_type
        )
        return _record_only(
            event_key, event_type, PaymentOutcome.MALFORMED, error="malformed fields; ignored"
        )
    except SQLAlchemyError as exc:
        log.error("Webhook %s could not be applied now: %s", event_key, exc)
        raise WebhookRetryLater("database unavailable") from exc
    billing.deliver_soon()  # e-mail any invoice or credit note the event just issued
    payment_id = str((_entity(payload, "payment") or {}).get("id") or "")
    if gateway is not None and payment_id:
        # Also on a replay: this is how a refund that failed last time is retried.
        try:
            refund_duplicate_payments(gateway=gateway, provider_payment_ids=[payment_id])
        except (GatewayUnavailable, GatewayRefused) as exc:
            log.error("Could not refund duplicate payment %s yet: %s", payment_id, exc)
            _note_error(event_key, f"refunding duplicate payment {payment_id} failed: {exc}")
            raise WebhookRetryLater(str(exc)) from exc
    return outcome


def _event_key(event_id: str | None, body: bytes) -> str:
    """The de-duplication key: Razorpay's event id, or a hash when it is missing or long."""
    if event_id and len(event_id) <= EVENT_KEY_MAX:
        return event_id
    return "sha256:" + hashlib.sha256((event_id or "").encode() + b"|" + body).hexdigest()


def _parse(body: bytes) -> tuple[str, dict | None, int]:
    """(event type, payload, Razorpay's time of the event in Unix seconds) of a webhook
    body; payload None when it is not an event."""
    try:
        event = json.loads(body)
    except ValueError:
        return "malformed", None, 0
    if not isinstance(event, dict) or not isinstance(event.get("event"), str):
        return "malformed", None, 0
    payload = event.get("payload") or {}
    created_at = event.get("created_at")
    at = created_at if isinstance(created_at, int) and not isinstance(created_at, bool) else 0
    if not isinstance(payload, dict):
        return event["event"][:EVENT_TYPE_MAX], None, at
    return event["event"][:EVENT_TYPE_MAX], payload, at


def _record_only(
    event_key: str, event_type: str, outcome: PaymentOutcome, *, error: str
) -> PaymentOutcome:
    """Record an event that changes nothing, once; a repeat is a duplicate."""
    try:
        with session_scope() as session:
            known = session.exec(
                select(WebhookEvent.id).where(WebhookEvent.event_id == event_key)
            ).first()
            if known is not None:
                return PaymentOutcome.DUPLICATE_EVENT
            session.add(
                WebhookEvent(
                    event_id=event_key,
                    event_type=event_type,
                    outcome=outcome,
                    processed_at=utcnow(),
                    error=error,
                )
            )
    except IntegrityError:
        return PaymentOutcome.DUPLICATE_EVENT
    except SQLAlchemyError as exc:
        raise WebhookRetryLater("database unavailable") from exc
    return outcome


# Refused deliveries recorded for the admin console's log, at most this many an hour (the
# endpoint is public: anyone can post junk, and the log must not grow without bound).
REJECTED_PER_HOUR = 100


def _record_rejected(body: bytes, event_id: str | None, *, signed: bool) -> None:
    """Log a delivery whose signature did not verify, apart from the processed events: the
    same event correctly signed later (after a secret change) must still apply."""
    claimed = ""
    try:
        parsed = json.loads(body)
        if isinstance(parsed, dict) and isinstance(parsed.get("event"), str):
            claimed = parsed["event"][:EVENT_TYPE_MAX]
    except ValueError:
        pass
    digest = hashlib.sha256((event_id or "").encode() + b"|" + body).hexdigest()
    try:
        with session_scope() as session:
            since = utcnow() - timedelta(hours=1)
            recent = session.exec(
                select(func.count())
                .select_from(WebhookRejection)
                .where(WebhookRejection.received_at >= since)
            ).one()
            known = session.exec(
                select(WebhookRejection.id).where(WebhookRejection.body_sha256 == digest)
            ).first()
            if recent >= REJECTED_PER_HOUR or known is not None:
                return
            session.add(
                WebhookRejection(
                    body_sha256=digest,
                    claimed_event_id=(event_id or "")[:EVENT_KEY_MAX],
                    claimed_type=claimed,
                    reason=(
                        "X-Razorpay-Signature does not match the body"
                        if signed
                        else "no X-Razorpay-Signature header"
                    ),
                )
            )
    except SQLAlchemyError as exc:
        log.error("Could not log a rejected webhook: %s", exc)


def _note_error(event_key: str, error: str) -> None:
    """Add what went wrong after an event was applied to its log row."""
    try:
        with session_scope() as session:
            row = session.exec(
                select(WebhookEvent).where(WebhookEvent.event_id == event_key)
            ).first()
            if row is not None:
                row.error = error[:1000]
                session.add(row)
    except SQLAlchemyError as exc:
        log.error("Could not note webhook %s's error: %s", event_key, exc)


def _entity(payload: dict, name: str) -> dict | None:
    wrapper = payload.get(name) or {}
    entity = wrapper.get("entity") if isinstance(wrapper, dict) else None
    return entity if isinstance(entity, dict) else None


REFUND_EVENTS = ("refund.created", "refund.processed", "refund.failed")


def _apply_event(session: Session, event_type: str, payload: dict, event_at: int) -> PaymentOutcome:
    if event_type.startswith("subscription."):
        return apply_subscription_event(session, event_type, payload, event_at=event_at)
    if event_type.startswith("payment_link."):
        return apply_payment_link_event(session, event_type, payload)
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
