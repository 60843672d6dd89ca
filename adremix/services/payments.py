"""Buying credits: orders, checkout confirmation, webhooks, refunds and receipts.

Each Razorpay payment is its own `Payment` row. One payment id maps to one grant (ledger
key `purchase:<payment id>`), whichever path reaches it first: the checkout's success
handler, the webhook, or a later retry. The browser's word is never enough: the signature
is checked and the payment is fetched from the provider, captured if only authorised, and
its amount and currency compared.

An order is paid for once. A further payment on an order that another payment already
fulfilled (Razorpay's late authorisation) grants nothing: if captured, it is refunded in
full through the SDK, keyed on its payment id so no retry refunds it twice; if only
authorised, it is left uncaptured for Razorpay to release. Refunds take credits back by
the rule in `services/refunds.py`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from adremix.db import session_scope
from adremix.models import (
    OrderStatus,
    Payment,
    PaymentOrder,
    PaymentRefund,
    PaymentStatus,
    RefundStatus,
    User,
    WebhookEvent,
    utcnow,
)
from adremix.services import ledger, refunds
from adremix.services.payment_gateways import (
    GatewayPayment,
    GatewayRefused,
    GatewayUnavailable,
    PaymentGateway,
    webhook_signature_is_valid,
)
from adremix.services.pricing import find_package, format_inr, gst_breakup
from adremix.settings import CreditPackage, Settings

log = logging.getLogger(__name__)
# An order waiting for its payment; it holds its pack's `open_key` for reuse.
OPEN_STATUS = "created"


class PaymentError(Exception):
    """Base of the payment errors; every message is safe to show the buyer."""


class UnknownPackage(PaymentError):
    pass


class OrderNotFound(PaymentError):
    pass


class PaymentVerificationFailed(PaymentError):
    pass


class PaymentAmountMismatch(PaymentError):
    pass


class PaymentFailed(PaymentError):
    pass


class PaymentPending(PaymentError):
    """Paid, probably, but not confirmable right now; the webhook or a retry settles it."""


class ProviderUnavailable(PaymentError):
    pass


class TooManyOpenCheckouts(PaymentError):
    """More unfinished checkouts than a buyer plausibly needs: finish or close one first."""


class DuplicatePayment(PaymentError):
    """A second payment for an order that is already paid: no credits, money goes back."""


class WebhookRejected(Exception):
    """A webhook whose signature does not verify: answered 400, nothing changes."""


class WebhookRetryLater(Exception):
    """The webhook's effect is recorded, but refunding a duplicate payment through Razorpay
    failed: answered 503 so that Razorpay delivers it again and the refund is retried."""


@dataclass(frozen=True)
class Checkout:
    """What the page needs to open a checkout for a new order."""

    receipt_number: str
    provider_order_id: str
    key_id: str
    mode: str
    amount_paise: int
    credits: int
    package_name: str


def _new_receipt_number(now: datetime) -> str:
    return f"AR-{now:%Y%m%d}-{secrets.token_hex(3).upper()}"


def start_purchase(
    *, settings: Settings, gateway: PaymentGateway, user_id: int, package_code: str
) -> Checkout:
    """One checkout per pack and buyer at a time: reuse the open order, else create one.

    Presses of Buy for a pack whose order is still open (status "created", younger than
    `checkout_reuse_minutes`) get that order again, so a double click, a replayed event or
    a second tab never makes a second Razorpay order. The database decides who creates:
    an open order holds the unique `open_key` "<user>:<pack>"; racing presses that lose
    the insert wait for the winner's Razorpay order id and reuse it.
    """
    package = find_package(settings.credit_packages, package_code)
    if package is None:
        raise UnknownPackage("That credit package is not on sale.")
    open_key = f"{user_id}:{package.code}"
    deadline = time.monotonic() + OPEN_ORDER_WAIT_S
    while True:
        claim = _claim_open_order(settings, gateway, user_id, package, open_key)
        if isinstance(claim, PaymentOrder) and claim.provider_order_id:
            return _checkout_for(claim, gateway, package.name)
        if isinstance(claim, _NewOrder):
            break
        # Another press is creating this pack's order right now: wait for its id.
        if time.monotonic() > deadline:
            raise ProviderUnavailable(
                "Your checkout is still being prepared. Please try again in a moment."
            )
        time.sleep(OPEN_ORDER_POLL_S)
    order = claim.order
    try:
        provider_order_id = gateway.create_order(
            amount_paise=order.amount_paise,
            receipt=order.receipt_number,
            notes={"user_id": str(user_id), "package": package.code},
        )
    except (GatewayUnavailable, GatewayRefused) as exc:
        _mark_failed(order.id, f"Could not create the payment order: {exc}")
        raise ProviderUnavailable(
            "Payments are unreachable right now; nothing was charged. Please try again."
        ) from exc
    with session_scope() as session:
        stored = session.get(PaymentOrder, order.id)
        assert stored is not None
        stored.provider_order_id = provider_order_id
        session.add(stored)
    return _checkout_for(stored, gateway, package.name)


OPEN_ORDER_WAIT_S = 20.0  # a little longer than the SDK's own timeout
OPEN_ORDER_POLL_S = 0.1


@dataclass(frozen=True)
class _NewOrder:
    """This press won the right to create the pack's order (and must finish it)."""

    order: PaymentOrder


def _claim_open_order(
    settings: Settings,
    gateway: PaymentGateway,
    user_id: int,
    package: CreditPackage,
    open_key: str,
) -> PaymentOrder | _NewOrder | None:
    """The open order to reuse, a new order this press must create, or None (wait)."""
    now = utcnow()
    reusable_since = now - timedelta(minutes=settings.checkout_reuse_minutes)
    try:
        with session_scope() as session:
            holder = session.exec(
                select(PaymentOrder).where(PaymentOrder.open_key == open_key)
            ).first()
            if holder is not None:
                created = _aware(holder.created_at)
                if holder.status == OPEN_STATUS and created > reusable_since:
                    if holder.provider_order_id:
                        return holder
                    # Still being created by another press, unless that press died.
                    if created > now - timedelta(seconds=OPEN_ORDER_WAIT_S):
                        return None
                holder.open_key = None  # paid, failed or stale: the pack is free again
                session.add(holder)
                session.flush()
            open_orders = session.exec(
                select(func.count())
                .select_from(PaymentOrder)
                .where(
                    PaymentOrder.user_id == user_id,
                    PaymentOrder.status.in_((OPEN_STATUS, "pending")),  # type: ignore[attr-defined]
                    PaymentOrder.created_at > reusable_since,
                )
            ).one()
            if open_orders >= settings.max_open_checkouts:
                raise TooManyOpenCheckouts(
                    f"You have {open_orders} checkouts open. Finish or close one, or try "
                    f"again in {settings.checkout_reuse_minutes} minutes."
                )
            tax = gst_breakup(
                package.price_paise,
                percent=settings.gst_percent,
                inclusive=settings.prices_include_gst,
            )
            order = PaymentOrder(
                receipt_number=_new_receipt_number(now),
                user_id=user_id,
                package_code=package.code,
                credits=package.credits,
                amount_paise=tax.total_paise,
                tax_paise=tax.tax_paise,
                provider=gateway.mode,
                open_key=open_key,
                created_at=now,
            )
            session.add(order)
            session.flush()
            return _NewOrder(order)
    except IntegrityError:
        return None  # a concurrent press inserted the open order first: reuse it


def _aware(moment: datetime) -> datetime:
    # SQLite hands datetimes back without their zone; every stored time is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _checkout_for(order: PaymentOrder, gateway: PaymentGateway, package_name: str) -> Checkout:
    return Checkout(
        receipt_number=order.receipt_number,
        provider_order_id=order.provider_order_id or "",
        key_id=gateway.key_id,
        mode=gateway.mode,
        amount_paise=order.amount_paise,
        credits=order.credits,
        package_name=package_name,
    )


def _mark_failed(order_id: int | None, reason: str) -> None:
    with session_scope() as session:
        order = session.get(PaymentOrder, order_id)
        if order is not None and order.status in ("created", "pending"):
            order.status = "failed"
            order.failure_reason = reason
            session.add(order)


def _order_by_provider_id(session: Session, provider_order_id: str) -> PaymentOrder | None:
    return session.exec(
        select(PaymentOrder)
        .where(PaymentOrder.provider_order_id == provider_order_id)
        .with_for_update()
    ).first()


def _payment_row(session: Session, provider_payment_id: str) -> Payment | None:
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


def _record_payment(session: Session, order: PaymentOrder, payment: GatewayPayment) -> Payment:
    """Create or move forward the row for a payment Razorpay told us about."""
    status = payment.status
    if status not in _PROGRESS:  # Razorpay's "refunded": our refund rows say how much
        status = PaymentStatus.CAPTURED if payment.captured else PaymentStatus.AUTHORIZED
    row = _payment_row(session, payment.id)
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


def _granting_payment(
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


def _fulfil(session: Session, order: PaymentOrder, payment: GatewayPayment) -> str:
    """Grant the order's credits for a captured payment, once.

    Returns "granted", "already_granted", "amount_mismatch" (recorded on the order, status
    "review", rather than raised, so that the record is committed) or "duplicate_payment"
    (another payment already paid for this order: this one grants nothing and is to be
    refunded by `refund_duplicate_payments`).
    """
    row = _record_payment(session, order, payment)
    if row.credits_granted > 0:
        return "already_granted"
    if row.duplicate or _granting_payment(session, order.id, besides=row.id) is not None:
        if not row.duplicate:
            log.warning(
                "Order %s was already paid; payment %s is a duplicate and will be refunded",
                order.receipt_number,
                payment.id,
            )
            row.duplicate = True
            session.add(row)
        return "duplicate_payment"
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
        return "amount_mismatch"
    entry = ledger.grant(
        session=session,
        user_id=order.user_id,
        amount=order.credits,
        kind="purchase",
        idempotency_key=f"purchase:{payment.id}",
        reference=order.receipt_number,
    )
    row.credits_granted = entry.amount
    order.status = OrderStatus.PAID
    order.paid_at = order.paid_at or utcnow()
    order.failure_reason = None
    session.add(order)
    # Refunds Razorpay reported before the capture reached us are settled now.
    refunds.settle(session, payment=row, order=order)
    return "already_granted" if entry.replayed else "granted"


def _record_failure(session: Session, order: PaymentOrder, row: Payment, reason: str) -> None:
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


DUPLICATE_REFUNDED = (
    "This order was already paid, so this second payment of {amount} added no credits and "
    "has been refunded in full. Banks take 5–7 working days to show a refund."
)
DUPLICATE_RELEASED = (
    "This order was already paid, so this second payment of {amount} was not taken: "
    "Razorpay releases the held amount back to you automatically."
)


def confirm_checkout(
    *,
    gateway: PaymentGateway,
    user_id: int,
    provider_order_id: str,
    payment_id: str,
    signature: str,
) -> PaymentOrder:
    """The checkout's success handler: verify, confirm with the provider, grant once."""
    with session_scope() as session:
        order = _order_by_provider_id(session, provider_order_id)
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
        row = _payment_row(session, payment_id)
        if row is not None and row.credits_granted > 0:
            return order  # a double click, or the page retrying
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


def settle_order(*, gateway: PaymentGateway, user_id: int, receipt_number: str) -> PaymentOrder:
    """Ask the provider again about the order's unconfirmed payment, and grant if captured."""
    with session_scope() as session:
        order = session.exec(
            select(PaymentOrder).where(PaymentOrder.receipt_number == receipt_number)
        ).first()
        if order is None or order.user_id != user_id:
            raise OrderNotFound("That order does not exist.")
        if order.status != OrderStatus.PENDING:
            return order
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
        return order
    return _settle_payment(gateway=gateway, order=order, payment_id=payment_id)


def _already_paid(order_id: int | None) -> bool:
    with session_scope() as session:
        return _granting_payment(session, order_id) is not None


def _settle_payment(
    *, gateway: PaymentGateway, order: PaymentOrder, payment_id: str
) -> PaymentOrder:
    """Fetch one payment of the order, capture it if only authorised, grant if captured."""
    try:
        payment = gateway.fetch_payment(payment_id)
        if payment.order_id != order.provider_order_id:
            raise PaymentVerificationFailed("That payment belongs to a different order.")
        if payment.status == PaymentStatus.AUTHORIZED and _already_paid(order.id):
            # Never capture a second payment for a paid order: left uncaptured, Razorpay
            # releases the authorisation itself, and no money moves at all.
            with session_scope() as session:
                locked = _order_by_provider_id(session, order.provider_order_id or "")
                assert locked is not None
                _record_payment(session, locked, payment)
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
        locked = _order_by_provider_id(session, order.provider_order_id or "")
        assert locked is not None
        if payment.status != PaymentStatus.CAPTURED:
            row = _record_payment(session, locked, payment)
            if payment.status == PaymentStatus.FAILED:
                _record_failure(session, locked, row, payment.error_description or "")
            outcome = payment.status
        else:
            outcome = _fulfil(session, locked, payment)
    if outcome == PaymentStatus.FAILED:
        raise PaymentFailed(payment.error_description or "The payment failed.")
    if outcome == "refunded":
        raise PaymentFailed("Razorpay returned this payment to you, so no credits were added.")
    if outcome == PaymentStatus.CREATED:
        raise PaymentPending("Your payment is still being processed by the bank.")
    if outcome == "amount_mismatch":
        raise PaymentAmountMismatch(MISMATCH_MESSAGE)
    if outcome == "duplicate_payment":
        try:
            refund_duplicate_payments(gateway=gateway, provider_payment_ids=[payment.id])
        except (GatewayUnavailable, GatewayRefused):
            log.exception("Refunding duplicate payment %s failed; it will be retried", payment.id)
        raise DuplicatePayment(DUPLICATE_REFUNDED.format(amount=format_inr(payment.amount)))
    return locked


def record_checkout_failure(*, user_id: int, provider_order_id: str, reason: str) -> None:
    """The checkout reported a failed payment (or was closed): keep the reason, grant nothing."""
    with session_scope() as session:
        order = _order_by_provider_id(session, provider_order_id)
        if order is None or order.user_id != user_id or order.status != OrderStatus.CREATED:
            return
        order.status = OrderStatus.FAILED
        order.failure_reason = reason[:500]
        session.add(order)


# --- duplicate payments -----------------------------------------------------------------


def duplicate_refund_key(provider_payment_id: str) -> str:
    """The X-Refund-Idempotency key for refunding a duplicate payment: one per payment."""
    return f"adremix-duplicate-{provider_payment_id}"


def refund_duplicate_payments(
    *, gateway: PaymentGateway, provider_payment_ids: Iterable[str] | None = None
) -> int:
    """Refund in full every captured duplicate payment that has no refund yet (or only
    those named). Idempotent: Razorpay answers a repeated key with the first refund.
    Returns how many refunds were issued or confirmed; raises GatewayUnavailable."""
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
            locked = _order_by_provider_id(session, order.provider_order_id or "")
            row = _payment_row(session, payment_id)
            assert locked is not None and row is not None
            refunds.record_refund(
                session,
                payment=row,
                refund_id=refund.id,
                amount_paise=refund.amount,
                status=refund.status,
                origin="duplicate",
            )
            refunds.settle(session, payment=row, order=locked)
        log.info(
            "Refunded duplicate payment %s on %s (%s)", payment_id, order.receipt_number, refund.id
        )
        done += 1
    return done


# --- webhooks --------------------------------------------------------------------------


def handle_webhook(
    *,
    body: bytes,
    signature: str | None,
    event_id: str | None,
    secret: str,
    gateway: PaymentGateway | None = None,
) -> str:
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
    outcome = "duplicate"
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
        outcome = "duplicate"  # the same event, delivered twice at once
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


def _apply_event(session: Session, event_type: str, payload: dict) -> str:
    if event_type in ("payment.captured", "order.paid"):
        entity = _entity(payload, "payment")
        if not entity:
            return "ignored"
        payment = GatewayPayment.from_entity(entity)
        if payment.status != PaymentStatus.CAPTURED:
            return "ignored"
        order = _order_by_provider_id(session, payment.order_id)
        if order is None:
            return "unknown_order"
        return _fulfil(session, order, payment)
    if event_type == "payment.failed":
        entity = _entity(payload, "payment")
        if not entity or not entity.get("id"):
            return "ignored"
        payment = GatewayPayment.from_entity(entity)
        order = _order_by_provider_id(session, payment.order_id)
        if order is None:
            return "unknown_order"
        row = _record_payment(session, order, payment)
        _record_failure(session, order, row, payment.error_description or "Payment failed")
        return "recorded_failure"
    if event_type in REFUND_EVENTS:
        return _apply_refund(session, _entity(payload, "refund") or {}, _entity(payload, "payment"))
    return "ignored"


def _apply_refund(session: Session, refund: dict, payment_entity: dict | None) -> str:
    """Record a refund against its own payment and settle that payment's credits."""
    refund_id, payment_id = str(refund.get("id") or ""), str(refund.get("payment_id") or "")
    if not refund_id or not payment_id:
        return "ignored"
    known = _payment_row(session, payment_id)
    if known is not None:
        order = session.exec(
            select(PaymentOrder).where(PaymentOrder.id == known.order_id).with_for_update()
        ).one()
    elif payment_entity and str(payment_entity.get("id")) == payment_id:
        order = _order_by_provider_id(session, str(payment_entity.get("order_id") or ""))
    else:
        order = None
    if order is None:
        return "unknown_payment"
    if payment_entity and str(payment_entity.get("id")) == payment_id:
        payment = GatewayPayment.from_entity(payment_entity)
        if payment.captured:
            # A capture we may only be hearing of now: it grants (once) before the refund
            # takes back, so the ledger shows both sides.
            _fulfil(session, order, replace(payment, status=PaymentStatus.CAPTURED))
        else:
            _record_payment(session, order, payment)
    row = _payment_row(session, payment_id)
    if row is None:
        return "unknown_payment"
    status = str(refund.get("status") or RefundStatus.PENDING)
    if status not in (RefundStatus.PROCESSED, RefundStatus.FAILED):
        status = RefundStatus.PENDING
    origin = "duplicate" if row.duplicate else ("merchant" if row.captured else "auto")
    refunds.record_refund(
        session,
        payment=row,
        refund_id=refund_id,
        amount_paise=int(refund.get("amount") or 0),
        status=status,
        origin=origin,
    )
    refunds.settle(session, payment=row, order=order)
    return {RefundStatus.PROCESSED: "refunded", RefundStatus.FAILED: "refund_failed"}.get(
        RefundStatus(status), "refund_pending"
    )


# --- reading ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    receipt_number: str
    paid_at: datetime
    buyer_name: str
    buyer_email: str
    package_name: str
    credits: int
    amount_paise: int
    taxable_paise: int
    tax_paise: int
    gst_percent: int
    payment_id: str
    provider: str
    status: str
    seller_name: str
    seller_gstin: str


RECEIPTED = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED)


def receipt_for(*, settings: Settings, user_id: int, receipt_number: str) -> Receipt | None:
    """A paid order's receipt, only for its owner."""
    with session_scope() as session:
        row = session.exec(
            select(PaymentOrder, User)
            .join(User, User.id == PaymentOrder.user_id)
            .where(PaymentOrder.receipt_number == receipt_number, PaymentOrder.user_id == user_id)
        ).first()
        if row is None:
            return None
        order, user = row
        granting = _granting_payment(session, order.id)
    if order.status not in RECEIPTED or order.paid_at is None or granting is None:
        return None
    package = find_package(settings.credit_packages, order.package_code)
    return Receipt(
        receipt_number=order.receipt_number,
        paid_at=order.paid_at,
        buyer_name=user.name,
        buyer_email=user.email,
        package_name=package.name if package else order.package_code,
        credits=order.credits,
        amount_paise=order.amount_paise,
        taxable_paise=order.amount_paise - order.tax_paise,
        tax_paise=order.tax_paise,
        gst_percent=settings.gst_percent,
        payment_id=granting.provider_payment_id,
        provider=order.provider,
        status=order.status,
        seller_name=settings.seller_name,
        seller_gstin=settings.seller_gstin,
    )


def pending_orders(*, user_id: int) -> list[PaymentOrder]:
    """Orders paid in the browser but not yet confirmed by Razorpay (retry or webhook)."""
    with session_scope() as session:
        return list(
            session.exec(
                select(PaymentOrder)
                .where(PaymentOrder.user_id == user_id, PaymentOrder.status == OrderStatus.PENDING)
                .order_by(PaymentOrder.created_at.desc())  # type: ignore[attr-defined]
            )
        )


@dataclass(frozen=True)
class PaymentLine:
    """One payment as the Credits page shows it."""

    receipt_number: str
    created_at: datetime
    amount_paise: int
    status: str
    credits_granted: int
    refunded_paise: int
    credits_clawed: int
    duplicate: bool
    order_receipted: bool


def payment_history(*, user_id: int, limit: int = 20) -> list[PaymentLine]:
    """The user's payments that moved money, newest first: captures, refunds, duplicates."""
    with session_scope() as session:
        rows = session.exec(
            select(Payment, PaymentOrder)
            .join(PaymentOrder, PaymentOrder.id == Payment.order_id)
            .where(
                PaymentOrder.user_id == user_id,
                Payment.status.in_(  # type: ignore[attr-defined]
                    (
                        PaymentStatus.CAPTURED,
                        PaymentStatus.PARTIALLY_REFUNDED,
                        PaymentStatus.REFUNDED,
                    )
                ),
            )
            .order_by(Payment.created_at.desc(), Payment.id.desc())  # type: ignore[attr-defined,union-attr]
            .limit(limit)
        ).all()
    return [
        PaymentLine(
            receipt_number=order.receipt_number,
            created_at=payment.created_at,
            amount_paise=payment.amount_paise,
            status=payment.status,
            credits_granted=payment.credits_granted,
            refunded_paise=payment.refunded_paise,
            credits_clawed=payment.credits_clawed,
            duplicate=payment.duplicate,
            order_receipted=order.status in RECEIPTED and order.paid_at is not None,
        )
        for payment, order in rows
    ]


def count_paid_orders(*, session: Session, user_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(PaymentOrder)
        .where(PaymentOrder.user_id == user_id, PaymentOrder.status == OrderStatus.PAID)
    ).one()
