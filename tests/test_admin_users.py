"""The console's tables: the Users directory (search, filters, sort, pages, all through
the URL), a user's page, payments, the webhook log and generation failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from adremix.api import build_api_app
from adremix.db import get_engine, session_scope
from adremix.models import Payment, PaymentOrder, User, WebhookRejection
from adremix.services import accounts, admin
from adremix.services.accounts import VerifiedIdentity, upsert_user
from adremix.services.admin import directory, lists
from adremix.settings import get_settings
from tests.conftest import configure_app
from tests.factories import add_generation, buy, confirm, give_credits, make_staff
from tests.fakes.razorpay_api import FakeRazorpay, webhook_body
from tests.razorpay_steps import post_webhook, signature

JOINED = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def person(email: str, name: str, *, days_ago: int = 0, credits: int = 0) -> int:
    """A user as sign-in makes them (search terms included)."""
    with session_scope() as session:
        user, _ = upsert_user(
            session=session, identity=VerifiedIdentity(email=email, name=name, subject=email)
        )
        user.created_at = JOINED - timedelta(days=days_ago)
        user.last_login_at = user.created_at
        session.add(user)
        assert user.id is not None
        user_id = user.id
    if credits:
        give_credits(user_id, credits)
    return user_id


def make_people() -> dict[str, int]:
    return {
        "maya": person("maya.rao@example.com", "Maya Rao", days_ago=1, credits=40),
        "ravi": person("ravi@bigco.example", "Ravi Kumar", days_ago=10, credits=5),
        "anna": person("anna@example.com", "Anna Raof", days_ago=20),
        "boss": make_staff("boss@example.com"),
    }


@pytest.fixture
def people(database_url: str) -> dict[str, int]:
    return make_people()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def people_anywhere(request: pytest.FixtureRequest) -> dict[str, int]:
    """The same people on SQLite and on PostgreSQL (the Users table's plans, and a user's
    page read as JSON arrays, differ between them). After `razorpay`, which configures
    the SQLite database."""
    request.getfixturevalue("database_url" if request.param == "sqlite" else "postgres_url")
    return make_people()


def emails(actor: int, **query: str) -> list[str]:
    page = admin.find_users(actor_id=actor, filters=admin.UserFilters.from_query(query))
    return [row.email for row in page.rows]


def test_search_finds_by_email_prefix_name_word_domain_or_id(people: dict[str, int]) -> None:
    boss = people["boss"]
    assert emails(boss, q="maya") == ["maya.rao@example.com"]
    assert emails(boss, q="MAYA.RAO@EX") == ["maya.rao@example.com"]
    assert emails(boss, q="kumar") == ["ravi@bigco.example"]  # a word of the name
    assert emails(boss, q="bigco") == ["ravi@bigco.example"]  # the domain
    assert sorted(emails(boss, q="rao")) == ["anna@example.com", "maya.rao@example.com"]
    assert emails(boss, q=str(people["anna"])) == ["anna@example.com"]
    assert emails(boss, q="#" + str(people["ravi"])) == ["ravi@bigco.example"]
    assert emails(boss, q="nobody") == []
    assert emails(boss, q="%") == []  # no pattern characters


@pytest.mark.parametrize("broad_from", [1_000, 1], ids=["narrow-plan", "broad-plan"])
def test_a_broad_search_walks_the_users_in_order_and_finds_the_same(
    people: dict[str, int], monkeypatch: pytest.MonkeyPatch, broad_from: int
) -> None:
    """A search matching many terms (a mail domain) is planned differently; both plans
    give the same rows in the same order, with filters, sorts and pages."""
    monkeypatch.setattr(directory, "BROAD_SEARCH", broad_from)
    boss = people["boss"]
    assert emails(boss, q="example.com") == ["maya.rao@example.com", "anna@example.com"]
    assert emails(boss, q="example.com", sort="balance_desc", min="1") == ["maya.rao@example.com"]
    assert emails(boss, q="rao", sort="joined_asc") == ["anna@example.com", "maya.rao@example.com"]
    assert emails(boss, q="#" + str(people["ravi"])) == ["ravi@bigco.example"]
    assert emails(boss, q="example.com", page="2") == []


def test_search_follows_a_renamed_and_a_deleted_account(people: dict[str, int]) -> None:
    boss = people["boss"]
    with session_scope() as session:
        upsert_user(
            session=session,
            identity=VerifiedIdentity(
                email="ravi@bigco.example", name="Ravi Shankar", subject="ravi@bigco.example"
            ),
        )
    assert emails(boss, q="shankar") == ["ravi@bigco.example"]
    assert emails(boss, q="kumar") == []
    accounts.delete_account(user_id=people["maya"], confirm_email="maya.rao@example.com")
    assert emails(boss, q="maya") == []
    assert emails(boss, q="deleted-user") == [f"deleted-user-{people['maya']}@deleted.invalid"]


def test_filters_combine_and_round_trip_through_the_url(
    razorpay: FakeRazorpay, people_anywhere: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    people = people_anywhere
    boss = people["boss"]
    checkout = buy(people["anna"])
    confirm(
        people["anna"], razorpay.checkout_payment(checkout.provider_order_id, status="captured")
    )
    admin.set_suspension(actor_id=boss, user_id=people["ravi"], suspended=True, reason="Spam")

    assert emails(boss, paid="yes") == ["anna@example.com"]
    assert "anna@example.com" not in emails(boss, paid="no")
    assert emails(boss, suspended="yes") == ["ravi@bigco.example"]
    assert emails(boss, min="10", max="39", role="none") == ["anna@example.com"]
    assert emails(boss, min="40") == ["maya.rao@example.com"]
    assert emails(boss, role="admin") == ["boss@example.com"]
    configure_app(
        monkeypatch,
        DATABASE_URL=get_settings().database_url,
        ADREMIX_SUPPORT_EMAILS="anna@example.com",
    )
    assert emails(boss, role="support") == ["anna@example.com"]
    assert emails(boss, role="staff") == ["boss@example.com", "anna@example.com"]
    # Each row shows the role in force: the settings' (anna), the stored grant's (boss).
    shown = admin.find_users(actor_id=boss, filters=admin.UserFilters()).rows
    roles = {row.email: row.role for row in shown}
    assert (roles["anna@example.com"], roles["boss@example.com"]) == ("support", "admin")
    assert roles["maya.rao@example.com"] == ""
    day = (JOINED - timedelta(days=10)).date()
    assert emails(boss, **{"from": day.isoformat(), "to": day.isoformat()}) == [
        "ravi@bigco.example"
    ]

    filters = admin.UserFilters.from_query(
        {"q": " Rao ", "paid": "no", "min": "1", "sort": "balance_desc", "page": "2", "junk": "x"}
    )
    assert filters.to_query() == {
        "q": "Rao",
        "paid": "no",
        "min": "1",
        "sort": "balance_desc",
        "page": "2",
    }
    assert admin.UserFilters.from_query(filters.to_query()) == filters
    odd = admin.UserFilters.from_query(
        {"paid": "maybe", "sort": "drop table", "page": "-3", "from": "x"}
    )
    assert odd == admin.UserFilters()


def test_sorts_and_pages(people: dict[str, int]) -> None:
    boss = people["boss"]
    assert emails(boss, sort="balance_desc")[:2] == ["maya.rao@example.com", "ravi@bigco.example"]
    assert emails(boss, sort="email_asc") == sorted(emails(boss))
    assert emails(boss, sort="joined_asc")[0] == "anna@example.com"
    first = admin.find_users(actor_id=boss, filters=admin.UserFilters(), page_size=3)
    second = admin.find_users(actor_id=boss, filters=admin.UserFilters(page=2), page_size=3)
    assert first.has_next and not second.has_next
    assert len({r.id for r in first.rows + second.rows}) == 4


def test_console_pages_check_the_actor_in_their_own_statement(
    people_anywhere: dict[str, int],
) -> None:
    """The Users table, a user's page and the Payments page read the role check beside
    their rows (access.ACTOR): staff get every page, an empty one too, in order; anyone
    `require` refuses is refused, whatever the page would have held."""
    boss, maya = people_anywhere["boss"], people_anywhere["maya"]
    assert emails(boss, q="nobody-at-all") == []
    assert emails(boss, sort="email_asc") == sorted(emails(boss, sort="joined_desc"))
    helper = make_staff("helper@example.com", role="support")
    assert "maya.rao@example.com" in emails(helper, q="maya")
    assert admin.user_detail(actor_id=helper, user_id=maya).email == "maya.rao@example.com"
    with pytest.raises(admin.UnknownAccount):
        admin.user_detail(actor_id=helper, user_id=999_999)
    nothing = admin.PaymentFilters.from_query({"from": "2001-01-01", "to": "2001-01-02"})
    assert admin.list_payments(actor_id=helper, filters=nothing).rows == []
    away, gone = make_staff("away@example.com"), make_staff("gone@example.com")
    with session_scope() as session:
        for user_id, column in ((away, "suspended_at"), (gone, "deleted_at")):
            user = session.get(User, user_id)
            assert user is not None
            setattr(user, column, JOINED)
            session.add(user)
    for actor in (None, 999_999, maya, away, gone):
        refused(actor, maya, nothing)


def refused(actor: int | None, user_id: int, nothing: admin.PaymentFilters) -> None:
    """Each console page refuses `actor`, whether it would have held rows or not."""
    for query in ({"q": "maya"}, {"q": "nobody-at-all"}, {"sort": "balance_desc"}):
        with pytest.raises(admin.NotStaff):
            emails(actor, **query)  # type: ignore[arg-type]
    for target in (user_id, 999_999):
        with pytest.raises(admin.NotStaff):
            admin.user_detail(actor_id=actor, user_id=target)  # type: ignore[arg-type]
    for filters in (admin.PaymentFilters(), nothing):
        with pytest.raises(admin.NotStaff):
            admin.list_payments(actor_id=actor, filters=filters)  # type: ignore[arg-type]


def test_a_users_page_shows_everything_about_them(
    razorpay: FakeRazorpay, people_anywhere: dict[str, int]
) -> None:
    people = people_anywhere
    boss, maya = people["boss"], people["maya"]
    token = accounts.sign_in(
        identity=VerifiedIdentity(email="maya.rao@example.com", subject="maya.rao@example.com"),
        user_agent="Firefox 140",
    )
    checkout = buy(maya)
    confirm(maya, razorpay.checkout_payment(checkout.provider_order_id, status="captured"))
    add_generation(maya, 1, status="failed", credits_reserved=2, error_message="Provider said no")
    admin.adjust_credits(
        actor_id=boss, user_id=maya, amount=3, reason="Sorry", idempotency_key="intent-1"
    )

    detail = admin.user_detail(actor_id=boss, user_id=maya)

    assert (detail.email, detail.balance, detail.role, detail.google_linked) == (
        "maya.rao@example.com",
        53,
        "",
        True,
    )
    assert [e.kind for e in detail.ledger][:2] == ["admin_adjustment", "purchase"]
    (order,) = detail.orders
    (payment,) = order.payments
    assert (order.receipt_number, payment.credits_granted, payment.status) == (
        checkout.receipt_number,
        10,
        "captured",
    )
    (failure,) = detail.generations
    assert (failure.status, failure.credits_refunded, failure.error) == (
        "failed",
        2,
        "Provider said no",
    )
    assert detail.failed_generations == 1
    assert [s.user_agent for s in detail.sessions] == ["Firefox 140"]
    assert [a.action for a in detail.audit] == ["credit_adjustment"]
    assert accounts.signed_in_user(token=token) is not None
    with pytest.raises(admin.UnknownAccount):
        admin.user_detail(actor_id=boss, user_id=999_999)


def test_payments_page_finds_orders_by_receipt_payment_id_or_email(
    people: dict[str, int], razorpay: FakeRazorpay
) -> None:
    boss = people["boss"]
    checkout = buy(people["ravi"])
    paid = razorpay.checkout_payment(checkout.provider_order_id, status="captured")
    confirm(people["ravi"], paid)
    buy(people["anna"], "growth")  # never paid

    def receipts(**query: str) -> list[str]:
        page = admin.list_payments(actor_id=boss, filters=admin.PaymentFilters.from_query(query))
        return [row.receipt_number for row in page.rows]

    assert len(receipts()) == 2
    assert receipts(q=checkout.receipt_number) == [checkout.receipt_number]
    assert receipts(q=paid["razorpay_payment_id"]) == [checkout.receipt_number]
    assert receipts(q=checkout.provider_order_id) == [checkout.receipt_number]
    assert receipts(q="RAVI@bigco.example") == [checkout.receipt_number]
    assert receipts(status="paid") == [checkout.receipt_number]
    assert receipts(q="pay_unknown") == []
    (row,) = admin.list_payments(actor_id=boss, filters=admin.PaymentFilters(status="paid")).rows
    assert [(p.status, p.credits_granted) for p in row.payments] == [("captured", 10)]
    today = admin.today()  # the console's calendar (India's)
    assert len(receipts(**{"from": today.isoformat(), "to": today.isoformat()})) == 2
    assert receipts(**{"to": (today - timedelta(days=2)).isoformat()}) == []
    assert receipts(**{"from": (today + timedelta(days=2)).isoformat()}) == []
    first, second = (
        admin.list_payments(actor_id=boss, filters=admin.PaymentFilters(page=n), page_size=1)
        for n in (1, 2)
    )
    assert first.has_next and not second.has_next
    assert {r.receipt_number for r in first.rows + second.rows} == {
        checkout.receipt_number,
        *receipts(status="created"),
    }
    assert first.rows[0].payments == [] or second.rows[0].payments == []  # the unpaid one


def test_webhook_log_shows_processed_events_and_refused_signatures(
    people: dict[str, int], razorpay: FakeRazorpay
) -> None:
    boss = people["boss"]
    client = TestClient(build_api_app(get_settings()))
    checkout = buy(people["ravi"])
    paid = razorpay.checkout_payment(checkout.provider_order_id, status="captured")
    body, event_id = webhook_body(
        "payment.captured", payment=razorpay.payment(paid["razorpay_payment_id"])
    )
    post_webhook(client, body, event_id)
    forged = client.post(
        "/api/razorpay/webhook",
        content=body,
        headers={
            "X-Razorpay-Signature": signature(body, "guessed"),
            "x-razorpay-event-id": "evt_forged",
        },
    )
    assert forged.status_code == 400

    log = admin.webhook_log(actor_id=boss, filters=admin.WebhookFilters())
    assert [(r.event_type, r.signature_ok, r.outcome) for r in log.rows] == [
        ("payment.captured", False, "rejected"),
        ("payment.captured", True, "granted"),
    ]
    assert log.rows[1].processed_at is not None and log.rows[0].processed_at is None
    rejected = admin.webhook_log(actor_id=boss, filters=admin.WebhookFilters(show="rejected"))
    assert [r.event_id for r in rejected.rows] == ["evt_forged"]
    assert (
        admin.webhook_log(actor_id=boss, filters=admin.WebhookFilters(event_type="refund.")).rows
        == []
    )


def test_refused_deliveries_are_logged_once_each_and_at_most_a_hundred_an_hour(
    people: dict[str, int], razorpay: FakeRazorpay
) -> None:
    client = TestClient(build_api_app(get_settings()))
    for n in range(105):
        body = f'{{"event":"payment.captured","n":{n % 102}}}'.encode()
        assert (
            client.post(
                "/api/razorpay/webhook", content=body, headers={"X-Razorpay-Signature": "0" * 64}
            ).status_code
            == 400
        )
    with session_scope() as session:
        assert len(session.exec(select(WebhookRejection)).all()) == 100


def test_failures_list_the_providers_error_the_refund_and_the_user(people: dict[str, int]) -> None:
    boss, maya = people["boss"], people["maya"]
    add_generation(maya, 1, status="failed", credits_reserved=2, error_message="rate limited")
    add_generation(maya, 2, status="partial", credits_reserved=3, credits_spent=1)
    add_generation(maya, 3, status="succeeded", credits_reserved=1, credits_spent=1)
    page = admin.recent_failures(actor_id=boss, filters=admin.FailureFilters())
    assert [(r.status, r.credits_refunded, r.email) for r in page.rows] == [
        ("partial", 2, "maya.rao@example.com"),
        ("failed", 2, "maya.rao@example.com"),
    ]
    only_failed = admin.recent_failures(
        actor_id=boss, filters=admin.FailureFilters(status="failed")
    )
    assert [r.error for r in only_failed.rows] == ["rate limited"]


def test_payments_page_and_export_put_orders_and_their_payments_in_order(
    people_anywhere: dict[str, int],
) -> None:
    """The page's statement leaves its rows unordered (the service sorts the page's few):
    orders newest first whatever their ids, each order's payments by id whatever the
    order they were written in; the export by order id."""
    boss, ravi = people_anywhere["boss"], people_anywhere["ravi"]
    at = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    # Ids against time: order 3 is the oldest, order 1 the newest.
    hours = {1: 5, 2: 1, 3: 0}
    with session_scope() as session:
        for n, hour in hours.items():
            session.add(
                PaymentOrder(
                    id=n,
                    receipt_number=f"AR-T{n}",
                    user_id=ravi,
                    package_code="starter",
                    credits=10,
                    amount_paise=19_900,
                    provider_order_id=f"order_t{n}",
                    created_at=at + timedelta(hours=hour),
                )
            )
        session.flush()
        # Order 2's payments written in descending id order.
        for payment_id, order_id in ((9, 2), (7, 2), (8, 2), (4, 1)):
            session.add(
                Payment(
                    id=payment_id,
                    provider_payment_id=f"pay_t{payment_id}",
                    order_id=order_id,
                    amount_paise=19_900,
                )
            )
    page = admin.list_payments(actor_id=boss, filters=admin.PaymentFilters())
    assert [(o.id, [p.id for p in o.payments]) for o in page.rows] == [
        (1, [4]),
        (2, [7, 8, 9]),
        (3, []),
    ]
    assert [o.email for o in page.rows] == ["ravi@bigco.example"] * 3
    one = admin.list_payments(actor_id=boss, filters=admin.PaymentFilters(page=2), page_size=1)
    assert ([o.id for o in one.rows], one.has_next) == ([2], True)
    (batch,) = list(lists.payments_for_export(admin.PaymentFilters()))
    assert [(o.id, [p.id for p in o.payments]) for o in batch] == [
        (1, [4]),
        (2, [7, 8, 9]),
        (3, []),
    ]


def test_payments_page_reads_its_orders_from_the_index_alone(people: dict[str, int]) -> None:
    """SQLite's plan for a Payments page (all orders, or of one status): the orders from
    a covering index walk (migration 0018), the buyer and payments by key, and no sort of
    its own (the service orders the page's rows)."""
    engine = get_engine()
    for status in (False, True):
        compiled = lists._payments_page(False, status, False, False).compile(engine)
        values = compiled.construct_params(
            {"limit": 51, "offset": 0, "actor_id": 1, "status": "paid"}
        )
        with engine.connect() as connection:
            plan = [
                row[3]
                for row in connection.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + str(compiled),
                    tuple(values[name] for name in compiled.positiontup or ()),
                )
            ]
        index = "ix_payment_order_status_created" if status else "ix_payment_order_created"
        assert any(f"payment_order USING COVERING INDEX {index}" in step for step in plan), plan
        assert any("user USING INTEGER PRIMARY KEY" in step for step in plan), plan
        assert not any("TEMP B-TREE" in step for step in plan), plan
