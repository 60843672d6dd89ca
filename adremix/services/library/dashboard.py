"""Dashboard figures: credits used per day, this month's generations, success rate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case, func
from sqlmodel import Session, select

from adremix.db import session_scope
from adremix.enums import FINISHED_GENERATION_STATUSES, CreditKind, GenerationStatus
from adremix.models import CreditTransaction, Generation, utcnow
from adremix.services.library.history import HistoryFilter, HistoryItem, query_history

SPEND_KINDS = (CreditKind.GENERATION, CreditKind.GENERATION_REFUND)
RECENT_COUNT = 6


@dataclass(frozen=True)
class DashboardStats:
    credits_per_day: list[tuple[str, int]]
    generations_this_month: int
    success_rate_percent: int | None
    images_this_month: int


def dashboard_stats(session: Session, *, user_id: int, today: date | None = None) -> DashboardStats:
    today = today or utcnow().date()
    start = today - timedelta(days=29)
    start_at = datetime.combine(start, time.min, tzinfo=UTC)
    end_at = datetime.combine(today + timedelta(days=1), time.min, tzinfo=UTC)
    day = func.date(CreditTransaction.created_at)
    used = session.exec(
        select(day, -func.sum(CreditTransaction.amount))
        .where(
            CreditTransaction.user_id == user_id,
            CreditTransaction.kind.in_(SPEND_KINDS),  # type: ignore[attr-defined]
            CreditTransaction.created_at >= start_at,
            CreditTransaction.created_at < end_at,
        )
        .group_by(day)
    ).all()
    by_day = {str(row[0]): int(row[1] or 0) for row in used}
    series = [
        (
            (start + timedelta(days=i)).isoformat(),
            by_day.get((start + timedelta(days=i)).isoformat(), 0),
        )
        for i in range(30)
    ]
    month_start = datetime.combine(today.replace(day=1), time.min, tzinfo=UTC)
    next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    month_end = datetime.combine(next_month, time.min, tzinfo=UTC)
    count, ok, images = session.exec(
        select(
            func.count(Generation.id),
            func.sum(case((Generation.status == GenerationStatus.SUCCEEDED, 1), else_=0)),
            func.sum(Generation.credits_spent),
        ).where(
            Generation.user_id == user_id,
            Generation.created_at >= month_start,
            Generation.created_at < month_end,
            Generation.status.in_(FINISHED_GENERATION_STATUSES),  # type: ignore[attr-defined]
        )
    ).one()
    rate = round(100 * int(ok or 0) / count) if count else None
    return DashboardStats(
        credits_per_day=series,
        generations_this_month=int(count or 0),
        success_rate_percent=rate,
        images_this_month=int(images or 0),
    )


@dataclass(frozen=True)
class Dashboard:
    stats: DashboardStats
    recent: list[HistoryItem]


def dashboard(*, user_id: int) -> Dashboard:
    """The landing page: this month's figures and the latest generations."""
    with session_scope() as session:
        return Dashboard(
            stats=dashboard_stats(session, user_id=user_id),
            recent=query_history(
                session=session, user_id=user_id, filters=HistoryFilter(), page_size=RECENT_COUNT
            ).items,
        )
