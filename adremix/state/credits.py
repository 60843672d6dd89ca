"""Credits page: packages, checkout (Razorpay or the test checkout) and the ledger."""

from __future__ import annotations

import json

import reflex as rx

from adremix.blocking import call
from adremix.enums import (
    CheckoutMode,
    CheckoutResult,
    CreditKind,
    DocumentKind,
    LimitedAction,
    OrderStatus,
    PaymentStatus,
    SubscriptionStatus,
)
from adremix.services import billing, payments
from adremix.services.credits import StatementLine, format_inr, offers
from adremix.settings import get_settings
from adremix.state.errors import error_toast, request_id, user_message
from adremix.state.limits import RateLimited, count_attempt
from adremix.state.session import SessionState, current_user_id
from adremix.urls import document_url

PAGE_SIZE = 20
KIND_LABELS = {
    CreditKind.SIGNUP_BONUS: "Welcome bonus",
    CreditKind.PURCHASE: "Purchase",
    CreditKind.GENERATION: "Generation",
    CreditKind.GENERATION_REFUND: "Refund (failed image)",
    CreditKind.ADMIN_ADJUSTMENT: "Adjustment",
    CreditKind.PURCHASE_REFUND: "Purchase refunded",
}
PAYMENT_STATUS_LABELS = {
    PaymentStatus.CAPTURED: "Paid",
    PaymentStatus.PARTIALLY_REFUNDED: "Partly refunded",
    PaymentStatus.REFUNDED: "Refunded",
}


def _ledger_row(line: StatementLine) -> dict[str, str]:
    """One line of the credit history table, in words."""
    from_purchase = line.kind in (CreditKind.PURCHASE, CreditKind.PURCHASE_REFUND)
    from_generation = line.kind in (CreditKind.GENERATION, CreditKind.GENERATION_REFUND)
    return {
        "date": line.created_at.strftime("%d %b %Y, %H:%M"),
        "kind": KIND_LABELS.get(line.kind, line.kind),
        "amount": f"{line.amount:+d}",
        "positive": "yes" if line.amount > 0 else "",
        "balance_after": str(line.balance_after),
        "receipt": line.reference if from_purchase else "",
        "generation": line.reference if from_generation else "",
        "reason": line.reason,
    }


def _payment_row(line: payments.PaymentLine) -> dict[str, str]:
    """One line of the Payments table, in words."""
    amount = format_inr(line.amount_paise, always_paise=True)
    refunded = format_inr(line.refunded_paise, always_paise=True)
    if line.duplicate:
        note = (
            "A duplicate payment was refunded in full; no credits were added for it."
            if line.refunded_paise >= line.amount_paise
            else "A duplicate payment: its full refund is on the way; no credits were added."
        )
    elif line.refunded_paise and line.credits_granted:
        note = f"{refunded} refunded · {line.credits_clawed} credit(s) taken back"
    elif line.refunded_paise:
        note = f"{refunded} refunded · no credits had been added"
    else:
        note = f"{line.credits_granted} credits added"
    return {
        "date": line.created_at.strftime("%d %b %Y, %H:%M"),
        "amount": amount,
        "status": PAYMENT_STATUS_LABELS.get(line.status, line.status),
        "refund": "yes" if line.refunded_paise else "",
        "note": note,
        "receipt": line.receipt_number if line.order_receipted and not line.duplicate else "",
    }


SUBSCRIPTION_STATUS_LABELS = {
    SubscriptionStatus.AUTHENTICATED: "Starting",
    SubscriptionStatus.ACTIVE: "Active",
    SubscriptionStatus.PENDING: "Payment failed: retrying",
    SubscriptionStatus.HALTED: "Halted: payment failed",
    SubscriptionStatus.PAUSED: "Paused",
}


def _plan_card(plan: payments.PlanOffer) -> dict[str, str]:
    return {
        "code": plan.code,
        "name": plan.name,
        "credits": str(plan.credits),
        "price": format_inr(plan.price_paise),
        "period": plan.period,
        "per_credit": format_inr(plan.per_credit_paise, always_paise=True),
    }


def _subscription_card(view: payments.SubscriptionView | None) -> dict[str, str]:
    """The buyer's subscription in words ("" values when there is none)."""
    if view is None:
        return {}
    end = view.current_end.strftime("%d %b %Y") if view.current_end else ""
    if view.cancel_at_cycle_end:
        renewal = f"Ends on {end}; no further charges." if end else "Ends at the end of this cycle."
    elif view.status == SubscriptionStatus.PAUSED:
        renewal = "Paused: no charges and no new credits until you resume."
    elif end:
        renewal = f"Renews on {end} for {format_inr(view.price_paise)}."
    else:
        renewal = "Renews every cycle."
    if view.next_plan_name and not view.cancel_at_cycle_end:
        renewal += f" Switches to {view.next_plan_name} at that renewal."
    return {
        "id": view.provider_subscription_id,
        "plan_code": view.plan_code,
        "plan": view.plan_name,
        "credits": str(view.credits),
        "price": format_inr(view.price_paise),
        "status": SUBSCRIPTION_STATUS_LABELS.get(view.status, view.status),
        "status_key": view.status,
        "renewal": renewal,
        "update_url": view.update_url,
        "needs_update": "yes" if view.needs_payment_update else "",
        "can_pause": "yes" if view.can_pause else "",
        "can_resume": "yes" if view.can_resume else "",
        "can_cancel": "yes" if view.can_cancel else "",
        "can_change": "yes" if view.can_change_plan else "",
        "test_mode": "yes" if view.test_mode else "",
    }


def _document_row(line: billing.DocumentLine) -> dict[str, str]:
    return {
        "number": line.number,
        "kind": "Tax invoice" if line.kind == DocumentKind.INVOICE else "Credit note",
        "date": line.date.strftime("%d %b %Y"),
        "amount": format_inr(line.total_paise, always_paise=True),
        "description": line.description,
        "url": document_url(str(line.id)),
    }


CHECKOUT_JS = """
(async () => {
  if (!window.Razorpay) {
    await new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = "https://checkout.razorpay.com/v1/checkout.js";
      s.onload = resolve;
      s.onerror = () => reject(new Error("Razorpay Checkout could not be loaded."));
      document.head.appendChild(s);
    });
  }
  return await new Promise((resolve) => {
    let lastError = null;
    const rzp = new window.Razorpay({
      ...OPTIONS,
      handler: (r) => resolve({ status: "success", ...r }),
      modal: { ondismiss: () => resolve(lastError
        ? { status: "failed", reason: lastError } : { status: "dismissed" }) },
    });
    rzp.on("payment.failed", (r) => {
      lastError = (r.error && r.error.description) || "The payment failed.";
    });
    rzp.open();
  });
})().catch((e) => ({ status: "unavailable", reason: String(e.message || e) }))
"""


class CreditsState(rx.State):
    packages: list[dict[str, str]] = []
    entries: list[dict[str, str]] = []
    page: int = 0
    total_entries: int = 0
    test_mode: bool = False
    buying_code: str = ""
    # Incremented once a press of Buy / Pay has been answered: releases that busy button.
    buy_ack: int = 0
    pay_ack: int = 0
    checkout_open: bool = False
    checkout_receipt: str = ""
    checkout_order_id: str = ""
    checkout_summary: str = ""
    paying: bool = False
    confirmed_receipt: str = ""
    gst_note: str = ""
    pending: list[dict[str, str]] = []
    payment_lines: list[dict[str, str]] = []
    checking: str = ""
    plans: list[dict[str, str]] = []
    subscription: dict[str, str] = {}
    documents: list[dict[str, str]] = []

    @rx.var
    def page_count(self) -> int:
        return max(1, -(-self.total_entries // PAGE_SIZE))

    @rx.event
    async def load(self) -> None:
        settings = get_settings()
        self.test_mode = settings.test_checkout_enabled
        self.gst_note = (
            f"Prices include {settings.gst_percent}% GST."
            if settings.prices_include_gst
            else f"{settings.gst_percent}% GST is added at checkout."
        )
        self.packages = [
            {
                "code": offer.code,
                "name": offer.name,
                "credits": str(offer.credits),
                "price": format_inr(offer.price_paise),
                "per_credit": format_inr(offer.per_credit_paise, always_paise=True),
                "best_value": "yes" if offer.best_value else "",
            }
            for offer in offers(settings.credit_packages)
        ]
        await self._load_entries()

    async def _load_entries(self) -> None:
        user_id = await current_user_id(self)
        if user_id is None:
            return
        overview = await call(
            payments.credits_overview, user_id=user_id, page=self.page, page_size=PAGE_SIZE
        )
        self.pending = [
            {
                "receipt": order.receipt_number,
                "summary": f"{order.credits} credits · "
                f"{format_inr(order.amount_paise, always_paise=True)}",
            }
            for order in overview.pending
        ]
        self.payment_lines = [_payment_row(line) for line in overview.payments]
        self.plans = [_plan_card(plan) for plan in overview.plans]
        self.subscription = _subscription_card(overview.subscription)
        self.documents = [_document_row(line) for line in overview.documents]
        self.total_entries = overview.statement.total
        self.entries = [_ledger_row(line) for line in overview.statement.lines]

    @rx.event
    async def refresh(self) -> None:
        """Reload the lists after something changed elsewhere (a subscription action)."""
        await self._load_entries()

    @rx.event
    async def next_page(self) -> None:
        if self.page + 1 < self.page_count:
            self.page += 1
            await self._load_entries()

    @rx.event
    async def previous_page(self) -> None:
        if self.page > 0:
            self.page -= 1
            await self._load_entries()

    @rx.event(background=True)
    async def buy(self, package_code: str):  # type: ignore[no-untyped-def]
        async with self:
            user_id = await current_user_id(self)
        try:
            # Counted first, so that even presses refused below count.
            await count_attempt(self, LimitedAction.ORDER, user_id)
        except RateLimited as exc:
            async with self:
                self.buy_ack += 1
                toast = error_toast(self, exc)
            yield toast
            return
        async with self:
            if self.buying_code or self.paying:
                return  # a double click starts one checkout
            self.buying_code = package_code
            self.confirmed_receipt = ""
            session_state = await self.get_state(SessionState)
            name, email = session_state.user_name, session_state.user_email
        if user_id is None:
            async with self:
                self.buying_code = ""
                self.buy_ack += 1
            return
        try:
            # Reuses this pack's open order, so repeated presses make one Razorpay order.
            checkout = await call(
                payments.start_purchase, user_id=user_id, package_code=package_code
            )
        except Exception as exc:
            async with self:
                self.buying_code = ""
                self.buy_ack += 1
                toast = error_toast(self, exc)
            yield toast
            return
        async with self:
            self.buying_code = ""
            self.buy_ack += 1
            self.checkout_receipt = checkout.receipt_number
            self.checkout_order_id = checkout.provider_order_id
            self.checkout_summary = (
                f"{checkout.package_name}: {checkout.credits} credits for "
                f"{format_inr(checkout.amount_paise, always_paise=True)}"
            )
            if checkout.mode == CheckoutMode.TEST:
                self.checkout_open = True
                return
        options = {
            "key": checkout.key_id,
            "order_id": checkout.provider_order_id,
            "amount": checkout.amount_paise,
            "currency": "INR",
            "name": "AdRemix",
            "description": f"{checkout.credits} credits ({checkout.package_name})",
            "prefill": {"name": name, "email": email},
            "theme": {"color": "#6e56cf"},
        }
        yield rx.call_script(
            CHECKOUT_JS.replace("OPTIONS", json.dumps(options)),
            callback=CreditsState.checkout_finished,
        )

    @rx.event(background=True)
    async def checkout_finished(self, result: dict):  # type: ignore[no-untyped-def]
        status = (result or {}).get("status")
        async with self:
            user_id = await current_user_id(self)
            order_id = self.checkout_order_id
        if user_id is None:
            return
        if status == CheckoutResult.SUCCESS:
            async for event in self._settle(
                payments.confirm_checkout,
                user_id=user_id,
                provider_order_id=str(result.get("razorpay_order_id") or order_id),
                payment_id=str(result.get("razorpay_payment_id") or ""),
                signature=str(result.get("razorpay_signature") or ""),
            ):
                yield event
            return
        reason = str(result.get("reason") or "") if result else ""
        if status == CheckoutResult.FAILED:
            declined = await call(
                payments.record_checkout_failure,
                user_id=user_id,
                provider_order_id=order_id,
                reason=reason,
            )
            yield rx.toast.error(user_message(declined))
        elif status == CheckoutResult.UNAVAILABLE:
            yield rx.toast.error(f"{reason} Please check your connection and try again.")
        else:
            yield rx.toast.info("Checkout closed. Nothing was charged.")

    async def _settle(self, service, **values):  # type: ignore[no-untyped-def]
        """Confirm a checkout's payment through `service`, then show where the order stands."""
        async with self:
            self.paying = True
        try:
            order = await call(service, **values)
        except Exception as exc:
            async with self:
                self.paying = False
                self.pay_ack += 1
                self.checkout_open = False
                toast = error_toast(self, exc)
            if isinstance(exc, payments.DuplicatePayment):
                async with self:
                    await self._load_entries()
            yield toast
            yield SessionState.refresh_balance
            return
        async with self:
            self.paying = False
            self.pay_ack += 1
            self.checkout_open = False
            self.confirmed_receipt = order.receipt_number
            self.page = 0
            await self._load_entries()
        yield SessionState.refresh_balance
        yield rx.toast.success(f"Payment received: {order.credits} credits added.")

    @rx.event(background=True)
    async def test_checkout_pay(self, succeed: bool):  # type: ignore[no-untyped-def]
        """The test checkout's Pay / Fail buttons: a signed payment, then the normal path."""
        async with self:
            if self.paying:
                return  # a second press while the first payment is on its way
            self.paying = True
            user_id = await current_user_id(self)
            order_id = self.checkout_order_id
        if user_id is None:
            async with self:
                self.paying = False
                self.pay_ack += 1
            return
        async for event in self._settle(
            payments.pay_test_checkout,
            user_id=user_id,
            provider_order_id=order_id,
            succeed=succeed,
        ):
            yield event

    @rx.event(background=True)
    async def check_pending(self, receipt_number: str):  # type: ignore[no-untyped-def]
        """Ask Razorpay again about a payment it could not confirm earlier."""
        async with self:
            if self.checking:
                return
            self.checking = receipt_number
            user_id = await current_user_id(self)
        if user_id is None:
            return
        try:
            order = await call(
                payments.settle_order, user_id=user_id, receipt_number=receipt_number
            )
        except Exception as exc:
            async with self:
                self.checking = ""
                message = user_message(exc, request_id=request_id(self))
            yield rx.toast.info(message)
            return
        async with self:
            self.checking = ""
            if order.status == OrderStatus.PAID:
                self.confirmed_receipt = order.receipt_number
            await self._load_entries()
        yield SessionState.refresh_balance
        if order.status == OrderStatus.PAID:
            yield rx.toast.success(f"Payment confirmed: {order.credits} credits added.")

    @rx.event
    def close_test_checkout(self) -> rx.event.EventSpec:
        self.checkout_open = False
        return rx.toast.info("Checkout closed. Nothing was charged.")
