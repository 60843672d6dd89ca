"""What can go wrong when buying credits; every message is written for the buyer.

Each class's `code` is its name in snake_case (see UserFacingError).
"""

from __future__ import annotations

from adremix.services.errors import UserFacingError


class PaymentError(UserFacingError):
    """Base of the payment errors."""


class UnknownPackage(PaymentError):
    """A pack that is not (or no longer) on sale."""


class OrderNotFound(PaymentError):
    """No such order of this buyer's (someone else's looks the same)."""


class PaymentVerificationFailed(PaymentError):
    """The checkout's signature or the payment's order did not check out: no credits."""


class PaymentAmountMismatch(PaymentError):
    """Paid a different amount than the order: kept for a person to review."""


class PaymentFailed(PaymentError):
    """The payment did not go through, or went back to the buyer."""


class CheckoutDeclined(PaymentFailed):
    """The checkout itself reported the payment failed (a declined card): nothing charged."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason or "The payment failed.")
        self.reason = reason


class PaymentPending(PaymentError):
    """Paid, probably, but not confirmable right now; the webhook or a retry settles it."""


class PaymentsUnavailable(PaymentError):
    """No checkout could be opened (Razorpay unreachable, or an order still being made)."""


class TooManyOpenCheckouts(PaymentError):
    """More unfinished checkouts than a buyer plausibly needs: finish or close one first."""


class DuplicatePayment(PaymentError):
    """A second payment for an order that is already paid: no credits, money goes back."""


class GatewayUnavailable(PaymentError):
    """The payment provider could not be reached or answered with a server error."""


class GatewayRefused(PaymentError):
    """The payment provider refused the request (its message is safe to show)."""


class UnknownPlan(PaymentError):
    """A subscription plan that is not (or no longer) on sale."""


class AlreadySubscribed(PaymentError):
    """The buyer has a subscription already: they change its plan instead."""


class NoSubscription(PaymentError):
    """The buyer has no subscription to act on."""


class SubscriptionActionRefused(PaymentError):
    """The subscription's state does not allow that (e.g. pausing one that is not active)."""


class QuoteError(PaymentError):
    """A quote cannot be created as asked (unknown buyer, bad amount or GSTIN)."""
