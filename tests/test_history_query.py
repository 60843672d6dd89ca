"""The history query layer: filters combine, search matches words, pages and ownership hold."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from adremix.db import session_scope
from adremix.models import Generation
from adremix.services import library
from adremix.services.history import HistoryFilter, query_history
from tests.conftest import make_user

BASE = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def add_generation(user_id: int, n: int, **fields: object) -> int:
    values: dict = {
        "user_id": user_id,
        "client_request_id": f"r{user_id}-{n}",
        "status": "succeeded",
        "instructions": f"ad number {n}",
        "template": "minimal",
        "placement": "square",
        "source_image_hash": "0" * 64,
        "provider": "offline",
        "cache_key": f"k{n}",
        "created_at": BASE + timedelta(hours=n),
    }
    values.update(fields)
    with session_scope() as session:
        row = Generation(**values)
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def ids(user_id: int, filters: HistoryFilter, page_size: int = 24) -> list[int]:
    with session_scope() as session:
        page = query_history(session=session, user_id=user_id, filters=filters, page_size=page_size)
        return [g.id or 0 for g in page.items]


def test_filters_combine_and_sort(database_url: str) -> None:
    me = make_user(database_url)
    a = add_generation(me, 1, template="festive", placement="portrait", instructions="Diwali lamps")
    b = add_generation(me, 2, template="festive", placement="square", instructions="Diwali sale")
    c = add_generation(me, 3, template="festive", placement="portrait", status="failed")
    add_generation(me, 4, template="luxury", placement="portrait", instructions="Diwali gold")

    festive_portrait = HistoryFilter(template="festive", placement="portrait")
    assert ids(me, festive_portrait) == [c, a]
    assert ids(me, HistoryFilter(template="festive", status="succeeded")) == [b, a]
    assert ids(me, HistoryFilter(search="diwali", template="festive", sort="oldest")) == [a, b]
    assert ids(me, HistoryFilter(search="DIWALI sale")) == [b]


def test_date_range_is_inclusive_of_both_days(database_url: str) -> None:
    me = make_user(database_url)
    day1 = add_generation(me, 0, created_at=datetime(2026, 11, 1, 0, 5, tzinfo=UTC))
    day2 = add_generation(me, 1, created_at=datetime(2026, 11, 2, 23, 55, tzinfo=UTC))
    add_generation(me, 2, created_at=datetime(2026, 11, 3, 0, 1, tzinfo=UTC))
    window = HistoryFilter(date_from=date(2026, 11, 1), date_to=date(2026, 11, 2))
    assert ids(me, window) == [day2, day1]


def test_search_treats_wildcards_literally(database_url: str) -> None:
    me = make_user(database_url)
    percent = add_generation(me, 1, instructions="Flat 50% off")
    add_generation(me, 2, instructions="Flat 50 rupees off")
    assert ids(me, HistoryFilter(search="50%")) == [percent]


def test_favourites_and_collections_filter(database_url: str) -> None:
    me = make_user(database_url)
    first, second, third = (add_generation(me, n) for n in range(3))
    with session_scope() as session:
        library.set_favourite(session=session, user_id=me, generation_ids=[second], value=True)
        folder = library.create_collection(session=session, user_id=me, name="Launch")
        library.add_to_collection(
            session=session, user_id=me, collection_id=folder.id or 0, generation_ids=[first, third]
        )
    assert ids(me, HistoryFilter(favourites=True)) == [second]
    assert ids(me, HistoryFilter(collection_id=folder.id)) == [third, first]


def test_pages_hold_exactly_page_size_and_clamp(database_url: str) -> None:
    me = make_user(database_url)
    created = [add_generation(me, n) for n in range(30)]
    newest_first = created[::-1]
    assert ids(me, HistoryFilter(page=1), page_size=12) == newest_first[:12]
    assert ids(me, HistoryFilter(page=3), page_size=12) == newest_first[24:]
    assert ids(me, HistoryFilter(page=99), page_size=12) == newest_first[24:]


def test_another_users_rows_and_collections_are_invisible(database_url: str) -> None:
    me = make_user(database_url)
    them = make_user(database_url, email="other@example.com")
    mine = add_generation(me, 1)
    theirs = add_generation(them, 2)
    with session_scope() as session:
        their_folder = library.create_collection(session=session, user_id=them, name="Secret")
        library.add_to_collection(
            session=session,
            user_id=them,
            collection_id=their_folder.id or 0,
            generation_ids=[theirs],
        )
    assert ids(me, HistoryFilter()) == [mine]
    assert ids(me, HistoryFilter(collection_id=their_folder.id)) == []


def test_filter_round_trips_through_the_url_query() -> None:
    filters = HistoryFilter(
        status="failed",
        date_from=date(2026, 11, 1),
        template="luxury",
        favourites=True,
        collection_id=7,
        search="gold",
        sort="oldest",
        page=3,
    )
    assert HistoryFilter.from_query(filters.to_query()) == filters
    assert HistoryFilter().to_query() == {}
    hostile = {"status": "drop table", "from": "yesterday", "page": "-4", "template": "<x>"}
    assert HistoryFilter.from_query(hostile) == HistoryFilter()
