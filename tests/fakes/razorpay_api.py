"""A fake of the Razorpay REST API on 127.0.0.1, for the real `razorpay` SDK (`base_url`).

Orders, payments (fetch, capture), refunds and Razorpay's error JSON; tests can script
failures (`fail_next`, `delay_next`) and play the part of Standard Checkout
(`checkout_payment`), which returns the browser handler's signed payload.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import string
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.http_server import LoopbackServer

KEY_ID = "rzp_test_fake0000000001"
KEY_SECRET = "fake_key_secret_for_tests"


def _rid(prefix: str) -> str:
    return prefix + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(14))


def sign_payment(order_id: str, payment_id: str, secret: str = KEY_SECRET) -> str:
    """What Razorpay Checkout hands the browser: HMAC-SHA256 of `order_id|payment_id`."""
    return hmac.new(
        secret.encode(), f"{order_id}|{payment_id}".encode(), hashlib.sha256
    ).hexdigest()


class FakeRazorpay:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.orders: dict[str, dict] = {}
        self.payments: dict[str, dict] = {}
        self.requests: list[tuple[str, str, dict]] = []
        self._failures: list[tuple[int, str, str]] = []
        self._delays: list[float] = []
        self._server = LoopbackServer(_Handler)
        self._server._server.fake = self  # type: ignore[attr-defined]

    @property
    def base_url(self) -> str:
        return self._server.url

    def start(self) -> FakeRazorpay:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def reset(self) -> None:
        with self._lock:
            self.orders.clear()
            self.payments.clear()
            self.requests.clear()
            self._failures.clear()
            self._delays.clear()

    # --- scripting ---------------------------------------------------------------------
    def fail_next(
        self,
        status: int,
        *,
        count: int = 1,
        code: str = "SERVER_ERROR",
        description: str = "Internal error",
    ) -> None:
        with self._lock:
            self._failures.extend([(status, code, description)] * count)

    def delay_next(self, seconds: float, *, count: int = 1) -> None:
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
        """Pay an order the way Standard Checkout would; returns the handler's payload."""
        with self._lock:
            order = self.orders[order_id]
            payment = {
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
                "error_code": "BAD_REQUEST_ERROR" if status == "failed" else None,
                "error_description": error_description if status == "failed" else None,
                "created_at": int(time.time()),
            }
            self.payments[payment["id"]] = payment
            order["attempts"] += 1
            if status == "captured":
                order["status"], order["amount_paid"] = "paid", payment["amount"]
        return {
            "razorpay_order_id": order_id,
            "razorpay_payment_id": payment["id"],
            "razorpay_signature": sign_payment(order_id, payment["id"]),
        }

    def payment(self, payment_id: str) -> dict:
        with self._lock:
            return dict(self.payments[payment_id])

    def order(self, order_id: str) -> dict:
        with self._lock:
            return dict(self.orders[order_id])

    # --- API -----------------------------------------------------------------------------
    def handle(self, method: str, path: str, body: dict, auth: str) -> tuple[int, dict]:
        with self._lock:
            self.requests.append((method, path, body))
            delay = self._delays.pop(0) if self._delays else 0.0
            failure = self._failures.pop(0) if self._failures else None
        if delay:
            time.sleep(delay)
        if failure:
            status, code, description = failure
            return status, _error(code, description)
        expected = "Basic " + base64.b64encode(f"{KEY_ID}:{KEY_SECRET}".encode()).decode()
        if not hmac.compare_digest(auth, expected):
            return 401, _error("BAD_REQUEST_ERROR", "Authentication failed")
        parts = [p for p in path.split("?")[0].split("/") if p]
        with self._lock:
            if method == "POST" and parts == ["v1", "orders"]:
                return self._create_order(body)
            if method == "GET" and len(parts) == 3 and parts[:2] == ["v1", "orders"]:
                order = self.orders.get(parts[2])
                return (200, dict(order)) if order else _missing()
            if method == "GET" and len(parts) == 3 and parts[:2] == ["v1", "payments"]:
                payment = self.payments.get(parts[2])
                return (200, dict(payment)) if payment else _missing()
            if method == "POST" and len(parts) == 4 and parts[1] == "payments":
                payment = self.payments.get(parts[2])
                if payment is None:
                    return _missing()
                if parts[3] == "capture":
                    return self._capture(payment, body)
                if parts[3] == "refund":
                    return self._refund(payment, body)
        return 404, _error("BAD_REQUEST_ERROR", "The requested URL was not found on the server.")

    def _create_order(self, body: dict) -> tuple[int, dict]:
        amount = body.get("amount")
        if not isinstance(amount, int) or amount < 100:
            return 400, _error("BAD_REQUEST_ERROR", "The amount must be atleast INR 1.00")
        if body.get("currency") != "INR":
            return 400, _error("BAD_REQUEST_ERROR", "Currency is not supported")
        order = {
            "id": _rid("order_"),
            "entity": "order",
            "amount": amount,
            "amount_paid": 0,
            "amount_due": amount,
            "currency": "INR",
            "receipt": body.get("receipt"),
            "status": "created",
            "attempts": 0,
            "notes": body.get("notes") or {},
            "created_at": int(time.time()),
        }
        self.orders[order["id"]] = order
        return 200, dict(order)

    def _capture(self, payment: dict, body: dict) -> tuple[int, dict]:
        if payment["status"] == "captured":
            return 400, _error("BAD_REQUEST_ERROR", "This payment has already been captured")
        if payment["status"] != "authorized":
            return 400, _error("BAD_REQUEST_ERROR", "Only authorized payments can be captured")
        if body.get("amount") != payment["amount"] or body.get("currency") != payment["currency"]:
            return 400, _error(
                "BAD_REQUEST_ERROR", "Capture amount must be equal to the amount authorized"
            )
        payment.update(status="captured", captured=True)
        order = self.orders[payment["order_id"]]
        order.update(status="paid", amount_paid=payment["amount"], amount_due=0)
        return 200, dict(payment)

    def _refund(self, payment: dict, body: dict) -> tuple[int, dict]:
        if payment["status"] not in ("captured", "refunded"):
            return 400, _error("BAD_REQUEST_ERROR", "Only captured payments can be refunded")
        left = payment["amount"] - payment["amount_refunded"]
        amount = body.get("amount", left)
        if not isinstance(amount, int) or not 0 < amount <= left:
            return 400, _error("BAD_REQUEST_ERROR", "The refund amount is invalid")
        payment["amount_refunded"] += amount
        if payment["amount_refunded"] == payment["amount"]:
            payment["status"] = "refunded"
        refund = {
            "id": _rid("rfnd_"),
            "entity": "refund",
            "payment_id": payment["id"],
            "amount": amount,
            "currency": payment["currency"],
            "status": "processed",
            "notes": body.get("notes") or {},
            "created_at": int(time.time()),
        }
        return 200, refund


def _error(code: str, description: str) -> dict:
    return {"error": {"code": code, "description": description, "source": "NA", "reason": "NA"}}


def _missing() -> tuple[int, dict]:
    return 400, _error("BAD_REQUEST_ERROR", "The id provided does not exist")


def webhook_body(
    event: str,
    *,
    payment: dict | None = None,
    order: dict | None = None,
    refund: dict | None = None,
    event_id: str | None = None,
) -> tuple[bytes, str]:
    """A webhook envelope as Razorpay sends it, and its event id (the x-razorpay-event-id)."""
    payload: dict[str, Any] = {}
    for name, entity in (("payment", payment), ("order", order), ("refund", refund)):
        if entity is not None:
            payload[name] = {"entity": entity}
    envelope = {
        "entity": "event",
        "account_id": "acc_TestAccount00",
        "event": event,
        "contains": list(payload),
        "payload": payload,
        "created_at": int(time.time()),
    }
    return json.dumps(envelope, separators=(",", ":")).encode(), event_id or _rid("evt_")


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        fake: FakeRazorpay = self.server.fake  # type: ignore[attr-defined]
        status, payload = fake.handle(
            method, self.path, body, self.headers.get("Authorization", "")
        )
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")
