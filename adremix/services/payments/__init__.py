"""Payments: checkout orders, confirming payments, Razorpay webhooks, duplicate payments,
refunds and the clawback rule, receipts. Razorpay or the offline test checkout.

Each Razorpay payment is its own `Payment` row. One payment id maps to one grant (ledger
key `purchase:<payment id>`), whichever path reaches it first: the checkout's success
handler, the webhook, or a later retry.
"""

from adremix.services.payments.checkout import Checkout, start_purchase
from adremix.services.payments.confirmation import (
    ConfirmedOrder,
    confirm_checkout,
    pay_test_checkout,
    record_checkout_failure,
    settle_order,
)
from adremix.services.payments.duplicates import duplicate_refund_key, refund_duplicate_payments
from adremix.services.payments.errors import (
    CheckoutDeclined,
    DuplicatePayment,
    GatewayRefused,
    GatewayUnavailable,
    OrderNotFound,
    PaymentAmountMismatch,
    PaymentError,
    PaymentFailed,
    PaymentPending,
    PaymentsUnavailable,
    PaymentVerificationFailed,
    TooManyOpenCheckouts,
    UnknownPackage,
)
from adremix.services.payments.gateways import (
    GatewayPayment,
    GatewayRefund,
    PaymentGateway,
    RazorpayGateway,
    TestCheckoutGateway,
    gateway_for,
    webhook_signature_is_valid,
)
from adremix.services.payments.receipts import (
    CreditsOverview,
    PaymentLine,
    PendingOrder,
    Receipt,
    credits_overview,
    payment_history,
    pending_orders,
    receipt_for,
)
from adremix.services.payments.refunds import (
    LedgerAudit,
    RefundProblem,
    audit_ledger,
    credits_to_claw,
    find_refund_problems,
)
from adremix.services.payments.webhooks import WebhookRejected, WebhookRetryLater, handle_webhook

__all__ = [
    "Checkout",
    "CheckoutDeclined",
    "ConfirmedOrder",
    "CreditsOverview",
    "DuplicatePayment",
    "GatewayPayment",
    "GatewayRefund",
    "GatewayRefused",
    "GatewayUnavailable",
    "LedgerAudit",
    "OrderNotFound",
    "PaymentAmountMismatch",
    "PaymentError",
    "PaymentFailed",
    "PaymentGateway",
    "PaymentLine",
    "PaymentPending",
    "PaymentVerificationFailed",
    "PaymentsUnavailable",
    "PendingOrder",
    "RazorpayGateway",
    "Receipt",
    "RefundProblem",
    "TestCheckoutGateway",
    "TooManyOpenCheckouts",
    "UnknownPackage",
    "WebhookRejected",
    "WebhookRetryLater",
    "audit_ledger",
    "confirm_checkout",
    "credits_overview",
    "credits_to_claw",
    "duplicate_refund_key",
    "find_refund_problems",
    "gateway_for",
    "handle_webhook",
    "pay_test_checkout",
    "payment_history",
    "pending_orders",
    "receipt_for",
    "record_checkout_failure",
    "refund_duplicate_payments",
    "settle_order",
    "start_purchase",
    "webhook_signature_is_valid",
]
