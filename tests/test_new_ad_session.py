"""New Ad from the database: the form comes back as the user left it (reload, another
worker, a restart), with the running jobs and their images so far."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from adremix.db import session_scope
from adremix.models import AdDraft, utcnow
from adremix.services import accounts
from adremix.services import generation as generations
from adremix.services.generation import OfflineEngine, RemixOptions
from tests.factories import add_generation, funded_user, jpeg, make_user

FORM = {
    "instructions": "Monsoon sale",
    "template": "festive",
    "placement": "portrait",
    "quality": "high",
    "variations": 3,
    "headline": "Rain or shine",
    "call_to_action": "Shop now",
    "brand_colors": "#ff6600",
    "keep_product": True,
    "fresh": True,
    "language": "hi",
    "brand_kit_id": 4,
}


def test_the_form_comes_back_as_it_was_left(database_url: str) -> None:
    user_id = funded_user(3)
    source = generations.ingest_source(user_id=user_id, data=jpeg(size=(800, 600)))
    generations.save_draft(user_id=user_id, source_sha256=source.sha256, options=FORM)

    restored = generations.restore_new_ad(user_id=user_id)

    assert restored.source == generations.DraftSource(source.sha256, 800, 600)
    assert restored.options == FORM
    assert restored.jobs == []


def test_a_draft_keeps_only_what_the_form_can_show(database_url: str) -> None:
    user_id = make_user()
    other = make_user(email="other@example.com")
    theirs = generations.ingest_source(user_id=other, data=jpeg())
    generations.save_draft(
        user_id=user_id,
        source_sha256=theirs.sha256,  # not this user's image
        options={
            "instructions": "x" * 5000,
            "template": "no-such-style",
            "variations": 99,
            "keep_product": "yes",
            "is_admin": True,
            "language": "klingon",
            "brand_kit_id": "7",
        },
    )
    restored = generations.restore_new_ad(user_id=user_id)
    assert restored.source is None
    assert restored.options == {"instructions": "x" * generations.MAX_INSTRUCTIONS}


def test_running_and_recent_jobs_come_back_with_their_images_so_far(database_url: str) -> None:
    user_id = funded_user(6)
    source = generations.ingest_source(user_id=user_id, data=jpeg())

    def start(key: str, variations: int) -> int:
        return generations.start_generation(
            user_id=user_id,
            client_request_id=key,
            source_sha256=source.sha256,
            options=RemixOptions(instructions=key, variations=variations),
            provider="offline",
            model="offline-v1",
            fresh=True,
        ).generation_id

    finished = start("finished", 2)
    asyncio.run(generations.run_generation(generation_id=finished, provider=OfflineEngine()))
    running = start("running", 3)
    old = add_generation(user_id, n=99, created_at=utcnow() - timedelta(hours=2))

    restored = generations.restore_new_ad(user_id=user_id)

    assert [job.id for job in restored.jobs] == [running, finished]
    waiting, done = restored.jobs
    assert (waiting.status, waiting.queued, waiting.output_hashes) == ("running", True, [])
    assert (done.status, len(done.output_hashes), done.failed) == ("succeeded", 2, 0)
    assert old not in [job.id for job in restored.jobs]  # finished long ago
    progress = generations.job_progress(user_id=user_id, generation_ids=[running, old])
    assert {job.id for job in progress} == {running, old}
    stranger = make_user(email="stranger@example.com")
    assert generations.job_progress(user_id=stranger, generation_ids=[running]) == []


def test_deleting_the_account_deletes_the_draft(database_url: str) -> None:
    user_id = make_user(email="leaving@example.com")
    source = generations.ingest_source(user_id=user_id, data=jpeg())
    generations.save_draft(user_id=user_id, source_sha256=source.sha256, options=FORM)
    accounts.delete_account(user_id=user_id, confirm_email="leaving@example.com")
    with session_scope() as session:
        assert session.get(AdDraft, user_id) is None
