"""Opening a checkout: one open order per pack and buyer, reused by every press of Buy."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select

from adremix.db import session_scope
from adremix.enums import CheckoutMode, OrderStatus
from adremix.models import PaymentOrder, utcnow
from adremix.services.credits import find_package, gst_breakup
from adremix.services.payments.errors import (
    GatewayRefused,
    GatewayUnavailable,
    PaymentsUnavailable,
    TooManyOpenCheckouts,
    UnknownPackage,
)
from adremix.services.payments.gateways import PaymentGateway, gateway_for
from adremix.settings import CreditPackage, Settings, get_settings


@dataclass(frozen=True)
class Checkout:
    """What the page needs to open a checkout for a new order."""

    receipt_number: str
    provider_order_id: str
    key_id: str
    mode: CheckoutMode
    amount_paise: int
    credits: int
    package_name: str


def new_receipt_number(now: datetime) -> str:
    return f"AR-{now:%Y%m%d}-{secrets.token_hex(3).upper()}"


def start_purchase(
    *,
    user_id: int,
    package_code: str,
    settings: Settings | None = None,
    gateway: PaymentGateway | None = None,
) -> Checkout:
    """One checkout per pack and buyer at a time: reuse the open order, else create one.

    Presses of Buy for a pack whose order is still open (status "created", younger than
    `checkout_reuse_minutes`) get that order again, so a double click, a replayed event or
    a second tab never makes a second Razorpay order. The database decides who creates:
    an open order holds the unique `open_key` "<user>:<pack>"; racing presses that lose
    the insert wait for the winner's Razorpay order id and reuse it.

    `settings` and `gateway` default to the configured ones.
    """
    settings = settings or get_settings()
    gateway = gateway or gateway_for(settings)
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
            raise PaymentsUnavailable(
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
        raise PaymentsUnavailable(
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
                if holder.status == OrderStatus.CREATED and created > reusable_since:
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
                    PaymentOrder.status.in_((OrderStatus.CREATED, OrderStatus.PENDING)),  # type: ignore[attr-defined]
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
                receipt_number=new_receipt_number(now),
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
        if order is not None and order.status in (OrderStatus.CREATED, OrderStatus.PENDING):
            order.status = OrderStatus.FAILED
            order.failure_reason = reason
            session.add(order)
