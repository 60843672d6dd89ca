"""The fake Razorpay's plans, subscriptions, invoices and payment links (mixed into
FakeRazorpay), in the entity shapes of Razorpay's API docs and razorpay-python's
`tests/mocks` samples (fake_plan, fake_subscription*, fake_invoice, fake_payment_link).

Error answers follow Razorpay's documented ones where the docs print them ("Subscription
is not cancellable in expired status.", "expire_by: timestamp must be atleast 15 minutes
in future", pausing an authenticated subscription cancels it); where they do not, the
wording is ours in Razorpay's shape (400, BAD_REQUEST_ERROR with the field).

Razorpay's side outside the API is scripted: `subscription_checkout` (the buyer
authorises in Checkout: the first cycle is charged), `renew` (the next cycle is charged,
or fails: pending, then halted after the retries), `pay_link` (the buyer pays a payment
link and is sent to its callback URL, signed) and `expire_link`.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

PERIOD_SECONDS = {
    "daily": 86_400,
    "weekly": 7 * 86_400,
    "monthly": 30 * 86_400,
    "yearly": 365 * 86_400,
}
FINAL = ("cancelled", "completed", "expired")
RETRIES = 3  # Razorpay retries a failed renewal, then halts the subscription
_PLAN_FIELDS = {"period", "interval", "item", "notes"}
_SUBSCRIPTION_FIELDS = {
    "plan_id",
    "total_count",
    "quantity",
    "start_at",
    "expire_by",
    "customer_notify",
    "addons",
    "offer_id",
    "notes",
    "notify_info",
}
_UPDATE_FIELDS = {
    "plan_id",
    "offer_id",
    "quantity",
    "remaining_count",
    "start_at",
    "schedule_change_at",
    "customer_notify",
}
_LINK_FIELDS = {
    "amount",
    "currency",
    "accept_partial",
    "first_min_partial_amount",
    "expire_by",
    "reference_id",
    "description",
    "customer",
    "notify",
    "reminder_enable",
    "notes",
    "callback_url",
    "callback_method",
    "upi_link",
    "options",
}


def _error(description: str, field: str | None = None) -> tuple[int, dict[str, Any]]:
    return 400, {
        "error": {
            "code": "BAD_REQUEST_ERROR",
            "description": description,
            "field": field,
            "source": "NA",
            "step": "NA",
            "reason": "NA",
            "metadata": {},
        }
    }


def _missing() -> tuple[int, dict[str, Any]]:
    return _error("The id provided does not exist")


def _extra(body: dict[str, Any], allowed: set[str]) -> tuple[int, dict[str, Any]] | None:
    extra = sorted(set(body) - allowed)
    if extra:
        return _error(f"{', '.join(extra)} is/are not required and should not be sent")
    return None


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def sign_link_callback(
    link_id: str, reference_id: str, status: str, payment_id: str, secret: str
) -> str:
    """What Razorpay appends as `razorpay_signature` to a payment link's callback URL."""
    message = f"{link_id}|{reference_id}|{status}|{payment_id}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


class RecurringApi:
    """Mixed into FakeRazorpay: the caller holds `self._lock` for every `_*` method."""

    plans: dict[str, dict[str, Any]]
    subscriptions: dict[str, dict[str, Any]]
    invoices: dict[str, dict[str, Any]]
    payment_links: dict[str, dict[str, Any]]
    # Scheduled changes and cancellations, applied at the next renewal.
    _scheduled: dict[str, dict[str, Any]]

    def _init_recurring(self) -> None:
        self.plans = {}
        self.subscriptions = {}
        self.invoices = {}
        self.payment_links = {}
        self._scheduled = {}

    def _reset_recurring(self) -> None:
        for table in (
            self.plans,
            self.subscriptions,
            self.invoices,
            self.payment_links,
            self._scheduled,
        ):
            table.clear()

    # --- routing ---------------------------------------------------------------------

    def _recurring(
        self, method: str, parts: list[str], body: dict[str, Any], query: dict[str, str]
    ):  # type: ignore[no-untyped-def]
        """Answer a plans / subscriptions / invoices / payment_links call, or None."""
        if len(parts) < 2:
            return None
        resource, rest = parts[1], parts[2:]
        if resource == "plans":
            if method == "POST" and not rest:
                return self._create_plan(body)
            if method == "GET" and not rest:
                return self._collection(self.plans.values())
            if method == "GET" and len(rest) == 1:
                plan = self.plans.get(rest[0])
                return (200, dict(plan)) if plan else _missing()
        if resource == "subscriptions":
            if method == "POST" and not rest:
                return self._create_subscription(body)
            if method == "GET" and not rest:
                items = [
                    s
                    for s in self.subscriptions.values()
                    if s["plan_id"] == query.get("plan_id", s["plan_id"])
                ]
                return self._collection(items)
            subscription = self.subscriptions.get(rest[0]) if rest else None
            if subscription is None:
                return _missing()
            if method == "GET" and len(rest) == 1:
                return 200, dict(subscription)
            if method == "PATCH" and len(rest) == 1:
                return self._update_subscription(subscription, body)
            if method == "POST" and len(rest) == 2:
                action = {
                    "cancel": self._cancel_subscription,
                    "pause": self._pause_subscription,
                    "resume": self._resume_subscription,
                }.get(rest[1])
                return action(subscription, body) if action else None
        if resource == "invoices":
            if method == "GET" and not rest:
                wanted = query.get("subscription_id")
                items = [
                    i for i in self.invoices.values() if wanted in (None, i["subscription_id"])
                ]
                return self._collection(items)
            if method == "GET" and len(rest) == 1:
                invoice = self.invoices.get(rest[0])
                return (200, dict(invoice)) if invoice else _missing()
        if resource == "payment_links":
            if method == "POST" and not rest:
                return self._create_link(body)
            if method == "GET" and not rest:
                return 200, {"payment_links": [dict(link) for link in self.payment_links.values()]}
            link = self.payment_links.get(rest[0]) if rest else None
            if link is None:
                return _missing()
            if method == "GET" and len(rest) == 1:
                return 200, dict(link)
            if method == "POST" and rest[1:] == ["cancel"]:
                return self._cancel_link(link)
        return None

    @staticmethod
    def _collection(items: Any) -> tuple[int, dict[str, Any]]:
        listed = [dict(item) for item in items]
        return 200, {"entity": "collection", "count": len(listed), "items": listed}

    # --- plans -----------------------------------------------------------------------

    def _create_plan(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if refusal := _extra(body, _PLAN_FIELDS):
            return refusal
        period, interval, item = body.get("period"), body.get("interval"), body.get("item")
        if period is None:
            return _error("The period field is required.", "period")
        if period not in PERIOD_SECONDS:
            return _error("Not a valid period: " + str(period), "period")
        if not _positive_int(interval):
            return _error("The interval must be an integer of at least 1.", "interval")
        if period == "daily" and interval < 7:
            return _error("The interval for a daily plan must be at least 7.", "interval")
        if not isinstance(item, dict):
            return _error("The item field is required.", "item")
        amount = item.get("amount")
        if not item.get("name"):
            return _error("The name field is required.", "name")
        if not _positive_int(amount):
            return _error("The amount must be an integer.", "amount")
        if amount < 100:
            return _error("The amount must be atleast INR 1.00", "amount")
        if item.get("currency") != "INR":
            return _error("Currency is not supported", "currency")
        now = int(time.time())
        plan = {
            "id": self._rid("plan_"),  # type: ignore[attr-defined]
            "entity": "plan",
            "interval": interval,
            "period": period,
            "item": {
                "id": self._rid("item_"),  # type: ignore[attr-defined]
                "active": True,
                "name": item["name"],
                "description": item.get("description"),
                "amount": amount,
                "unit_amount": amount,
                "currency": "INR",
                "type": "plan",
                "unit": None,
                "tax_inclusive": False,
                "hsn_code": None,
                "sac_code": None,
                "tax_rate": None,
                "tax_id": None,
                "tax_group_id": None,
                "created_at": now,
                "updated_at": now,
            },
            "notes": body.get("notes") or [],
            "created_at": now,
        }
        self.plans[plan["id"]] = plan
        return 200, dict(plan)

    # --- subscriptions ---------------------------------------------------------------

    def _create_subscription(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if refusal := _extra(body, _SUBSCRIPTION_FIELDS):
            return refusal
        plan_id = body.get("plan_id")
        if not plan_id:
            return _error("The plan id field is required.", "plan_id")
        plan = self.plans.get(plan_id)
        if plan is None:
            return _missing()
        total = body.get("total_count")
        if total is None:
            return _error("The total count field is required.", "total_count")
        if not _positive_int(total):
            return _error("The total count must be at least 1.", "total_count")
        quantity = body.get("quantity", 1)
        if not _positive_int(quantity):
            return _error("The quantity must be at least 1.", "quantity")
        now = int(time.time())
        expire_by = body.get("expire_by")
        if expire_by is not None and (not _positive_int(expire_by) or expire_by <= now):
            return _error("expire_by should be a timestamp in the future", "expire_by")
        notes = body.get("notes") or {}
        if not isinstance(notes, dict) or len(notes) > 15:
            return _error("Number of notes should be less than or equal to 15", "notes")
        start = body.get("start_at") or now
        subscription = {
            "id": self._rid("sub_"),  # type: ignore[attr-defined]
            "entity": "subscription",
            "plan_id": plan_id,
            "customer_id": None,
            "status": "created",
            "current_start": None,
            "current_end": None,
            "ended_at": None,
            "quantity": quantity,
            "notes": notes or [],
            "charge_at": start,
            "start_at": start,
            "end_at": start + total * PERIOD_SECONDS[plan["period"]] * plan["interval"],
            "auth_attempts": 0,
            "total_count": total,
            "paid_count": 0,
            "customer_notify": bool(body.get("customer_notify", True)),
            "created_at": now,
            "expire_by": expire_by,
            "short_url": "https://rzp.io/i/" + self._rid("")[:9],  # type: ignore[attr-defined]
            "has_scheduled_changes": False,
            "change_scheduled_at": None,
            "source": "api",
            "payment_method": None,
            "offer_id": body.get("offer_id"),
            "remaining_count": total,
        }
        self.subscriptions[subscription["id"]] = subscription
        return 200, dict(subscription)

    def _cancel_subscription(
        self, subscription: dict[str, Any], body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        if refusal := _extra(body, {"cancel_at_cycle_end"}):
            return refusal
        status = subscription["status"]
        if status in FINAL:
            return _error(f"Subscription is not cancellable in {status} status.", "status")
        at_cycle_end = body.get("cancel_at_cycle_end", False)
        if at_cycle_end not in (True, False, 0, 1):
            return _error(
                "The cancel at cycle end field must be true or false.", "cancel_at_cycle_end"
            )
        if at_cycle_end:
            if status != "active":
                return _error(
                    f"Subscription can be cancelled at cycle end only when active, not {status}.",
                    "cancel_at_cycle_end",
                )
            self._scheduled.setdefault(subscription["id"], {})["cancel"] = True
            return 200, dict(subscription)
        subscription.update(status="cancelled", ended_at=int(time.time()), charge_at=None)
        return 200, dict(subscription)

    def _pause_subscription(
        self, subscription: dict[str, Any], body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        if refusal := _extra(body, {"pause_at"}):
            return refusal
        if body.get("pause_at") != "now":
            return _error("The pause at field must be now.", "pause_at")
        status = subscription["status"]
        if status == "authenticated":
            # Razorpay's docs: pausing an authenticated subscription cancels it.
            subscription.update(status="cancelled", ended_at=int(time.time()), charge_at=None)
            return 200, dict(subscription)
        if status != "active":
            return _error(f"Subscription cannot be paused in {status} status.", "status")
        subscription.update(
            status="paused", paused_at=int(time.time()), pause_initiated_by="self", charge_at=None
        )
        return 200, dict(subscription)

    def _resume_subscription(
        self, subscription: dict[str, Any], body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        if refusal := _extra(body, {"resume_at"}):
            return refusal
        if body.get("resume_at") != "now":
            return _error("The resume at field must be now.", "resume_at")
        if subscription["status"] != "paused":
            return _error(
                f"Subscription cannot be resumed in {subscription['status']} status.", "status"
            )
        subscription.update(
            status="active",
            paused_at=None,
            pause_initiated_by=None,
            charge_at=subscription["current_end"],
        )
        return 200, dict(subscription)

    def _update_subscription(
        self, subscription: dict[str, Any], body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        if refusal := _extra(body, _UPDATE_FIELDS):
            return refusal
        if subscription["status"] not in ("authenticated", "active"):
            return _error(
                f"Subscription cannot be updated in {subscription['status']} status.", "status"
            )
        when = body.get("schedule_change_at", "now")
        if when not in ("now", "cycle_end"):
            return _error(
                "The schedule change at field must be now or cycle_end.", "schedule_change_at"
            )
        changes = {
            key: body[key] for key in ("plan_id", "quantity", "remaining_count") if key in body
        }
        if "plan_id" in changes and changes["plan_id"] not in self.plans:
            return _missing()
        if when == "now":
            subscription.update(changes)
        else:
            self._scheduled.setdefault(subscription["id"], {}).update(changes)
            subscription.update(
                has_scheduled_changes=True, change_scheduled_at=subscription["current_end"]
            )
        return 200, dict(subscription)

    # --- Razorpay's side: charging ------------------------------------------------------

    def _charge(self, subscription: dict[str, Any], *, succeed: bool) -> dict[str, Any]:
        """One cycle's invoice, order and payment (captured or failed)."""
        plan = self.plans[subscription["plan_id"]]
        amount = plan["item"]["amount"] * subscription["quantity"]
        now = int(time.time())
        order_id, invoice_id, payment_id = self._rid("order_"), self._rid("inv_"), self._rid("pay_")  # type: ignore[attr-defined]
        self.orders[order_id] = {  # type: ignore[attr-defined]
            "id": order_id,
            "entity": "order",
            "amount": amount,
            "amount_paid": amount if succeed else 0,
            "amount_due": 0 if succeed else amount,
            "currency": "INR",
            "receipt": None,
            "offer_id": None,
            "status": "paid" if succeed else "attempted",
            "attempts": 1,
            "notes": [],
            "created_at": now,
        }
        payment = {
            "id": payment_id,
            "entity": "payment",
            "amount": amount,
            "currency": "INR",
            "status": "captured" if succeed else "failed",
            "order_id": order_id,
            "invoice_id": invoice_id,
            "international": False,
            "method": "card",
            "amount_refunded": 0,
            "refund_status": None,
            "captured": succeed,
            "description": "Recurring Payment via Subscription",
            "card_id": "card_" + payment_id[4:],
            "email": "buyer@example.com",
            "contact": "+919999999999",
            "customer_id": subscription["customer_id"],
            "token_id": None,
            "notes": [],
            "fee": None,
            "tax": None,
            "error_code": None if succeed else "BAD_REQUEST_ERROR",
            "error_description": None if succeed else "Your card was declined",
            "created_at": now,
        }
        self.payments[payment_id] = payment  # type: ignore[attr-defined]
        period = PERIOD_SECONDS[plan["period"]] * plan["interval"]
        start = subscription["current_end"] or now
        self.invoices[invoice_id] = {
            "id": invoice_id,
            "entity": "invoice",
            "receipt": None,
            "invoice_number": None,
            "customer_id": subscription["customer_id"],
            "customer_details": {
                "id": subscription["customer_id"],
                "name": None,
                "email": "buyer@example.com",
                "contact": "+919999999999",
                "gstin": None,
                "billing_address": None,
                "shipping_address": None,
                "customer_name": None,
                "customer_email": "buyer@example.com",
                "customer_contact": "+919999999999",
            },
            "order_id": order_id,
            "subscription_id": subscription["id"],
            "line_items": [
                {
                    "id": self._rid("li_"),  # type: ignore[attr-defined]
                    "item_id": plan["item"]["id"],
                    "ref_id": None,
                    "ref_type": None,
                    "name": plan["item"]["name"],
                    "description": None,
                    "amount": plan["item"]["amount"],
                    "unit_amount": plan["item"]["amount"],
                    "gross_amount": amount,
                    "tax_amount": 0,
                    "taxable_amount": amount,
                    "net_amount": amount,
                    "currency": "INR",
                    "type": "plan",
                    "tax_inclusive": False,
                    "hsn_code": None,
                    "sac_code": None,
                    "tax_rate": None,
                    "unit": None,
                    "quantity": subscription["quantity"],
                    "taxes": [],
                }
            ],
            "payment_id": payment_id if succeed else None,
            "status": "paid" if succeed else "issued",
            "expire_by": None,
            "issued_at": now,
            "paid_at": now if succeed else None,
            "cancelled_at": None,
            "expired_at": None,
            "sms_status": None,
            "email_status": None,
            "date": now,
            "terms": None,
            "partial_payment": False,
            "gross_amount": amount,
            "tax_amount": 0,
            "taxable_amount": amount,
            "amount": amount,
            "amount_paid": amount if succeed else 0,
            "amount_due": 0 if succeed else amount,
            "currency": "INR",
            "currency_symbol": "₹",
            "description": None,
            "notes": [],
            "comment": None,
            "short_url": None,
            "view_less": True,
            "billing_start": start,
            "billing_end": start + period,
            "type": "invoice",
            "group_taxes_discounts": False,
            "created_at": now,
        }
        if succeed:
            subscription.update(
                status="active",
                current_start=start,
                current_end=start + period,
                charge_at=start + period,
                paid_count=subscription["paid_count"] + 1,
                remaining_count=subscription["total_count"] - subscription["paid_count"] - 1,
                auth_attempts=0,
            )
            if subscription["paid_count"] >= subscription["total_count"]:
                subscription.update(status="completed", ended_at=now, charge_at=None)
        return payment

    def subscription_checkout(
        self, subscription_id: str, *, succeed: bool = True
    ) -> dict[str, str]:
        """The buyer authorises the subscription in Checkout: the first cycle is charged
        now. Returns Checkout's handler payload (signed `payment_id|subscription_id`), or,
        for a failed payment, the payment's id only (Checkout calls no handler then)."""
        with self._lock:  # type: ignore[attr-defined]
            subscription = self.subscriptions[subscription_id]
            if subscription["status"] != "created":
                raise ValueError("only a created subscription is authorised in Checkout")
            if succeed:
                subscription.update(customer_id=self._rid("cust_"), payment_method="card")  # type: ignore[attr-defined]
            payment = self._charge(subscription, succeed=succeed)
        if not succeed:
            return {"razorpay_payment_id": payment["id"]}
        from tests.fakes.razorpay_api import KEY_SECRET

        signature = hmac.new(
            KEY_SECRET.encode(), f"{payment['id']}|{subscription_id}".encode(), hashlib.sha256
        ).hexdigest()
        return {
            "razorpay_payment_id": payment["id"],
            "razorpay_subscription_id": subscription_id,
            "razorpay_signature": signature,
        }

    def renew(
        self, subscription_id: str, *, succeed: bool = True
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Razorpay charges the next cycle (or retries a failed one). Scheduled changes and
        a cancellation at cycle end take effect first. Returns (payment, subscription);
        the payment is {} when nothing was charged (cancelled at cycle end)."""
        with self._lock:  # type: ignore[attr-defined]
            subscription = self.subscriptions[subscription_id]
            if subscription["status"] not in ("active", "pending"):
                raise ValueError(
                    f"Razorpay does not charge a {subscription['status']} subscription"
                )
            scheduled = self._scheduled.pop(subscription_id, {})
            if scheduled.pop("cancel", False):
                subscription.update(status="cancelled", ended_at=int(time.time()), charge_at=None)
                return {}, dict(subscription)
            if scheduled:
                subscription.update(
                    scheduled, has_scheduled_changes=False, change_scheduled_at=None
                )
            payment = self._charge(subscription, succeed=succeed)
            if not succeed:
                attempts = subscription["auth_attempts"] + 1
                subscription.update(
                    auth_attempts=attempts, status="halted" if attempts > RETRIES else "pending"
                )
            return dict(payment), dict(subscription)

    def subscription(self, subscription_id: str) -> dict[str, Any]:
        with self._lock:  # type: ignore[attr-defined]
            return dict(self.subscriptions[subscription_id])

    # --- payment links -----------------------------------------------------------------

    def _create_link(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if refusal := _extra(body, _LINK_FIELDS):
            return refusal
        amount = body.get("amount")
        if amount is None:
            return _error("The amount field is required when item id is not present.", "amount")
        if not _positive_int(amount):
            return _error("The amount must be an integer.", "amount")
        if amount < 100:
            return _error("The amount must be atleast INR 1.00", "amount")
        if body.get("currency", "INR") != "INR":
            return _error("Currency is not supported", "currency")
        reference = body.get("reference_id")
        if reference is not None:
            if not isinstance(reference, str) or len(reference) > 40:
                return _error(
                    "The reference id may not be greater than 40 characters.", "reference_id"
                )
            if any(link["reference_id"] == reference for link in self.payment_links.values()):
                return _error(
                    f"Payment Link with reference id {reference} already exists", "reference_id"
                )
        now = int(time.time())
        expire_by = body.get("expire_by", 0)
        if expire_by:
            if not _positive_int(expire_by) or expire_by < now + 15 * 60:
                return _error(
                    "expire_by: timestamp must be atleast 15 minutes in future", "expire_by"
                )
            if expire_by > now + 183 * 86_400:
                return _error(
                    "expire_by: timestamp cannot be more than 6 months from now", "expire_by"
                )
        if body.get("callback_url") and body.get("callback_method") != "get":
            return _error(
                "callback_method: only get is supported with a callback_url", "callback_method"
            )
        link = {
            "accept_partial": bool(body.get("accept_partial", False)),
            "amount": amount,
            "amount_paid": 0,
            "callback_method": body.get("callback_method", ""),
            "callback_url": body.get("callback_url", ""),
            "cancelled_at": 0,
            "created_at": now,
            "currency": "INR",
            "customer": body.get("customer") or {},
            "description": body.get("description", ""),
            "expire_by": expire_by,
            "expired_at": 0,
            "first_min_partial_amount": body.get("first_min_partial_amount", 0),
            "id": self._rid("plink_"),  # type: ignore[attr-defined]
            "notes": body.get("notes") or None,
            "notify": body.get("notify") or {"email": False, "sms": False},
            "payments": None,
            "reference_id": reference or "",
            "reminder_enable": bool(body.get("reminder_enable", False)),
            "reminders": [],
            "short_url": "https://rzp.io/i/" + self._rid("")[:8],  # type: ignore[attr-defined]
            "status": "created",
            "updated_at": now,
            "upi_link": bool(body.get("upi_link", False)),
            "user_id": "",
        }
        self.payment_links[link["id"]] = link
        return 200, dict(link)

    def _cancel_link(self, link: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if link["status"] not in ("created", "partially_paid"):
            return _error(f"Payment Link cannot be cancelled in {link['status']} status", "status")
        now = int(time.time())
        link.update(status="cancelled", cancelled_at=now, updated_at=now)
        return 200, dict(link)

    def pay_link(
        self, link_id: str
    ) -> tuple[dict[str, str], dict[str, Any], dict[str, Any], dict[str, Any]]:
        """The buyer pays the link in full. Returns (the callback URL's query parameters,
        signed as Razorpay signs them; the link; its order; the payment)."""
        from tests.fakes.razorpay_api import KEY_SECRET

        with self._lock:  # type: ignore[attr-defined]
            link = self.payment_links[link_id]
            if link["status"] != "created":
                raise ValueError(f"a {link['status']} payment link cannot be paid")
            now = int(time.time())
            order_id, payment_id = self._rid("order_"), self._rid("pay_")  # type: ignore[attr-defined]
            order = {
                "id": order_id,
                "entity": "order",
                "amount": link["amount"],
                "amount_paid": link["amount"],
                "amount_due": 0,
                "currency": "INR",
                "receipt": link["reference_id"] or None,
                "offer_id": None,
                "status": "paid",
                "attempts": 1,
                "notes": [],
                "created_at": now,
            }
            payment = {
                "id": payment_id,
                "entity": "payment",
                "amount": link["amount"],
                "currency": "INR",
                "status": "captured",
                "order_id": order_id,
                "invoice_id": None,
                "international": False,
                "method": "upi",
                "amount_refunded": 0,
                "refund_status": None,
                "captured": True,
                "description": link["description"],
                "email": (link["customer"] or {}).get("email", ""),
                "contact": "+919999999999",
                "notes": [],
                "error_code": None,
                "error_description": None,
                "created_at": now,
            }
            self.orders[order_id] = order  # type: ignore[attr-defined]
            self.payments[payment_id] = payment  # type: ignore[attr-defined]
            link.update(
                status="paid",
                amount_paid=link["amount"],
                order_id=order_id,
                updated_at=now,
                payments=[
                    {
                        "amount": link["amount"],
                        "created_at": now,
                        "method": "upi",
                        "payment_id": payment_id,
                        "status": "captured",
                    }
                ],
            )
            params = {
                "razorpay_payment_id": payment_id,
                "razorpay_payment_link_id": link_id,
                "razorpay_payment_link_reference_id": link["reference_id"],
                "razorpay_payment_link_status": "paid",
                "razorpay_signature": sign_link_callback(
                    link_id, link["reference_id"], "paid", payment_id, KEY_SECRET
                ),
            }
            return params, dict(link), dict(order), dict(payment)

    def expire_link(self, link_id: str) -> dict[str, Any]:
        with self._lock:  # type: ignore[attr-defined]
            link = self.payment_links[link_id]
            now = int(time.time())
            link.update(status="expired", expired_at=now, updated_at=now)
            return dict(link)
