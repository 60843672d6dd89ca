"""A user's page in the console: profile, balance, ledger, orders and payments with their
refunds, generations (failures first to the eye), sessions and what staff did to them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from adremix.db import session_scope
from adremix.enums import ACTIVE_GENERATION_STATUSES, AdminRefundStatus, GenerationStatus
from adremix.models import (
    AdminRefund,
    AuditEntry,
    AuthSession,
    CreditTransaction,
    Generation,
    Payment,
    PaymentOrder,
    PaymentRefund,
    User,
    utcnow,
)
from adremix.services.accounts import effective_role, settings_role
from adremix.services.admin.access import Permission, require
from adremix.services.errors import UserFacingError

RECENT = 25


class UnknownAccount(UserFacingError):
    """No user with that id."""


@dataclass(frozen=True)
class LedgerLine:
    id: int
    created_at: datetime
    kind: str
    amount: int
    balance_after: int
    reference: str
    reason: str


@dataclass(frozen=True)
class RefundLine:
    provider_refund_id: str
    amount_paise: int
    status: str
    origin: str
    created_at: datetime


@dataclass(frozen=True)
class PaymentLine:
    id: int
    provider_payment_id: str
    amount_paise: int
    status: str
    captured: bool
    duplicate: bool
    credits_granted: int
    refunded_paise: int
    credits_clawed: int
    clawback_shortfall: int
    created_at: datetime
    error: str
    refunds: list[RefundLine] = field(default_factory=list)
    # An admin's refund of it that Razorpay has not answered yet (retry is safe).
    refund_in_flight: bool = False


@dataclass(frozen=True)
class OrderLine:
    id: int
    receipt_number: str
    kind: str
    package_code: str
    credits: int
    amount_paise: int
    status: str
    provider: str
    provider_order_id: str
    created_at: datetime
    payments: list[PaymentLine] = field(default_factory=list)


@dataclass(frozen=True)
class GenerationLine:
    id: int
    created_at: datetime
    status: str
    provider: str
    model: str
    variations: int
    credits_spent: int
    credits_refunded: int
    error: str
    latency_ms: int | None


@dataclass(frozen=True)
class SessionLine:
    id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    user_agent: str


@dataclass(frozen=True)
class AuditLine:
    seq: int
    created_at: datetime
    actor: str
    action: str
    reason: str
    before: str
    after: str


@dataclass(frozen=True)
class UserDetail:
    id: int
    email: str
    name: str
    avatar_url: str
    google_linked: bool
    role: str
    role_from_settings: str  # the role ADREMIX_ADMIN_EMAILS / _SUPPORT_EMAILS give, if any
    stored_role: str
    balance: int
    joined_at: datetime
    last_seen_at: datetime | None
    suspended_at: datetime | None
    deleted: bool
    ledger: list[LedgerLine]
    ledger_total: int
    orders: list[OrderLine]
    generations: list[GenerationLine]
    failed_generations: int
    sessions: list[SessionLine]
    audit: list[AuditLine]


def _payments_of(session: Session, order_ids: list[int]) -> dict[int, list[PaymentLine]]:
    if not order_ids:
        return {}
    payments = session.exec(
        select(Payment).where(Payment.order_id.in_(order_ids)).order_by(Payment.id)  # type: ignore[attr-defined,arg-type]
    ).all()
    payment_ids = [p.id for p in payments]
    refunds: dict[int, list[RefundLine]] = {}
    in_flight: set[int] = set()
    if payment_ids:
        for refund in session.exec(
            select(PaymentRefund)
            .where(PaymentRefund.payment_id.in_(payment_ids))  # type: ignore[attr-defined]
            .order_by(PaymentRefund.id)  # type: ignore[arg-type]
        ):
            refunds.setdefault(refund.payment_id, []).append(
                RefundLine(
                    provider_refund_id=refund.provider_refund_id,
                    amount_paise=refund.amount_paise,
                    status=refund.status,
                    origin=refund.origin,
                    created_at=refund.created_at,
                )
            )
        in_flight = set(
            session.exec(
                select(AdminRefund.payment_id).where(
                    AdminRefund.payment_id.in_(payment_ids),  # type: ignore[attr-defined]
                    AdminRefund.status == AdminRefundStatus.REQUESTED,
                )
            ).all()
        )
    by_order: dict[int, list[PaymentLine]] = {}
    for p in payments:
        assert p.id is not None
        by_order.setdefault(p.order_id, []).append(
            PaymentLine(
                id=p.id,
                provider_payment_id=p.provider_payment_id,
                amount_paise=p.amount_paise,
                status=p.status,
                captured=p.captured,
                duplicate=p.duplicate,
                credits_granted=p.credits_granted,
                refunded_paise=p.refunded_paise,
                credits_clawed=p.credits_clawed,
                clawback_shortfall=p.clawback_shortfall,
                created_at=p.created_at,
                error=p.error_description or "",
                refunds=refunds.get(p.id, []),
                refund_in_flight=p.id in in_flight,
            )
        )
    return by_order


def order_lines(session: Session, orders: list[PaymentOrder]) -> list[OrderLine]:
    """Orders with their payments and refunds (two more queries, whatever the count)."""
    payments = _payments_of(session, [o.id for o in orders if o.id is not None])
    return [
        OrderLine(
            id=o.id or 0,
            receipt_number=o.receipt_number,
            kind=o.kind,
            package_code=o.package_code,
            credits=o.credits,
            amount_paise=o.amount_paise,
            status=o.status,
            provider=o.provider,
            provider_order_id=o.provider_order_id or "",
            created_at=o.created_at,
            payments=payments.get(o.id or 0, []),
        )
        for o in orders
    ]


def generation_line(g: Generation) -> GenerationLine:
    finished = g.status not in ACTIVE_GENERATION_STATUSES
    return GenerationLine(
        id=g.id or 0,
        created_at=g.created_at,
        status=g.status,
        provider=g.provider,
        model=g.model,
        variations=g.variations,
        credits_spent=g.credits_spent,
        # What a finished generation did not deliver was given back (ledger kind
        # generation_refund, referencing it).
        credits_refunded=max(0, g.credits_reserved - g.credits_spent) if finished else 0,
        error=g.error_message or "",
        latency_ms=g.latency_ms,
    )


def user_detail(*, actor_id: int, user_id: int) -> UserDetail:
    """Everything the console shows about one user."""
    with session_scope() as session:
        require(session, actor_id, Permission.VIEW)
        user = session.get(User, user_id)
        if user is None or user.id is None:
            raise UnknownAccount("There is no user with that id.")
        ledger = session.exec(
            select(CreditTransaction)
            .where(CreditTransaction.user_id == user_id)
            .order_by(CreditTransaction.created_at.desc(), CreditTransaction.id.desc())  # type: ignore[attr-defined,union-attr]
            .limit(RECENT)
        ).all()
        ledger_total = session.exec(
            select(func.count())
            .select_from(CreditTransaction)
            .where(CreditTransaction.user_id == user_id)
        ).one()
        orders = session.exec(
            select(PaymentOrder)
            .where(PaymentOrder.user_id == user_id)
            .order_by(PaymentOrder.created_at.desc(), PaymentOrder.id.desc())  # type: ignore[attr-defined,union-attr]
            .limit(RECENT)
        ).all()
        generations = session.exec(
            select(Generation)
            .where(Generation.user_id == user_id)
            .order_by(Generation.created_at.desc(), Generation.id.desc())  # type: ignore[attr-defined,union-attr]
            .limit(RECENT)
        ).all()
        failed = session.exec(
            select(func.count())
            .select_from(Generation)
            .where(
                Generation.user_id == user_id,
                Generation.status.in_((GenerationStatus.FAILED, GenerationStatus.PARTIAL)),  # type: ignore[attr-defined]
            )
        ).one()
        now = utcnow()
        sessions = session.exec(
            select(AuthSession)
            .where(
                AuthSession.user_id == user_id,
                AuthSession.revoked_at.is_(None),  # type: ignore[union-attr]
                AuthSession.expires_at > now,
            )
            .order_by(AuthSession.last_seen_at.desc())  # type: ignore[attr-defined]
            .limit(RECENT)
        ).all()
        audit = session.exec(
            select(AuditEntry)
            .where(AuditEntry.target_type == "user", AuditEntry.target_id == str(user_id))
            .order_by(AuditEntry.seq.desc())  # type: ignore[attr-defined]
            .limit(RECENT)
        ).all()
        from_settings = settings_role(user.email) if user.deleted_at is None else None
        return UserDetail(
            id=user.id,
            email=user.email,
            name=user.name,
            avatar_url=user.avatar_url,
            google_linked=user.oidc_subject is not None,
            role=(effective_role(email=user.email, stored=user.role) or "")
            if user.deleted_at is None
            else "",
            role_from_settings=from_settings or "",
            stored_role=user.role or "",
            balance=user.credit_balance,
            joined_at=user.created_at,
            last_seen_at=user.last_login_at,
            suspended_at=user.suspended_at,
            deleted=user.deleted_at is not None,
            ledger=[
                LedgerLine(
                    id=e.id or 0,
                    created_at=e.created_at,
                    kind=e.kind,
                    amount=e.amount,
                    balance_after=e.balance_after,
                    reference=e.reference or "",
                    reason=e.reason or "",
                )
                for e in ledger
            ],
            ledger_total=ledger_total,
            orders=order_lines(session, list(orders)),
            generations=[generation_line(g) for g in generations],
            failed_generations=failed,
            sessions=[
                SessionLine(
                    id=s.id or 0,
                    created_at=s.created_at,
                    last_seen_at=s.last_seen_at,
                    expires_at=s.expires_at,
                    user_agent=s.user_agent,
                )
                for s in sessions
            ],
            audit=[audit_line(entry) for entry in audit],
        )


def audit_line(entry: AuditEntry) -> AuditLine:
    return AuditLine(
        seq=entry.seq,
        created_at=entry.created_at,
        actor=entry.actor,
        action=entry.action,
        reason=entry.reason,
        before=entry.before,
        after=entry.after,
    )
