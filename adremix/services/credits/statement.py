"""A user's credit statement: the Credits page's ledger table and its CSV export."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select

from adremix.db import session_scope
from adremix.models import CreditTransaction
from adremix.services.credits.ledger import count_entries, list_entries

COLUMNS = ["date_utc", "kind", "amount", "balance_after", "reference", "reason"]


@dataclass(frozen=True)
class StatementLine:
    created_at: datetime
    kind: str
    amount: int
    balance_after: int
    reference: str
    reason: str


@dataclass(frozen=True)
class StatementPage:
    lines: list[StatementLine]
    total: int  # entries in the whole ledger, for the pager


def _line(row: CreditTransaction) -> StatementLine:
    return StatementLine(
        created_at=row.created_at,
        kind=row.kind,
        amount=row.amount,
        balance_after=row.balance_after,
        reference=row.reference or "",
        reason=row.reason or "",
    )


def statement_page(*, user_id: int, page: int, page_size: int) -> StatementPage:
    """One page (from 0) of the user's ledger entries, newest first."""
    with session_scope() as session:
        total = count_entries(session=session, user_id=user_id)
        rows = list_entries(
            session=session, user_id=user_id, limit=page_size, offset=page * page_size
        )
        return StatementPage(lines=[_line(row) for row in rows], total=total)


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
