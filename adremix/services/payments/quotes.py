"""Enterprise quotes: an agreed number of credits for an agreed amount, paid through a
Razorpay Payment Link (`python -m adremix quote create ...`).

The quote's order (kind "quote") is fulfilled like any other once the link is paid,
whichever arrives first: the `payment_link.paid` webhook or the buyer's return to the
callback URL (its signature checked with the SDK). Expired or cancelled links grant
nothing and close the quote.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, func, select

from adremix.db import session_scope
from adremix.enums import OrderKind, OrderStatus, PaymentOutcome, PaymentStatus, QuoteStatus
from adremix.models import PaymentOrder, Quote, User, utcnow
from adremix.services import billing
from adremix.services.credits import format_inr, gst_breakup
from adremix.services.payments.checkout import new_receipt_number
from adremix.services.payments.errors import (
    GatewayRefused,
    GatewayUnavailable,
    OrderNotFound,
    PaymentVerificationFailed,
    QuoteError,
)
from adremix.services.payments.gateways import GatewayPayment, PaymentGateway, gateway_for
from adremix.services.payments.records import fulfil
from adremix.settings import Settings, get_settings

log = logging.getLogger(__name__)

PAYMENT_LINK_CALLBACK_PATH = "/api/razorpay/payment-link/callback"


@dataclass(frozen=True)
class QuoteLink:
    reference_id: str
    payment_link_id: str
    short_url: str
    email: str
    credits: int
    amount_paise: int
    expire_by: datetime


def create_quote(
    *,
    email: str,
    credits: int,
    amount_paise: int,
    gstin: str | None = None,
    settings: Settings | None = None,
    gateway: PaymentGateway | None = None,
) -> QuoteLink:
    """A payment link for `credits` at `amount_paise` (GST included) for the account with
    `email`; its invoice names `gstin` (else the buyer's billing profile's)."""
    settings = settings or get_settings()
    gateway = gateway or gateway_for(settings)
    if credits <= 0:
        raise QuoteError("A quote grants at least one credit.")
    if amount_paise < 100:
        raise QuoteError("Razorpay's smallest amount is ₹1.")
    gstin = (gstin or "").strip().upper() or None
    if gstin and (problem := billing.gstin_problem(gstin)):
        raise QuoteError(f"GSTIN {gstin}: {problem}")
    now = utcnow()
    expire_by = now + timedelta(days=settings.quote_expiry_days)
    address = email.strip().lower()
    with session_scope() as session:
        user = session.exec(
            select(User).where(func.lower(User.email) == address, User.deleted_at.is_(None))  # type: ignore[union-attr]
        ).first()
        if user is None or user.id is None:
            raise QuoteError(
                f"No AdRemix account uses {address}; ask them to sign in once, then quote."
            )
        order = PaymentOrder(
            receipt_number=new_receipt_number(now),
            user_id=user.id,
            kind=OrderKind.QUOTE,
            package_code="quote",
            credits=credits,
            amount_paise=amount_paise,
            tax_paise=gst_breakup(
                amount_paise, percent=settings.gst_percent, inclusive=True
            ).tax_paise,
            provider=gateway.mode,
            status=OrderStatus.CREATED,
        )
        session.add(order)
        session.flush()
        assert order.id is not None
        quote = Quote(
            order_id=order.id,
            user_id=user.id,
            gstin=gstin,
            reference_id=order.receipt_number,
            expire_by=expire_by,
        )
        session.add(quote)
        name, user_id = user.name, user.id
    public = settings.effective_public_url  # required in production; localhost in dev
    try:
        link = gateway.create_payment_link(
            amount_paise=amount_paise,
            reference_id=quote.reference_id,
            description=f"{credits} AdRemix credits (quote {quote.reference_id}), GST included",
            customer={"email": address, **({"name": name} if name else {})},
            expire_by=int(expire_by.timestamp()),
            callback_url=public + PAYMENT_LINK_CALLBACK_PATH,
            notes={"quote": quote.reference_id, "user_id": str(user_id)},
        )
    except (GatewayUnavailable, GatewayRefused) as exc:
        with session_scope() as session:
            stored = session.get(Quote, quote.id)
            failed = session.get(PaymentOrder, order.id)
            assert stored is not None and failed is not None
            stored.status = QuoteStatus.CANCELLED
            failed.status = OrderStatus.FAILED
            failed.failure_reason = f"Could not create the payment link: {exc}"
            session.add(stored)
            session.add(failed)
        raise QuoteError(f"Razorpay could not create the payment link: {exc}") from exc
    with session_scope() as session:
        stored = session.get(Quote, quote.id)
        assert stored is not None
        stored.provider_link_id = link.id
        stored.short_url = link.short_url
        stored.updated_at = utcnow()
        session.add(stored)
    return QuoteLink(
        reference_id=quote.reference_id,
        payment_link_id=link.id,
        short_url=link.short_url,
        email=address,
        credits=credits,
        amount_paise=amount_paise,
        expire_by=expire_by,
    )


def _quote_for_link(session: Session, link: dict) -> tuple[Quote, PaymentOrder] | None:
    link_id, reference = str(link.get("id") or ""), str(link.get("reference_id") or "")
    quote = session.exec(
        select(Quote).where(
            (Quote.provider_link_id == link_id) if link_id else (Quote.reference_id == reference)
        )
    ).first()
    if quote is None and reference:
        quote = session.exec(select(Quote).where(Quote.reference_id == reference)).first()
    if quote is None:
        return None
    order = session.exec(
        select(PaymentOrder).where(PaymentOrder.id == quote.order_id).with_for_update()
    ).one()
    return quote, order


def _pay_quote(
    session: Session, quote: Quote, order: PaymentOrder, payment: GatewayPayment
) -> PaymentOutcome:
    if not (payment.captured or payment.status == PaymentStatus.CAPTURED):
        return PaymentOutcome.IGNORED
    if order.provider_order_id is None and payment.order_id:
        # Razorpay makes the link's order when it is paid: from now on order and payment
        # events about it find this quote's order.
        taken = session.exec(
            select(PaymentOrder.id).where(PaymentOrder.provider_order_id == payment.order_id)
        ).first()
        if taken is None:
            order.provider_order_id = payment.order_id
    quote.status = QuoteStatus.PAID
    quote.updated_at = utcnow()
    session.add(quote)
    session.add(order)
    return fulfil(session, order, payment)


def apply_payment_link_event(session: Session, event_type: str, payload: dict) -> PaymentOutcome:
    """One `payment_link.*` webhook (already verified and recorded by its event id)."""
    link = (payload.get("payment_link") or {}).get("entity") or {}
    found = _quote_for_link(session, link)
    if found is None:
        return PaymentOutcome.UNKNOWN_PAYMENT_LINK
    quote, order = found
    if event_type == "payment_link.paid":
        entity = (payload.get("payment") or {}).get("entity") or {}
        if not entity.get("id"):
            return PaymentOutcome.IGNORED
        return _pay_quote(session, quote, order, GatewayPayment.from_entity(entity))
    if event_type in ("payment_link.expired", "payment_link.cancelled"):
        if quote.status != QuoteStatus.CREATED:
            return PaymentOutcome.IGNORED  # paid first: an expiry after payment changes nothing
        quote.status = (
            QuoteStatus.EXPIRED if event_type.endswith("expired") else QuoteStatus.CANCELLED
        )
        quote.updated_at = utcnow()
        if order.status == OrderStatus.CREATED:
            order.status = OrderStatus.FAILED
            order.failure_reason = f"The payment link {quote.status}."
        session.add(quote)
        session.add(order)
        return PaymentOutcome.QUOTE_CLOSED
    return PaymentOutcome.IGNORED  # partially_paid: our links do not accept part payments


@dataclass(frozen=True)
class QuoteResult:
    reference_id: str
    credits: int
    amount: str
    paid: bool


def confirm_payment_link(
    *,
    payment_link_id: str,
    reference_id: str,
    status: str,
    payment_id: str,
    signature: str,
    gateway: PaymentGateway | None = None,
) -> QuoteResult:
    """The buyer is back from a paid link: verify Razorpay's signature, confirm the
    payment with Razorpay, grant once (the webhook may have already)."""
    gateway = gateway or gateway_for(get_settings())
    if not gateway.payment_link_signature_is_valid(
        payment_link_id=payment_link_id,
        reference_id=reference_id,
        status=status,
        payment_id=payment_id,
        signature=signature,
    ):
        raise PaymentVerificationFailed("We could not verify that payment link's answer.")
    payment = None
    if status == QuoteStatus.PAID:
        try:
            payment = gateway.fetch_payment(payment_id)
        except (GatewayUnavailable, GatewayRefused) as exc:
            log.warning(
                "Payment %s of link %s not confirmed yet: %s", payment_id, payment_link_id, exc
            )
    with session_scope() as session:
        found = _quote_for_link(session, {"id": payment_link_id, "reference_id": reference_id})
        if found is None:
            raise OrderNotFound("That quote does not exist.")
        quote, order = found
        if payment is not None and payment.amount == order.amount_paise:
            _pay_quote(session, quote, order, payment)
        paid = quote.status == QuoteStatus.PAID
        result = QuoteResult(
            quote.reference_id, order.credits, format_inr(order.amount_paise), paid
        )
    billing.deliver_soon()
    return result
