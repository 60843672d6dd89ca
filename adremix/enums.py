"""Every status and kind AdRemix stores or shows, each a `StrEnum` defined once.

Models, services, state and tests all name these members instead of bare strings. Being
`str` subclasses, members compare equal to (and are stored as) their values, so the
database and the browser see the same plain strings as before.
"""

from __future__ import annotations

from enum import StrEnum


class GenerationStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # some images delivered, the rest refunded
    FAILED = "failed"


# Still being worked on: a crashed worker leaves these behind for another to resume.
ACTIVE_GENERATION_STATUSES = (GenerationStatus.PENDING, GenerationStatus.RUNNING)
# Settled: counted by the dashboard's success rate.
FINISHED_GENERATION_STATUSES = (
    GenerationStatus.SUCCEEDED,
    GenerationStatus.PARTIAL,
    GenerationStatus.FAILED,
)


class GenerationStage(StrEnum):
    """Where a running generation is, for the progress shown on New Ad."""

    QUEUED = "queued"  # waiting on the queue for a worker
    GENERATING = "generating"  # a worker holds its lease


class CreditKind(StrEnum):
    """Why a ledger entry moved credits."""

    SIGNUP_BONUS = "signup_bonus"
    PURCHASE = "purchase"
    GENERATION = "generation"
    GENERATION_REFUND = "generation_refund"
    ADMIN_ADJUSTMENT = "admin_adjustment"
    PURCHASE_REFUND = "purchase_refund"


class OrderStatus(StrEnum):
    CREATED = "created"  # waiting for its payment; holds its pack's open checkout
    PENDING = "pending"  # paid in the browser, not yet confirmed by Razorpay
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    REVIEW = "review"  # paid the wrong amount: no credits, a person looks at it
    FAILED = "failed"


class PaymentStatus(StrEnum):
    """Razorpay's payment states, plus `partially_refunded` (Razorpay keeps those `captured`
    with `refund_status: partial`)."""

    CREATED = "created"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    FAILED = "failed"


class RefundStatus(StrEnum):
    PENDING = "pending"
    PROCESSED = "processed"
    FAILED = "failed"


class RefundOrigin(StrEnum):
    """Who asked for a refund."""

    MERCHANT = "merchant"  # the Razorpay dashboard or API
    AUTO = "auto"  # Razorpay, for an authorisation nobody captured
    DUPLICATE = "duplicate"  # our own refund of a second capture on a paid order


class CheckoutMode(StrEnum):
    """Where a payment happens: Razorpay, or the offline test checkout (never in prod)."""

    RAZORPAY = "razorpay"
    TEST = "test"


class CheckoutResult(StrEnum):
    """How Razorpay's checkout dialog ended, as the page's script reports it (anything
    else, "dismissed", means the buyer closed it)."""

    SUCCESS = "success"
    FAILED = "failed"
    UNAVAILABLE = "unavailable"  # checkout.js could not be loaded


class PaymentOutcome(StrEnum):
    """What handling a payment or webhook event did; webhooks answer it as `status`."""

    GRANTED = "granted"
    ALREADY_GRANTED = "already_granted"
    AMOUNT_MISMATCH = "amount_mismatch"
    DUPLICATE_PAYMENT = "duplicate_payment"
    RECORDED_FAILURE = "recorded_failure"
    REFUNDED = "refunded"
    REFUND_FAILED = "refund_failed"
    REFUND_PENDING = "refund_pending"
    UNKNOWN_ORDER = "unknown_order"
    UNKNOWN_PAYMENT = "unknown_payment"
    IGNORED = "ignored"
    # Signed by Razorpay but not shaped as documented: recorded, acknowledged, logged.
    MALFORMED = "malformed"
    DUPLICATE_EVENT = "duplicate"  # the same webhook event, delivered again
    SUBSCRIPTION_UPDATED = "subscription_updated"
    STALE_EVENT = "stale"  # older than what the subscription already shows: changes nothing
    UNKNOWN_SUBSCRIPTION = "unknown_subscription"
    UNKNOWN_PAYMENT_LINK = "unknown_payment_link"
    QUOTE_CLOSED = "quote_closed"  # a payment link expired or was cancelled: nothing granted


class ImageKind(StrEnum):
    """What a stored file is. Users own sources and results; the rest derive from them."""

    SOURCE = "source"  # the metadata-free original: PNG, or JPEG (maybe with its orientation)
    PREPARED = "prepared"  # the provider's input (PNG, at most 1536 px), made at upload
    RESULT = "result"  # a generated image (PNG)
    THUMB = "thumb"  # a WebP thumbnail of a source or result
    LOGO = "logo"  # a brand kit's logo (PNG with alpha, at most 1024 px)
    FONT = "font"  # a brand kit's uploaded font, as opentype-sanitizer rewrote it
    MASK = "mask"  # a region edit's mask (PNG, white where the image may change)


class CreditStatus(StrEnum):
    """How the balance compares with the user's low-credit threshold (the banner)."""

    EMPTY = "empty"
    LOW = "low"
    OK = "ok"


class LimitedAction(StrEnum):
    """What the rate limits count (services/rate_limits.py has the numbers)."""

    SIGN_IN = "sign_in"
    ORDER = "order"
    GENERATION = "generation"
    UPLOAD = "upload"
    EXPORT = "export"
    COPY = "copy"  # "Suggest copy" (a text-model call)


class OrderKind(StrEnum):
    """What an order sells: a one-time pack, one cycle of a subscription, or a quote."""

    PACK = "pack"
    SUBSCRIPTION = "subscription"
    QUOTE = "quote"


class SubscriptionStatus(StrEnum):
    """Razorpay's subscription states (docs: "Subscriptions States")."""

    CREATED = "created"
    AUTHENTICATED = "authenticated"
    ACTIVE = "active"
    PENDING = "pending"  # a renewal charge failed; Razorpay retries
    HALTED = "halted"  # every retry failed
    PAUSED = "paused"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    EXPIRED = "expired"  # never authenticated before its expire_by


# A subscription in one of these never changes again.
FINAL_SUBSCRIPTION_STATUSES = (
    SubscriptionStatus.CANCELLED,
    SubscriptionStatus.COMPLETED,
    SubscriptionStatus.EXPIRED,
)
# The buyer has a subscription (paid for, or being paid for): they cannot start another.
LIVE_SUBSCRIPTION_STATUSES = (
    SubscriptionStatus.AUTHENTICATED,
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.PENDING,
    SubscriptionStatus.HALTED,
    SubscriptionStatus.PAUSED,
)


class QuoteStatus(StrEnum):
    """An enterprise quote's Razorpay Payment Link, as far as it matters to us."""

    CREATED = "created"
    PAID = "paid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class DocumentKind(StrEnum):
    """GST documents: a tax invoice for a payment, a credit note for a refund of one."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class DeliveryStatus(StrEnum):
    """Where e-mailing a document stands (sent to SMTP, or written to the outbox)."""

    PENDING = "pending"
    SENDING = "sending"  # claimed by one sender; reclaimed if it stays here too long
    SENT = "sent"
    FAILED = "failed"  # retried by `python -m adremix invoices send-pending`


class Role(StrEnum):
    """Who may use the admin console: support looks at everything and adjusts credits
    within a limit; admins also refund, suspend and change roles."""

    ADMIN = "admin"
    SUPPORT = "support"


class AuditAction(StrEnum):
    """What an entry of the admin audit log records."""

    CREDIT_ADJUSTMENT = "credit_adjustment"
    REFUND = "refund"
    SUSPEND = "suspend"
    UNSUSPEND = "unsuspend"
    ROLE_GRANT = "role_grant"
    ROLE_REVOKE = "role_revoke"
    RECONCILE = "reconcile"
    EXPORT = "export"
    QUOTE = "quote"


class AdminRefundStatus(StrEnum):
    """Where a refund an admin asked for stands on our side (Razorpay's own status is the
    `payment_refund` row's)."""

    REQUESTED = "requested"  # claimed the payment; Razorpay not asked yet, or no answer
    SUBMITTED = "submitted"  # Razorpay accepted it
    FAILED = "failed"  # Razorpay refused it: nothing was refunded
