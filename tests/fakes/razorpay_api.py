"""A fake of the Razorpay REST API on 127.0.0.1, for the real `razorpay` SDK (`base_url`).

Orders, payments (fetch, capture), refunds (partial, full, idempotent through the
`X-Refund-Idempotency` header) and Razorpay's error JSON, behind HTTP Basic auth with
`KEY_ID`/`KEY_SECRET`. Tests can script failures (`fail_next`, `delay_next`) and play the
parts Razorpay plays outside the API: Standard Checkout (`checkout_payment`, which returns
the browser handler's signed payload), a bank's late authorisation of a failed payment
(`late_authorize`), Razorpay's auto-refund of a payment nobody captured (`auto_refund`)
and a refund from the merchant's dashboard (`dashboard_refund`). `webhook_body` builds the
envelope Razorpay POSTs to webhooks, in the shape of Razorpay's published samples.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import string
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes.http_server import LoopbackServer
from tests.fakes.razorpay_billing import RecurringApi

KEY_ID = "rzp_test_fake0000000001"
KEY_SECRET = "fake_key_secret_for_tests"

_ID_ALPHABET = string.ascii_letters + string.digits
# Razorpay: "at least 10 characters ... alphabets, numbers, hyphens and underscores only".
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{10,}$")
_PAYMENT_STATUSES = ("authorized", "captured", "failed")
# Fields Razorpay accepts on POST /v1/orders; anything else is refused, as Razorpay does.
_ORDER_FIELDS = {
    "amount",
    "currency",
    "receipt",
    "notes",
    "partial_payment",
    "first_payment_min_amount",
    "payment_capture",
}


def _rid(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(14))


def sign_payment(order_id: str, payment_id: str, secret: str = KEY_SECRET) -> str:
    """What Razorpay Checkout hands the browser: HMAC-SHA256 of `order_id|payment_id`."""
    return hmac.new(
        secret.encode(), f"{order_id}|{payment_id}".encode(), hashlib.sha256
    ).hexdigest()


def _is_int(value: object) -> bool:
    # bool is an int subclass; Razorpay rejects `true` as an amount.
    return isinstance(value, int) and not isinstance(value, bool)


def _error(code: str, description: str) -> dict[str, Any]:
    return {"error": {"code": code, "description": description, "source": "NA", "reason": "NA"}}


def _bad_request(description: str) -> tuple[int, dict[str, Any]]:
    return 400, _error("BAD_REQUEST_ERROR", description)


def _missing() -> tuple[int, dict[str, Any]]:
    # Razorpay answers unknown ids with 400, not 404.
    return _bad_request("The id provided does not exist")


class FakeRazorpay(RecurringApi):
    """Razorpay's orders, payments, refunds, plans, subscriptions, invoices and payment
    links, in memory, behind a loopback HTTP server."""

    _rid = staticmethod(_rid)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._init_recurring()
        self.orders: dict[str, dict[str, Any]] = {}
        self.payments: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        # X-Refund-Idempotency key -> (payment id, request body, refund id)
        self._refund_keys: dict[str, tuple[str, dict[str, Any], str]] = {}
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self._failures: list[tuple[int, str, str]] = []
        self._delays: list[float] = []
        # What POST /v1/payments/:id/refund creates: "processed" (instant, the default) or
        # "pending" (a normal refund Razorpay finishes later: `finish_refund`).
        self.api_refund_status = "processed"
        self._server = LoopbackServer(_Handler)
        self._server._server.fake = self  # type: ignore[attr-defined]

    @property
    def base_url(self) -> str:
        """What to pass as the SDK's `base_url` (the SDK appends `/v1/...`)."""
        return self._server.url

    def start(self) -> FakeRazorpay:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def reset(self) -> None:
        """Forget every order, payment, refund, logged request and scripted failure."""
        with self._lock:
            self.orders.clear()
            self.payments.clear()
            self.refunds.clear()
            self._refund_keys.clear()
            self.requests.clear()
            self._failures.clear()
            self._delays.clear()
            self.api_refund_status = "processed"
            self._reset_recurring()

    # --- scripting (test side, not HTTP) -----------------------------------------------
    def fail_next(
        self,
        status: int,
        *,
        count: int = 1,
        code: str = "SERVER_ERROR",
        description: str = "Internal error",
    ) -> None:
        """The next `count` API calls answer `status` with Razorpay's error JSON."""
        with self._lock:
            self._failures.extend([(status, code, description)] * count)

    def delay_next(self, seconds: float, *, count: int = 1) -> None:
        """The next `count` API calls sleep `seconds` before being handled.

        The call still takes effect after the sleep, as a real request that the client
        gave up on may have.
        """
        with self._lock:
            self._delays.extend([seconds] * count)

    def checkout_payment(
        self,
        order_id: str,
        *,
        status: str = "authorized",
        amount: int | None = None,
        currency: str = "INR",
        error_description: str = "Your card was declined",
    ) -> dict[str, str]:
        """Pay an order the way Standard Checkout would; returns the handler's payload.

        `status` is "authorized" (the default for orders without auto-capture),
        "captured" (auto-capture: the order becomes paid) or "failed".
        """
        if status not in _PAYMENT_STATUSES:
            raise ValueError(f"status must be one of {_PAYMENT_STATUSES}, not {status!r}")
        with self._lock:
            order = self.orders.get(order_id)
            if order is None:
                raise KeyError(f"no order {order_id!r} in the fake Razorpay")
            if order["status"] == "paid":
                # Checkout will not take a new payment for a paid order; a second captured
                # payment only happens through late authorisation (see `late_authorize`).
                raise ValueError(f"order {order_id!r} is already paid")
            failed = status == "failed"
            payment: dict[str, Any] = {
                "id": _rid("pay_"),
                "entity": "payment",
                "amount": order["amount"] if amount is None else amount,
                "currency": currency,
                "status": status,
                "order_id": order_id,
                "method": "card",
                "captured": status == "captured",
                "email": "buyer@example.com",
                "contact": "+919999999999",
                "amount_refunded": 0,
                "refund_status": None,
                "notes": [],
                "error_code": "BAD_REQUEST_ERROR" if failed else None,
                "error_description": error_description if failed else None,
                "created_at": int(time.time()),
            }
            self.payments[payment["id"]] = payment
            order["attempts"] += 1
            if order["status"] == "created":
                order["status"] = "attempted"
            if status == "captured":
                order.update(status="paid", amount_paid=payment["amount"], amount_due=0)
        return {
            "razorpay_order_id": order_id,
            "razorpay_payment_id": payment["id"],
            "razorpay_signature": sign_payment(order_id, payment["id"]),
        }

    def late_authorize(self, payment_id: str, *, captured: bool = False) -> dict[str, Any]:
        """The bank confirms a payment Razorpay had reported as failed ("late authorisation").

        The payment becomes `authorized` (or `captured`, for accounts that auto-capture),
        even if another payment has paid its order in the meantime: that is how one order
        ends up with two captured payments. Returns the payment entity.
        """
        with self._lock:
            payment = self.payments[payment_id]
            if payment["status"] != "failed":
                raise ValueError("only a failed payment can be authorised late")
            payment.update(
                status="captured" if captured else "authorized",
                captured=captured,
                error_code=None,
                error_description=None,
            )
            order = self.orders[payment["order_id"]]
            if captured and order["status"] != "paid":
                order.update(status="paid", amount_paid=payment["amount"], amount_due=0)
            return dict(payment)

    def auto_refund(self, payment_id: str) -> dict[str, Any]:
        """Razorpay refunds an authorised payment that was never captured, by itself.

        The refund webhook then carries the payment with `captured: false`, which is how
        Razorpay's docs tell an auto-refund apart. Returns the refund entity.
        """
        with self._lock:
            payment = self.payments[payment_id]
            if payment["status"] != "authorized":
                raise ValueError("Razorpay auto-refunds only authorised, uncaptured payments")
            return self._record_refund(payment, payment["amount"], {}, "processed")

    def dashboard_refund(
        self, payment_id: str, amount: int | None = None, *, status: str = "processed"
    ) -> dict[str, Any]:
        """The merchant refunds from Razorpay's dashboard; returns the refund entity.

        `status` "pending" leaves the refund to finish later (`finish_refund`).
        """
        with self._lock:
            payment = self.payments[payment_id]
            error = self._refund_refusal(payment, amount)
            if error:
                raise ValueError(error[1]["error"]["description"])
            left = payment["amount"] - payment["amount_refunded"]
            return self._record_refund(payment, left if amount is None else amount, {}, status)

    def finish_refund(self, refund_id: str, *, status: str = "processed") -> dict[str, Any]:
        """A pending refund is processed (or fails, which gives the amount back)."""
        with self._lock:
            refund = self.refunds[refund_id]
            if refund["status"] != "pending":
                raise ValueError("only a pending refund can finish")
            refund["status"] = status
            if status == "failed":
                payment = self.payments[refund["payment_id"]]
                payment["amount_refunded"] -= refund["amount"]
                self._set_refund_status(payment)
            return dict(refund)

    def refund_idempotency_keys(self) -> dict[str, str]:
        """Every X-Refund-Idempotency key the API was sent, and the refund it made."""
        with self._lock:
            return {key: seen[2] for key, seen in self._refund_keys.items()}

    def refund(self, refund_id: str) -> dict[str, Any]:
        """A copy of the refund entity."""
        with self._lock:
            return dict(self.refunds[refund_id])

    def payment(self, payment_id: str) -> dict[str, Any]:
        """A copy of the payment entity, as `GET /v1/payments/{id}` would return it."""
        with self._lock:
            return dict(self.payments[payment_id])

    def order(self, order_id: str) -> dict[str, Any]:
        """A copy of the order entity, as `GET /v1/orders/{id}` would return it."""
        with self._lock:
            return dict(self.orders[order_id])

    # --- API -----------------------------------------------------------------------------
    def handle(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        auth: str,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Answer one HTTP call; `body` is None when it was not a JSON object."""
        with self._lock:
            self.requests.append((method, path, body if body is not None else {}))
            delay = self._delays.pop(0) if self._delays else 0.0
            failure = self._failures.pop(0) if self._failures else None
        if delay:
            time.sleep(delay)
        if failure:
            status, code, description = failure
            return status, _error(code, description)
        expected = b"Basic " + base64.b64encode(f"{KEY_ID}:{KEY_SECRET}".encode())
        if not hmac.compare_digest(auth.encode("utf-8", "replace"), expected):
            return 401, _error("BAD_REQUEST_ERROR", "Authentication failed")
        if body is None:
            return _bad_request("The request body must be a JSON object")
        parts = [p for p in path.split("?")[0].split("/") if p]
        query = dict(parse_qsl(path.partition("?")[2]))
        with self._lock:
            recurring = self._recurring(method, parts, body, query)
            if recurring is not None:
                return recurring
            if method == "POST" and parts == ["v1", "orders"]:
                return self._create_order(body)
            if method == "GET" and len(parts) == 3 and parts[:2] == ["v1", "orders"]:
                order = self.orders.get(parts[2])
                return (200, dict(order)) if order else _missing()
            if method == "GET" and len(parts) == 4 and parts[:2] == ["v1", "orders"]:
                if parts[3] != "payments":
                    return _not_found()
                if parts[2] not in self.orders:
                    return _missing()
                return 200, _collection(
                    p for p in self.payments.values() if p["order_id"] == parts[2]
                )
            if method == "GET" and len(parts) == 3 and parts[:2] == ["v1", "payments"]:
                payment = self.payments.get(parts[2])
                return (200, dict(payment)) if payment else _missing()
            if method == "GET" and len(parts) == 4 and parts[:2] == ["v1", "payments"]:
                if parts[3] != "refunds":
                    return _not_found()
                if parts[2] not in self.payments:
                    return _missing()
                return self._payment_refunds(parts[2], query)
            if method == "POST" and len(parts) == 4 and parts[:2] == ["v1", "payments"]:
                if parts[3] not in ("capture", "refund"):
                    return _not_found()
                payment = self.payments.get(parts[2])
                if payment is None:
                    return _missing()
                if parts[3] == "capture":
                    return self._capture(payment, body)
                key = {k.lower(): v for k, v in (headers or {}).items()}.get("x-refund-idempotency")
                return self._refund(payment, body, key)
        return _not_found()

    def _create_order(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        extra = sorted(set(body) - _ORDER_FIELDS)
        if extra:
            return _bad_request(f"{', '.join(extra)} is/are not required and should not be sent")
        amount = body.get("amount")
        if amount is None:
            return _bad_request("The amount field is required.")
        if not _is_int(amount):
            return _bad_request("The amount must be an integer.")
        if amount < 100:
            return _bad_request("The amount must be atleast INR 1.00")
        if body.get("currency") != "INR":
            return _bad_request("Currency is not supported")
        receipt = body.get("receipt")
        if receipt is not None and not isinstance(receipt, str):
            return _bad_request("The receipt must be a string.")
        if receipt is not None and len(receipt) > 40:
            return _bad_request("The receipt may not be greater than 40 characters.")
        notes = body.get("notes") or {}
        if not isinstance(notes, dict):
            return _bad_request("The notes must be an array.")
        if len(notes) > 15:
            return _bad_request("Number of notes should be less than or equal to 15")
        order = {
            "id": _rid("order_"),
            "entity": "order",
            "amount": amount,
            "amount_paid": 0,
            "amount_due": amount,
            "currency": "INR",
            "receipt": receipt,
            "offer_id": None,
            "status": "created",
            "attempts": 0,
            # Razorpay's PHP backend sends empty notes as a JSON list, not an object.
            "notes": notes or [],
            "created_at": int(time.time()),
        }
        self.orders[order["id"]] = order
        return 200, dict(order)

    def _capture(self, payment: dict[str, Any], body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if payment["captured"]:
            return _bad_request("This payment has already been captured")
        if payment["status"] != "authorized":
            return _bad_request(
                "Only payments which have been authorized and not yet captured can be captured"
            )
        amount = body.get("amount")
        if not _is_int(amount) or amount != payment["amount"]:
            return _bad_request("Capture amount must be equal to the amount authorized")
        if body.get("currency") != payment["currency"]:
            return _bad_request("The currency should be same as the payment currency")
        payment.update(status="captured", captured=True)
        order = self.orders[payment["order_id"]]
        order.update(status="paid", amount_paid=payment["amount"], amount_due=0)
        return 200, dict(payment)

    def _refund_refusal(
        self, payment: dict[str, Any], amount: object
    ) -> tuple[int, dict[str, Any]] | None:
        if payment["status"] == "refunded":
            return _bad_request("The payment has been fully refunded already")
        if payment["status"] != "captured":
            return _bad_request("Only captured payments can be refunded")
        if amount is None:
            return None
        if not _is_int(amount) or amount <= 0:  # type: ignore[operator]
            return _bad_request("The refund amount must be a positive integer in paise")
        if amount < 100:  # type: ignore[operator]
            return _bad_request("The amount must be atleast INR 1.00")
        if amount > payment["amount"] - payment["amount_refunded"]:  # type: ignore[operator]
            return _bad_request("The refund amount provided is greater than amount captured")
        return None

    def _refund(
        self, payment: dict[str, Any], body: dict[str, Any], key: str | None
    ) -> tuple[int, dict[str, Any]]:
        if key is not None:
            if not _IDEMPOTENCY_KEY.match(key):
                return _bad_request("The idempotency key is invalid")
            seen = self._refund_keys.get(key)
            if seen is not None:
                if (seen[0], seen[1]) != (payment["id"], body):
                    return _bad_request(
                        "Different request with the same idempotency key has already been "
                        "processed."
                    )
                return 200, dict(self.refunds[seen[2]])
        left = payment["amount"] - payment["amount_refunded"]
        error = self._refund_refusal(payment, body.get("amount", left))
        if error:
            return error
        notes = body.get("notes") or {}
        if not isinstance(notes, dict):
            return _bad_request("The notes must be an array.")
        refund = self._record_refund(
            payment, body.get("amount", left), notes, self.api_refund_status
        )
        if key is not None:
            self._refund_keys[key] = (payment["id"], body, refund["id"])
        return 200, refund

    def _record_refund(
        self, payment: dict[str, Any], amount: int, notes: dict[str, Any], status: str
    ) -> dict[str, Any]:
        """Book a refund on the payment; the caller holds the lock and has validated it."""
        payment["amount_refunded"] += amount
        self._set_refund_status(payment)
        # The shape of Razorpay's refund entity (docs and razorpay-python's mocks).
        refund = {
            "id": _rid("rfnd_"),
            "entity": "refund",
            "amount": amount,
            "currency": payment["currency"],
            "payment_id": payment["id"],
            "notes": notes or [],
            "receipt": None,
            "acquirer_data": {"arn": None},
            "created_at": int(time.time()),
            "batch_id": None,
            "status": status,
            "speed_processed": "normal",
            "speed_requested": "normal",
        }
        self.refunds[refund["id"]] = refund
        return dict(refund)

    def _payment_refunds(
        self, payment_id: str, query: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        """GET /v1/payments/:id/refunds: `count` 1 to 100 (10 when absent), `skip`."""
        try:
            count = int(query.get("count", 10))
            skip = int(query.get("skip", 0))
        except ValueError:
            return _bad_request("The count must be an integer.")
        if not 1 <= count <= 100:
            return _bad_request("The count may not be greater than 100.")
        refunds = [r for r in self.refunds.values() if r["payment_id"] == payment_id]
        refunds.sort(key=lambda r: r["created_at"], reverse=True)
        return 200, _collection(refunds[skip : skip + count])

    @staticmethod
    def _set_refund_status(payment: dict[str, Any]) -> None:
        if payment["amount_refunded"] >= payment["amount"]:
            payment.update(status="refunded", refund_status="full")
        elif payment["amount_refunded"] > 0:
            payment["refund_status"] = "partial"
            if payment["status"] == "refunded":
                payment["status"] = "captured" if payment["captured"] else "authorized"
        else:
            payment["refund_status"] = None


def _collection(entities: Any) -> dict[str, Any]:
    """Razorpay's answer listing entities: {"entity": "collection", "count", "items"}."""
    items = [dict(entity) for entity in entities]
    return {"entity": "collection", "count": len(items), "items": items}


def _not_found() -> tuple[int, dict[str, Any]]:
    return 404, _error("BAD_REQUEST_ERROR", "The requested URL was not found on the server.")


def webhook_body(
    event: str,
    *,
    payment: dict[str, Any] | None = None,
    order: dict[str, Any] | None = None,
    refund: dict[str, Any] | None = None,
    subscription: dict[str, Any] | None = None,
    payment_link: dict[str, Any] | None = None,
    event_id: str | None = None,
    created_at: int | None = None,
) -> tuple[bytes, str]:
    """A webhook envelope as Razorpay sends it, and its event id (the x-razorpay-event-id).

    `created_at` (Unix seconds) dates the event; Razorpay's webhooks carry their time there.
    """
    payload: dict[str, Any] = {}
    # Razorpay lists a refund event's entities as ["refund", "payment"], an order.paid
    # event's as ["payment", "order"], a subscription event's as ["subscription",
    # "payment"] and payment_link.paid's as ["payment_link", "order", "payment"].
    if subscription is not None:
        order_of_entities = (("subscription", subscription), ("payment", payment))
    elif payment_link is not None:
        order_of_entities = (("payment_link", payment_link), ("order", order), ("payment", payment))
    else:
        order_of_entities = (("refund", refund), ("payment", payment), ("order", order))
    for name, entity in order_of_entities:
        if entity is not None:
            payload[name] = {"entity": entity}
    envelope = {
        "entity": "event",
        "account_id": "acc_TestAccount00",
        "event": event,
        "contains": list(payload),
        "payload": payload,
        "created_at": created_at or int(time.time()),
    }
    return json.dumps(envelope, separators=(",", ":")).encode(), event_id or _rid("evt_")


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body: dict[str, Any] | None = {}
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
            body = parsed if isinstance(parsed, dict) else None
        fake: FakeRazorpay = self.server.fake  # type: ignore[attr-defined]
        status, payload = fake.handle(
            method, self.path, body, self.headers.get("Authorization", ""), dict(self.headers)
        )
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out (delay_next) and hung up

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")
