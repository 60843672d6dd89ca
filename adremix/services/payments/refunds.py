"""Refunds: taking back exactly the credits that a payment's refunds pay for.

The clawback rule, applied to each payment on the running total of its processed refunds:

    credits owed back = floor(credits_granted * refunded_paise / amount_paise)

Computed on the running total, partial refunds add up to exactly what one refund of the
same total would take, and a full refund takes back every credit the payment granted,
never more. Rounding down means a credit is taken back only once a whole credit's worth
of money has been returned: the customer never loses a credit they are still paying for,
and what rounding leaves (less than one credit per payment) is the merchant's choice of a
partial amount. A refund of a payment that granted nothing owes nothing.

Credits are taken from the balance as far as it goes, never below zero; what could not be
taken (the user had spent it) is kept on the payment as `clawback_shortfall`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel import Session, func, select

from adremix.db import session_scope
from adremix.enums import CreditKind, OrderStatus, PaymentStatus, RefundOrigin, RefundStatus
from adremix.models import CreditTransaction, Payment, PaymentOrder, PaymentRefund, utcnow
from adremix.services import billing, credits
from adremix.services.credits import BalanceMismatch, find_mismatches, format_inr

log = logging.getLogger(__name__)

# Orders whose payment has not (yet) granted anything; a full refund closes them.
UNFULFILLED = (OrderStatus.CREATED, OrderStatus.PENDING, OrderStatus.REVIEW, OrderStatus.FAILED)
OPEN_PAYMENT_STATUSES = (PaymentStatus.CREATED, PaymentStatus.AUTHORIZED)


def credits_to_claw(*, credits_granted: int, refunded_paise: int, amount_paise: int) -> int:
    """The clawback rule (see the module docstring), in integers."""
    if credits_granted <= 0 or amount_paise <= 0 or refunded_paise <= 0:
        return 0
    return credits_granted * min(refunded_paise, amount_paise) // amount_paise


def record_refund(
    session: Session,
    *,
    payment: Payment,
    refund_id: str,
    amount_paise: int,
    status: str,
    origin: RefundOrigin,
) -> PaymentRefund:
    """Insert or move forward one refund of `payment` (pending → processed or failed)."""
    row = session.exec(
        select(PaymentRefund).where(PaymentRefund.provider_refund_id == refund_id)
    ).first()
    if row is None:
        assert payment.id is not None
        row = PaymentRefund(
            provider_refund_id=refund_id,
            payment_id=payment.id,
            amount_paise=amount_paise,
            origin=origin,
        )
    # Webhooks arrive out of order: a processed or failed refund never goes back to pending.
    if row.status == RefundStatus.PENDING and status in (
        RefundStatus.PROCESSED,
        RefundStatus.FAILED,
    ):
        row.status = status
        row.processed_at = utcnow() if status == RefundStatus.PROCESSED else None
    session.add(row)
    session.flush()
    return row


def settle(session: Session, *, payment: Payment, order: PaymentOrder) -> None:
    """Bring the payment and its order in line with the payment's processed refunds:
    refunded amount, statuses, and the credits owed back under the clawback rule."""
    processed = session.exec(
        select(func.coalesce(func.sum(PaymentRefund.amount_paise), 0)).where(
            PaymentRefund.payment_id == payment.id,
            PaymentRefund.status == RefundStatus.PROCESSED,
        )
    ).one()
    payment.refunded_paise = min(int(processed), payment.amount_paise)
    if payment.refunded_paise >= payment.amount_paise:
        payment.status = PaymentStatus.REFUNDED
    elif payment.refunded_paise > 0:
        payment.status = PaymentStatus.PARTIALLY_REFUNDED
    _claw_back(session, payment=payment, order=order)
    payment.updated_at = utcnow()
    session.add(payment)
    session.flush()
    _refresh_order_status(session, order)
    # Every processed refund of an invoiced payment gets its credit note, in this same
    # transaction, whichever path recorded the refund (webhook, duplicate refund, console).
    if payment.refunded_paise:
        billing.issue_credit_notes(session, payment=payment)


def _claw_back(session: Session, *, payment: Payment, order: PaymentOrder) -> None:
    owed = credits_to_claw(
        credits_granted=payment.credits_granted,
        refunded_paise=payment.refunded_paise,
        amount_paise=payment.amount_paise,
    )
    due = owed - payment.credits_clawed - payment.clawback_shortfall
    if due <= 0:
        return
    # One key per step of the running total, so a replayed step takes nothing twice.
    taken = credits.take_up_to(
        session=session,
        user_id=order.user_id,
        amount=due,
        kind=CreditKind.PURCHASE_REFUND,
        idempotency_key=f"purchase_refund:{payment.provider_payment_id}:{owed}",
        reference=order.receipt_number,
        reason=f"Refund of {format_inr(payment.refunded_paise, always_paise=True)} "
        f"of {format_inr(payment.amount_paise, always_paise=True)}",
    )
    payment.credits_clawed += taken
    payment.clawback_shortfall += due - taken
    if taken < due:
        log.warning(
            "Refund of %s on %s: %d credit(s) could not be taken back (already spent)",
            payment.provider_payment_id,
            order.receipt_number,
            due - taken,
        )


def _refresh_order_status(session: Session, order: PaymentOrder) -> None:
    payments = session.exec(select(Payment).where(Payment.order_id == order.id)).all()
    granting = [p for p in payments if p.credits_granted > 0]
    before = order.status
    if granting:
        if all(p.refunded_paise >= p.amount_paise for p in granting):
            order.status = OrderStatus.REFUNDED
        elif any(p.refunded_paise > 0 for p in granting):
            order.status = OrderStatus.PARTIALLY_REFUNDED
        else:
            order.status = OrderStatus.PAID
    elif order.status in UNFULFILLED:
        still_open = any(
            p.status in OPEN_PAYMENT_STATUSES or (p.captured and p.refunded_paise < p.amount_paise)
            for p in payments
        )
        if not still_open and any(p.refunded_paise > 0 for p in payments):
            # Nothing was granted and every payment's money went back: the order is closed.
            order.status = OrderStatus.REFUNDED
    if order.status != before and order.status in (
        OrderStatus.REFUNDED,
        OrderStatus.PARTIALLY_REFUNDED,
    ):
        order.refunded_at = utcnow()
    session.add(order)


# --- audit ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefundProblem:
    receipt_number: str
    payment_id: str
    problem: str


def find_refund_problems(*, session: Session) -> list[RefundProblem]:
    """Payments whose clawbacks break the rule, or disagree with the ledger.

    For every payment: clawed + shortfall equals the rule applied to its refunded paise,
    and never exceeds what it granted. For every order: the ledger's purchase and
    purchase_refund entries add up to what its payments say they granted and clawed.
    """
    problems: list[RefundProblem] = []
    rows = session.exec(
        select(Payment, PaymentOrder.receipt_number).join(
            PaymentOrder, PaymentOrder.id == Payment.order_id
        )
    ).all()
    granted_by_order: dict[str, int] = {}
    clawed_by_order: dict[str, int] = {}
    for payment, receipt in rows:
        granted_by_order[receipt] = granted_by_order.get(receipt, 0) + payment.credits_granted
        clawed_by_order[receipt] = clawed_by_order.get(receipt, 0) + payment.credits_clawed
        accounted = payment.credits_clawed + payment.clawback_shortfall
        owed = credits_to_claw(
            credits_granted=payment.credits_granted,
            refunded_paise=payment.refunded_paise,
            amount_paise=payment.amount_paise,
        )
        if payment.refunded_paise > payment.amount_paise:
            problems.append(
                RefundProblem(
                    receipt,
                    payment.provider_payment_id,
                    f"refunded {payment.refunded_paise} paise of a "
                    f"{payment.amount_paise}-paise payment",
                )
            )
        if accounted > payment.credits_granted:
            problems.append(
                RefundProblem(
                    receipt,
                    payment.provider_payment_id,
                    f"clawed back {payment.credits_clawed} (+{payment.clawback_shortfall} short) "
                    f"of only {payment.credits_granted} granted",
                )
            )
        elif accounted != owed:
            problems.append(
                RefundProblem(
                    receipt,
                    payment.provider_payment_id,
                    f"refunds of {payment.refunded_paise} paise call for {owed} credit(s) back; "
                    f"clawed {payment.credits_clawed} (+{payment.clawback_shortfall} short)",
                )
            )
    ledger_rows = session.exec(
        select(
            CreditTransaction.reference,
            CreditTransaction.kind,
            func.sum(CreditTransaction.amount),
        )
        .join(PaymentOrder, PaymentOrder.receipt_number == CreditTransaction.reference)
        .where(CreditTransaction.kind.in_((CreditKind.PURCHASE, CreditKind.PURCHASE_REFUND)))  # type: ignore[attr-defined]
        .group_by(CreditTransaction.reference, CreditTransaction.kind)
    ).all()
    in_ledger: dict[tuple[str, str], int] = {(r[0], r[1]): int(r[2]) for r in ledger_rows}
    receipts = set(granted_by_order) | {receipt for receipt, _ in in_ledger}
    for receipt in sorted(receipts):
        granted = in_ledger.get((receipt, CreditKind.PURCHASE), 0)
        clawed = -in_ledger.get((receipt, CreditKind.PURCHASE_REFUND), 0)
        if granted != granted_by_order.get(receipt, 0):
            problems.append(
                RefundProblem(
                    receipt,
                    "",
                    f"ledger grants {granted} credit(s); its payments say "
                    f"{granted_by_order.get(receipt, 0)}",
                )
            )
        if clawed != clawed_by_order.get(receipt, 0):
            problems.append(
                RefundProblem(
                    receipt,
                    "",
                    f"ledger takes back {clawed} credit(s); its payments say "
                    f"{clawed_by_order.get(receipt, 0)}",
                )
            )
    return problems


@dataclass(frozen=True)
class LedgerAudit:
    """What `python -m adremix ledger verify` reports; empty lists mean the books agree."""

    mismatches: list[BalanceMismatch]
    refund_problems: list[RefundProblem]


def audit_ledger() -> LedgerAudit:
    """Every balance against its entries, and every payment's clawbacks against its refunds."""
    with session_scope() as session:
        return LedgerAudit(
            mismatches=find_mismatches(session=session),
            refund_problems=find_refund_problems(session=session),
        )
