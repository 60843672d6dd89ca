"""Credits page: packages, checkout (Razorpay or the test checkout) and the ledger."""

from __future__ import annotations

import asyncio
import json

import reflex as rx

from adremix.db import session_scope
from adremix.services import ledger, payments
from adremix.services.payment_gateways import TestCheckoutGateway, gateway_for
from adremix.services.pricing import format_inr, offers
from adremix.settings import get_settings
from adremix.state.errors import user_message
from adremix.state.session import SessionState

PAGE_SIZE = 20
KIND_LABELS = {
    "signup_bonus": "Welcome bonus",
    "purchase": "Purchase",
    "generation": "Generation",
    "generation_refund": "Refund (failed image)",
    "admin_adjustment": "Adjustment",
    "purchase_refund": "Purchase refunded",
}
PAYMENT_STATUS_LABELS = {
    "captured": "Paid",
    "partially_refunded": "Partly refunded",
    "refunded": "Refunded",
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

    async def _user_id(self) -> int | None:
        session_state = await self.get_state(SessionState)
        return session_state.current_user_id()

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
        user_id = await self._user_id()
        if user_id is None:
            return
        orders = await asyncio.to_thread(payments.pending_orders, user_id=user_id)
        self.pending = [
            {
                "receipt": order.receipt_number,
                "summary": f"{order.credits} credits · "
                f"{format_inr(order.amount_paise, always_paise=True)}",
            }
            for order in orders
        ]
        lines = await asyncio.to_thread(payments.payment_history, user_id=user_id)
        self.payment_lines = [_payment_row(line) for line in lines]
        with session_scope() as session:
            self.total_entries = ledger.count_entries(session=session, user_id=user_id)
            rows = ledger.list_entries(
                session=session, user_id=user_id, limit=PAGE_SIZE, offset=self.page * PAGE_SIZE
            )
        self.entries = [
            {
                "date": row.created_at.strftime("%d %b %Y, %H:%M"),
                "kind": KIND_LABELS.get(row.kind, row.kind),
                "amount": f"{row.amount:+d}",
                "positive": "yes" if row.amount > 0 else "",
                "balance_after": str(row.balance_after),
                "receipt": (row.reference or "")
                if row.kind in ("purchase", "purchase_refund")
                else "",
                "generation": (row.reference or "") if row.kind.startswith("generation") else "",
                "reason": row.reason or "",
            }
            for row in rows
        ]

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
            if self.buying_code or self.paying:
                return  # a double click starts one checkout
            self.buying_code = package_code
            self.confirmed_receipt = ""
            user_id = await self._user_id()
            session_state = await self.get_state(SessionState)
            name, email = session_state.user_name, session_state.user_email
        if user_id is None:
            async with self:
                self.buying_code = ""
                self.buy_ack += 1
            return
        settings = get_settings()
        try:
            # Reuses this pack's open order, so repeated presses make one Razorpay order.
            checkout = await asyncio.to_thread(
                payments.start_purchase,
                settings=settings,
                gateway=gateway_for(settings),
                user_id=user_id,
                package_code=package_code,
            )
        except Exception as exc:
            async with self:
                self.buying_code = ""
                self.buy_ack += 1
            yield rx.toast.error(user_message(exc))
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
            if checkout.mode == "test":
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
            user_id = await self._user_id()
            order_id = self.checkout_order_id
        if user_id is None:
            return
        if status == "success":
            async for event in self._confirm(
                user_id,
                order_id=str(result.get("razorpay_order_id") or order_id),
                payment_id=str(result.get("razorpay_payment_id") or ""),
                signature=str(result.get("razorpay_signature") or ""),
            ):
                yield event
            return
        reason = str(result.get("reason") or "") if result else ""
        if status == "failed":
            await asyncio.to_thread(
                payments.record_checkout_failure,
                user_id=user_id,
                provider_order_id=order_id,
                reason=reason,
            )
            yield rx.toast.error(f"Payment failed: {reason} Nothing was charged.")
        elif status == "unavailable":
            yield rx.toast.error(f"{reason} Please check your connection and try again.")
        else:
            yield rx.toast.info("Checkout closed. Nothing was charged.")

    async def _confirm(self, user_id: int, *, order_id: str, payment_id: str, signature: str):  # type: ignore[no-untyped-def]
        settings = get_settings()
        async with self:
            self.paying = True
        try:
            order = await asyncio.to_thread(
                payments.confirm_checkout,
                gateway=gateway_for(settings),
                user_id=user_id,
                provider_order_id=order_id,
                payment_id=payment_id,
                signature=signature,
            )
        except payments.DuplicatePayment as exc:
            # Not an error of the buyer's: the order was paid already and this is undone.
            async with self:
                self.paying = False
                self.checkout_open = False
                await self._load_entries()
            yield rx.toast.warning(str(exc), duration=12_000)
            yield SessionState.refresh_balance
            return
        except Exception as exc:
            async with self:
                self.paying = False
                self.pay_ack += 1
                self.checkout_open = False
            yield rx.toast.error(user_message(exc))
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
            user_id = await self._user_id()
            order_id = self.checkout_order_id
        gateway = gateway_for(get_settings())
        if user_id is None or not isinstance(gateway, TestCheckoutGateway):
            async with self:
                self.paying = False
                self.pay_ack += 1
            return
        try:
            signed = gateway.pay(order_id, succeed=succeed)
        except Exception as exc:
            async with self:
                self.paying = False
                self.pay_ack += 1
                self.checkout_open = False
            yield rx.toast.error(user_message(exc))
            return
        if succeed:
            async for event in self._confirm(
                user_id,
                order_id=signed["razorpay_order_id"],
                payment_id=signed["razorpay_payment_id"],
                signature=signed["razorpay_signature"],
            ):
                yield event
            return
        reason = gateway.fetch_payment(signed["razorpay_payment_id"]).error_description or ""
        await asyncio.to_thread(
            payments.record_checkout_failure,
            user_id=user_id,
            provider_order_id=order_id,
            reason=reason,
        )
        async with self:
            self.paying = False
            self.pay_ack += 1
            self.checkout_open = False
        yield rx.toast.error(f"Payment failed: {reason} Nothing was charged.")

    @rx.event(background=True)
    async def check_pending(self, receipt_number: str):  # type: ignore[no-untyped-def]
        """Ask Razorpay again about a payment it could not confirm earlier."""
        async with self:
            if self.checking:
                return
            self.checking = receipt_number
            user_id = await self._user_id()
        if user_id is None:
            return
        try:
            order = await asyncio.to_thread(
                payments.settle_order,
                gateway=gateway_for(get_settings()),
                user_id=user_id,
                receipt_number=receipt_number,
            )
        except Exception as exc:
            async with self:
                self.checking = ""
            yield rx.toast.info(user_message(exc))
            return
        async with self:
            self.checking = ""
            if order.status == "paid":
                self.confirmed_receipt = order.receipt_number
            await self._load_entries()
        yield SessionState.refresh_balance
        if order.status == "paid":
            yield rx.toast.success(f"Payment confirmed: {order.credits} credits added.")

    @rx.event
    def close_test_checkout(self) -> rx.event.EventSpec:
        self.checkout_open = False
        return rx.toast.info("Checkout closed. Nothing was charged.")
