"""Refunds and reconciliation from the console: the role checks and the audit log around
the payments package's own steps (services/payments/staff.py).

A refund is three steps: claim it (one transaction: the role, the payment's position and
the claim), ask Razorpay with the claim's idempotency key (no transaction open while the
network is), record Razorpay's answer (one transaction: the refund, the clawback and
credit note through `settle`, and the audit entry). Razorpay unreachable leaves the claim
in flight: `retry_refund` asks again with the same key, so at most one refund results.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from adremix.db import session_scope
from adremix.enums import AuditAction
from adremix.models import AuditEntry
from adremix.services import billing, payments
from adremix.services.admin import audit
from adremix.services.admin.access import Permission, Staff, require
from adremix.services.admin.actions import AdminActionRefused, clean_reason
from adremix.services.payments import (
    GatewayRefused,
    GatewayUnavailable,
    PaymentGateway,
    RefundPosition,
    gateway_for,
)
from adremix.settings import get_settings

log = logging.getLogger(__name__)


@contextmanager
def _as_admin_refusal() -> Iterator[None]:
    """The payments package's refusals, as this package's (one error type for the console)."""
    try:
        yield
    except payments.RefundRefused as exc:
        raise AdminActionRefused(exc.message) from exc


# Razorpay: at least 10 characters of letters, digits, hyphens and underscores.
INTENT_KEY = re.compile(r"^[A-Za-z0-9_-]{10,60}$")


def refund_preview(*, actor_id: int, payment_id: int) -> RefundPosition:
    """Where the payment stands: what a refund would come on top of, what is left, the
    credits it granted and the buyer's balance (what a clawback could still take)."""
    with _as_admin_refusal(), session_scope() as session:
        require(session, actor_id, Permission.VIEW)
        payment, order = payments.lock_payment(session, payment_id)
        return payments.refund_position(session, payment, order)


@dataclass(frozen=True)
class RefundOutcome:
    refund_id: str
    amount_paise: int
    status: str  # Razorpay's: processed, or pending until its webhook says processed
    credits_taken: int  # by this refund's clawback (none while pending)
    shortfall: int  # credits owed back that the buyer had already spent
    repeated: bool  # this form's refund was made before: nothing new happened


def _outcome(entry: AuditEntry) -> RefundOutcome:
    """The outcome a refund's audit entry recorded (for a repeated submission)."""
    after = json.loads(entry.after)
    return RefundOutcome(
        refund_id=after["refund_id"],
        amount_paise=int(after["amount_paise"]),
        status=after["refund_status"],
        credits_taken=int(after["credits_taken"]),
        shortfall=int(after["shortfall_added"]),
        repeated=True,
    )


def _logged_outcome(claim_key: str) -> RefundOutcome | None:
    with session_scope() as session:
        entry = audit.existing_entry(session, "refund:" + claim_key)
    return _outcome(entry) if entry is not None else None


def _ask(gateway: PaymentGateway, *, actor: Staff, claim_key: str) -> RefundOutcome:
    """Ask Razorpay for a claimed refund and record its answer (or its refusal)."""
    with session_scope() as session:
        claim, provider_payment_id = payments.claimed_refund(session, idempotency_key=claim_key)
    try:
        answer = payments.ask_gateway(gateway, claim, provider_payment_id)
    except GatewayRefused as exc:
        with session_scope() as session:
            audit.lock_head(session)
            failed = payments.fail_claim(session, idempotency_key=claim_key, error=str(exc))
            audit.append(
                session,
                actor=actor,
                action=AuditAction.REFUND,
                target_type="user",
                target_id=failed.user_id,
                reason=claim.reason,
                before={"payment": provider_payment_id},
                after={"refused": str(exc)[:300], "amount_paise": claim.amount_paise},
                idempotency_key="refund-refused:" + claim_key,
            )
        raise AdminActionRefused(f"Razorpay refused the refund: {exc}") from exc
    except GatewayUnavailable as exc:
        log.warning("Refund %s: Razorpay did not answer; left in flight to retry", claim_key)
        raise AdminActionRefused(
            "Razorpay did not answer, so the refund may or may not have been made. Press "
            "“Retry refund” on the payment: it asks again with the same key, so the money "
            "is never refunded twice."
        ) from exc
    with session_scope() as session:
        audit.lock_head(session)  # first, as every admin action does (one lock order)
        if (entry := audit.existing_entry(session, "refund:" + claim_key)) is not None:
            return _outcome(entry)  # the same form's submission, answered meanwhile
        recorded = payments.record_claimed_refund(session, idempotency_key=claim_key, refund=answer)
        audit.append(
            session,
            actor=actor,
            action=AuditAction.REFUND,
            target_type="user",
            target_id=recorded.user_id,
            reason=claim.reason,
            before={"payment": recorded.provider_payment_id, "receipt": recorded.receipt_number},
            after={
                "refund_id": recorded.refund_id,
                "refund_status": recorded.refund_status,
                "amount_paise": recorded.amount_paise,
                "refunded_paise": recorded.refunded_paise,
                "payment_status": recorded.payment_status,
                "credits_taken": recorded.credits_taken,
                "shortfall_added": recorded.shortfall_added,
            },
            idempotency_key="refund:" + claim_key,
        )
    billing.deliver_soon()  # e-mail the credit note a processed refund just issued
    return RefundOutcome(
        refund_id=recorded.refund_id,
        amount_paise=recorded.amount_paise,
        status=recorded.refund_status,
        credits_taken=recorded.credits_taken,
        shortfall=recorded.shortfall_added,
        repeated=False,
    )


def refund_payment(
    *,
    actor_id: int,
    payment_id: int,
    amount_paise: int,
    reason: str,
    idempotency_key: str,
    expected_committed_paise: int,
    gateway: PaymentGateway | None = None,
) -> RefundOutcome:
    """Refund `amount_paise` of a captured payment through Razorpay, once per form intent,
    and claw back the credits the rule owes (never below zero)."""
    if not INTENT_KEY.match(idempotency_key):
        raise AdminActionRefused("This form expired; reload the page and try again.")
    reason = clean_reason(reason)
    claim_key = "adremix-admin-" + idempotency_key
    if (done := _logged_outcome(claim_key)) is not None:
        return done
    with _as_admin_refusal(), session_scope() as session:
        actor = require(session, actor_id, Permission.REFUND)
        payment, order = payments.lock_payment(session, payment_id)
        existing = payments.claim_with_key(session, idempotency_key=claim_key)
        if existing is None:
            payments.claim_refund(
                session,
                payment=payment,
                order=order,
                amount_paise=amount_paise,
                reason=reason,
                idempotency_key=claim_key,
                expected_committed_paise=expected_committed_paise,
                actor_id=actor.id,
            )
    return _ask(gateway or gateway_for(get_settings()), actor=actor, claim_key=claim_key)


def retry_refund(
    *, actor_id: int, payment_id: int, gateway: PaymentGateway | None = None
) -> RefundOutcome:
    """Ask Razorpay again for the payment's refund that got no answer (same key)."""
    with _as_admin_refusal(), session_scope() as session:
        actor = require(session, actor_id, Permission.REFUND)
        payment, _ = payments.lock_payment(session, payment_id)
        claim = payments.claim_for_retry(session, payment=payment)
        claim_key = claim.idempotency_key
    return _ask(gateway or gateway_for(get_settings()), actor=actor, claim_key=claim_key)


@dataclass(frozen=True)
class Reconciled:
    before: str  # the order's status
    after: str
    changed: bool
    duplicates_refunded: int


def reconcile_order(
    *, actor_id: int, order_id: int, gateway: PaymentGateway | None = None
) -> Reconciled:
    """Ask Razorpay about the order's payments and their refunds and apply what a missed
    webhook would have: grants (once), failures, refunds with their clawbacks."""
    gateway = gateway or gateway_for(get_settings())
    with _as_admin_refusal(), session_scope() as session:
        require(session, actor_id, Permission.RECONCILE)
        order = payments.lock_order(session, order_id)
        provider_order_id = order.provider_order_id or ""
    if not provider_order_id:
        raise AdminActionRefused("This order never reached Razorpay: there is nothing to fetch.")
    try:
        view = payments.fetch_gateway_view(gateway, provider_order_id)
    except (GatewayRefused, GatewayUnavailable) as exc:
        raise AdminActionRefused(f"Razorpay could not be asked about the order: {exc}") from exc
    with session_scope() as session:
        audit.lock_head(session)
        actor = require(session, actor_id, Permission.RECONCILE)
        order = payments.lock_order(session, order_id)
        before = payments.order_snapshot(session, order)
        payments.apply_gateway_view(session, order, view)
        after = payments.order_snapshot(session, order)
        audit.append(
            session,
            actor=actor,
            action=AuditAction.RECONCILE,
            target_type="user",
            target_id=order.user_id,
            reason=f"Reconciled order {order.receipt_number} with Razorpay",
            before={"order": order.receipt_number, **before.as_dict()},
            after={"order": order.receipt_number, **after.as_dict()},
        )
        duplicates = [
            payment_id
            for payment_id, fields in after.payments.items()
            if fields.get("duplicate") and not fields.get("refunded_paise")
        ]
    billing.deliver_soon()
    refunded = 0
    if duplicates:
        try:
            refunded = payments.refund_duplicate_payments(
                gateway=gateway, provider_payment_ids=duplicates
            )
        except (GatewayRefused, GatewayUnavailable) as exc:
            log.error("Reconcile of order %s: duplicate refund failed: %s", order_id, exc)
    return Reconciled(
        before=before.status,
        after=after.status,
        changed=before != after,
        duplicates_refunded=refunded,
    )


def create_quote(
    *, actor_id: int, email: str, credits: int, amount_paise: int, gstin: str | None
) -> payments.QuoteLink:
    """An enterprise quote by Razorpay Payment Link (issue 13's `quote create`), from the
    console, audited."""
    with session_scope() as session:
        require(session, actor_id, Permission.QUOTE)
    link = payments.create_quote(
        email=email, credits=credits, amount_paise=amount_paise, gstin=gstin
    )
    with session_scope() as session:
        audit.lock_head(session)
        actor = require(session, actor_id, Permission.QUOTE)
        audit.append(
            session,
            actor=actor,
            action=AuditAction.QUOTE,
            target_type="quote",
            target_id=link.reference_id,
            reason=f"Quote for {link.email}",
            after={
                "email": link.email,
                "credits": link.credits,
                "amount_paise": link.amount_paise,
                "gstin": gstin or "",
                "payment_link": link.payment_link_id,
            },
        )
    return link
