"""Document numbers: consecutive and unique per series and financial year, with no gaps.

A number is taken in the same transaction that records the payment (or refund) it is
for, under the row lock of that series' counter for the financial year: `SELECT ... FOR
UPDATE` on PostgreSQL; on SQLite the engine's `BEGIN IMMEDIATE` already holds the write
lock. Concurrent payments therefore queue on the counter row, each reads the number the
previous one committed, and a transaction that rolls back rolls its number back with it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session, select

from adremix.db import dialect_insert
from adremix.enums import DocumentKind
from adremix.models import DocumentCounter, utcnow
from adremix.services.billing.gst import financial_year

MAX_NUMBER_LENGTH = 16  # Rule 46(b): "not exceeding sixteen characters"


def format_number(prefix: str, fy: str, sequence: int) -> str:
    """`AR/26-27/000042`: letters, digits, `-` and `/` only, at most 16 characters."""
    number = f"{prefix}/{fy[2:]}/{sequence:06d}"
    if len(number) > MAX_NUMBER_LENGTH:
        raise OverflowError(f"Document number {number!r} would exceed 16 characters.")
    return number


def _ensure_counter(session: Session, kind: DocumentKind, fy: str) -> None:
    """The series' row for this year exists (the year's first document creates it)."""
    session.execute(
        dialect_insert(session, DocumentCounter.__table__)  # type: ignore[attr-defined]
        .values(kind=kind, financial_year=fy, last_number=0)
        .on_conflict_do_nothing(index_elements=["kind", "financial_year"])
    )


def _lock_counter(session: Session, kind: DocumentKind, fy: str) -> DocumentCounter:
    _ensure_counter(session, kind, fy)
    counter = session.exec(
        select(DocumentCounter)
        .where(DocumentCounter.kind == kind, DocumentCounter.financial_year == fy)
        .with_for_update()
        .execution_options(populate_existing=True)  # the locked row, not a cached copy
    ).one()
    return counter


def take_number(
    session: Session,
    *,
    kind: DocumentKind,
    issued_at: datetime | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> tuple[str, int, datetime]:
    """Take the next number of `kind`'s series, in the caller's transaction.

    Returns (financial year, sequence, issue time). Without `issued_at` the issue time is
    read after the counter is locked, so numbers and dates rise together; if the
    financial year turned while waiting for the lock, the new year's series is used.
    """
    fy = financial_year(issued_at or clock())
    counter = _lock_counter(session, kind, fy)
    if issued_at is None:
        issued_at = clock()
        if financial_year(issued_at) != fy:
            fy = financial_year(issued_at)
            counter = _lock_counter(session, kind, fy)
    counter.last_number += 1
    session.add(counter)
    session.flush()
    return fy, counter.last_number, issued_at
