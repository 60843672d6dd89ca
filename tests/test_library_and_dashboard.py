"""Templates, preferences, collections and the dashboard's figures."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from adremix.db import session_scope
from adremix.models import Generation
from adremix.services import ledger, library
from adremix.services.dashboard import dashboard_stats
from tests.conftest import make_user


def test_templates_save_rename_delete_and_keep_only_known_options(database_url: str) -> None:
    me = make_user(database_url)
    with session_scope() as session:
        saved = library.save_template(
            session=session,
            user_id=me,
            name="  Velvet   luxe ",
            options={"instructions": "Gold", "template": "luxury", "user_id": 999},
        )
        assert saved.name == "Velvet luxe" and saved.options == {
            "instructions": "Gold",
            "template": "luxury",
        }
        with pytest.raises(library.LibraryError, match="already have"):
            library.save_template(session=session, user_id=me, name="Velvet luxe", options={})
        library.rename_template(
            session=session, user_id=me, template_id=saved.id or 0, name="Night gold"
        )
        assert [t.name for t in library.list_templates(session=session, user_id=me)] == [
            "Night gold"
        ]
        library.delete_template(session=session, user_id=me, template_id=saved.id or 0)
        assert library.list_templates(session=session, user_id=me) == []


def test_preferences_are_validated_and_merged(database_url: str) -> None:
    me = make_user(database_url)
    with session_scope() as session:
        assert library.get_preferences(session=session, user_id=me)["default_placement"] == "square"
        library.save_preferences(
            session=session, user_id=me, values={"default_placement": "portrait"}
        )
        prefs = library.save_preferences(
            session=session, user_id=me, values={"low_credit_threshold": 5}
        )
        assert (prefs["default_placement"], prefs["low_credit_threshold"]) == ("portrait", 5)
        with pytest.raises(library.LibraryError):
            library.save_preferences(session=session, user_id=me, values={"default_variations": 9})


def test_collections_count_live_generations_and_can_be_renamed_or_removed(
    database_url: str,
) -> None:
    me = make_user(database_url)
    with session_scope() as session:
        rows = [
            Generation(
                user_id=me,
                client_request_id=f"r{i}",
                instructions="x",
                source_image_hash="0" * 64,
                provider="offline",
                cache_key=f"k{i}",
            )
            for i in range(2)
        ]
        session.add_all(rows)
        session.flush()
        folder = library.create_collection(session=session, user_id=me, name="Launch")
        library.add_to_collection(
            session=session,
            user_id=me,
            collection_id=folder.id or 0,
            generation_ids=[r.id or 0 for r in rows],
        )
        library.add_to_collection(
            session=session,
            user_id=me,
            collection_id=folder.id or 0,
            generation_ids=[rows[0].id or 0],
        )  # adding twice is harmless
        assert library.list_collections(session=session, user_id=me) == [(folder.id, "Launch", 2)]
        library.rename_collection(
            session=session, user_id=me, collection_id=folder.id or 0, name="Launch 2"
        )
        library.delete_collection(session=session, user_id=me, collection_id=folder.id or 0)
        assert library.list_collections(session=session, user_id=me) == []


def test_dashboard_counts_credits_used_per_day_net_of_refunds(database_url: str) -> None:
    me = make_user(database_url)
    with session_scope() as session:
        ledger.grant(session=session, user_id=me, amount=10, kind="purchase", idempotency_key="p")
        ledger.spend(session=session, user_id=me, amount=3, idempotency_key="g1")
        ledger.refund(session=session, user_id=me, amount=1, idempotency_key="r1")
        today = datetime.now(UTC)
        session.add_all(
            [
                Generation(
                    user_id=me,
                    client_request_id=f"d{i}",
                    instructions="x",
                    status=status,
                    source_image_hash="0" * 64,
                    provider="offline",
                    cache_key=f"d{i}",
                    credits_spent=1,
                    created_at=today,
                )
                for i, status in enumerate(["succeeded", "succeeded", "succeeded", "failed"])
            ]
        )
    with session_scope() as session:
        stats = dashboard_stats(session=session, user_id=me, today=today.date())
    assert len(stats.credits_per_day) == 30
    assert stats.credits_per_day[-1] == (today.date().isoformat(), 2)
    assert sum(credits for _, credits in stats.credits_per_day) == 2
    assert (stats.generations_this_month, stats.success_rate_percent) == (4, 75)
    empty = dashboard_stats(session=session, user_id=me, today=date(2020, 1, 15))
    assert empty.success_rate_percent is None
