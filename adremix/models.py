"""All tables. Alembic (alembic/versions) owns the schema; these are its source of truth."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
)
from sqlmodel import Field, SQLModel

from adremix.enums import (
    AdminRefundStatus,
    CheckoutMode,
    CreditKind,
    DeliveryStatus,
    DocumentKind,
    GenerationStatus,
    OrderKind,
    OrderStatus,
    PaymentStatus,
    QuoteStatus,
    RefundOrigin,
    RefundStatus,
    SubscriptionStatus,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


# Sign-ups are grouped by periods of four weeks (`user.signup_period`): a sign-up window of
# a month or a few is then a handful of periods, each one ordered range of an index.
PERIOD_SECONDS = 28 * 86_400
# Periods start at midnight in India (UTC+5:30, the console's calendar: admin/params.py),
# so a window of whole days there is made of whole periods but at its two ends.
PERIOD_SHIFT_SECONDS = 19_800


def signup_period(at: datetime) -> int:
    """The period (four weeks, counted from 1970) a moment falls in: `user.signup_period`."""
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return (math.floor(aware.timestamp()) + PERIOD_SHIFT_SECONDS) // PERIOD_SECONDS


class User(SQLModel, table=True):
    __tablename__ = "user"
    __table_args__ = (
        CheckConstraint("credit_balance >= 0", name="ck_user_balance_nonnegative"),
        # The admin console's Users table sorts and filters on these (id breaks ties).
        Index("ix_user_created", "created_at", "id"),
        # The sign-up date after the id, in both: a "joined between" filter is checked in
        # the index walked for either sort, and a balance range in the sign-up one; the
        # paid total last, so "has paid" is checked there too.
        Index("ix_user_balance", "credit_balance", "id", "created_at", "paid_paise"),
        Index("ix_user_created_balance", "created_at", "id", "credit_balance", "paid_paise"),
        # A balance sort within a sign-up window: one ordered range per period of the
        # window, and per answer to "has paid" if asked (two thirds of users never pay
        # and hold the sign-up bonus: without it, an ascending walk for payers would pass
        # all of them); the sign-up time checked in the index at the window's two ends.
        Index(
            "ix_user_period_balance",
            "signup_period",
            "has_paid",
            "credit_balance",
            "id",
            "created_at",
            "paid_paise",
        ),
        Index("ix_user_last_login", "last_login_at", "id"),
        Index("ix_user_suspended", "suspended_at"),
        Index("ix_user_role", "role"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    name: str = Field(default="", max_length=200)
    avatar_url: str = Field(default="", max_length=2000)
    # The OIDC `sub` claim: the stable key for a Google account. Empty for developer sign-in.
    oidc_subject: str | None = Field(default=None, max_length=255, unique=True)
    credit_balance: int = Field(default=0)
    # A Role granted in the admin console or by `python -m adremix roles grant`; the
    # ADREMIX_ADMIN_EMAILS / ADREMIX_SUPPORT_EMAILS settings grant theirs without a row.
    role: str | None = Field(default=None, max_length=20)
    # Suspended: signed out everywhere and refused at sign-in; the data stays.
    suspended_at: datetime | None = None
    preferences: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None
    deleted_at: datetime | None = None
    # What their payments that granted credits came to, before refunds: added to in the
    # capture's own transaction (payments/records.py `fulfil`), never taken from. The
    # Users table shows it and filters "has paid" (> 0) on it without reading any order.
    paid_paise: int = 0
    # paid_paise > 0, as a key of ix_user_period_balance: set with paid_paise (below, and
    # in `fulfil`'s own update).
    has_paid: bool = False
    # The period of `created_at` (`signup_period`), set whenever that is (see below).
    signup_period: int = 0


@event.listens_for(User, "before_insert")
def _keys_of_a_new_user(_mapper, _connection, user: User) -> None:  # type: ignore[no-untyped-def]
    user.signup_period = signup_period(user.created_at)
    user.has_paid = user.paid_paise > 0


@event.listens_for(User, "before_update")
def _keys_follow_their_columns(_mapper, _connection, user: User) -> None:  # type: ignore[no-untyped-def]
    changed = inspect(user).attrs
    if changed.created_at.history.has_changes():
        user.signup_period = signup_period(user.created_at)
    if changed.paid_paise.history.has_changes():
        user.has_paid = user.paid_paise > 0


class AuthSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "auth_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    # Last use, recorded coarsely: a session unused for ADREMIX_SESSION_IDLE_HOURS ends.
    last_seen_at: datetime = Field(default_factory=utcnow, index=True)
    expires_at: datetime = Field(index=True)
    revoked_at: datetime | None = None
    user_agent: str = Field(default="", max_length=500)


class DeletedIdentity(SQLModel, table=True):
    """A salted hash of a deleted account's Google subject or e-mail address, nothing else:
    the sign-up bonus is granted once per identity, ever, without keeping who it was."""

    __tablename__ = "deleted_identity"

    id: int | None = Field(default=None, primary_key=True)
    identity_hash: str = Field(max_length=64, unique=True)
    deleted_at: datetime = Field(default_factory=utcnow)


class CreditTransaction(SQLModel, table=True):
    """Append-only ledger entry; a user's balance is the sum of their entries."""

    __tablename__ = "credit_transaction"
    __table_args__ = (
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{kind}'" for kind in CreditKind) + ")",
            name="ck_credit_transaction_kind",
        ),
        Index("ix_credit_transaction_user_created", "user_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    amount: int
    kind: str = Field(max_length=32)
    reference: str | None = Field(default=None, max_length=255)
    idempotency_key: str = Field(max_length=255, unique=True)
    balance_after: int
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)


# What the admin console's Payments page shows of an order besides its id and time: short
# bounded columns, kept in its order indexes (see PaymentOrder).
PAYMENTS_PAGE_ORDER_COLUMNS = (
    "user_id",
    "receipt_number",
    "kind",
    "credits",
    "amount_paise",
    "status",
    "provider",
    "provider_order_id",
)


class PaymentOrder(SQLModel, table=True):
    """A credit package purchase, from checkout to capture (or failure, or refund).

    The money itself is in `Payment` rows: an order can have several (a failed attempt,
    then a good one; or, through late authorisation, two captured ones).
    """

    __tablename__ = "payment_order"
    __table_args__ = (
        Index("ix_payment_order_user_created", "user_id", "created_at"),
        # The admin console's Payments page: newest first, optionally of one status, each
        # carrying what the page shows of an order, so its orders are read from the index
        # alone (migration 0018).
        Index("ix_payment_order_created", "created_at", "id", *PAYMENTS_PAGE_ORDER_COLUMNS),
        Index(
            "ix_payment_order_status_created",
            "status",
            "created_at",
            "id",
            *(c for c in PAYMENTS_PAGE_ORDER_COLUMNS if c != "status"),
        ),
        # The Users table's "has paid" filter: one index probe per user, no order read.
        Index("ix_payment_order_user_status", "user_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    receipt_number: str = Field(max_length=40, unique=True)
    user_id: int = Field(foreign_key="user.id")
    # A pack, one charged cycle of a subscription (its plan's code), or a quote.
    kind: str = Field(default=OrderKind.PACK, max_length=20)
    package_code: str = Field(max_length=40)
    # The subscription whose cycle this order is (subscription rows are never deleted). No
    # foreign key: adding one to payment_order would make SQLite rebuild the table that
    # payment rows reference.
    subscription_id: int | None = Field(default=None, index=True)
    credits: int
    amount_paise: int
    tax_paise: int = 0
    currency: str = Field(default="INR", max_length=3)
    status: str = Field(default=OrderStatus.CREATED, max_length=20, index=True)
    provider: str = Field(default=CheckoutMode.RAZORPAY, max_length=20)
    provider_order_id: str | None = Field(default=None, max_length=64, unique=True)
    # "<user id>:<pack>" while the order awaits payment, so a pack has one open checkout
    # per buyer (presses reuse it); cleared once the order is paid, failed or stale.
    open_key: str | None = Field(default=None, max_length=80, unique=True)
    failure_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    paid_at: datetime | None = None
    refunded_at: datetime | None = None


class Payment(SQLModel, table=True):
    """One Razorpay payment on an order: what it granted, and what its refunds took back.

    Invariant (checked by `python -m adremix ledger verify`): credits_clawed +
    clawback_shortfall == the clawback rule applied to refunded_paise, never more than
    credits_granted. The shortfall is what a refund should have taken back but the user
    had already spent.
    """

    __tablename__ = "payment"
    __table_args__ = (
        CheckConstraint(
            "credits_granted >= 0 AND credits_clawed >= 0 AND clawback_shortfall >= 0 "
            "AND refunded_paise >= 0",
            name="ck_payment_amounts_nonnegative",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    provider_payment_id: str = Field(max_length=64, unique=True)
    order_id: int = Field(foreign_key="payment_order.id", index=True)
    amount_paise: int
    currency: str = Field(default="INR", max_length=3)
    status: str = Field(default=PaymentStatus.CREATED, max_length=20)
    captured: bool = False
    # A further capture on an order another payment had already fulfilled: refunded in full.
    duplicate: bool = False
    credits_granted: int = 0
    refunded_paise: int = 0
    credits_clawed: int = 0
    clawback_shortfall: int = 0
    error_description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class PaymentRefund(SQLModel, table=True):
    """A Razorpay refund of a payment; only processed ones count towards refunded_paise."""

    __tablename__ = "payment_refund"

    id: int | None = Field(default=None, primary_key=True)
    provider_refund_id: str = Field(max_length=64, unique=True)
    payment_id: int = Field(foreign_key="payment.id", index=True)
    amount_paise: int
    status: str = Field(default=RefundStatus.PENDING, max_length=20)
    origin: str = Field(default=RefundOrigin.MERCHANT, max_length=20)  # who asked for it
    created_at: datetime = Field(default_factory=utcnow)
    processed_at: datetime | None = None


class Generation(SQLModel, table=True):
    """One remix request and what came of it."""

    __tablename__ = "generation"
    __table_args__ = (
        UniqueConstraint("user_id", "client_request_id", name="uq_generation_client_request"),
        Index("ix_generation_user_created", "user_id", "created_at"),
        Index("ix_generation_user_status_created", "user_id", "status", "created_at"),
        Index("ix_generation_cache_key", "user_id", "cache_key"),
        # The sweep looks for running generations whose lease has lapsed.
        Index("ix_generation_status_lease", "status", "lease_expires_at"),
        # The admin console's recent failures.
        Index("ix_generation_status_created", "status", "created_at", "id"),
        # History finds a generation's region edits (its children) by this.
        Index("ix_generation_parent", "parent_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    client_request_id: str = Field(max_length=64)
    status: str = Field(default=GenerationStatus.PENDING, max_length=20)
    instructions: str = Field(sa_column=Column(Text, nullable=False))
    template: str = Field(max_length=64)
    placement: str = Field(max_length=20)
    quality: str = Field(max_length=10)
    variations: int
    options: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    source_image_hash: str = Field(max_length=64)
    output_hashes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    provider: str = Field(max_length=20)
    model: str = Field(default="", max_length=64)
    cache_key: str = Field(max_length=64)
    credits_reserved: int = 0
    credits_spent: int = 0
    is_favourite: bool = False
    error_message: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    latency_ms: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    completed_at: datetime | None = None
    deleted_at: datetime | None = None
    # The durable job: a running generation is worked on by whoever holds its lease,
    # renewed by that worker's heartbeat; a lapsed lease lets another worker resume it.
    attempts: int = 0
    lease_owner: str | None = Field(default=None, max_length=120)
    # The owner's liveness key on PostgreSQL (a session advisory lock it holds while alive).
    lease_key: int | None = None
    lease_expires_at: datetime | None = None
    enqueued_at: datetime | None = None
    # A region edit is a generation of its own, made from a result of its parent.
    parent_id: int | None = Field(default=None, foreign_key="generation.id")
    # The kit chosen on New Ad (a copy of it is in `options`, so editing the kit later
    # does not rewrite history); None when no kit was used or it was deleted since.
    brand_kit_id: int | None = None


class GenerationOutput(SQLModel, table=True):
    """What became of one variation of a generation: an image, or a final failure.

    One row per (generation, index), so a variation retried after a crash, or run twice
    by a duplicate delivery, is stored (and charged) once.
    """

    __tablename__ = "generation_output"
    __table_args__ = (
        UniqueConstraint("generation_id", "index", name="uq_generation_output_index"),
    )

    id: int | None = Field(default=None, primary_key=True)
    generation_id: int = Field(foreign_key="generation.id")
    index: int
    sha256: str | None = Field(default=None, max_length=64)  # None: this variation failed
    error_code: str | None = Field(default=None, max_length=40)
    error_message: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    attempt: int = 1
    created_at: datetime = Field(default_factory=utcnow)


class BrandKit(SQLModel, table=True):
    """A brand kit: logo, colours with roles, font, tone of voice and words to avoid."""

    __tablename__ = "brand_kit"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_brand_kit_name"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    name: str = Field(max_length=80)
    is_default: bool = False
    logo_sha256: str = Field(default="", max_length=64)  # "" when the kit has no logo
    # Role (primary, secondary, accent, text, background) -> "#rrggbb".
    colors: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    font: str = Field(default="inter", max_length=40)  # a bundled font's key, or "upload"
    font_sha256: str = Field(default="", max_length=64)  # the uploaded font, sanitised
    font_name: str = Field(default="", max_length=120)  # the uploaded font's family name
    tone: str = Field(default="", sa_column=Column(Text, nullable=False))
    avoid_words: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AdDraft(SQLModel, table=True):
    """The New Ad form a user is filling in, so a reload or a restart does not lose it."""

    __tablename__ = "ad_draft"

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    source_sha256: str = Field(default="", max_length=64)
    options: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class WebhookEvent(SQLModel, table=True):
    """Razorpay webhook events already processed, so a replay changes nothing; with when
    and how each was processed, for the admin console's webhook log."""

    __tablename__ = "webhook_event"
    __table_args__ = (Index("ix_webhook_event_received", "received_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=80, unique=True)
    event_type: str = Field(max_length=60)
    outcome: str = Field(default="", max_length=40)
    received_at: datetime = Field(default_factory=utcnow)
    processed_at: datetime | None = None
    # What went wrong applying it (a malformed event, a refund Razorpay could not take).
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class WebhookRejection(SQLModel, table=True):
    """A webhook delivery refused because its signature did not verify (answered 400,
    nothing applied), kept for the admin console's log. What it claims to be is unverified."""

    __tablename__ = "webhook_rejection"
    __table_args__ = (Index("ix_webhook_rejection_received", "received_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    body_sha256: str = Field(max_length=64, unique=True)
    claimed_event_id: str = Field(default="", max_length=80)
    claimed_type: str = Field(default="", max_length=60)
    reason: str = Field(max_length=200)
    received_at: datetime = Field(default_factory=utcnow)


class StoredImage(SQLModel, table=True):
    """Who owns which stored file. Files are stored once by content hash; rows grant access."""

    __tablename__ = "stored_image"
    __table_args__ = (UniqueConstraint("user_id", "sha256", "kind", name="uq_stored_image_owner"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    sha256: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=10)  # ImageKind.SOURCE or ImageKind.RESULT
    width: int
    height: int
    created_at: datetime = Field(default_factory=utcnow)


class UsageEvent(SQLModel, table=True):
    """One row per finished generation, for analytics."""

    __tablename__ = "usage_event"
    __table_args__ = (Index("ix_usage_event_created", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    generation_id: int = Field(foreign_key="generation.id")
    provider: str = Field(max_length=20)
    model: str = Field(max_length=64)
    images_requested: int
    images_delivered: int
    latency_ms: int
    outcome: str = Field(max_length=20)
    error_class: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow)


class Collection(SQLModel, table=True):
    """A named folder of generations."""

    __tablename__ = "collection"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_collection_user_name"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    name: str = Field(max_length=80)
    created_at: datetime = Field(default_factory=utcnow)


class CollectionItem(SQLModel, table=True):
    __tablename__ = "collection_item"

    collection_id: int = Field(foreign_key="collection.id", primary_key=True)
    generation_id: int = Field(foreign_key="generation.id", primary_key=True, index=True)
    added_at: datetime = Field(default_factory=utcnow)


class UserTemplate(SQLModel, table=True):
    """A user's saved instructions and options, offered on New Ad next to the built-ins."""

    __tablename__ = "user_template"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_user_template_name"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    name: str = Field(max_length=80)
    options: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class GatewayPlan(SQLModel, table=True):
    """A subscription plan as created at Razorpay: one per API key and set of terms, since
    Razorpay plans cannot be edited and test and live keys see different plans."""

    __tablename__ = "gateway_plan"
    __table_args__ = (
        UniqueConstraint(
            "key_id", "plan_code", "price_paise", "period", "interval", name="uq_gateway_plan_terms"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    key_id: str = Field(max_length=64)
    plan_code: str = Field(max_length=40)
    price_paise: int
    period: str = Field(max_length=10)
    interval: int
    credits: int  # what a cycle grants (kept for charges of a plan since withdrawn)
    provider_plan_id: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)


class Subscription(SQLModel, table=True):
    """A buyer's Razorpay subscription; each charged cycle is a `PaymentOrder` of its own.

    `status` moves only forward in time: `status_at` is the Razorpay time (Unix seconds) of
    the newest event or answer it was taken from, so a late, older event changes nothing,
    and cancelled, completed and expired are final.
    """

    __tablename__ = "subscription"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    plan_code: str = Field(max_length=40)
    # A plan change scheduled for the end of the current cycle.
    next_plan_code: str | None = Field(default=None, max_length=40)
    provider: str = Field(default=CheckoutMode.RAZORPAY, max_length=20)
    provider_subscription_id: str = Field(max_length=64, unique=True)
    status: str = Field(default=SubscriptionStatus.CREATED, max_length=20)
    status_at: int = 0
    # "<user id>" while this is the buyer's current subscription (one at a time).
    holder_key: str | None = Field(default=None, max_length=40, unique=True)
    paid_count: int = 0
    current_end: datetime | None = None
    cancel_at_cycle_end: bool = False
    short_url: str = Field(default="", max_length=255)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Quote(SQLModel, table=True):
    """An enterprise quote: credits for an agreed amount, paid through a Razorpay Payment
    Link. Its order (kind "quote") is fulfilled like any other once the link is paid."""

    __tablename__ = "quote"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="payment_order.id", unique=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    # The buyer's GSTIN for this quote's invoice (else their billing profile's).
    gstin: str | None = Field(default=None, max_length=15)
    reference_id: str = Field(max_length=40, unique=True)
    provider_link_id: str | None = Field(default=None, max_length=64, unique=True)
    short_url: str = Field(default="", max_length=255)
    status: str = Field(default=QuoteStatus.CREATED, max_length=20)
    expire_by: datetime
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class BillingProfile(SQLModel, table=True):
    """Who a buyer's tax invoices are made out to; read when each document is issued."""

    __tablename__ = "billing_profile"

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    legal_name: str = Field(max_length=200)
    address_line1: str = Field(max_length=200)
    address_line2: str = Field(default="", max_length=200)
    city: str = Field(max_length=100)
    pin_code: str = Field(max_length=6)
    state_code: str = Field(max_length=2)  # GST State code, e.g. "29"
    gstin: str | None = Field(default=None, max_length=15)
    updated_at: datetime = Field(default_factory=utcnow)


class DocumentCounter(SQLModel, table=True):
    """The last number given in a series (invoices or credit notes) in one financial year.

    Numbers are taken under this row's lock in the transaction that records the payment or
    refund, so a rolled-back transaction gives its number back: no gaps, no repeats.
    """

    __tablename__ = "document_counter"

    kind: str = Field(max_length=20, primary_key=True)
    financial_year: str = Field(max_length=7, primary_key=True)  # "2026-27"
    last_number: int = 0


class TaxDocument(SQLModel, table=True):
    """A GST tax invoice (for a payment) or credit note (for a refund of an invoiced one).

    Everything printed is kept here as issued (supplier, buyer, place of supply, amounts),
    so a document reads the same whatever changes later. Amounts in paise; the tax lines
    add up to the total exactly (checked by `python -m adremix invoices verify`).
    """

    __tablename__ = "tax_document"
    __table_args__ = (
        UniqueConstraint("kind", "financial_year", "sequence", name="uq_tax_document_sequence"),
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{kind}'" for kind in DocumentKind) + ")",
            name="ck_tax_document_kind",
        ),
        CheckConstraint(
            "taxable_paise >= 0 AND cgst_paise >= 0 AND sgst_paise >= 0 AND igst_paise >= 0 "
            "AND taxable_paise + cgst_paise + sgst_paise + igst_paise = total_paise",
            name="ck_tax_document_amounts",
        ),
        Index("ix_tax_document_user_issued", "user_id", "issued_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    number: str = Field(max_length=16, unique=True)
    financial_year: str = Field(max_length=7)
    sequence: int
    issued_at: datetime
    # "payment:<id>" for an invoice, "refund:<id>" for a credit note: one document each.
    source_key: str = Field(max_length=40, unique=True)
    user_id: int = Field(foreign_key="user.id")
    payment_id: int = Field(foreign_key="payment.id", index=True)
    refund_id: int | None = Field(default=None, foreign_key="payment_refund.id")
    # A credit note's invoice, and its number and date as printed on the note.
    original_id: int | None = Field(default=None, foreign_key="tax_document.id")
    order_receipt: str = Field(max_length=40)
    description: str = Field(max_length=200)
    credits: int
    supplier_name: str = Field(max_length=200)
    supplier_address: str = Field(sa_column=Column(Text, nullable=False))
    supplier_gstin: str = Field(max_length=15)
    supplier_state: str = Field(max_length=2)
    buyer_name: str = Field(max_length=200)
    buyer_email: str = Field(max_length=320)
    buyer_address: str = Field(sa_column=Column(Text, nullable=False))
    buyer_state: str = Field(max_length=2)
    buyer_gstin: str | None = Field(default=None, max_length=15)
    place_of_supply: str = Field(max_length=2)
    sac: str = Field(max_length=8)
    rate_percent: int
    taxable_paise: int
    cgst_paise: int
    sgst_paise: int
    igst_paise: int
    total_paise: int
    delivery_status: str = Field(default=DeliveryStatus.PENDING, max_length=20)
    delivery_claimed_at: datetime | None = None
    delivered_at: datetime | None = None
    delivery_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)


# --- the admin console ---------------------------------------------------------------------

# Sorted like the byte order of UTF-8 on both databases, so that a prefix is a range of
# the index: SQLite's default (BINARY) is; PostgreSQL's default collation follows the
# locale (which may ignore punctuation), hence "C" there.
SEARCH_TERM = String(120).with_variant(String(120, collation="C"), "postgresql")


class UserSearchTerm(SQLModel, table=True):
    """What a user is found by in the admin console: lower-cased e-mail address, its local
    part and domain, the name and each word of it. A search is a prefix of a term, so an
    index range answers it on 100,000 users."""

    __tablename__ = "user_search_term"
    # A broad search walks users and probes each one's terms: the term in the index
    # answers that probe without reading the row.
    __table_args__ = (Index("ix_user_search_term_user_term", "user_id", "term"),)

    term: str = Field(sa_column=Column(SEARCH_TERM, primary_key=True))
    user_id: int = Field(foreign_key="user.id", primary_key=True)


# How long a prefix of a search term `user_search_prefix` keeps: a longer search is
# answered from the range of its first SEARCH_PREFIX_MAX characters, each user in it
# checked against their terms.
SEARCH_PREFIX_MAX = 10
SEARCH_PREFIX = String(SEARCH_PREFIX_MAX).with_variant(
    String(SEARCH_PREFIX_MAX, collation="C"), "postgresql"
)


class UserSearchPrefix(SQLModel, table=True):
    """Every prefix (up to SEARCH_PREFIX_MAX characters) of a user's search terms, once per
    user, with the user's sign-up time: the edge n-grams a search engine keeps. A search
    (a prefix) is then one range of the key, already newest (or oldest) first, so the
    Users table's first page of a search matching thousands of users reads 51 entries
    instead of sorting them all or probing user after user.

    Kept with the terms (services/accounts/users.py `reindex_user`, in the same
    transaction); `created_at` follows the user's by a trigger (migration 0014)."""

    __tablename__ = "user_search_prefix"
    __table_args__ = (
        # A user's prefixes, for re-indexing them and for the trigger.
        Index("ix_user_search_prefix_user", "user_id", "prefix"),
        # The key is the row: SQLite keeps no second copy of each entry in a rowid table.
        {"sqlite_with_rowid": False},
    )

    prefix: str = Field(sa_column=Column(SEARCH_PREFIX, primary_key=True))
    created_at: datetime = Field(primary_key=True)
    user_id: int = Field(foreign_key="user.id", primary_key=True)


class AuditEntry(SQLModel, table=True):
    """One admin action, append-only (database triggers refuse UPDATE and DELETE).

    `entry_hash` is the SHA-256 of the entry's fields and `prev_hash` (the hash of the entry
    before it): a hash chain that `python -m adremix audit verify` walks, so an entry edited
    or removed in the database shows. `before` and `after` are JSON text, hashed as stored.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_action", "action", "seq"),
        Index("ix_audit_entry_target", "target_type", "target_id", "seq"),
        Index("ix_audit_entry_actor", "actor_id", "created_at"),
        Index("ix_audit_entry_created", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True)  # 1, 2, 3, ... the chain's order
    created_at: datetime = Field(default_factory=utcnow)
    # Who: the staff member's user id (None for the command line) and, as it was then,
    # their e-mail address and role.
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    actor: str = Field(max_length=320)
    actor_role: str = Field(max_length=20)
    action: str = Field(max_length=40)  # an AuditAction
    target_type: str = Field(max_length=20)  # "user", "payment", "order", "export", ...
    target_id: str = Field(max_length=80)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    before: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    after: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    # The form's intent: a repeated submission finds its entry instead of acting again.
    idempotency_key: str | None = Field(default=None, max_length=120, unique=True)
    prev_hash: str = Field(max_length=64)
    entry_hash: str = Field(max_length=64, unique=True)


class AuditHead(SQLModel, table=True):
    """The chain's last entry (one row, id 1), locked by every append so entries queue and
    chain in order; also lets `audit verify` notice entries removed from the end."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    entry_hash: str = Field(max_length=64)


class AdminRefund(SQLModel, table=True):
    """A refund an admin asked for in the console, from the claim to Razorpay's answer.

    `in_flight_key` holds the payment's id while a refund of it is being asked of Razorpay
    (unique: two admins cannot both be refunding one payment), and `idempotency_key` is the
    X-Refund-Idempotency key, so a retry after no answer can never refund twice.
    """

    __tablename__ = "admin_refund"

    id: int | None = Field(default=None, primary_key=True)
    payment_id: int = Field(foreign_key="payment.id", index=True)
    amount_paise: int
    reason: str = Field(sa_column=Column(Text, nullable=False))
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    idempotency_key: str = Field(max_length=80, unique=True)
    in_flight_key: str | None = Field(default=None, max_length=40, unique=True)
    status: str = Field(default=AdminRefundStatus.REQUESTED, max_length=20)
    provider_refund_id: str | None = Field(default=None, max_length=64)
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class MetricsDay(SQLModel, table=True):
    """One day's business figures (India's calendar day), summed once from the rows that
    make them, so the console's Overview reads a year in a few hundred rows.

    Money in paise from the GST register (invoices less credit notes); credits from the
    ledger, by kind; generations from usage events (latency in a histogram: one column per
    bucket, see LATENCY_BUCKETS_MS in services/admin/metrics.py, so a range of days is
    read as plain integers, with nothing to decode).
    """

    __tablename__ = "metrics_day"

    day: date = Field(primary_key=True)
    signups: int = 0
    invoiced_paise: int = 0
    credit_noted_paise: int = 0
    gst_paise: int = 0  # tax on invoices less tax reversed by credit notes
    credits_purchased: int = 0
    credits_clawed: int = 0  # taken back by refunds (a negative movement, stored positive)
    credits_spent: int = 0  # on generations, before refunds of failed images
    credits_refunded: int = 0  # failed images given back
    credits_bonus: int = 0
    credits_adjusted: int = 0  # admin adjustments, net
    credits_other: int = 0  # any other kind of movement, net
    generations: int = 0
    generations_succeeded: int = 0
    generations_partial: int = 0
    generations_failed: int = 0
    latency_ms_total: int = 0
    # How many generations took at most 1 s, 2 s, ... 300 s, and longer.
    latency_le_1s: int = 0
    latency_le_2s: int = 0
    latency_le_5s: int = 0
    latency_le_10s: int = 0
    latency_le_20s: int = 0
    latency_le_30s: int = 0
    latency_le_60s: int = 0
    latency_le_120s: int = 0
    latency_le_300s: int = 0
    latency_over_300s: int = 0
    # Every balance together at the end of this day: the net credit movement of this day
    # and all before it, kept by the refresh that changes a day (see services/admin/metrics.py).
    credits_net_through: int = 0


class MetricsWatermark(SQLModel, table=True):
    """How far each source table has been summed into `metrics_day`: every row with an id
    up to `last_id` (see services/admin/metrics.py for why ids, and why a lag)."""

    __tablename__ = "metrics_watermark"

    source: str = Field(max_length=40, primary_key=True)
    last_id: int = 0
