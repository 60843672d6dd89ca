"""One user's page: everything about them, and the actions staff take on them.

Each action's form carries an idempotency key minted when the form opens and rotated only
once the action was done: a double submit, a replayed websocket event or a second worker
sends the same key, and the service applies it once (as New Ad's Generate does).
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal, InvalidOperation

import reflex as rx

from adremix import urls
from adremix.blocking import call
from adremix.enums import CreditKind, Role
from adremix.services import admin
from adremix.services.payments import RefundPosition
from adremix.state.admin.base import AdminState, with_query
from adremix.state.admin.words import inr, plural, when
from adremix.state.session import SessionState

KIND_WORDS = {
    CreditKind.SIGNUP_BONUS: "Welcome bonus",
    CreditKind.PURCHASE: "Purchase",
    CreditKind.GENERATION: "Generation",
    CreditKind.GENERATION_REFUND: "Failed image refunded",
    CreditKind.ADMIN_ADJUSTMENT: "Adjustment",
    CreditKind.PURCHASE_REFUND: "Purchase refunded",
}
ACTION_WORDS = {
    "credit_adjustment": "Credit adjustment",
    "refund": "Refund",
    "suspend": "Suspended",
    "unsuspend": "Restored",
    "role_grant": "Role granted",
    "role_revoke": "Role revoked",
    "reconcile": "Reconciled",
    "export": "Export",
    "quote": "Quote",
}
NO_ROLE = "none"


def new_key() -> str:
    return uuid.uuid4().hex


def rupees_to_paise(text: str) -> int | None:
    try:
        amount = Decimal(text.replace(",", "").replace("₹", "").strip())
    except InvalidOperation:
        return None
    paise = amount * 100
    if paise != paise.to_integral_value() or amount <= 0:
        return None
    return int(paise)


def _payment(order: admin.OrderLine, p: admin.PaymentLine, is_admin: bool) -> dict[str, str]:
    refundable = p.captured and p.refunded_paise < p.amount_paise and not p.refund_in_flight
    refunds = ", ".join(f"{inr(r.amount_paise)} {r.status}" for r in p.refunds)
    return {
        "id": str(p.id),
        "receipt": order.receipt_number,
        "order_status": order.status,
        "kind": order.kind,
        "provider": order.provider,
        "payment": p.provider_payment_id,
        "amount": inr(p.amount_paise),
        "status": p.status + (" (duplicate)" if p.duplicate else ""),
        "credits": f"{p.credits_granted} granted"
        + (f", {p.credits_clawed} taken back" if p.credits_clawed else "")
        + (f", {p.clawback_shortfall} already spent" if p.clawback_shortfall else ""),
        "refunds": refunds or "–",
        "date": when(p.created_at),
        "can_refund": "yes" if refundable and is_admin else "",
        "in_flight": "yes" if p.refund_in_flight else "",
        "error": p.error,
    }


def _entry_summary(before: str, after: str) -> str:
    try:
        was, now = json.loads(before), json.loads(after)
    except ValueError:
        return ""
    changed = [
        f"{key}: {was.get(key, '–')} → {value}"
        for key, value in now.items()
        if key in was and was.get(key) != value
    ]
    added = [f"{key}: {value}" for key, value in now.items() if key not in was]
    return "; ".join(changed + added)[:300]


class AdminUserState(AdminState):
    user_id: int = 0
    found: bool = False
    profile: dict[str, str] = {}
    ledger: list[dict[str, str]] = []
    ledger_more: str = ""
    orders: list[dict[str, str]] = []
    generations: list[dict[str, str]] = []
    sessions: list[dict[str, str]] = []
    audit: list[dict[str, str]] = []
    suspended: bool = False
    role_from_settings: str = ""
    # Credit adjustment form.
    adjust_open: bool = False
    adjust_direction: str = "grant"
    adjust_amount: str = ""
    adjust_reason: str = ""
    adjust_key: str = ""
    adjust_busy: bool = False
    adjust_ack: int = 0
    # Refund form.
    refund_open: bool = False
    refund_payment_id: int = 0
    refund_title: str = ""
    refund_facts: list[str] = []
    refund_amount: str = ""
    refund_reason: str = ""
    refund_preview: str = ""
    refund_key: str = ""
    refund_committed: int = 0
    refund_busy: bool = False
    refund_ack: int = 0
    _position: RefundPosition | None = None
    # Suspend / restore, and roles.
    suspend_open: bool = False
    suspend_reason: str = ""
    role_open: bool = False
    role_choice: str = NO_ROLE
    role_reason: str = ""

    @rx.var
    def ledger_export(self) -> list[list[str]]:
        return [["user", str(self.user_id)]]

    @rx.event
    async def load(self) -> rx.event.EventSpec | None:
        actor = await self._actor()
        if actor is None:
            return None
        raw = str(self.router.page.params.get("account_id", ""))
        self.user_id = int(raw) if raw.isdigit() and len(raw) < 10 else 0
        self.adjust_key = self.adjust_key or new_key()
        return await self._refresh(actor)

    async def _refresh(self, actor: int) -> rx.event.EventSpec | None:
        self.loading = True
        try:
            detail = await call(admin.user_detail, actor_id=actor, user_id=self.user_id)
        except admin.UnknownAccount:
            self.found, self.loading = False, False
            return None
        except Exception as exc:
            self.loading = False
            return self._failed(exc)
        self.found = True
        self.suspended = detail.suspended_at is not None
        self.role_from_settings = detail.role_from_settings
        self.role_choice = detail.stored_role or NO_ROLE
        status = "Deleted" if detail.deleted else ("Suspended" if self.suspended else "Active")
        self.profile = {
            "id": str(detail.id),
            "email": detail.email,
            "name": detail.name,
            "initial": (detail.name or detail.email)[:1].upper(),
            "avatar": detail.avatar_url,
            "balance": f"{detail.balance:,}",
            "joined": when(detail.joined_at),
            "seen": when(detail.last_seen_at) or "never",
            "status": status,
            "suspended_at": when(detail.suspended_at),
            "role": detail.role or "none",
            "role_note": (
                f"from ADREMIX_{detail.role_from_settings.upper()}_EMAILS"
                if detail.role_from_settings
                else ("granted in the console" if detail.stored_role else "")
            ),
            "sign_in": "Google" if detail.google_linked else "developer sign-in",
            "failed": plural(detail.failed_generations, "failed generation"),
            "deleted": "yes" if detail.deleted else "",
        }
        self.ledger = [
            {
                "date": when(e.created_at),
                "kind": KIND_WORDS.get(e.kind, e.kind),
                "amount": f"{e.amount:+,}",
                "positive": "yes" if e.amount > 0 else "",
                "balance": f"{e.balance_after:,}",
                "reference": e.reference,
                "reason": e.reason,
            }
            for e in detail.ledger
        ]
        self.ledger_more = (
            f"Latest {len(detail.ledger)} of {detail.ledger_total:,} entries; export all as CSV."
            if detail.ledger_total > len(detail.ledger)
            else ""
        )
        is_admin = self.role == Role.ADMIN
        self.orders = [
            _payment(order, payment, is_admin)
            for order in detail.orders
            for payment in order.payments
        ] + [
            {
                "id": "",
                "receipt": order.receipt_number,
                "order_status": order.status,
                "kind": order.kind,
                "provider": order.provider,
                "payment": "no payment",
                "amount": inr(order.amount_paise),
                "status": order.status,
                "credits": f"{order.credits} (not granted)",
                "refunds": "–",
                "date": when(order.created_at),
                "can_refund": "",
                "in_flight": "",
                "error": "",
            }
            for order in detail.orders
            if not order.payments
        ]
        self.generations = [
            {
                "id": str(g.id),
                "date": when(g.created_at),
                "status": g.status,
                "provider": f"{g.provider} {g.model}".strip(),
                "images": str(g.variations),
                "spent": str(g.credits_spent),
                "refunded": str(g.credits_refunded) if g.credits_refunded else "",
                "error": g.error,
                "latency": f"{g.latency_ms / 1000:.1f} s" if g.latency_ms else "",
            }
            for g in detail.generations
        ]
        self.sessions = [
            {
                "started": when(s.created_at),
                "seen": when(s.last_seen_at),
                "expires": when(s.expires_at),
                "agent": s.user_agent[:120] or "unknown browser",
            }
            for s in detail.sessions
        ]
        self.audit = [
            {
                "seq": str(a.seq),
                "date": when(a.created_at),
                "actor": a.actor,
                "action": ACTION_WORDS.get(a.action, a.action),
                "reason": a.reason,
                "summary": _entry_summary(a.before, a.after),
            }
            for a in detail.audit
        ]
        self.loading = False
        return None

    # --- credit adjustment -------------------------------------------------------------------

    @rx.event
    def open_adjust(self) -> None:
        self.adjust_open = True
        self.adjust_key = self.adjust_key or new_key()

    @rx.event
    def close_adjust(self) -> None:
        self.adjust_open = False

    @rx.event
    def set_adjust_direction(self, value: str) -> None:
        self.adjust_direction = "deduct" if value == "deduct" else "grant"

    @rx.event
    def set_adjust_amount(self, value: str) -> None:
        self.adjust_amount = value[:12]

    @rx.event
    def set_adjust_reason(self, value: str) -> None:
        self.adjust_reason = value[:1000]

    @rx.event
    async def submit_adjustment(self, key: str):  # type: ignore[no-untyped-def]
        """Apply the form's adjustment once for its key (`adjust_key`, in the button)."""
        self.adjust_busy = True
        yield
        try:
            actor = await self._actor()
            if actor is None:
                return
            text = self.adjust_amount.strip()
            if not text.isdigit() or int(text) == 0:
                yield rx.toast.error("Enter a whole number of credits, more than zero.")
                return
            amount = int(text) * (-1 if self.adjust_direction == "deduct" else 1)
            try:
                done = await call(
                    admin.adjust_credits,
                    actor_id=actor,
                    user_id=self.user_id,
                    amount=amount,
                    reason=self.adjust_reason,
                    idempotency_key=key,
                )
            except Exception as exc:
                yield self._failed(exc)
                return
            if key == self.adjust_key:
                self.adjust_key = new_key()  # the next submission is a new intent
            self.adjust_open = False
            self.adjust_amount, self.adjust_reason = "", ""
            note = " (already applied)" if done.repeated else ""
            yield rx.toast.success(
                f"{done.amount:+,} credits{note}. Balance now {done.balance_after:,}."
            )
            await self._refresh(actor)
            yield SessionState.refresh_balance
        finally:
            self.adjust_busy = False
            self.adjust_ack += 1

    # --- refunds ------------------------------------------------------------------------------

    @rx.event
    async def open_refund(self, payment_id: str) -> rx.event.EventSpec | None:
        actor = await self._actor()
        if actor is None or not payment_id.isdigit():
            return None
        try:
            position = await call(admin.refund_preview, actor_id=actor, payment_id=int(payment_id))
        except Exception as exc:
            return self._failed(exc)
        self._position = position
        self.refund_payment_id = position.payment_id
        self.refund_committed = position.committed_paise
        self.refund_key = new_key()
        self.refund_reason = ""
        self.refund_amount = f"{position.refundable_paise / 100:.2f}"
        self.refund_title = f"Refund {position.provider_payment_id} ({position.receipt_number})"
        self.refund_facts = [
            f"Paid {inr(position.amount_paise)}; refunded so far {inr(position.refunded_paise)}"
            + (f", {inr(position.pending_paise)} on its way" if position.pending_paise else "")
            + f"; refundable now {inr(position.refundable_paise)}.",
            f"The payment granted {plural(position.credits_granted, 'credit')}; "
            f"{position.credits_clawed} taken back so far, {position.clawback_shortfall} "
            "already spent by then.",
            f"The user's balance is {plural(position.balance, 'credit')}.",
        ]
        self._preview()
        self.refund_open = True
        return None

    def _preview(self) -> None:
        position = self._position
        paise = rupees_to_paise(self.refund_amount)
        if position is None or paise is None:
            self.refund_preview = "Enter an amount in rupees, e.g. 99.50."
            return
        if paise > position.refundable_paise:
            self.refund_preview = f"At most {inr(position.refundable_paise)} can be refunded."
            return
        taken, spent = position.clawback_for(paise)
        if not position.credits_granted:
            self.refund_preview = "This payment granted no credits: none will be taken back."
        elif spent:
            self.refund_preview = (
                f"Refunding {inr(paise)} takes back {plural(taken, 'credit')}; "
                f"{plural(spent, 'credit')} the user already spent cannot be taken back "
                "(recorded as a shortfall)."
            )
        else:
            self.refund_preview = (
                f"Refunding {inr(paise)} takes back {plural(taken, 'credit')} "
                "(the unspent credits of this purchase, rounded down)."
            )

    @rx.event
    def set_refund_amount(self, value: str) -> None:
        self.refund_amount = value[:14]
        self._preview()

    @rx.event
    def set_refund_reason(self, value: str) -> None:
        self.refund_reason = value[:1000]

    @rx.event
    def close_refund(self) -> None:
        self.refund_open = False

    @rx.event
    async def submit_refund(self, key: str):  # type: ignore[no-untyped-def]
        """Refund once for the form's key; two admins confirming one payment make one refund."""
        self.refund_busy = True
        yield
        try:
            actor = await self._actor()
            if actor is None:
                return
            paise = rupees_to_paise(self.refund_amount)
            if paise is None:
                yield rx.toast.error("Enter the amount in rupees, e.g. 99.50.")
                return
            try:
                done = await call(
                    admin.refund_payment,
                    actor_id=actor,
                    payment_id=self.refund_payment_id,
                    amount_paise=paise,
                    reason=self.refund_reason,
                    idempotency_key=key,
                    expected_committed_paise=self.refund_committed,
                )
            except Exception as exc:
                yield self._failed(exc)
                await self._refresh(actor)
                return
            self.refund_open = False
            if done.status == "processed":
                taken = plural(done.credits_taken, "credit")
                message = f"Refunded {inr(done.amount_paise)}; {taken} taken back"
                if done.shortfall:
                    message += f" ({done.shortfall} already spent)"
                yield rx.toast.success(message + ".")
            else:
                yield rx.toast.info(
                    f"Refund of {inr(done.amount_paise)} requested: Razorpay is processing it. "
                    "Credits are taken back once it is processed."
                )
            await self._refresh(actor)
        finally:
            self.refund_busy = False
            self.refund_ack += 1

    @rx.event
    async def retry_refund(self, payment_id: str):  # type: ignore[no-untyped-def]
        actor = await self._actor()
        if actor is None or not payment_id.isdigit():
            return
        try:
            done = await call(admin.retry_refund, actor_id=actor, payment_id=int(payment_id))
        except Exception as exc:
            yield self._failed(exc)
        else:
            yield rx.toast.success(f"Razorpay answered: refund {done.refund_id} {done.status}.")
        await self._refresh(actor)

    # --- suspension and roles -------------------------------------------------------------

    @rx.event
    def open_suspend(self) -> None:
        self.suspend_reason = ""
        self.suspend_open = True

    @rx.event
    def close_suspend(self) -> None:
        self.suspend_open = False

    @rx.event
    def set_suspend_reason(self, value: str) -> None:
        self.suspend_reason = value[:1000]

    @rx.event
    async def submit_suspension(self):  # type: ignore[no-untyped-def]
        actor = await self._actor()
        if actor is None:
            return
        try:
            done = await call(
                admin.set_suspension,
                actor_id=actor,
                user_id=self.user_id,
                suspended=not self.suspended,
                reason=self.suspend_reason,
            )
        except Exception as exc:
            yield self._failed(exc)
            return
        self.suspend_open = False
        if done.suspended:
            yield rx.toast.success(
                f"Suspended; {plural(done.sessions_ended, 'session')} signed out."
            )
        else:
            yield rx.toast.success("Restored: the user can sign in again.")
        await self._refresh(actor)

    @rx.event
    def open_role(self) -> None:
        self.role_reason = ""
        self.role_open = True

    @rx.event
    def close_role(self) -> None:
        self.role_open = False

    @rx.event
    def set_role_choice(self, value: str) -> None:
        self.role_choice = value if value in (Role.ADMIN, Role.SUPPORT) else NO_ROLE

    @rx.event
    def set_role_reason(self, value: str) -> None:
        self.role_reason = value[:1000]

    @rx.event
    async def submit_role(self):  # type: ignore[no-untyped-def]
        actor = await self._actor()
        if actor is None:
            return
        try:
            done = await call(
                admin.set_role,
                actor_id=actor,
                user_id=self.user_id,
                role="" if self.role_choice == NO_ROLE else self.role_choice,
                reason=self.role_reason,
            )
        except Exception as exc:
            yield self._failed(exc)
            return
        self.role_open = False
        yield rx.toast.success(
            f"Role is now {done.role or 'none'}." if done.changed else "Nothing to change."
        )
        await self._refresh(actor)

    @rx.var
    def audit_href(self) -> str:
        return with_query(urls.ADMIN_AUDIT, {"user": str(self.user_id)})
