"""The history query layer: filters combine, search matches words, pages and ownership hold."""

from __future__ import annotations

from datetime import UTC, date, datetime

from adremix.db import session_scope
from adremix.enums import GenerationStatus
from adremix.services import library
from adremix.services.library import HistoryFilter, query_history
from tests.factories import add_generation, make_user


def ids(user_id: int, filters: HistoryFilter, page_size: int = 24) -> list[int]:
    with session_scope() as session:
        page = query_history(session=session, user_id=user_id, filters=filters, page_size=page_size)
        return [item.id for item in page.items]


def test_filters_combine_and_sort(database_url: str) -> None:
    me = make_user()
    a = add_generation(me, 1, template="festive", placement="portrait", instructions="Diwali lamps")
    b = add_generation(me, 2, template="festive", placement="square", instructions="Diwali sale")
    failed = GenerationStatus.FAILED
    c = add_generation(me, 3, template="festive", placement="portrait", status=failed)
    add_generation(me, 4, template="luxury", placement="portrait", instructions="Diwali gold")

    festive_portrait = HistoryFilter(template="festive", placement="portrait")
    assert ids(me, festive_portrait) == [c, a]
    assert ids(me, HistoryFilter(template="festive", status=GenerationStatus.SUCCEEDED)) == [b, a]
    assert ids(me, HistoryFilter(search="diwali", template="festive", sort="oldest")) == [a, b]
    assert ids(me, HistoryFilter(search="DIWALI sale")) == [b]


def test_date_range_is_inclusive_of_both_days(database_url: str) -> None:
    me = make_user()
    day1 = add_generation(me, 0, created_at=datetime(2026, 11, 1, 0, 5, tzinfo=UTC))
    day2 = add_generation(me, 1, created_at=datetime(2026, 11, 2, 23, 55, tzinfo=UTC))
    add_generation(me, 2, created_at=datetime(2026, 11, 3, 0, 1, tzinfo=UTC))
    window = HistoryFilter(date_from=date(2026, 11, 1), date_to=date(2026, 11, 2))
    assert ids(me, window) == [day2, day1]


def test_search_treats_wildcards_literally(database_url: str) -> None:
    me = make_user()
    percent = add_generation(me, 1, instructions="Flat 50% off")
    add_generation(me, 2, instructions="Flat 50 rupees off")
    assert ids(me, HistoryFilter(search="50%")) == [percent]


def test_favourites_and_collections_filter(database_url: str) -> None:
    me = make_user()
    first, second, third = (add_generation(me, n) for n in range(3))
    library.set_favourite(user_id=me, generation_ids=[second], value=True)
    folder = library.create_collection(user_id=me, name="Launch")
    library.add_to_collection(user_id=me, collection_id=folder, generation_ids=[first, third])
    assert ids(me, HistoryFilter(favourites=True)) == [second]
    assert ids(me, HistoryFilter(collection_id=folder)) == [third, first]


def test_pages_hold_exactly_page_size_and_clamp(database_url: str) -> None:
    me = make_user()
    created = [add_generation(me, n) for n in range(30)]
    newest_first = created[::-1]
    assert ids(me, HistoryFilter(page=1), page_size=12) == newest_first[:12]
    assert ids(me, HistoryFilter(page=3), page_size=12) == newest_first[24:]
    assert ids(me, HistoryFilter(page=99), page_size=12) == newest_first[24:]


def test_another_users_rows_and_collections_are_invisible(database_url: str) -> None:
    me = make_user()
    them = make_user(email="other@example.com")
    mine = add_generation(me, 1)
    theirs = add_generation(them, 2)
    their_folder = library.create_collection(user_id=them, name="Secret")
    library.add_to_collection(user_id=them, collection_id=their_folder, generation_ids=[theirs])
    assert ids(me, HistoryFilter()) == [mine]
    assert ids(me, HistoryFilter(collection_id=their_folder)) == []


def test_filter_round_trips_through_the_url_query() -> None:
    filters = HistoryFilter(
        status=GenerationStatus.FAILED,
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
