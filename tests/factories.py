"""Rows and inputs for tests, made through the app's own code where it has a way.

Each factory uses the database the `database_url` / `postgres_url` fixture configured.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from PIL import Image

from adremix.db import session_scope
from adremix.enums import CreditKind, GenerationStatus
from adremix.models import Generation, User
from adremix.services import credits, payments
from adremix.services.generation import DEFAULT_OPTIONS

BASE_TIME = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def make_user(email: str = "buyer@example.com", name: str = "Buyer") -> int:
    with session_scope() as session:
        user = User(email=email, name=name)
        session.add(user)
        session.flush()
        assert user.id is not None
        return user.id


def make_staff(email: str = "staff@example.com", role: str = "admin") -> int:
    """A user with an admin console role granted (as `roles grant` stores it)."""
    with session_scope() as session:
        user = User(email=email, name=email.split("@")[0].title(), role=role)
        session.add(user)
        session.flush()
        assert user.id is not None
        return user.id


def funded_user(amount: int, email: str = "maker@example.com") -> int:
    """A user who bought `amount` credits."""
    user_id = make_user(email=email)
    give_credits(user_id, amount, key="fund", kind=CreditKind.PURCHASE)
    return user_id


def balance(user_id: int) -> int:
    with session_scope() as session:
        return credits.get_balance(session=session, user_id=user_id)


def give_credits(
    user_id: int, amount: int, key: str = "gift", kind: CreditKind = CreditKind.SIGNUP_BONUS
) -> None:
    """Credits from elsewhere (a bonus), e.g. so a clawback has more than the pack to take."""
    with session_scope() as session:
        credits.grant(
            session=session,
            user_id=user_id,
            amount=amount,
            kind=kind,
            idempotency_key=f"{key}:{user_id}",
        )


def spend_credits(user_id: int, amount: int, key: str = "spent") -> None:
    with session_scope() as session:
        credits.spend(
            session=session, user_id=user_id, amount=amount, idempotency_key=f"{key}:{user_id}"
        )


def add_generation(user_id: int, n: int = 1, **fields: Any) -> int:
    """A generation row as a finished job leaves it; `n` makes ids, keys and times unique."""
    values: dict[str, Any] = {
        "user_id": user_id,
        "client_request_id": f"r{user_id}-{n}",
        "status": GenerationStatus.SUCCEEDED,
        "instructions": f"ad number {n}",
        "template": DEFAULT_OPTIONS.template,
        "placement": DEFAULT_OPTIONS.placement,
        "quality": DEFAULT_OPTIONS.quality,
        "variations": DEFAULT_OPTIONS.variations,
        "source_image_hash": "0" * 64,
        "provider": "offline",
        "cache_key": f"k{user_id}-{n}",
        "created_at": BASE_TIME + timedelta(hours=n),
    }
    values.update(fields)
    with session_scope() as session:
        row = Generation(**values)
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def jpeg(color: tuple[int, int, int] = (200, 60, 40), size: tuple[int, int] = (900, 700)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="JPEG")
    return buffer.getvalue()


def buy(user_id: int, package: str = "starter") -> payments.Checkout:
    """Press Buy on a pack, as the Credits page does."""
    return payments.start_purchase(user_id=user_id, package_code=package)


def confirm(user_id: int, paid: dict[str, str]) -> payments.ConfirmedOrder:
    """The checkout's success handler, as the Credits page calls it."""
    return payments.confirm_checkout(
        user_id=user_id,
        provider_order_id=paid["razorpay_order_id"],
        payment_id=paid["razorpay_payment_id"],
        signature=paid["razorpay_signature"],
    )
