"""Templates, preferences, collections and the dashboard's figures."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from adremix.db import session_scope
from adremix.enums import CreditKind, GenerationStatus
from adremix.services import credits, library
from adremix.services.library import dashboard_stats
from tests.factories import add_generation, make_user


def saved_names(user_id: int) -> list[str]:
    with session_scope() as session:
        return [t.name for t in library.list_templates(session, user_id=user_id)]


def test_templates_save_rename_delete_and_keep_only_known_options(database_url: str) -> None:
    me = make_user()
    generation_id = add_generation(
        me, options={"instructions": "Gold", "template": "luxury", "user_id": 999}
    )
    saved = library.save_generation_as_template(
        user_id=me, generation_id=generation_id, name="  Velvet   luxe "
    )
    assert saved.name == "Velvet luxe"
    assert library.template_options(user_id=me, template_id=saved.id) == {
        "instructions": "Gold",
        "template": "luxury",
    }
    with pytest.raises(library.LibraryError, match="already have"):
        library.save_generation_as_template(
            user_id=me, generation_id=generation_id, name="Velvet luxe"
        )
    library.rename_template(user_id=me, template_id=saved.id, name="Night gold")
    assert saved_names(me) == ["Night gold"]
    library.delete_template(user_id=me, template_id=saved.id)
    assert saved_names(me) == []


def test_someone_elses_generation_cannot_become_my_template(database_url: str) -> None:
    me, them = make_user(), make_user(email="them@example.com")
    theirs = add_generation(them, options={"instructions": "Their secret"})
    with pytest.raises(library.LibraryError, match="does not exist"):
        library.save_generation_as_template(user_id=me, generation_id=theirs, name="Mine now")
    assert saved_names(me) == []


def test_preferences_are_validated_and_merged(database_url: str) -> None:
    me = make_user()
    with session_scope() as session:
        assert library.read_preferences(session, user_id=me)["default_placement"] == "square"
    library.save_preferences(user_id=me, values={"default_placement": "portrait"})
    prefs = library.save_preferences(user_id=me, values={"low_credit_threshold": 5})
    assert (prefs["default_placement"], prefs["low_credit_threshold"]) == ("portrait", 5)
    with pytest.raises(library.LibraryError):
        library.save_preferences(user_id=me, values={"default_variations": 9})


def test_the_low_credit_threshold_defaults_to_the_setting(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adremix.settings import get_settings

    monkeypatch.setenv("ADREMIX_LOW_CREDIT_THRESHOLD", "7")
    get_settings.cache_clear()
    with session_scope() as session:
        assert library.read_preferences(session, user_id=make_user())["low_credit_threshold"] == 7


def test_collections_count_live_generations_and_can_be_renamed_or_removed(
    database_url: str,
) -> None:
    me = make_user()
    rows = [add_generation(me, n) for n in range(2)]
    folder = library.create_collection(user_id=me, name="Launch")
    library.add_to_collection(user_id=me, collection_id=folder, generation_ids=rows)
    # Adding twice is harmless.
    library.add_to_collection(user_id=me, collection_id=folder, generation_ids=rows[:1])
    with session_scope() as session:
        assert library.list_collections(session, user_id=me) == [
            library.CollectionSummary(folder, "Launch", 2)
        ]
    library.rename_collection(user_id=me, collection_id=folder, name="Launch 2")
    library.delete_collection(user_id=me, collection_id=folder)
    with session_scope() as session:
        assert library.list_collections(session, user_id=me) == []


def test_dashboard_counts_credits_used_per_day_net_of_refunds(database_url: str) -> None:
    me = make_user()
    today = datetime.now(UTC)
    with session_scope() as session:
        credits.grant(
            session=session, user_id=me, amount=10, kind=CreditKind.PURCHASE, idempotency_key="p"
        )
        credits.spend(session=session, user_id=me, amount=3, idempotency_key="g1")
        credits.refund(session=session, user_id=me, amount=1, idempotency_key="r1")
    statuses = [GenerationStatus.SUCCEEDED] * 3 + [GenerationStatus.FAILED]
    for n, status in enumerate(statuses):
        add_generation(me, n, status=status, credits_spent=1, created_at=today)
    with session_scope() as session:
        stats = dashboard_stats(session, user_id=me, today=today.date())
        empty = dashboard_stats(session, user_id=me, today=date(2020, 1, 15))
    assert len(stats.credits_per_day) == 30
    assert stats.credits_per_day[-1] == (today.date().isoformat(), 2)
    assert sum(used for _, used in stats.credits_per_day) == 2
    assert (stats.generations_this_month, stats.success_rate_percent) == (4, 75)
    assert empty.success_rate_percent is None
    recent = library.dashboard(user_id=me).recent
    assert [item.id for item in recent] == sorted((item.id for item in recent), reverse=True)
