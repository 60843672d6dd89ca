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
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Date,
    DateTime,
    Integer,
    Select,
    String,
    Table,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    null,
    or_,
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
from adremix.services.admin.access import Permission, admit
from adremix.services.admin.params import inline
from adremix.services.billing import ist_date

LAG = timedelta(minutes=10)
# Upper bounds (ms) of the latency histogram's buckets; the last one is open.
LATENCY_BUCKETS_MS = (1_000, 2_000, 5_000, 10_000, 20_000, 30_000, 60_000, 120_000, 300_000)
# `metrics_day`'s column for each bucket, in order.
LATENCY_COLUMNS = (
    "latency_le_1s",
    "latency_le_2s",
    "latency_le_5s",
    "latency_le_10s",
    "latency_le_20s",
    "latency_le_30s",
    "latency_le_60s",
    "latency_le_120s",
    "latency_le_300s",
    "latency_over_300s",
)
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
        self.histogram = [a + b for a, b in zip(self.histogram, other.histogram, strict=True)]

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
        row = stored.get(day) or MetricsDay(day=day)
        for name, value in figures.counts.items():
            setattr(row, name, getattr(row, name) + value)
        for name, value in zip(LATENCY_COLUMNS, figures.histogram, strict=True):
            setattr(row, name, getattr(row, name) + value)
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


# The Overview reads everything in one statement, a UNION ALL of narrow rows tagged by kind:
#   _HEADER   the actor's row as the role check needs it (email, stored role, whether
#             deleted or suspended), every balance together at the range's start (as the
#             last day before it keeps it) and how far each source is summed;
#   _DAY      each summed day of the range: its chart values (`OverviewDay`'s);
#   _SUMS     the range's sums of the counters a chart does not carry (`_SUMMED`);
#   _BUCKETS  the range's sums of the latency buckets;
#   1, 2...   what no refresh has summed yet: each source's rows past the watermark (an id
#             range at the end of its primary key), tagged by source (its index + 1).
# One round trip instead of three (role check, summed days, unsummed rows), with nothing
# to decode, each row as narrow as its widest kind (each value of each row is work for
# the driver). The watermarks are written into the statement's text, not bound or read
# by a subquery: PostgreSQL plans an index range only for an id it knows to be near the
# end, and this way plans it once per refresh rather than on every call. They are the
# ones the last read found (`_WATERMARKS`); the header says the ones in force, and a read
# made with others (a refresh ran since) is made again with those.
_HEADER, _DAY, _SUMS, _BUCKETS = -1, 0, -2, -3
# Counters the chart's days carry (summed from them); the database sums the others.
_CHARTED = ("signups", "invoiced_paise", "credit_noted_paise", "gst_paise", "credits_purchased")
_SUMMED = tuple(
    name for name in COUNTERS if name not in {*_CHARTED, "generations", "generations_succeeded"}
)
_WIDTH = len(LATENCY_COLUMNS)  # integers per row: the widest kind, the buckets
_FIRST_VALUE = 5  # columns before the integers: tag, day, time, and two texts
# The sources' time columns' own type, not their TypeDecorator (UTCDateTime), which would
# run a Python function on every row read (ist_date takes a naive time as UTC, as stored).
_AT_TYPE = DateTime(timezone=True)
# Rendered as constants: bound, they were values for the driver to convert on every load.
_NONE = literal_column("0", Integer)
_ONE = literal_column("1", Integer)


def _tag(value: int) -> ColumnElement[int]:
    return literal_column(str(value), Integer)


def _no(kind: Any) -> ColumnElement[Any]:
    return null().cast(kind)


def _row(
    tag: int, *values: ColumnElement[Any], day: Any = None, at: Any = None, texts: tuple = ()
) -> Select:  # type: ignore[type-arg]
    """One arm of the Overview's statement: its tag, day, time, two texts and integers
    (padded with NULLs to `_WIDTH`)."""
    return select(
        _tag(tag),
        _no(Date) if day is None else day,
        _no(_AT_TYPE) if at is None else at,
        *(texts or (_no(String), _no(String))),
        *values,
        *(_no(Integer) for _ in range(_WIDTH - len(values))),
    )


def _actor(column: ColumnElement[Any]) -> ColumnElement[Any]:
    return select(column).where(_signups.c.id == bindparam("actor_id")).scalar_subquery()


def _overview_statement() -> CompoundSelect:
    u, r = _signups.c, _days.c
    in_range = (r.day >= bindparam("start"), r.day <= bindparam("end"))
    # Every balance together at the range's start: the last day before it says (one row
    # by the key, where summing every day before the range grew with the business's age).
    before = (
        select(r.credits_net_through)
        .where(r.day < bindparam("start"))
        .order_by(r.day.desc())
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
    blocked = case((or_(u.deleted_at.is_not(None), u.suspended_at.is_not(None)), _ONE), else_=_NONE)
    header = _row(
        _HEADER,
        _actor(blocked),
        func.coalesce(before, _NONE),
        *marks,
        texts=(_actor(u.email), _actor(u.role)),
    )
    days = _row(
        _DAY,
        *(r[name] for name in _CHARTED),
        r.credits_spent - r.credits_refunded,
        r.generations,
        r.generations_succeeded,
        r.generations_failed + r.generations_partial,
        day=r.day,
    ).where(*in_range)
    sums = _row(_SUMS, *(func.coalesce(func.sum(r[n]), _NONE) for n in _SUMMED)).where(*in_range)
    buckets = _row(
        _BUCKETS, *(func.coalesce(func.sum(r[n]), _NONE) for n in LATENCY_COLUMNS)
    ).where(*in_range)
    unsummed = (
        _row(index + 1, amount, second, at=at, texts=(kind, _no(String))).where(
            source.table.c.id > inline(source.name)
        )
        for index, source in enumerate(SOURCES)
        for at, kind, amount, second in (source.row,)
    )
    return union_all(header, days, sums, buckets, *unsummed)


_OVERVIEW = _overview_statement()
# Watermarks the last read found, per database kind; at first none (a mark past any id:
# the first read finds no unsummed rows and is made again with the marks in force).
_UNKNOWN = tuple(2**62 for _ in SOURCES)
_WATERMARKS: dict[str, tuple[int, ...]] = {}


class _Read(NamedTuple):
    header: Any  # the _HEADER row
    days: list[Any]
    sums: Any  # the _SUMS row
    buckets: Any  # the _BUCKETS row
    unsummed: list[Any]


def _read(session: Session, start: date, end: date, actor_id: int | None) -> _Read:
    connection = session.connection()  # Core statements: no ORM dispatch
    kind = connection.dialect.name
    marks = _WATERMARKS.get(kind, _UNKNOWN)
    values = {"start": start, "end": end, "actor_id": actor_id}
    while True:
        tagged: dict[int, Any] = {}
        days, unsummed = [], []
        # Fetched at once: row by row, each row costs a driver call.
        for row in connection.execute(
            _OVERVIEW, values | dict(zip(_SOURCE_NAMES, marks, strict=True))
        ).all():
            tag = row[0]
            if tag == _DAY:
                days.append(row)
            elif tag < 0:
                tagged[tag] = row
            else:
                unsummed.append(row)
        header = tagged[_HEADER]
        in_force = tuple(header[_FIRST_VALUE + 2 : _FIRST_VALUE + 2 + len(SOURCES)])
        if in_force == marks:
            return _Read(header, days, tagged[_SUMS], tagged[_BUCKETS], unsummed)
        _WATERMARKS[kind] = marks = in_force


_SOURCE_NAMES = tuple(source.name for source in SOURCES)


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


def _figures(read: _Read, start: date, end: date) -> Overview:
    """The Overview of [start, end] from its read: the summed days, then what no refresh
    has summed yet."""
    first = _FIRST_VALUE
    # The chart's columns summed from its days (a few hundred additions in C), the rest
    # as the database summed them. Chart columns: OverviewDay's after its day.
    chart = list(zip(*read.days, strict=True))[first : first + 9]
    sums = [sum(column) for column in chart] or [0] * 9
    counts = dict(zip(_CHARTED, sums[: len(_CHARTED)], strict=True))
    counts["generations"], counts["generations_succeeded"] = sums[6], sums[7]
    counts |= zip(_SUMMED, read.sums[first : first + len(_SUMMED)], strict=True)
    histogram = list(read.buckets[first:])
    days = {r[1]: OverviewDay(r[1], *r[first : first + 9]) for r in read.days}
    # Every balance together at the end of the range, once what is not summed is in.
    outstanding = read.header[first + 1] + DayFigures(counts).net_credits
    recent: Folded = defaultdict(DayFigures)
    for row in read.unsummed:
        SOURCES[row[0] - 1].fold(recent, (row[2], row[3], row[first], row[first + 1]))
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
        days=_every_day(days, start, end),
    )


def _every_day(days: dict[date, OverviewDay], start: date, end: date) -> list[OverviewDay]:
    """The range's days in order, those with nothing summed as zeros."""
    span = (end - start).days + 1
    if len(days) == span:  # every day had figures (a business in use): they sort by day
        return sorted(days.values())
    return [
        days.get(day) or _no_day(day) for day in (start + timedelta(days=n) for n in range(span))
    ]


def overview_figures(session: Session, start: date, end: date) -> Overview:
    """The Overview of [start, end] (India's calendar days, both included), for a caller
    that has checked the actor's role (the CSV export)."""
    return _figures(_read(session, start, end, None), start, end)


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
    """The Overview for staff; a range is at most three years. The role check is made on
    the actor's row as the Overview's one statement reads it (nothing is returned to
    anyone else)."""
    if end < start:
        start, end = end, start
    start = max(start, end - timedelta(days=MAX_RANGE_DAYS - 1))
    with session_scope() as session:
        read = _read(session, start, end, actor_id)
        email, stored_role, blocked = read.header[3], read.header[4], read.header[_FIRST_VALUE]
        admit(actor_id, email, stored_role, blocked=bool(blocked), permission=Permission.VIEW)
        return _figures(read, start, end)


def today() -> date:
    """Today in India (the console's calendar)."""
    return ist_date(utcnow())
