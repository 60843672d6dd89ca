"""A user's credit ledger as CSV."""

from __future__ import annotations

import csv
import io

from sqlmodel import select

from adremix.db import session_scope
from adremix.models import CreditTransaction

COLUMNS = ["date_utc", "kind", "amount", "balance_after", "reference", "reason"]


def ledger_csv(*, user_id: int) -> str:
    with session_scope() as session:
        rows = session.exec(
            select(CreditTransaction)
            .where(CreditTransaction.user_id == user_id)
            .order_by(CreditTransaction.created_at, CreditTransaction.id)  # type: ignore[arg-type]
        ).all()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                row.kind,
                row.amount,
                row.balance_after,
                row.reference or "",
                row.reason or "",
            ]
        )
    return buffer.getvalue()
