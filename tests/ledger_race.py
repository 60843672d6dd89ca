"""Ledger test helpers: a funded user, many concurrent spends against one balance (used by
tests and the benchmark)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine

from adremix.db import engine_for, session_scope
from adremix.services import ledger
from tests.conftest import make_user


def funded_user(url: str, credits: int, email: str = "spender@example.com") -> int:
    """A new user holding `credits`, granted through the ledger (so `ledger verify` holds)."""
    user_id = make_user(url, email=email)
    with session_scope(engine_for(url)) as session:
        ledger.grant(
            session=session,
            user_id=user_id,
            amount=credits,
            kind="purchase",
            idempotency_key=f"fund:{email}",
        )
    return user_id


def spend_concurrently(
    engine: Engine, *, user_id: int, attempts: int, workers: int, prefix: str = "race"
) -> tuple[int, int]:
    """`attempts` spends of 1 credit on `workers` threads; returns (succeeded, refused)."""

    def one(index: int) -> bool:
        try:
            with session_scope(engine) as session:
                ledger.spend(
                    session=session, user_id=user_id, amount=1, idempotency_key=f"{prefix}:{index}"
                )
            return True
        except ledger.InsufficientCredits:
            return False

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(one, range(attempts)))
    return sum(results), results.count(False)
