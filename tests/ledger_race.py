"""Run many concurrent spends against one balance (used by tests and the benchmark)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine

from adremix.db import session_scope
from adremix.services import credits as ledger


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
