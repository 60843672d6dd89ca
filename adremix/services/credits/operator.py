"""What an operator does to credits from the command line, each its own transaction."""

from __future__ import annotations

from adremix.db import session_scope
from adremix.services.credits.ledger import Entry, adjust_by_admin


def grant_by_operator(*, email: str, amount: int, reason: str, idempotency_key: str) -> Entry:
    """`python -m adremix credits grant`: positive grants, negative takes (never below zero)."""
    with session_scope() as session:
        return adjust_by_admin(
            session=session,
            email=email,
            amount=amount,
            reason=reason,
            idempotency_key=idempotency_key,
        )
