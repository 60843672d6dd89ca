"""Where payments happen: Razorpay through its SDK, or the offline test checkout.

Both answer the same questions (create an order, verify a checkout signature, fetch,
capture and refund a payment), so purchases go through one verification, ledger and
receipt path.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Protocol

import razorpay
import requests

from adremix.enums import CheckoutMode, PaymentStatus, RefundStatus
from adremix.services.payments.errors import GatewayRefused, GatewayUnavailable
from adremix.settings import Settings

RAZORPAY_TIMEOUT_S = 15
TEST_KEY_ID = "rzp_test_offline_checkout"


@dataclass(frozen=True)
class GatewayPayment:
    id: str
    order_id: str
    status: str
    amount: int
    currency: str
    error_description: str | None = None
    # Whether the money was ever captured: a refunded payment with `captured` false is
    # Razorpay's auto-refund of an authorisation nobody captured.
    captured: bool = False

    @classmethod
    def from_entity(cls, entity: dict) -> GatewayPayment:
        status = str(entity.get("status") or "")
        return cls(
            id=str(entity["id"]),
            order_id=str(entity.get("order_id") or ""),
            status=status,
            amount=int(entity.get("amount") or 0),
            currency=str(entity.get("currency") or ""),
            error_description=entity.get("error_description"),
            captured=bool(entity.get("captured", status == PaymentStatus.CAPTURED)),
        )


@dataclass(frozen=True)
class GatewayRefund:
    id: str
    payment_id: str
    amount: int
    status: str  # a RefundStatus

    @classmethod
    def from_entity(cls, entity: dict) -> GatewayRefund:
        return cls(
            id=str(entity["id"]),
            payment_id=str(entity.get("payment_id") or ""),
            amount=int(entity.get("amount") or 0),
            status=str(entity.get("status") or RefundStatus.PENDING),
        )


@dataclass(frozen=True)
class GatewaySubscription:
    """A Razorpay subscription entity, as much of it as we keep."""

    id: str
    plan_id: str
    status: str  # a SubscriptionStatus
    paid_count: int = 0
    current_end: int | None = None  # Unix seconds: when the current cycle ends
    short_url: str = ""

    @classmethod
    def from_entity(cls, entity: dict) -> GatewaySubscription:
        current_end = entity.get("current_end")
        return cls(
            id=str(entity["id"]),
            plan_id=str(entity.get("plan_id") or ""),
            status=str(entity.get("status") or ""),
            paid_count=int(entity.get("paid_count") or 0),
            current_end=int(current_end) if current_end else None,
            short_url=str(entity.get("short_url") or ""),
        )


@dataclass(frozen=True)
class GatewayPaymentLink:
    id: str
    reference_id: str
    status: str
    short_url: str

    @classmethod
    def from_entity(cls, entity: dict) -> GatewayPaymentLink:
        return cls(
            id=str(entity["id"]),
            reference_id=str(entity.get("reference_id") or ""),
            status=str(entity.get("status") or ""),
            short_url=str(entity.get("short_url") or ""),
        )


class PaymentGateway(Protocol):
    mode: CheckoutMode
    key_id: str

    def create_order(self, *, amount_paise: int, receipt: str, notes: dict[str, str]) -> str: ...

    def signature_is_valid(self, *, order_id: str, payment_id: str, signature: str) -> bool: ...

    def fetch_payment(self, payment_id: str) -> GatewayPayment: ...

    def capture(self, payment: GatewayPayment) -> GatewayPayment: ...

    def refund(
        self, payment_id: str, *, amount_paise: int, idempotency_key: str, notes: dict[str, str]
    ) -> GatewayRefund:
        """Refund `amount_paise` of a captured payment; a repeat with the same key and
        amount returns the first refund instead of refunding again."""
        ...

    def order_payments(self, order_id: str) -> list[GatewayPayment]:
        """Every payment attempted on an order (reconciling a missed webhook)."""
        ...

    def payment_refunds(self, payment_id: str) -> list[GatewayRefund]:
        """Every refund of a payment."""
        ...

    # --- subscriptions and payment links ---------------------------------------------

    def create_plan(
        self, *, name: str, amount_paise: int, period: str, interval: int, notes: dict[str, str]
    ) -> str: ...

    def create_subscription(
        self, *, plan_id: str, total_count: int, expire_by: int, notes: dict[str, str]
    ) -> GatewaySubscription: ...

    def subscription_signature_is_valid(
        self, *, subscription_id: str, payment_id: str, signature: str
    ) -> bool: ...

    def fetch_subscription(self, subscription_id: str) -> GatewaySubscription: ...

    def cancel_subscription(
        self, subscription_id: str, *, at_cycle_end: bool
    ) -> GatewaySubscription: ...

    def pause_subscription(self, subscription_id: str) -> GatewaySubscription: ...

    def resume_subscription(self, subscription_id: str) -> GatewaySubscription: ...

    def change_subscription_plan(
        self, subscription_id: str, *, plan_id: str
    ) -> GatewaySubscription:
        """Move the subscription to another plan from its next cycle on."""
        ...

    def create_payment_link(
        self,
        *,
        amount_paise: int,
        reference_id: str,
        description: str,
        customer: dict[str, str],
        expire_by: int,
        callback_url: str,
        notes: dict[str, str],
    ) -> GatewayPaymentLink: ...

    def payment_link_signature_is_valid(
        self,
        *,
        payment_link_id: str,
        reference_id: str,
        status: str,
        payment_id: str,
        signature: str,
    ) -> bool: ...


def _sdk_call(call, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Run one SDK call, turning transport and server failures into GatewayUnavailable."""
    try:
        return call(*args, timeout=RAZORPAY_TIMEOUT_S, **kwargs)
    except razorpay.errors.BadRequestError as exc:
        raise GatewayRefused(str(exc) or "Razorpay refused the request.") from exc
    except (razorpay.errors.ServerError, razorpay.errors.GatewayError) as exc:
        raise GatewayUnavailable(str(exc) or "Razorpay had an error.") from exc
    except (requests.RequestException, ValueError) as exc:
        raise GatewayUnavailable("Razorpay could not be reached.") from exc


def _items(collection: object) -> list[dict]:
    """The entities of a Razorpay collection answer (anything else: none)."""
    items = collection.get("items") if isinstance(collection, dict) else None
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _checkout_signature_is_valid(
    client: razorpay.Client, order_id: str, payment_id: str, signature: str
) -> bool:
    """Checkout's signature, HMAC-SHA256 of `order_id|payment_id`, checked by the SDK."""
    try:
        client.utility.verify_payment_signature(
            {
                "razorpay_order_id": order_id,
                "razorpay_payment_id": payment_id,
                "razorpay_signature": signature,
            }
        )
    except razorpay.errors.SignatureVerificationError:
        return False
    return True


def _signature_holds(check, parameters: dict[str, str]) -> bool:  # type: ignore[no-untyped-def]
    """An SDK signature helper's verdict (they raise rather than return False)."""
    try:
        return bool(check(parameters))
    except razorpay.errors.SignatureVerificationError:
        return False


class RazorpayGateway:
    mode = CheckoutMode.RAZORPAY

    def __init__(self, *, key_id: str, key_secret: str, base_url: str = "") -> None:
        self.key_id = key_id
        options = {"base_url": base_url} if base_url else {}
        self._client = razorpay.Client(auth=(key_id, key_secret), **options)

    def create_order(self, *, amount_paise: int, receipt: str, notes: dict[str, str]) -> str:
        order = _sdk_call(
            self._client.order.create,
            {"amount": amount_paise, "currency": "INR", "receipt": receipt, "notes": notes},
        )
        return str(order["id"])

    def signature_is_valid(self, *, order_id: str, payment_id: str, signature: str) -> bool:
        return _checkout_signature_is_valid(self._client, order_id, payment_id, signature)

    def fetch_payment(self, payment_id: str) -> GatewayPayment:
        return GatewayPayment.from_entity(_sdk_call(self._client.payment.fetch, payment_id))

    def capture(self, payment: GatewayPayment) -> GatewayPayment:
        entity = _sdk_call(
            self._client.payment.capture, payment.id, payment.amount, {"currency": payment.currency}
        )
        return GatewayPayment.from_entity(entity)

    def refund(
        self, payment_id: str, *, amount_paise: int, idempotency_key: str, notes: dict[str, str]
    ) -> GatewayRefund:
        # The SDK's payment.refund(payment_id, data) (its later definition wins); Razorpay
        # answers a repeated X-Refund-Idempotency key with the first refund.
        entity = _sdk_call(
            self._client.payment.refund,
            payment_id,
            {"amount": amount_paise, "notes": notes},
            headers={"X-Refund-Idempotency": idempotency_key},
        )
        return GatewayRefund.from_entity(entity)

    def order_payments(self, order_id: str) -> list[GatewayPayment]:
        # GET /v1/orders/:id/payments answers a collection: {"entity": "collection", "items"}.
        answer = _sdk_call(self._client.order.payments, order_id)
        return [GatewayPayment.from_entity(item) for item in _items(answer)]

    def payment_refunds(self, payment_id: str) -> list[GatewayRefund]:
        # GET /v1/payments/:id/refunds, 10 a page by default; Razorpay allows 100.
        answer = _sdk_call(self._client.payment.fetch_multiple_refund, payment_id, {"count": 100})
        return [GatewayRefund.from_entity(item) for item in _items(answer)]

    def create_plan(
        self, *, name: str, amount_paise: int, period: str, interval: int, notes: dict[str, str]
    ) -> str:
        plan = _sdk_call(
            self._client.plan.create,
            {
                "period": period,
                "interval": interval,
                "item": {"name": name, "amount": amount_paise, "currency": "INR"},
                "notes": notes,
            },
        )
        return str(plan["id"])

    def create_subscription(
        self, *, plan_id: str, total_count: int, expire_by: int, notes: dict[str, str]
    ) -> GatewaySubscription:
        entity = _sdk_call(
            self._client.subscription.create,
            {
                "plan_id": plan_id,
                "total_count": total_count,
                "quantity": 1,
                "customer_notify": True,
                "expire_by": expire_by,
                "notes": notes,
            },
        )
        return GatewaySubscription.from_entity(entity)

    def subscription_signature_is_valid(
        self, *, subscription_id: str, payment_id: str, signature: str
    ) -> bool:
        # HMAC-SHA256 of `payment_id|subscription_id` (payment first, unlike orders).
        return _signature_holds(
            self._client.utility.verify_subscription_payment_signature,
            {
                "razorpay_subscription_id": subscription_id,
                "razorpay_payment_id": payment_id,
                "razorpay_signature": signature,
            },
        )

    def fetch_subscription(self, subscription_id: str) -> GatewaySubscription:
        entity = _sdk_call(self._client.subscription.fetch, subscription_id)
        return GatewaySubscription.from_entity(entity)

    def cancel_subscription(
        self, subscription_id: str, *, at_cycle_end: bool
    ) -> GatewaySubscription:
        entity = _sdk_call(
            self._client.subscription.cancel,
            subscription_id,
            {"cancel_at_cycle_end": at_cycle_end},
        )
        return GatewaySubscription.from_entity(entity)

    def pause_subscription(self, subscription_id: str) -> GatewaySubscription:
        entity = _sdk_call(self._client.subscription.pause, subscription_id, {"pause_at": "now"})
        return GatewaySubscription.from_entity(entity)

    def resume_subscription(self, subscription_id: str) -> GatewaySubscription:
        entity = _sdk_call(self._client.subscription.resume, subscription_id, {"resume_at": "now"})
        return GatewaySubscription.from_entity(entity)

    def change_subscription_plan(
        self, subscription_id: str, *, plan_id: str
    ) -> GatewaySubscription:
        entity = _sdk_call(
            self._client.subscription.edit,
            subscription_id,
            {"plan_id": plan_id, "schedule_change_at": "cycle_end", "customer_notify": True},
        )
        return GatewaySubscription.from_entity(entity)

    def create_payment_link(
        self,
        *,
        amount_paise: int,
        reference_id: str,
        description: str,
        customer: dict[str, str],
        expire_by: int,
        callback_url: str,
        notes: dict[str, str],
    ) -> GatewayPaymentLink:
        entity = _sdk_call(
            self._client.payment_link.create,
            {
                "amount": amount_paise,
                "currency": "INR",
                "accept_partial": False,
                "reference_id": reference_id,
                "description": description,
                "customer": customer,
                "notify": {"email": True, "sms": False},
                "reminder_enable": True,
                "expire_by": expire_by,
                "callback_url": callback_url,
                "callback_method": "get",
                "notes": notes,
            },
        )
        return GatewayPaymentLink.from_entity(entity)

    def payment_link_signature_is_valid(
        self,
        *,
        payment_link_id: str,
        reference_id: str,
        status: str,
        payment_id: str,
        signature: str,
    ) -> bool:
        # HMAC-SHA256 of `link id|reference id|status|payment id` with the key secret.
        return _signature_holds(
            self._client.utility.verify_payment_link_signature,
            {
                "payment_link_id": payment_link_id,
                "payment_link_reference_id": reference_id,
                "payment_link_status": status,
                "razorpay_payment_id": payment_id,
                "razorpay_signature": signature,
            },
        )


class TestCheckoutGateway:
    """The offline stand-in for Razorpay: orders and payments live in this process.

    Its "checkout" signs payments exactly as Razorpay does (HMAC-SHA256 of
    `order_id|payment_id`), with a secret derived from the app's signing key, and the
    signature is checked with the razorpay SDK's own helper.
    """

    mode = CheckoutMode.TEST
    key_id = TEST_KEY_ID

    def __init__(self, *, signing_key: str) -> None:
        self._secret = hmac.new(signing_key.encode(), b"test-checkout", hashlib.sha256).hexdigest()
        # What its simulated webhooks are signed with (`signed_event`), as Razorpay signs.
        self.webhook_secret = hmac.new(
            signing_key.encode(), b"test-webhooks", hashlib.sha256
        ).hexdigest()
        self._verifier = razorpay.Client(auth=(TEST_KEY_ID, self._secret))
        self._orders: dict[str, int] = {}
        self._payments: dict[str, GatewayPayment] = {}
        self._refunds: dict[str, GatewayRefund] = {}  # by idempotency key
        self._subscriptions: dict[str, GatewaySubscription] = {}
        self._lock = threading.Lock()

    def create_order(self, *, amount_paise: int, receipt: str, notes: dict[str, str]) -> str:
        order_id = "order_test_" + secrets.token_hex(7)
        with self._lock:
            self._orders[order_id] = amount_paise
        return order_id

    def pay(self, order_id: str, *, succeed: bool) -> dict[str, str]:
        """What the test checkout dialog's Pay / Fail buttons do: Razorpay's handler payload."""
        with self._lock:
            amount = self._orders.get(order_id)
        if amount is None:
            raise GatewayRefused("This test order does not exist (the server may have restarted).")
        payment = GatewayPayment(
            id="pay_test_" + secrets.token_hex(7),
            order_id=order_id,
            status=PaymentStatus.CAPTURED if succeed else PaymentStatus.FAILED,
            amount=amount,
            currency="INR",
            error_description=None if succeed else "Test mode: the card was declined.",
            captured=succeed,
        )
        with self._lock:
            self._payments[payment.id] = payment
        signature = hmac.new(
            self._secret.encode(), f"{order_id}|{payment.id}".encode(), hashlib.sha256
        ).hexdigest()
        return {
            "razorpay_order_id": order_id,
            "razorpay_payment_id": payment.id,
            "razorpay_signature": signature,
        }

    def signature_is_valid(self, *, order_id: str, payment_id: str, signature: str) -> bool:
        return _checkout_signature_is_valid(self._verifier, order_id, payment_id, signature)

    def fetch_payment(self, payment_id: str) -> GatewayPayment:
        with self._lock:
            payment = self._payments.get(payment_id)
        if payment is None:
            raise GatewayRefused("The id provided does not exist")
        return payment

    def capture(self, payment: GatewayPayment) -> GatewayPayment:
        captured = replace(payment, status=PaymentStatus.CAPTURED, captured=True)
        with self._lock:
            self._payments[payment.id] = captured
        return captured

    def refund(
        self, payment_id: str, *, amount_paise: int, idempotency_key: str, notes: dict[str, str]
    ) -> GatewayRefund:
        with self._lock:
            earlier = self._refunds.get(idempotency_key)
            if earlier is not None:
                return earlier
            payment = self._payments.get(payment_id)
            if payment is None or payment.status != PaymentStatus.CAPTURED:
                raise GatewayRefused("Only captured payments can be refunded")
            refunded = sum(r.amount for r in self._refunds.values() if r.payment_id == payment_id)
            if amount_paise > payment.amount - refunded:
                raise GatewayRefused("The refund amount provided is greater than amount captured")
            refund = GatewayRefund(
                id="rfnd_test_" + secrets.token_hex(7),
                payment_id=payment_id,
                amount=amount_paise,
                status=RefundStatus.PROCESSED,
            )
            self._refunds[idempotency_key] = refund
            if amount_paise + refunded >= payment.amount:
                self._payments[payment_id] = replace(payment, status=PaymentStatus.REFUNDED)
            return refund

    def order_payments(self, order_id: str) -> list[GatewayPayment]:
        with self._lock:
            return [p for p in self._payments.values() if p.order_id == order_id]

    def payment_refunds(self, payment_id: str) -> list[GatewayRefund]:
        with self._lock:
            return [r for r in self._refunds.values() if r.payment_id == payment_id]

    # --- subscriptions and payment links: answers shaped like Razorpay's -----------------
    # Nothing here outlives the process but what the database keeps: the simulated
    # renewals and link payments (`signed_event`) are built from our own records.

    def create_plan(
        self, *, name: str, amount_paise: int, period: str, interval: int, notes: dict[str, str]
    ) -> str:
        return "plan_test_" + secrets.token_hex(7)

    def create_subscription(
        self, *, plan_id: str, total_count: int, expire_by: int, notes: dict[str, str]
    ) -> GatewaySubscription:
        subscription = GatewaySubscription(
            id="sub_test_" + secrets.token_hex(7), plan_id=plan_id, status="created"
        )
        with self._lock:
            self._subscriptions[subscription.id] = subscription
        return subscription

    def pay_subscription(
        self, subscription_id: str, *, amount_paise: int, cycle_seconds: int, succeed: bool
    ) -> dict[str, str]:
        """The test checkout's Pay / Fail for a subscription: its first charge, and the
        handler payload Checkout returns (signed `payment_id|subscription_id`)."""
        payment = GatewayPayment(
            id="pay_test_" + secrets.token_hex(7),
            order_id="order_test_" + secrets.token_hex(7),
            status=PaymentStatus.CAPTURED if succeed else PaymentStatus.FAILED,
            amount=amount_paise,
            currency="INR",
            error_description=None if succeed else "Test mode: the card was declined.",
            captured=succeed,
        )
        with self._lock:
            self._payments[payment.id] = payment
            known = self._subscriptions.get(subscription_id)
            if succeed and known is not None:
                self._subscriptions[subscription_id] = replace(
                    known,
                    status="active",
                    paid_count=known.paid_count + 1,
                    current_end=int(time.time()) + cycle_seconds,
                )
        signature = hmac.new(
            self._secret.encode(), f"{payment.id}|{subscription_id}".encode(), hashlib.sha256
        ).hexdigest()
        return {
            "razorpay_payment_id": payment.id,
            "razorpay_subscription_id": subscription_id,
            "razorpay_signature": signature,
        }

    def subscription_signature_is_valid(
        self, *, subscription_id: str, payment_id: str, signature: str
    ) -> bool:
        return _signature_holds(
            self._verifier.utility.verify_subscription_payment_signature,
            {
                "razorpay_subscription_id": subscription_id,
                "razorpay_payment_id": payment_id,
                "razorpay_signature": signature,
            },
        )

    def fetch_subscription(self, subscription_id: str) -> GatewaySubscription:
        with self._lock:
            known = self._subscriptions.get(subscription_id)
        if known is None:
            raise GatewayRefused("The id provided does not exist")
        return known

    def _answer(self, subscription_id: str, status: str, plan_id: str = "") -> GatewaySubscription:
        # The service checks the state allows the action; this answers as Razorpay would.
        with self._lock:
            known = self._subscriptions.get(subscription_id) or GatewaySubscription(
                id=subscription_id, plan_id=plan_id, status=status
            )
            answer = replace(known, status=status)
            self._subscriptions[subscription_id] = answer
        return answer

    def cancel_subscription(
        self, subscription_id: str, *, at_cycle_end: bool
    ) -> GatewaySubscription:
        return self._answer(subscription_id, "active" if at_cycle_end else "cancelled")

    def pause_subscription(self, subscription_id: str) -> GatewaySubscription:
        return self._answer(subscription_id, "paused")

    def resume_subscription(self, subscription_id: str) -> GatewaySubscription:
        return self._answer(subscription_id, "active")

    def change_subscription_plan(
        self, subscription_id: str, *, plan_id: str
    ) -> GatewaySubscription:
        return self._answer(subscription_id, "active")

    def create_payment_link(
        self,
        *,
        amount_paise: int,
        reference_id: str,
        description: str,
        customer: dict[str, str],
        expire_by: int,
        callback_url: str,
        notes: dict[str, str],
    ) -> GatewayPaymentLink:
        return GatewayPaymentLink(
            id="plink_test_" + secrets.token_hex(7),
            reference_id=reference_id,
            status="created",
            short_url="",
        )

    def payment_link_signature_is_valid(
        self,
        *,
        payment_link_id: str,
        reference_id: str,
        status: str,
        payment_id: str,
        signature: str,
    ) -> bool:
        return _signature_holds(
            self._verifier.utility.verify_payment_link_signature,
            {
                "payment_link_id": payment_link_id,
                "payment_link_reference_id": reference_id,
                "payment_link_status": status,
                "razorpay_payment_id": payment_id,
                "razorpay_signature": signature,
            },
        )

    def signed_event(
        self, event: str, entities: dict[str, dict], *, created_at: int | None = None
    ) -> tuple[bytes, str, str]:
        """A webhook as Razorpay would POST it: (raw body, X-Razorpay-Signature, event id)."""
        envelope = {
            "entity": "event",
            "account_id": "acc_test_offline",
            "event": event,
            "contains": list(entities),
            "payload": {name: {"entity": entity} for name, entity in entities.items()},
            "created_at": created_at or int(time.time()),
        }
        body = json.dumps(envelope, separators=(",", ":")).encode()
        signature = hmac.new(self.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        return body, signature, "evt_test_" + secrets.token_hex(7)


@lru_cache(maxsize=4)
def _test_gateway(signing_key: str) -> TestCheckoutGateway:
    return TestCheckoutGateway(signing_key=signing_key)


def gateway_for(settings: Settings) -> PaymentGateway:
    """Razorpay when keys are set; otherwise the test checkout, which prod never gets."""
    if settings.razorpay_configured:
        return RazorpayGateway(
            key_id=settings.razorpay_key_id,
            key_secret=settings.razorpay_key_secret,
            base_url=settings.razorpay_base_url,
        )
    if settings.is_production:
        raise RuntimeError("Razorpay keys are required in production.")
    return _test_gateway(settings.signing_key)


def webhook_signature_is_valid(*, body: bytes, signature: str, secret: str) -> bool:
    """Razorpay's X-Razorpay-Signature: HMAC-SHA256 of the raw body, checked by the SDK."""
    if not secret or not signature:
        return False
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    try:
        razorpay.Utility(None).verify_webhook_signature(text, signature, secret)
    except razorpay.errors.SignatureVerificationError:
        return False
    return True
