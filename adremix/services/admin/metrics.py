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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    JSON,
    ColumnElement,
    Integer,
    Select,
    String,
    Table,
    bindparam,
    func,
    literal,
    literal_column,
    null,
    select,
    union_all,
    update,
)
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
from adremix.services.admin.params import inline
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
            a + b for a, b in zip(_padded(self.histogram), _padded(other.histogram), strict=True)
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
# A source row, whatever the table: (time, kind or outcome, amount, second amount).
Row = tuple[datetime, str | None, int, int]


def _fold_ledger(days: Folded, row: Row) -> None:
    created_at, kind, amount, _ = row
    column = LEDGER_COLUMNS.get(kind, "credits_other")  # type: ignore[call-overload]
    days[ist_date(created_at)].counts[column] += -amount if kind in TAKING_KINDS else amount


def _fold_signups(days: Folded, row: Row) -> None:
    days[ist_date(row[0])].counts["signups"] += 1


def _fold_register(days: Folded, row: Row) -> None:
    issued_at, kind, total, taxable = row
    invoiced, credit_noted, gst = billing.register_amounts(kind or "", total, taxable)
    counts = days[ist_date(issued_at)].counts
    counts["invoiced_paise"] += invoiced
    counts["credit_noted_paise"] += credit_noted
    counts["gst_paise"] += gst


OUTCOME_COLUMNS = {
    GenerationStatus.SUCCEEDED: "generations_succeeded",
    GenerationStatus.PARTIAL: "generations_partial",
    GenerationStatus.FAILED: "generations_failed",
}


def _fold_generations(days: Folded, row: Row) -> None:
    created_at, outcome, latency, _ = row
    day = days[ist_date(created_at)]
    day.counts["generations"] += 1
    if outcome in OUTCOME_COLUMNS:
        day.counts[OUTCOME_COLUMNS[outcome]] += 1  # type: ignore[index]
    day.counts["latency_ms_total"] += latency
    day.histogram[_bucket(latency)] += 1


_NO_KIND = null().cast(String)
_ZERO = literal(0, Integer)


@dataclass(frozen=True)
class Source:
    """A table the daily figures are summed from: its rows (as `Row`s) and how one adds up."""

    name: str
    table: Table
    time_column: str
    row: tuple[ColumnElement[Any], ...]
    fold: Callable[[Folded, Row], None]

    def rows(self, after_id: ColumnElement[int], through_id: int | None = None) -> Select:  # type: ignore[type-arg]
        """This source's rows with ids in (after_id, through_id]."""
        ids = self.table.c.id
        query = select(*self.row).where(ids > after_id)
        return query.where(ids <= through_id) if through_id is not None else query

    def folded(self, rows: Iterable[Row]) -> Folded:
        days: Folded = defaultdict(DayFigures)
        for row in rows:
            self.fold(days, row)
        return days


_ledger = CreditTransaction.__table__  # type: ignore[attr-defined]
_signups = User.__table__  # type: ignore[attr-defined]
_register = TaxDocument.__table__  # type: ignore[attr-defined]
_usage = UsageEvent.__table__  # type: ignore[attr-defined]
SOURCES = (
    Source(
        "ledger",
        _ledger,
        "created_at",
        (_ledger.c.created_at, _ledger.c.kind, _ledger.c.amount, _ZERO),
        _fold_ledger,
    ),
    Source(
        "signups",
        _signups,
        "created_at",
        (_signups.c.created_at, _NO_KIND, _ZERO, _ZERO),
        _fold_signups,
    ),
    Source("register", _register, "issued_at", billing.REGISTER_ROW, _fold_register),  # type: ignore[arg-type]
    Source(
        "generations",
        _usage,
        "created_at",
        (_usage.c.created_at, _usage.c.outcome, _usage.c.latency_ms, _ZERO),
        _fold_generations,
    ),
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
            rows = session.execute(source.rows(literal(mark.last_id), through))
            _merge(folded, source.folded(rows))  # type: ignore[arg-type]
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
    # Each day from the first one changed keeps every balance together at its end.
    earlier = _days.alias("earlier")
    session.execute(
        update(_days)
        .where(_days.c.day >= min(folded))
        .values(
            credits_net_through=select(func.coalesce(func.sum(_net_of(earlier)), 0))
            .where(earlier.c.day <= _days.c.day)
            .scalar_subquery()
        )
    )


# --- reading --------------------------------------------------------------------------------


class OverviewDay(NamedTuple):
    """One day of the Overview's charts (a tuple with names: a range's hundreds of them are
    built on each page load, and a frozen dataclass costs three times as much to build)."""

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
_marks = MetricsWatermark.__table__  # type: ignore[attr-defined]


def _net_of(days: Any) -> ColumnElement[int]:
    """A `metrics_day` row's net credit movement (`DayFigures.net_credits`)."""
    c = days.c
    return (
        c.credits_purchased
        - c.credits_clawed
        - c.credits_spent
        + c.credits_refunded
        + c.credits_bonus
        + c.credits_adjusted
        + c.credits_other
    )


# The summary's constants are written into its text: bound, they were 25 values for the
# driver to convert and send on every load.
_NONE = literal_column("0", Integer)
_ONE = literal_column("1", Integer)


@lru_cache(maxsize=4)
def _summary(dialect: str) -> Select:  # type: ignore[type-arg]
    """The Overview's summed days in one row, built once per dialect (their JSON functions
    differ): every counter summed over the range by the database, each day as one JSON
    array of its `OverviewDay` values and latency histogram (one value to decode, not a
    row and an object per day), every balance together at the range's start (as the last
    day before it keeps it) and how far each source is summed (0: not yet)."""
    postgres = dialect == "postgresql"
    array, aggregate = (
        (func.json_build_array, func.json_agg)
        if postgres
        else (func.json_array, func.json_group_array)
    )
    r = _days.c
    chart = array(
        r.day,
        r.signups,
        r.invoiced_paise,
        r.credit_noted_paise,
        r.gst_paise,
        r.credits_purchased,
        r.credits_spent - r.credits_refunded,
        r.generations,
        r.generations_succeeded,
        r.generations_failed + r.generations_partial,
        # Copied in as stored (SQLite would embed its JSON text as a string), summed by
        # the caller: a database reads a JSON value again for each bucket taken from it.
        r.latency_histogram if postgres else func.json(r.latency_histogram),
    )
    # Every balance together at the range's start: the last day before it says (one row
    # by the key, where summing every day before the range grew with the business's age).
    before = (
        select(_days.c.credits_net_through)
        .where(_days.c.day < bindparam("start"))
        .order_by(_days.c.day.desc())
        .limit(_ONE)
        .scalar_subquery()
    )
    marks = (
        func.coalesce(
            select(_marks.c.last_id)
            .where(_marks.c.source == literal_column(f"'{source.name}'"))
            .scalar_subquery(),
            _NONE,
        )
        for source in SOURCES
    )
    return select(
        *(func.coalesce(func.sum(r[name]), _NONE) for name in COUNTERS),
        aggregate(chart, type_=JSON),
        func.coalesce(before, _NONE),
        *marks,
    ).where(r.day >= bindparam("start"), r.day <= bindparam("end"))


# What no refresh has summed yet, from every source in one statement: each source's rows
# past its watermark (an id range at the end of its primary key), tagged by source. The
# watermarks are written into the statement's text, not bound or read by a subquery:
# PostgreSQL plans an index range only for an id it knows to be near the end, and this
# way plans it once per refresh rather than on every call.
_UNSUMMED = union_all(
    *(
        source.rows(inline(source.name)).add_columns(literal(index, Integer))
        for index, source in enumerate(SOURCES)
    )
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


MAX_RANGE_DAYS = 366 * 3


def overview_figures(session: Session, start: date, end: date) -> Overview:
    """The Overview of [start, end] (India's calendar days, both included): two reads,
    the summed days and what no refresh has summed yet."""
    connection = session.connection()  # Core statements: no ORM dispatch
    summary = connection.execute(
        _summary(connection.dialect.name), {"start": start, "end": end}
    ).one()
    counts = dict(zip(COUNTERS, summary[: len(COUNTERS)], strict=True))
    charted, before, *marks = summary[len(COUNTERS) :]
    days = {
        day.day: day
        for day in (OverviewDay(date.fromisoformat(d), *values) for d, *values, _ in charted or ())
    }
    histogram = [
        sum(bucket)
        for bucket in zip(*(_padded(d[-1]) for d in charted or ()), _padded([]), strict=True)
    ]
    # Every balance together at the end of the range, once what is not summed is in.
    outstanding = before + DayFigures(counts).net_credits
    recent: Folded = defaultdict(DayFigures)
    unsummed = dict(zip((source.name for source in SOURCES), marks, strict=True))
    for row in connection.execute(_UNSUMMED, unsummed):
        SOURCES[row[-1]].fold(recent, row[:-1])  # type: ignore[arg-type]
    for day, figures in recent.items():
        if day <= end:
            outstanding += figures.net_credits
        if start <= day <= end:
            for name, value in figures.counts.items():
                counts[name] += value
            histogram = [a + b for a, b in zip(histogram, figures.histogram, strict=True)]
            days[day] = _plus(days.get(day) or _no_day(day), figures)
    return Overview(
        start=start,
        end=end,
        gross_paise=counts["invoiced_paise"],
        refunds_paise=counts["credit_noted_paise"],
        gst_paise=counts["gst_paise"],
        credits_sold=counts["credits_purchased"],
        credits_clawed=counts["credits_clawed"],
        credits_consumed=counts["credits_spent"] - counts["credits_refunded"],
        credits_bonus=counts["credits_bonus"],
        credits_adjusted=counts["credits_adjusted"],
        credits_outstanding=outstanding,
        generations=counts["generations"],
        succeeded=counts["generations_succeeded"],
        partial=counts["generations_partial"],
        failed=counts["generations_failed"],
        average_latency_ms=(
            counts["latency_ms_total"] // counts["generations"] if counts["generations"] else 0
        ),
        p95_latency_ms=_p95(histogram),
        signups=counts["signups"],
        days=[
            days.get(day) or _no_day(day)
            for day in (start + timedelta(days=n) for n in range((end - start).days + 1))
        ],
    )


def _no_day(day: date) -> OverviewDay:
    return OverviewDay(day, 0, 0, 0, 0, 0, 0, 0, 0, 0)


def _plus(summed: OverviewDay, figures: DayFigures) -> OverviewDay:
    """A day's summed figures with its figures not summed yet added."""
    c = figures.counts
    return OverviewDay(
        day=summed.day,
        signups=summed.signups + c["signups"],
        gross_paise=summed.gross_paise + c["invoiced_paise"],
        refunds_paise=summed.refunds_paise + c["credit_noted_paise"],
        gst_paise=summed.gst_paise + c["gst_paise"],
        credits_sold=summed.credits_sold + c["credits_purchased"],
        credits_consumed=summed.credits_consumed + c["credits_spent"] - c["credits_refunded"],
        generations=summed.generations + c["generations"],
        succeeded=summed.succeeded + c["generations_succeeded"],
        failed=summed.failed + c["generations_failed"] + c["generations_partial"],
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
