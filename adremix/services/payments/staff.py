"""Refunds staff ask for in the admin console, and reconciling an order with Razorpay.

These are the pieces the admin service composes inside its own transactions (it adds the
role checks and the audit log). The money rules stay where they are: a refund Razorpay
reports is recorded with `record_refund` and settled with `settle` (refunds.py: the
clawback rule, never below zero, the shortfall kept; the credit note), a captured payment
is granted once by `fulfil` (records.py).

A refund is claimed before Razorpay is asked: under the order's row lock, the payment's
`admin_refund` row takes `in_flight_key` (unique), so two admins refunding one payment at
once get one claim, and the other is told. Razorpay is then called with the claim's own
X-Refund-Idempotency key: a retry after no answer returns the first refund, never a
second one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from dataclasses import replace as dataclass_replace

from sqlmodel import Session, func, select

from adremix.enums import (
    AdminRefundStatus,
    PaymentStatus,
    RefundOrigin,
    RefundStatus,
)
from adremix.models import AdminRefund, Payment, PaymentOrder, PaymentRefund, User, utcnow
from adremix.services.payments.errors import PaymentError
from adremix.services.payments.gateways import GatewayPayment, GatewayRefund, PaymentGateway
from adremix.services.payments.records import (
    fulfil,
    payment_row,
    record_failure,
    record_payment,
)
from adremix.services.payments.refunds import credits_to_claw, record_refund, settle

log = logging.getLogger(__name__)

MIN_REFUND_PAISE = 100  # Razorpay's smallest refund is ₹1


class RefundRefused(PaymentError):
    """A refund that cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class RefundPosition:
    """Where a payment stands for a refund: what is refunded, on its way, and left."""

    payment_id: int
    provider_payment_id: str
    receipt_number: str
    order_id: int
    user_id: int
    amount_paise: int
    status: str
    captured: bool
    duplicate: bool
    refunded_paise: int  # processed
    pending_paise: int  # asked for, not processed or failed yet
    credits_granted: int
    credits_clawed: int
    clawback_shortfall: int
    balance: int  # the buyer's credits now
    in_flight: bool  # an admin's refund of it awaits Razorpay's answer

    @property
    def committed_paise(self) -> int:
        """Refunded or on its way: what a new refund comes on top of."""
        return self.refunded_paise + self.pending_paise

    @property
    def refundable_paise(self) -> int:
        if not self.captured:
            return 0
        return max(0, self.amount_paise - self.committed_paise)

    def clawback_for(self, amount_paise: int) -> tuple[int, int]:
        """(credits a refund of `amount_paise` takes back, credits it cannot because the
        buyer spent them) once every refund so far and this one are processed."""
        owed = credits_to_claw(
            credits_granted=self.credits_granted,
            refunded_paise=self.committed_paise + amount_paise,
            amount_paise=self.amount_paise,
        )
        due = max(0, owed - self.credits_clawed - self.clawback_shortfall)
        taken = min(due, self.balance)
        return taken, due - taken


def lock_payment(session: Session, payment_id: int) -> tuple[Payment, PaymentOrder]:
    """The payment and its order, the order locked FOR UPDATE (as every payment writer
    does), so that refunds and webhooks of one payment settle one at a time."""
    payment = session.get(Payment, payment_id)
    if payment is None:
        raise RefundRefused("There is no payment with that id.")
    order = session.exec(
        select(PaymentOrder).where(PaymentOrder.id == payment.order_id).with_for_update()
    ).one()
    session.refresh(payment)  # as it is now that the order is ours
    return payment, order


def lock_order(session: Session, order_id: int) -> PaymentOrder:
    order = session.exec(
        select(PaymentOrder).where(PaymentOrder.id == order_id).with_for_update()
    ).first()
    if order is None:
        raise RefundRefused("There is no order with that id.")
    return order


def refund_position(session: Session, payment: Payment, order: PaymentOrder) -> RefundPosition:
    assert payment.id is not None and order.id is not None
    pending = session.exec(
        select(func.coalesce(func.sum(PaymentRefund.amount_paise), 0)).where(
            PaymentRefund.payment_id == payment.id,
            PaymentRefund.status == RefundStatus.PENDING,
        )
    ).one()
    # Claimed by an admin but not yet recorded as a Razorpay refund.
    claimed = session.exec(
        select(AdminRefund.amount_paise).where(
            AdminRefund.payment_id == payment.id,
            AdminRefund.status == AdminRefundStatus.REQUESTED,
        )
    ).all()
    balance = session.exec(select(User.credit_balance).where(User.id == order.user_id)).one()
    return RefundPosition(
        payment_id=payment.id,
        provider_payment_id=payment.provider_payment_id,
        receipt_number=order.receipt_number,
        order_id=order.id,
        user_id=order.user_id,
        amount_paise=payment.amount_paise,
        status=payment.status,
        captured=payment.captured,
        duplicate=payment.duplicate,
        refunded_paise=payment.refunded_paise,
        pending_paise=int(pending) + sum(claimed),
        credits_granted=payment.credits_granted,
        credits_clawed=payment.credits_clawed,
        clawback_shortfall=payment.clawback_shortfall,
        balance=balance,
        in_flight=bool(claimed),
    )


def claim_refund(
    session: Session,
    *,
    payment: Payment,
    order: PaymentOrder,
    amount_paise: int,
    reason: str,
    idempotency_key: str,
    expected_committed_paise: int,
    actor_id: int | None,
) -> AdminRefund:
    """Claim a refund of `payment` (locked by `lock_payment`) for Razorpay to make.

    Refused when another admin's refund of it is under way, when the payment changed
    since the admin looked (`expected_committed_paise`: two admins confirming what they
    both saw make one refund), or when the amount is not refundable.
    """
    assert payment.id is not None
    position = refund_position(session, payment, order)
    if position.in_flight:
        raise RefundRefused(
            "Another refund of this payment is being made right now. Reload the user to see it."
        )
    if position.committed_paise != expected_committed_paise:
        raise RefundRefused(
            "This payment changed since you opened it (another refund was made). "
            "Review it again before refunding."
        )
    if not payment.captured or payment.status not in (
        PaymentStatus.CAPTURED,
        PaymentStatus.PARTIALLY_REFUNDED,
    ):
        raise RefundRefused("Only a captured payment can be refunded.")
    if amount_paise < MIN_REFUND_PAISE:
        raise RefundRefused("Razorpay's smallest refund is ₹1.")
    if amount_paise > position.refundable_paise:
        raise RefundRefused(
            f"At most {position.refundable_paise / 100:,.2f} rupees of this payment can "
            "still be refunded."
        )
    claim = AdminRefund(
        payment_id=payment.id,
        amount_paise=amount_paise,
        reason=reason,
        actor_id=actor_id,
        idempotency_key=idempotency_key,
        in_flight_key=f"payment:{payment.id}",
        status=AdminRefundStatus.REQUESTED,
    )
    session.add(claim)
    session.flush()
    return claim


def claim_for_retry(session: Session, *, payment: Payment) -> AdminRefund:
    """The payment's claimed refund that Razorpay has not answered, to ask again with the
    same key (so at most one refund results)."""
    claim = session.exec(
        select(AdminRefund).where(
            AdminRefund.payment_id == payment.id,
            AdminRefund.status == AdminRefundStatus.REQUESTED,
        )
    ).first()
    if claim is None:
        raise RefundRefused("No refund of this payment is waiting for Razorpay.")
    return claim


def ask_gateway(
    gateway: PaymentGateway, claim: AdminRefund, provider_payment_id: str
) -> GatewayRefund:
    """Razorpay's refund for a claim; the same body and key on every retry."""
    return gateway.refund(
        provider_payment_id,
        amount_paise=claim.amount_paise,
        idempotency_key=claim.idempotency_key,
        notes={"reason": claim.reason[:250], "admin_refund": str(claim.id)},
    )


@dataclass(frozen=True)
class RecordedRefund:
    """A claimed refund as Razorpay made it, and what settling it did to the payment."""

    refund_id: str
    refund_status: str
    amount_paise: int
    user_id: int
    receipt_number: str
    provider_payment_id: str
    payment_status: str
    refunded_paise: int
    credits_taken: int  # by the clawback now (none while the refund is pending)
    shortfall_added: int  # owed back but already spent by the buyer


def record_claimed_refund(
    session: Session, *, idempotency_key: str, refund: GatewayRefund
) -> RecordedRefund:
    """Razorpay accepted the claim: record its refund and settle the payment (a processed
    refund claws back and gets its credit note now; a pending one when its webhook says
    processed). Safe to repeat, and after the webhook got there first."""
    claim = session.exec(
        select(AdminRefund).where(AdminRefund.idempotency_key == idempotency_key)
    ).one()
    payment, order = lock_payment(session, claim.payment_id)
    clawed, short = payment.credits_clawed, payment.clawback_shortfall
    status = refund.status if refund.status in tuple(RefundStatus) else RefundStatus.PENDING
    record_refund(
        session,
        payment=payment,
        refund_id=refund.id,
        amount_paise=refund.amount,
        status=status,
        origin=RefundOrigin.MERCHANT,
    )
    settle(session, payment=payment, order=order)
    claim.status = AdminRefundStatus.SUBMITTED
    claim.provider_refund_id = refund.id
    claim.in_flight_key = None
    claim.updated_at = utcnow()
    session.add(claim)
    session.flush()
    return RecordedRefund(
        refund_id=refund.id,
        refund_status=status,
        amount_paise=claim.amount_paise,
        user_id=order.user_id,
        receipt_number=order.receipt_number,
        provider_payment_id=payment.provider_payment_id,
        payment_status=payment.status,
        refunded_paise=payment.refunded_paise,
        credits_taken=payment.credits_clawed - clawed,
        shortfall_added=payment.clawback_shortfall - short,
    )


def claim_with_key(session: Session, *, idempotency_key: str) -> AdminRefund | None:
    """The claim this form made already, if any (a double submit)."""
    return session.exec(
        select(AdminRefund).where(AdminRefund.idempotency_key == idempotency_key)
    ).first()


def claimed_refund(session: Session, *, idempotency_key: str) -> tuple[AdminRefund, str]:
    """A claim and the Razorpay id of the payment it refunds."""
    claim = session.exec(
        select(AdminRefund).where(AdminRefund.idempotency_key == idempotency_key)
    ).one()
    provider_payment_id = session.exec(
        select(Payment.provider_payment_id).where(Payment.id == claim.payment_id)
    ).one()
    return claim, provider_payment_id


@dataclass(frozen=True)
class FailedClaim:
    user_id: int
    provider_payment_id: str


def fail_claim(session: Session, *, idempotency_key: str, error: str) -> FailedClaim:
    """Razorpay refused the claim: nothing was refunded; the payment is free again."""
    claim = session.exec(
        select(AdminRefund).where(AdminRefund.idempotency_key == idempotency_key)
    ).one()
    payment, order = lock_payment(session, claim.payment_id)
    claim.status = AdminRefundStatus.FAILED
    claim.error = error[:1000]
    claim.in_flight_key = None
    claim.updated_at = utcnow()
    session.add(claim)
    session.flush()
    return FailedClaim(user_id=order.user_id, provider_payment_id=payment.provider_payment_id)


# --- reconcile ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderSnapshot:
    """An order and its payments as the audit log records them before and after."""

    status: str
    payments: dict[str, dict[str, object]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"status": self.status, "payments": self.payments}


def order_snapshot(session: Session, order: PaymentOrder) -> OrderSnapshot:
    rows = session.exec(
        select(Payment).where(Payment.order_id == order.id).order_by(Payment.id)
    ).all()  # type: ignore[arg-type]
    return OrderSnapshot(
        status=order.status,
        payments={
            p.provider_payment_id: {
                "status": p.status,
                "duplicate": p.duplicate,
                "credits_granted": p.credits_granted,
                "refunded_paise": p.refunded_paise,
                "credits_clawed": p.credits_clawed,
            }
            for p in rows
        },
    )


@dataclass(frozen=True)
class GatewayView:
    """What Razorpay says about an order: its payments, and each payment's refunds."""

    payments: list[GatewayPayment]
    refunds: dict[str, list[GatewayRefund]]


def fetch_gateway_view(gateway: PaymentGateway, provider_order_id: str) -> GatewayView:
    payments = gateway.order_payments(provider_order_id)
    refunds = {p.id: gateway.payment_refunds(p.id) for p in payments if p.captured}
    return GatewayView(payments=payments, refunds=refunds)


def apply_gateway_view(session: Session, order: PaymentOrder, view: GatewayView) -> None:
    """Bring the order in line with what Razorpay says (the webhooks that were missed):
    every payment recorded and moved forward, a captured one granted once (capturing is
    not done here: an authorised payment is left for checkout or Razorpay to settle),
    every refund recorded and settled. Each step is the webhook's own, so it is safe to
    repeat and safe against a webhook arriving meanwhile."""
    for payment in view.payments:
        if payment.order_id and payment.order_id != order.provider_order_id:
            continue
        if payment.captured:
            fulfil(session, order, dataclass_replace(payment, status=PaymentStatus.CAPTURED))
            continue
        row = record_payment(session, order, payment)
        if payment.status == PaymentStatus.FAILED:
            record_failure(session, order, row, payment.error_description or "Payment failed")
    for provider_payment_id, refunds in view.refunds.items():
        row = payment_row(session, provider_payment_id)
        if row is None:
            continue
        for refund in refunds:
            status = refund.status if refund.status in tuple(RefundStatus) else RefundStatus.PENDING
            origin = RefundOrigin.DUPLICATE if row.duplicate else RefundOrigin.MERCHANT
            record_refund(
                session,
                payment=row,
                refund_id=refund.id,
                amount_paise=refund.amount,
                status=status,
                origin=origin,
            )
        settle(session, payment=row, order=order)
