"""The Payments, Webhooks, Failures and Audit pages: filtered, paged tables in the URL,
plus reconcile (Payments) and the quote form (admins)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from adremix import urls
from adremix.blocking import call
from adremix.services import admin
from adremix.state.admin.base import PagedState, with_query
from adremix.state.admin.user import ACTION_WORDS, _entry_summary, rupees_to_paise
from adremix.state.admin.words import inr, when

ANY = "any"


def _form(form: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in form.items() if str(v) not in ("", ANY)}


class AdminPaymentsState(PagedState):
    q: str = ""
    status: str = ANY
    date_from: str = ""
    date_to: str = ""
    rows: list[dict[str, str]] = []
    # The quote form (admins).
    quote_open: bool = False
    quote_email: str = ""
    quote_credits: str = ""
    quote_amount: str = ""
    quote_gstin: str = ""
    quote_link: str = ""

    @rx.event
    async def load(self) -> rx.event.EventSpec | None:
        actor = await self._actor()
        if actor is None:
            return None
        filters = admin.PaymentFilters.from_query(self.router.url.query_parameters)
        self.q, self.status = filters.q, filters.status or ANY
        self.date_from = filters.date_from.isoformat() if filters.date_from else ""
        self.date_to = filters.date_to.isoformat() if filters.date_to else ""
        self.loading = True
        try:
            page = await call(admin.list_payments, actor_id=actor, filters=filters)
        except Exception as exc:
            self.loading = False
            return self._failed(exc)
        self.rows = [self._row(order) for order in page.rows]
        self._pages(urls.ADMIN_PAYMENTS, filters, page.has_next)
        self.loading = False
        return None

    def _row(self, order: admin.OrderRow) -> dict[str, str]:
        payments = "; ".join(
            f"{p.provider_payment_id} {p.status}"
            + (" duplicate" if p.duplicate else "")
            + (f", refunded {inr(p.refunded_paise)}" if p.refunded_paise else "")
            for p in order.payments
        )
        return {
            "id": str(order.id),
            "receipt": order.receipt_number,
            "date": when(order.created_at),
            "email": order.email,
            "user_href": urls.admin_user_url(str(order.user_id)),
            "what": f"{order.kind}: {order.credits:,} credits",
            "amount": inr(order.amount_paise),
            "status": order.status,
            "provider": order.provider,
            "payments": payments or "none yet",
            "can_reconcile": "yes" if order.provider_order_id and self.role == "admin" else "",
        }

    @rx.event
    def apply(self, form: dict[str, str]) -> rx.event.EventSpec:
        filters = admin.PaymentFilters.from_query(_form(form))
        return rx.redirect(with_query(urls.ADMIN_PAYMENTS, filters.to_query()))

    @rx.event
    async def reconcile(self, order_id: str):  # type: ignore[no-untyped-def]
        actor = await self._actor()
        if actor is None or not order_id.isdigit():
            return
        try:
            done = await call(admin.reconcile_order, actor_id=actor, order_id=int(order_id))
        except Exception as exc:
            yield self._failed(exc)
            return
        refunded = (
            f"; {done.duplicates_refunded} duplicate payment(s) refunded"
            if done.duplicates_refunded
            else ""
        )
        if done.changed:
            yield rx.toast.success(
                f"Reconciled: the order went from {done.before} to {done.after}{refunded}."
            )
        else:
            yield rx.toast.info(f"Razorpay agrees with our records: the order is {done.after}.")
        yield AdminPaymentsState.load

    @rx.event
    def open_quote(self) -> None:
        self.quote_open, self.quote_link = True, ""

    @rx.event
    def close_quote(self) -> None:
        self.quote_open = False

    @rx.event
    def set_quote_email(self, value: str) -> None:
        self.quote_email = value[:320]

    @rx.event
    def set_quote_credits(self, value: str) -> None:
        self.quote_credits = value[:9]

    @rx.event
    def set_quote_amount(self, value: str) -> None:
        self.quote_amount = value[:14]

    @rx.event
    def set_quote_gstin(self, value: str) -> None:
        self.quote_gstin = value[:15]

    @rx.event
    async def create_quote(self):  # type: ignore[no-untyped-def]
        actor = await self._actor()
        if actor is None:
            return
        paise = rupees_to_paise(self.quote_amount)
        credits = self.quote_credits.strip()
        if paise is None or not credits.isdigit():
            yield rx.toast.error("Enter the credits as a whole number and the amount in rupees.")
            return
        try:
            link = await call(
                admin.create_quote,
                actor_id=actor,
                email=self.quote_email,
                credits=int(credits),
                amount_paise=paise,
                gstin=self.quote_gstin or None,
            )
        except Exception as exc:
            yield self._failed(exc)
            return
        self.quote_link = link.short_url or f"{link.reference_id} (test mode: no link)"
        yield rx.toast.success(f"Quote {link.reference_id} created for {link.email}.")


class AdminWebhooksState(PagedState):
    event_type: str = ""
    show: str = ANY
    rows: list[dict[str, str]] = []

    @rx.event
    async def load(self) -> rx.event.EventSpec | None:
        actor = await self._actor()
        if actor is None:
            return None
        filters = admin.WebhookFilters.from_query(self.router.url.query_parameters)
        self.event_type, self.show = filters.event_type, filters.show or ANY
        self.loading = True
        try:
            page = await call(admin.webhook_log, actor_id=actor, filters=filters)
        except Exception as exc:
            self.loading = False
            return self._failed(exc)
        self.rows = [
            {
                "event_id": r.event_id,
                "type": r.event_type or "unknown",
                "received": when(r.received_at),
                "signature": "ok" if r.signature_ok else "bad",
                "processed": when(r.processed_at) if r.processed_at else "not processed",
                "outcome": r.outcome,
                "error": r.error,
            }
            for r in page.rows
        ]
        self._pages(urls.ADMIN_WEBHOOKS, filters, page.has_next)
        self.loading = False
        return None

    @rx.event
    def apply(self, form: dict[str, str]) -> rx.event.EventSpec:
        filters = admin.WebhookFilters.from_query(_form(form))
        return rx.redirect(with_query(urls.ADMIN_WEBHOOKS, filters.to_query()))


class AdminFailuresState(PagedState):
    status: str = ANY
    rows: list[dict[str, str]] = []

    @rx.event
    async def load(self) -> rx.event.EventSpec | None:
        actor = await self._actor()
        if actor is None:
            return None
        filters = admin.FailureFilters.from_query(self.router.url.query_parameters)
        self.status = filters.status or ANY
        self.loading = True
        try:
            page = await call(admin.recent_failures, actor_id=actor, filters=filters)
        except Exception as exc:
            self.loading = False
            return self._failed(exc)
        self.rows = [
            {
                "id": str(r.generation_id),
                "date": when(r.created_at),
                "status": r.status,
                "provider": f"{r.provider} {r.model}".strip(),
                "images": str(r.variations),
                "refunded": f"{r.credits_refunded} credit{'s' if r.credits_refunded != 1 else ''}",
                "error": r.error or "(no message recorded)",
                "email": r.email,
                "user_href": urls.admin_user_url(str(r.user_id)),
            }
            for r in page.rows
        ]
        self._pages(urls.ADMIN_FAILURES, filters, page.has_next)
        self.loading = False
        return None

    @rx.event
    def set_status_filter(self, value: str) -> rx.event.EventSpec:
        filters = admin.FailureFilters.from_query(_form({"status": value}))
        return rx.redirect(with_query(urls.ADMIN_FAILURES, filters.to_query()))


class AdminAuditState(PagedState):
    action: str = ANY
    actor: str = ""
    subject: str = ""
    date_from: str = ""
    date_to: str = ""
    rows: list[dict[str, str]] = []

    @rx.event
    async def load(self) -> rx.event.EventSpec | None:
        actor_id = await self._actor()
        if actor_id is None:
            return None
        filters = admin.AuditFilters.from_query(self.router.url.query_parameters)
        self.action, self.actor = filters.action or ANY, filters.actor
        self.subject = "" if filters.user_id is None else str(filters.user_id)
        self.date_from = filters.date_from.isoformat() if filters.date_from else ""
        self.date_to = filters.date_to.isoformat() if filters.date_to else ""
        self.loading = True
        try:
            page = await call(admin.audit_log, actor_id=actor_id, filters=filters)
        except Exception as exc:
            self.loading = False
            return self._failed(exc)
        self.rows = [
            {
                "seq": str(r.seq),
                "date": when(r.created_at),
                "actor": f"{r.actor} ({r.actor_role})",
                "action": ACTION_WORDS.get(r.action, r.action),
                "target": f"{r.target_type} {r.target_id}",
                "target_href": urls.admin_user_url(r.target_id) if r.target_type == "user" else "",
                "reason": r.reason,
                "summary": _entry_summary(r.before, r.after),
                "hash": r.entry_hash[:12] + "…",
            }
            for r in page.rows
        ]
        self._pages(urls.ADMIN_AUDIT, filters, page.has_next)
        self.loading = False
        return None

    @rx.event
    def apply(self, form: dict[str, str]) -> rx.event.EventSpec:
        filters = admin.AuditFilters.from_query(_form(form))
        return rx.redirect(with_query(urls.ADMIN_AUDIT, filters.to_query()))
