"""The Overview's figures: revenue, credits, generations and sign-ups per day.

Summing a year of a million ledger entries on every page load would take seconds, so
each day's figures are summed once into `metrics_day` (India's calendar day, as invoices
use). Each source table is read by id, from where the last refresh stopped
(`metrics_watermark`): its rows are inserted and never changed (ledger entries, sign-ups,
tax documents, usage events), so rows up to an id, once summed, stay summed. A refresh
only goes as far as the first row younger than `LAG`: a transaction still open may yet
commit a row with a smaller id than one already visible, and no transaction here lasts
minutes. What a refresh has not reached yet (the last minutes) is summed from the rows
themselves when the Overview is read, so the figures are always complete.

Refreshes run in the background (adremix.py) and are safe to run anywhere at once: the
watermark rows are locked while one runs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Table, bindparam, func, select
from sqlmodel import Session

from adremix.db import session_scope
from adremix.enums import CreditKind, GenerationStatus
from adremix.models import (
    CreditTransaction,
    MetricsDay,
    MetricsWatermark,
    TaxDocument,
    UsageEvent,
    User,
    utcnow,
)
from adremix.services import billing
from adremix.services.admin.access import Permission, require
from adremix.services.billing import ist_date

LAG = timedelta(minutes=10)
# Upper bounds (ms) of the latency histogram's buckets; the last one is open.
LATENCY_BUCKETS_MS = (1_000, 2_000, 5_000, 10_000, 20_000, 30_000, 60_000, 120_000, 300_000)
LEDGER_COLUMNS = {
    CreditKind.PURCHASE: "credits_purchased",
    CreditKind.PURCHASE_REFUND: "credits_clawed",
    CreditKind.GENERATION: "credits_spent",
    CreditKind.GENERATION_REFUND: "credits_refunded",
    CreditKind.SIGNUP_BONUS: "credits_bonus",
    CreditKind.ADMIN_ADJUSTMENT: "credits_adjusted",
}
# Stored positive: these kinds only ever take credits.
TAKING_KINDS = (CreditKind.PURCHASE_REFUND, CreditKind.GENERATION)
COUNTERS = (
    "signups",
    "invoiced_paise",
    "credit_noted_paise",
    "gst_paise",
    "credits_purchased",
    "credits_clawed",
    "credits_spent",
    "credits_refunded",
    "credits_bonus",
    "credits_adjusted",
    "credits_other",
    "generations",
    "generations_succeeded",
    "generations_partial",
    "generations_failed",
    "latency_ms_total",
)


@dataclass
class DayFigures:
    """One day's sums, as `metrics_day` stores them."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    histogram: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS_MS) + 1))

    def add(self, other: DayFigures) -> None:
        for name, value in other.counts.items():
            self.counts[name] += value
        self.histogram = [
            a + b for a, b in zip(self.histogram, _padded(other.histogram), strict=True)
        ]

    @property
    def net_credits(self) -> int:
        """The day's movement of all balances together."""
        c = self.counts
        return (
            c["credits_purchased"]
            - c["credits_clawed"]
            - c["credits_spent"]
            + c["credits_refunded"]
            + c["credits_bonus"]
            + c["credits_adjusted"]
            + c["credits_other"]
        )


def _padded(histogram: list[int]) -> list[int]:
    size = len(LATENCY_BUCKETS_MS) + 1
    return (list(histogram) + [0] * size)[:size]


def _bucket(latency_ms: int) -> int:
    for index, bound in enumerate(LATENCY_BUCKETS_MS):
        if latency_ms <= bound:
            return index
    return len(LATENCY_BUCKETS_MS)


Folded = dict[date, DayFigures]


def _id_range(query, table: Table, after_id: int, through_id: int | None):  # type: ignore[no-untyped-def]
    query = query.where(table.c.id > after_id)
    return query.where(table.c.id <= through_id) if through_id is not None else query


def _fold_ledger(session: Session, after_id: int, through_id: int | None) -> Folded:
    table = CreditTransaction.__table__  # type: ignore[attr-defined]
    days: Folded = defaultdict(DayFigures)
    query = select(table.c.created_at, table.c.kind, table.c.amount)
    for created_at, kind, amount in session.execute(_id_range(query, table, after_id, through_id)):
        column = LEDGER_COLUMNS.get(kind, "credits_other")
        days[ist_date(created_at)].counts[column] += -amount if kind in TAKING_KINDS else amount
    return days


def _fold_signups(session: Session, after_id: int, through_id: int | None) -> Folded:
    table = User.__table__  # type: ignore[attr-defined]
    days: Folded = defaultdict(DayFigures)
    query = select(table.c.created_at)
    for (created_at,) in session.execute(_id_range(query, table, after_id, through_id)):
        days[ist_date(created_at)].counts["signups"] += 1
    return days


def _fold_register(session: Session, after_id: int, through_id: int | None) -> Folded:
    days: Folded = defaultdict(DayFigures)
    for day, totals in billing.register_by_day(
        session, after_id=after_id, through_id=through_id
    ).items():
        counts = days[day].counts
        counts["invoiced_paise"] += totals.invoiced_paise
        counts["credit_noted_paise"] += totals.credit_noted_paise
        counts["gst_paise"] += totals.gst_paise
    return days


def _fold_generations(session: Session, after_id: int, through_id: int | None) -> Folded:
    table = UsageEvent.__table__  # type: ignore[attr-defined]
    days: Folded = defaultdict(DayFigures)
    query = select(table.c.created_at, table.c.outcome, table.c.latency_ms)
    outcome_column = {
        GenerationStatus.SUCCEEDED: "generations_succeeded",
        GenerationStatus.PARTIAL: "generations_partial",
        GenerationStatus.FAILED: "generations_failed",
    }
    for created_at, outcome, latency in session.execute(
        _id_range(query, table, after_id, through_id)
    ):
        day = days[ist_date(created_at)]
        day.counts["generations"] += 1
        if outcome in outcome_column:
            day.counts[outcome_column[outcome]] += 1
        day.counts["latency_ms_total"] += latency
        day.histogram[_bucket(latency)] += 1
    return days


@dataclass(frozen=True)
class Source:
    name: str
    table: Table
    time_column: str
    fold: Callable[[Session, int, int | None], Folded]


SOURCES = (
    Source("ledger", CreditTransaction.__table__, "created_at", _fold_ledger),  # type: ignore[attr-defined]
    Source("signups", User.__table__, "created_at", _fold_signups),  # type: ignore[attr-defined]
    Source("register", TaxDocument.__table__, "issued_at", _fold_register),  # type: ignore[attr-defined]
    Source("generations", UsageEvent.__table__, "created_at", _fold_generations),  # type: ignore[attr-defined]
)


def _merge(into: Folded, more: Folded) -> None:
    for day, figures in more.items():
        into.setdefault(day, DayFigures()).add(figures)


def _locked_watermarks(session: Session) -> dict[str, MetricsWatermark]:
    """The watermark rows, locked (created the first time)."""
    found = {row.source: row for row in session.scalars(select(MetricsWatermark).with_for_update())}
    for source in SOURCES:
        if source.name not in found:
            found[source.name] = MetricsWatermark(source=source.name, last_id=0)
            session.add(found[source.name])
    session.flush()
    return found


def _watermarks(session: Session) -> dict[str, int]:
    """How far each source is summed (0: not yet), read without locking."""
    marks = dict(session.execute(select(MetricsWatermark.source, MetricsWatermark.last_id)).all())
    return {source.name: int(marks.get(source.name, 0)) for source in SOURCES}


def refresh_metrics() -> int:
    """Sum every source's rows older than LAG into `metrics_day`; returns how many days
    changed. Safe to run concurrently (the watermarks are locked) and to repeat."""
    cutoff = utcnow() - LAG
    with session_scope() as session:
        marks = _locked_watermarks(session)
        folded: Folded = {}
        for source in SOURCES:
            mark = marks[source.name]
            table, ids = source.table, source.table.c.id
            young = session.execute(
                select(func.min(ids)).where(
                    ids > mark.last_id, table.c[source.time_column] >= cutoff
                )
            ).scalar()
            through = (
                young - 1
                if young is not None
                else session.execute(select(func.max(ids)).where(ids > mark.last_id)).scalar()
            )
            if through is None or through <= mark.last_id:
                continue
            _merge(folded, source.fold(session, mark.last_id, through))
            mark.last_id = through
            session.add(mark)
        _store(session, folded)
        return len(folded)


def _store(session: Session, folded: Folded) -> None:
    if not folded:
        return
    stored = {
        row.day: row
        for row in session.scalars(
            select(MetricsDay).where(MetricsDay.day.in_(list(folded)))  # type: ignore[attr-defined]
        )
    }
    for day, figures in folded.items():
        row = stored.get(day) or MetricsDay(day=day, latency_histogram=[])
        for name, value in figures.counts.items():
            setattr(row, name, getattr(row, name) + value)
        row.latency_histogram = [
            a + b for a, b in zip(_padded(row.latency_histogram), figures.histogram, strict=True)
        ]
        session.add(row)
    session.flush()


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverviewDay:
    day: date
    signups: int
    gross_paise: int
    refunds_paise: int
    gst_paise: int
    credits_sold: int
    credits_consumed: int
    generations: int
    succeeded: int
    failed: int  # wholly or partly


@dataclass(frozen=True)
class Overview:
    start: date
    end: date
    gross_paise: int  # invoiced: money received for credits
    refunds_paise: int  # credit-noted: money given back
    gst_paise: int  # collected: invoices' tax less the tax credit notes reversed
    credits_sold: int
    credits_clawed: int
    credits_consumed: int  # spent on images, less images refunded
    credits_bonus: int
    credits_adjusted: int
    credits_outstanding: int  # every balance at the end of the range: the liability
    generations: int
    succeeded: int
    partial: int
    failed: int
    average_latency_ms: int
    p95_latency_ms: int  # the upper bound of the histogram bucket holding the 95th
    signups: int
    days: list[OverviewDay]

    @property
    def net_paise(self) -> int:
        return self.gross_paise - self.refunds_paise

    @property
    def success_rate(self) -> float:
        return self.succeeded / self.generations if self.generations else 0.0


_days = MetricsDay.__table__  # type: ignore[attr-defined]
# Built once, read as plain tuples: the Overview reads up to three years of days, and an
# ORM object per day cost more than the query.
_STORED_DAYS = select(
    _days.c.day, *(_days.c[name] for name in COUNTERS), _days.c.latency_histogram
).where(_days.c.day >= bindparam("start"), _days.c.day <= bindparam("end"))


def _row_figures(row) -> DayFigures:  # type: ignore[no-untyped-def]
    """A `_STORED_DAYS` row: (day, *COUNTERS, latency_histogram)."""
    return DayFigures(
        counts=dict(zip(COUNTERS, row[1:-1], strict=True)), histogram=_padded(row[-1])
    )


def _p95(histogram: list[int]) -> int:
    total = sum(histogram)
    if not total:
        return 0
    running = 0
    for index, count in enumerate(histogram):
        running += count
        if running >= 0.95 * total:
            return (
                LATENCY_BUCKETS_MS[index]
                if index < len(LATENCY_BUCKETS_MS)
                else LATENCY_BUCKETS_MS[-1] * 2
            )
    return LATENCY_BUCKETS_MS[-1]


def _day(day: date, figures: DayFigures) -> OverviewDay:
    c = figures.counts
    return OverviewDay(
        day=day,
        signups=c["signups"],
        gross_paise=c["invoiced_paise"],
        refunds_paise=c["credit_noted_paise"],
        gst_paise=c["gst_paise"],
        credits_sold=c["credits_purchased"],
        credits_consumed=c["credits_spent"] - c["credits_refunded"],
        generations=c["generations"],
        succeeded=c["generations_succeeded"],
        failed=c["generations_failed"] + c["generations_partial"],
    )


MAX_RANGE_DAYS = 366 * 3


def _net_before(session: Session, day: date) -> int:
    """All balances together at the start of `day`, from the summed days before it."""
    t = MetricsDay
    net = (
        t.credits_purchased
        - t.credits_clawed
        - t.credits_spent
        + t.credits_refunded
        + t.credits_bonus
        + t.credits_adjusted
        + t.credits_other
    )
    return int(session.execute(select(func.coalesce(func.sum(net), 0)).where(t.day < day)).scalar())


def overview_figures(session: Session, start: date, end: date) -> Overview:
    """The Overview of [start, end] (India's calendar days, both included)."""
    marks = _watermarks(session)
    stored = {
        row[0]: _row_figures(row)
        for row in session.execute(_STORED_DAYS, {"start": start, "end": end})
    }
    outstanding = _net_before(session, end + timedelta(days=1))
    recent: Folded = {}
    for source in SOURCES:
        _merge(recent, source.fold(session, marks[source.name], None))
    for day, figures in recent.items():
        if day <= end:
            outstanding += figures.net_credits
    _merge(stored, {day: f for day, f in recent.items() if start <= day <= end})
    total = DayFigures()
    days = []
    day = start
    while day <= end:
        figures = stored.get(day, DayFigures())
        total.add(figures)
        days.append(_day(day, figures))
        day += timedelta(days=1)
    c = total.counts
    return Overview(
        start=start,
        end=end,
        gross_paise=c["invoiced_paise"],
        refunds_paise=c["credit_noted_paise"],
        gst_paise=c["gst_paise"],
        credits_sold=c["credits_purchased"],
        credits_clawed=c["credits_clawed"],
        credits_consumed=c["credits_spent"] - c["credits_refunded"],
        credits_bonus=c["credits_bonus"],
        credits_adjusted=c["credits_adjusted"],
        credits_outstanding=outstanding,
        generations=c["generations"],
        succeeded=c["generations_succeeded"],
        partial=c["generations_partial"],
        failed=c["generations_failed"],
        average_latency_ms=c["latency_ms_total"] // c["generations"] if c["generations"] else 0,
        p95_latency_ms=_p95(total.histogram),
        signups=c["signups"],
        days=days,
    )


def overview(*, actor_id: int, start: date, end: date) -> Overview:
    """The Overview for staff; a range is at most three years."""
    if end < start:
        start, end = end, start
    start = max(start, end - timedelta(days=MAX_RANGE_DAYS - 1))
    with session_scope() as session:
        require(session, actor_id, Permission.VIEW)
        return overview_figures(session, start, end)


def today() -> date:
    """Today in India (the console's calendar)."""
    return ist_date(utcnow())
