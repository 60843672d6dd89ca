"""Buying credits: orders, checkout confirmation, webhooks, refunds and receipts.

One payment id maps to one grant (ledger key `purchase:<payment id>`), whichever path
reaches it first: the checkout's success handler, the webhook, or a later retry.
The browser's word is never enough: the signature is checked and the payment is fetched
from the provider, captured if only authorised, and its amount and currency compared.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from adremix.db import session_scope
from adremix.models import PaymentOrder, User, WebhookEvent, utcnow
from adremix.services import ledger
from adremix.services.payment_gateways import (
    GatewayPayment,
    GatewayRefused,
    GatewayUnavailable,
    PaymentGateway,
    webhook_signature_is_valid,
)
from adremix.services.pricing import find_package, gst_breakup
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


class WebhookRejected(Exception):
    """A webhook whose signature does not verify: answered 400, nothing changes."""


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


MISMATCH_MESSAGE = (
    "The amount paid does not match this order. No credits were added; "
    "our team has been notified and will sort it out."
)


def _fulfil(session: Session, order: PaymentOrder, payment: GatewayPayment) -> str:
    """Grant the order's credits for a captured payment, once.

    Returns "granted", "already_granted" or "amount_mismatch"; a mismatch is recorded on
    the order (status "review") rather than raised, so that record is committed.
    """
    if payment.amount != order.amount_paise or payment.currency != order.currency:
        log.error(
            "Amount mismatch on %s: paid %s %s, order is %s %s",
            order.receipt_number,
            payment.amount,
            payment.currency,
            order.amount_paise,
            order.currency,
        )
        order.status = "review"
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
    if order.status != "paid":
        order.status = "paid"
        order.provider_payment_id = payment.id
        order.paid_at = utcnow()
        order.failure_reason = None
        session.add(order)
    return "already_granted" if entry.replayed else "granted"


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
        if order.status == "paid":
            return order
        # The signature ties this payment id to our order: remember it for retries.
        order.provider_payment_id = payment_id
        order.status = "pending"
        session.add(order)
    return settle_order(gateway=gateway, user_id=user_id, receipt_number=order.receipt_number)


def settle_order(*, gateway: PaymentGateway, user_id: int, receipt_number: str) -> PaymentOrder:
    """Fetch the order's payment from the provider and grant if captured (also a retry)."""
    with session_scope() as session:
        order = session.exec(
            select(PaymentOrder).where(PaymentOrder.receipt_number == receipt_number)
        ).first()
        if order is None or order.user_id != user_id:
            raise OrderNotFound("That order does not exist.")
        if order.status == "paid" or not order.provider_payment_id:
            return order
        payment_id = order.provider_payment_id
    try:
        payment = gateway.fetch_payment(payment_id)
        if payment.order_id != order.provider_order_id:
            raise PaymentVerificationFailed("That payment belongs to a different order.")
        if payment.status == "authorized":
            payment = gateway.capture(payment)
    except GatewayUnavailable as exc:
        raise PaymentPending(
            "Your payment is being confirmed. Credits will appear as soon as Razorpay "
            "confirms it; you can close this page."
        ) from exc
    except GatewayRefused as exc:
        raise PaymentFailed(f"Razorpay could not confirm the payment: {exc}") from exc
    if payment.status == "failed":
        _mark_failed(order.id, payment.error_description or "The payment failed.")
        raise PaymentFailed(payment.error_description or "The payment failed.")
    if payment.status != "captured":
        raise PaymentPending("Your payment is still being processed by the bank.")
    with session_scope() as session:
        locked = _order_by_provider_id(session, order.provider_order_id or "")
        assert locked is not None
        outcome = _fulfil(session, locked, payment)
    if outcome == "amount_mismatch":
        raise PaymentAmountMismatch(MISMATCH_MESSAGE)
    return locked


def record_checkout_failure(*, user_id: int, provider_order_id: str, reason: str) -> None:
    """The checkout reported a failed payment (or was closed): keep the reason, grant nothing."""
    with session_scope() as session:
        order = _order_by_provider_id(session, provider_order_id)
        if order is None or order.user_id != user_id or order.status not in ("created",):
            return
        order.status = "failed"
        order.failure_reason = reason[:500]
        session.add(order)


# --- webhooks --------------------------------------------------------------------------


def handle_webhook(*, body: bytes, signature: str | None, event_id: str | None, secret: str) -> str:
    """Process one Razorpay webhook. Returns what happened; raises WebhookRejected on a bad
    signature. Idempotent by event id (recorded in the same transaction as the effect) and
    by payment id (the ledger key), so replays and duplicate events change nothing."""
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
    try:
        with session_scope() as session:
            if session.exec(
                select(WebhookEvent.id).where(WebhookEvent.event_id == event_key)
            ).first():
                return "duplicate"
            record = WebhookEvent(event_id=event_key, event_type=event_type)
            session.add(record)
            session.flush()
            record.outcome = _apply_event(session, event_type, payload)
            session.add(record)
            return record.outcome
    except IntegrityError:
        return "duplicate"  # the same event, delivered twice at once


def _entity(payload: dict, name: str) -> dict | None:
    wrapper = payload.get(name) or {}
    return wrapper.get("entity") if isinstance(wrapper, dict) else None


def _apply_event(session: Session, event_type: str, payload: dict) -> str:
    if event_type in ("payment.captured", "order.paid"):
        entity = _entity(payload, "payment")
        if not entity:
            return "ignored"
        payment = GatewayPayment.from_entity(entity)
        if payment.status != "captured":
            return "ignored"
        order = _order_by_provider_id(session, payment.order_id)
        if order is None:
            return "unknown_order"
        return _fulfil(session, order, payment)
    if event_type == "payment.failed":
        entity = _entity(payload, "payment")
        order = _order_by_provider_id(session, str((entity or {}).get("order_id") or ""))
        if order is None:
            return "unknown_order"
        # A failed attempt must not overwrite a later attempt that is being confirmed.
        this_attempt = order.provider_payment_id in (None, (entity or {}).get("id"))
        if order.status == "created" or (order.status == "pending" and this_attempt):
            order.status = "failed"
            order.failure_reason = (entity or {}).get("error_description") or "Payment failed"
            session.add(order)
        return "recorded_failure"
    if event_type == "refund.processed":
        return _apply_refund(session, _entity(payload, "refund") or {})
    return "ignored"


def _apply_refund(session: Session, refund: dict) -> str:
    order = session.exec(
        select(PaymentOrder)
        .where(PaymentOrder.provider_payment_id == str(refund.get("payment_id") or ""))
        .with_for_update()
    ).first()
    if order is None or not refund.get("id"):
        return "unknown_order"
    refunded_paise = min(int(refund.get("amount") or 0), order.amount_paise)
    credits = math.ceil(order.credits * refunded_paise / order.amount_paise)
    # Take back the refunded credits, but never below zero: spent credits stay spent.
    available = ledger.get_balance(session=session, user_id=order.user_id)
    to_take = min(credits, available)
    if to_take > 0:
        ledger.spend(
            session=session,
            user_id=order.user_id,
            amount=to_take,
            kind="purchase_refund",
            idempotency_key=f"purchase_refund:{refund['id']}",
            reference=order.receipt_number,
            reason=f"Refund of {refunded_paise} paise",
        )
    if refunded_paise >= order.amount_paise:
        order.status = "refunded"
    order.refunded_at = utcnow()
    session.add(order)
    return "refunded"


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
    if order.status not in ("paid", "refunded") or order.paid_at is None:
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
        payment_id=order.provider_payment_id or "",
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
                .where(PaymentOrder.user_id == user_id, PaymentOrder.status == "pending")
                .order_by(PaymentOrder.created_at.desc())  # type: ignore[attr-defined]
            )
        )


def count_paid_orders(*, session: Session, user_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(PaymentOrder)
        .where(PaymentOrder.user_id == user_id, PaymentOrder.status == "paid")
    ).one()
