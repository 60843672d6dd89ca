"""What a buyer sees of their purchases: receipts, unconfirmed orders and payments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select

from adremix.db import session_scope
from adremix.enums import CheckoutMode, OrderStatus, PaymentStatus
from adremix.models import Payment, PaymentOrder, User
from adremix.services import billing
from adremix.services.credits import StatementPage, find_package, statement_page
from adremix.services.payments.records import granting_payment
from adremix.services.payments.subscriptions import (
    PlanOffer,
    SubscriptionView,
    current_subscription,
    plan_offers,
)
from adremix.settings import Settings, get_settings


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
    provider: CheckoutMode
    status: OrderStatus
    seller_name: str
    seller_gstin: str
    invoice_id: int | None  # its tax invoice (PDF), once issued
    invoice_number: str


RECEIPTED = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED)


def receipt_for(
    *, user_id: int, receipt_number: str, settings: Settings | None = None
) -> Receipt | None:
    """A paid order's receipt, only for its owner."""
    settings = settings or get_settings()
    with session_scope() as session:
        row = session.exec(
            select(PaymentOrder, User)
            .join(User, User.id == PaymentOrder.user_id)
            .where(PaymentOrder.receipt_number == receipt_number, PaymentOrder.user_id == user_id)
        ).first()
        if row is None:
            return None
        order, user = row
        granting = granting_payment(session, order.id)
        invoice = (
            billing.invoice_for_payment(session, granting.id)
            if granting is not None and granting.id is not None
            else None
        )
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
        provider=CheckoutMode(order.provider),
        status=OrderStatus(order.status),
        seller_name=settings.seller_name,
        seller_gstin=settings.seller_gstin,
        invoice_id=invoice.id if invoice else None,
        invoice_number=invoice.number if invoice else "",
    )


@dataclass(frozen=True)
class PendingOrder:
    """An order paid in the browser but not yet confirmed by Razorpay."""

    receipt_number: str
    credits: int
    amount_paise: int


def pending_orders(*, user_id: int) -> list[PendingOrder]:
    """Orders paid in the browser but not yet confirmed by Razorpay (retry or webhook)."""
    with session_scope() as session:
        rows = session.exec(
            select(PaymentOrder)
            .where(PaymentOrder.user_id == user_id, PaymentOrder.status == OrderStatus.PENDING)
            .order_by(PaymentOrder.created_at.desc())  # type: ignore[attr-defined]
        )
        return [PendingOrder(o.receipt_number, o.credits, o.amount_paise) for o in rows]


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


@dataclass(frozen=True)
class CreditsOverview:
    """Everything the Credits page lists: plans and the buyer's subscription, unconfirmed
    orders, payments, tax documents, one ledger page."""

    plans: list[PlanOffer]
    subscription: SubscriptionView | None
    pending: list[PendingOrder]
    payments: list[PaymentLine]
    documents: list[billing.DocumentLine]
    statement: StatementPage


def credits_overview(*, user_id: int, page: int, page_size: int) -> CreditsOverview:
    """The Credits page's lists; `page` (from 0) of the ledger."""
    return CreditsOverview(
        plans=plan_offers(),
        subscription=current_subscription(user_id=user_id),
        pending=pending_orders(user_id=user_id),
        payments=payment_history(user_id=user_id),
        documents=billing.documents_for_user(user_id=user_id),
        statement=statement_page(user_id=user_id, page=page, page_size=page_size),
    )
