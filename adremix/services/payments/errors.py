"""What can go wrong when buying credits; every message is written for the buyer."""

from __future__ import annotations

from adremix.services.errors import UserFacingError


class PaymentError(UserFacingError):
    """Base of the payment errors."""

    code = "payment_error"


class UnknownPackage(PaymentError):
    code = "unknown_package"


class OrderNotFound(PaymentError):
    code = "order_not_found"


class PaymentVerificationFailed(PaymentError):
    code = "payment_verification_failed"


class PaymentAmountMismatch(PaymentError):
    code = "payment_amount_mismatch"


class PaymentFailed(PaymentError):
    code = "payment_failed"


class CheckoutDeclined(PaymentFailed):
    """The checkout itself reported the payment failed (a declined card): nothing charged."""

    code = "checkout_declined"

    def __init__(self, reason: str) -> None:
        super().__init__(reason or "The payment failed.")
        self.reason = reason


class PaymentPending(PaymentError):
    """Paid, probably, but not confirmable right now; the webhook or a retry settles it."""

    code = "payment_pending"


class PaymentsUnavailable(PaymentError):
    """No checkout could be opened (Razorpay unreachable, or an order still being made)."""

    code = "payments_unavailable"


class TooManyOpenCheckouts(PaymentError):
    """More unfinished checkouts than a buyer plausibly needs: finish or close one first."""

    code = "too_many_open_checkouts"


class DuplicatePayment(PaymentError):
    """A second payment for an order that is already paid: no credits, money goes back."""

    code = "duplicate_payment"


class GatewayUnavailable(PaymentError):
    """The payment provider could not be reached or answered with a server error."""

    code = "gateway_unavailable"


class GatewayRefused(PaymentError):
    """The payment provider refused the request (its message is safe to show)."""

    code = "gateway_refused"
