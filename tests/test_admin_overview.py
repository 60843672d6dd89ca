"""The Overview's figures: summed per day into metrics_day by id from where the last
refresh stopped, plus the rows a refresh has not reached, so they are always complete."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import func, select

from adremix.db import session_scope
from adremix.enums import DocumentKind
from adremix.models import CreditTransaction, MetricsDay, TaxDocument, UsageEvent, User
from adremix.services import admin, billing
from adremix.services.admin import metrics
from tests.factories import (
    add_generation,
    buy,
    confirm,
    give_credits,
    make_staff,
    make_user,
    spend_credits,
)
from tests.fakes.razorpay_api import FakeRazorpay


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest) -> str:
    """The test's database, migrated and in use by `session_scope()`: SQLite, PostgreSQL
    (the Overview's summary uses each one's JSON functions)."""
    return request.getfixturevalue("database_url" if request.param == "sqlite" else "postgres_url")


def usage(user_id: int, n: int, outcome: str, latency_ms: int) -> None:
    generation_id = add_generation(user_id, n, status=outcome)
    with session_scope() as session:
        session.add(
            UsageEvent(
                user_id=user_id,
                generation_id=generation_id,
                provider="offline",
                model="",
                images_requested=1,
                images_delivered=1 if outcome != "failed" else 0,
                latency_ms=latency_ms,
                outcome=outcome,
            )
        )


def business(razorpay: FakeRazorpay) -> tuple[int, int]:
    """Two buyers, a refund, spending, a bonus, generations; returns (boss, buyer)."""
    boss = make_staff("boss@example.com")
    buyer, other = make_user(email="buyer@example.com"), make_user(email="other@example.com")
    give_credits(other, 3)
    for user in (buyer, other):
        checkout = buy(user)
        confirm(user, razorpay.checkout_payment(checkout.provider_order_id, status="captured"))
    spend_credits(buyer, 4)
    with session_scope() as session:
        payment_id = session.exec(text("SELECT min(id) FROM payment")).one()[0]  # type: ignore[call-overload]
    admin.refund_payment(
        actor_id=boss,
        payment_id=payment_id,
        amount_paise=9_950,
        reason="Half back",
        idempotency_key="intent-half-refund",
        expected_committed_paise=0,
    )
    for n, (outcome, latency) in enumerate(
        [("succeeded", 800), ("succeeded", 1_500), ("partial", 4_000), ("failed", 25_000)]
    ):
        usage(buyer, n, outcome, latency)
    return boss, buyer


def backdate(by: timedelta, *models: type) -> None:
    """Time passes: the rows were made `by` earlier (as if read that much later)."""
    with session_scope() as session:
        for model in models:
            column = "issued_at" if model is TaxDocument else "created_at"
            for row in session.exec(select(model)):
                setattr(row, column, getattr(row, column) - by)
                session.add(row)


def balances() -> int:
    with session_scope() as session:
        return int(session.exec(select(func.sum(User.credit_balance))).one())


def register() -> tuple[int, int, int]:
    """(invoiced, credit-noted, GST) straight from the register."""
    with session_scope() as session:
        docs = session.exec(select(TaxDocument)).all()
    invoiced = sum(d.total_paise for d in docs if d.kind == DocumentKind.INVOICE)
    noted = sum(d.total_paise for d in docs if d.kind == DocumentKind.CREDIT_NOTE)
    gst = sum(
        (d.total_paise - d.taxable_paise) * (1 if d.kind == DocumentKind.INVOICE else -1)
        for d in docs
    )
    return invoiced, noted, gst


def check(overview: admin.Overview) -> None:
    invoiced, noted, gst = register()
    assert (overview.gross_paise, overview.refunds_paise, overview.net_paise) == (
        invoiced,
        noted,
        invoiced - noted,
    )
    assert overview.gst_paise == gst
    totals = billing.gst_totals(fy=billing.financial_year(datetime.now(UTC)))
    assert overview.gst_paise == totals.cgst + totals.sgst + totals.igst
    assert overview.credits_outstanding == balances()


def test_the_overview_adds_up_before_and_after_the_daily_sums(
    razorpay: FakeRazorpay, url: str
) -> None:
    boss, _ = business(razorpay)
    today = admin.today()

    fresh = admin.overview(actor_id=boss, start=today, end=today)  # nothing summed yet

    check(fresh)
    assert (fresh.gross_paise, fresh.refunds_paise) == (39_800, 9_950)
    assert (fresh.credits_sold, fresh.credits_clawed, fresh.credits_consumed) == (20, 5, 4)
    assert fresh.credits_bonus == 3 and fresh.signups == 3
    assert (fresh.generations, fresh.succeeded, fresh.partial, fresh.failed) == (4, 2, 1, 1)
    assert fresh.success_rate == 0.5 and fresh.average_latency_ms == 7_825
    assert fresh.p95_latency_ms == 30_000  # the histogram bucket holding the slowest
    assert [d.signups for d in fresh.days] == [3]

    # Everything happened a day ago: a refresh sums it (and only once, however often).
    backdate(timedelta(days=1), CreditTransaction, User, TaxDocument, UsageEvent)
    assert admin.refresh_metrics() >= 1
    assert admin.refresh_metrics() == 0
    yesterday = today - timedelta(days=1)
    summed = admin.overview(actor_id=boss, start=yesterday, end=today)
    assert (summed.gross_paise, summed.signups, summed.generations) == (39_800, 3, 4)
    assert (summed.p95_latency_ms, summed.average_latency_ms) == (30_000, 7_825)
    assert (summed.days[0].credits_consumed, summed.days[0].failed) == (4, 2)
    assert summed.credits_outstanding == balances()
    assert [d.signups for d in summed.days] == [3, 0]
    with session_scope() as session:
        assert session.exec(select(MetricsDay.signups)).all() == [3]

    # New activity today is read from the rows until a refresh, after LAG, sums it.
    give_credits(make_user(email="late@example.com"), 2)
    later = admin.overview(actor_id=boss, start=yesterday, end=today)
    assert later.signups == 4 and later.credits_outstanding == balances()
    assert admin.overview(actor_id=boss, start=yesterday, end=yesterday).credits_outstanding == (
        balances() - 2
    )


def test_concurrent_refreshes_sum_each_row_once(razorpay: FakeRazorpay, database_url: str) -> None:
    boss, _ = business(razorpay)
    backdate(timedelta(hours=2), CreditTransaction)
    start = threading.Barrier(4)

    def refresh() -> None:
        start.wait()
        admin.refresh_metrics()

    threads = [threading.Thread(target=refresh) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    today = admin.today()
    check(admin.overview(actor_id=boss, start=today - timedelta(days=1), end=today))


@pytest.mark.parametrize("swap", [False, True])
def test_a_range_is_read_in_either_order(
    razorpay: FakeRazorpay, database_url: str, swap: bool
) -> None:
    boss, _ = business(razorpay)
    today = admin.today()
    start, end = today - timedelta(days=6), today
    figures = admin.overview(
        actor_id=boss, start=end if swap else start, end=start if swap else end
    )
    assert (figures.start, figures.end, len(figures.days)) == (start, end, 7)


def test_each_summed_day_keeps_every_balance_at_its_end(razorpay: FakeRazorpay, url: str) -> None:
    """`metrics_day.credits_net_through` (where a range's outstanding credits start) stays
    right when a later refresh reaches rows of days already summed: refreshes go by id."""
    boss, buyer = business(razorpay)
    backdate(timedelta(days=3), CreditTransaction, User, TaxDocument, UsageEvent)
    admin.refresh_metrics()
    give_credits(buyer, 5, key="late")
    give_credits(buyer, 7, key="later")
    with session_scope() as session:
        late = session.exec(
            select(CreditTransaction).order_by(CreditTransaction.id.desc()).limit(2)  # type: ignore[union-attr]
        ).all()
        for entry, days in zip(late, (1, 5), strict=True):  # after, and before, the summed day
            entry.created_at -= timedelta(days=days)
            session.add(entry)
    assert admin.refresh_metrics() == 2

    with session_scope() as session:
        ledger = session.exec(select(CreditTransaction)).all()
        stored = dict(session.exec(select(MetricsDay.day, MetricsDay.credits_net_through)).all())
    today = admin.today()
    for day in (today - timedelta(days=n) for n in range(6, -1, -1)):
        held = sum(e.amount for e in ledger if billing.ist_date(e.created_at) <= day)
        if day in stored:
            assert stored[day] == held, day
        assert admin.overview(actor_id=boss, start=day, end=day).credits_outstanding == held, day
    assert held == balances()  # type: ignore[possibly-undefined]


def test_latency_buckets_and_figures_stay_right_across_refreshes(
    razorpay: FakeRazorpay, url: str
) -> None:
    """The histogram is one column per bucket (`latency_le_1s` ...): a refresh that reaches
    more rows of a day already summed adds to its buckets, and the Overview reads the same
    figures before a refresh (from the rows) as after it (from the summed days), in one
    process that has read the watermarks before they moved."""
    boss, buyer = business(razorpay)  # latencies 800, 1_500, 4_000 and 25_000 ms
    backdate(timedelta(days=2), CreditTransaction, User, TaxDocument, UsageEvent)
    today = admin.today()
    two_days_ago = today - timedelta(days=2)
    before = admin.overview(actor_id=boss, start=two_days_ago, end=today)
    admin.refresh_metrics()
    assert admin.overview(actor_id=boss, start=two_days_ago, end=today) == before

    for n, latency in enumerate((500, 400_000), start=10):  # a first bucket, the open one
        usage(buyer, n, "succeeded", latency)
    with session_scope() as session:
        for event in session.exec(select(UsageEvent).where(UsageEvent.id > 4)):  # type: ignore[operator]
            event.created_at -= timedelta(days=2)
            session.add(event)
    unsummed = admin.overview(actor_id=boss, start=two_days_ago, end=today)
    assert admin.refresh_metrics() == 1
    summed = admin.overview(actor_id=boss, start=two_days_ago, end=today)
    assert summed == unsummed
    assert (summed.generations, summed.average_latency_ms) == (6, (31_300 + 400_500) // 6)
    assert summed.p95_latency_ms == 600_000  # the open bucket's: twice the last bound
    with session_scope() as session:
        day = session.exec(select(MetricsDay).where(MetricsDay.day == two_days_ago)).one()
    buckets = [getattr(day, name) for name in metrics.LATENCY_COLUMNS]
    assert buckets == [2, 1, 1, 0, 0, 1, 0, 0, 0, 1]
    assert [d.generations for d in summed.days] == [6, 0, 0]


def test_the_overview_checks_the_actor_in_its_own_read(razorpay: FakeRazorpay, url: str) -> None:
    """The role check is folded into the Overview's one statement: the actor's row as read
    there decides, as `access.require` would."""
    boss, buyer = business(razorpay)
    today = admin.today()
    support = make_staff("helper@example.com", role="support")
    assert admin.overview(actor_id=support, start=today, end=today).signups == 4
    suspended, deleted = make_staff("away@example.com"), make_staff("gone@example.com")
    with session_scope() as session:
        for user_id, column in ((suspended, "suspended_at"), (deleted, "deleted_at")):
            user = session.get(User, user_id)
            assert user is not None
            setattr(user, column, user.created_at)
            session.add(user)
    for actor in (None, 999_999, buyer, suspended, deleted):
        with pytest.raises(admin.NotStaff):
            admin.overview(actor_id=actor, start=today, end=today)  # type: ignore[arg-type]
    assert admin.overview(actor_id=boss, start=today, end=today).signups == 6


def test_the_overview_export_lists_the_days_the_page_shows(
    razorpay: FakeRazorpay, url: str
) -> None:
    """The CSV export reads the Overview's statement without an actor (its caller checked
    the role): one line per day of the range, as the page's days."""
    boss, _ = business(razorpay)
    backdate(timedelta(days=1), CreditTransaction, User, TaxDocument, UsageEvent)
    admin.refresh_metrics()
    today = admin.today()
    start = today - timedelta(days=2)
    shown = admin.overview(actor_id=boss, start=start, end=today)
    export = admin.export_csv(
        actor_id=boss, table="overview", params={"from": start.isoformat(), "to": today.isoformat()}
    )
    lines = "".join(export.chunks).splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == [d.day.isoformat() for d in shown.days]
    assert [int(line.split(",")[1]) for line in lines[1:]] == [d.signups for d in shown.days]
    assert [d.signups for d in shown.days] == [0, 3, 0]
