"""Generation and credits: one credit per delivered image, every failure refunded."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from adremix.db import session_scope
from adremix.models import CreditTransaction, Generation, UsageEvent
from adremix.services import credits
from adremix.services import generation as generations
from adremix.services.credits import InsufficientCredits
from adremix.services.generation import (
    ImageProvider,
    InvalidRequest,
    OpenAIImageProvider,
    RemixOptions,
)
from adremix.services.generation.offline_engine import OfflineEngine
from adremix.services.storage import LocalStorage
from tests.factories import balance, funded_user, jpeg, make_user
from tests.fakes.openai_images import API_KEY, FakeOpenAIImages


def openai(fake: FakeOpenAIImages, **overrides: object) -> OpenAIImageProvider:
    settings: dict = {
        "model": "gpt-image-1",
        "timeout_s": 5.0,
        "max_retries": 1,
        "retry_max_wait_s": 0.01,
    } | overrides
    return OpenAIImageProvider(api_key=API_KEY, base_url=fake.base_url, **settings)


def generate(
    user_id: int,
    storage: LocalStorage,
    provider: ImageProvider,
    *,
    variations: int = 1,
    request_id: str = "req-1",
    fresh: bool = False,
    source: bytes | None = None,
) -> generations.GenerationResult | generations.StartedGeneration:
    upload = generations.ingest_source(user_id=user_id, data=source or jpeg(), storage=storage)
    started = generations.start_generation(
        user_id=user_id,
        client_request_id=request_id,
        source_sha256=upload.sha256,
        options=RemixOptions(instructions="Make it festive", variations=variations),
        provider=provider.name,
        model=provider.model,
        fresh=fresh,
    )
    if started.cached or started.repeated:
        return started
    return asyncio.run(
        generations.run_generation(
            generation_id=started.generation_id, provider=provider, storage=storage
        )
    )


def test_offline_generation_spends_one_credit_per_image(
    database_url: str, storage: LocalStorage
) -> None:
    user_id = funded_user(5)
    result = generate(user_id, storage, OfflineEngine(), variations=3)
    assert isinstance(result, generations.GenerationResult)
    assert (result.status, len(result.delivered), result.failed) == ("succeeded", 3, 0)
    assert balance(user_id) == 2
    for sha in result.delivered:
        assert storage.exists("result", sha)
        # The thumbnail is made when first asked for, and kept.
        assert generations.thumbnail_bytes(storage, sha).startswith(b"RIFF")
        assert storage.exists("thumb", sha)
        assert generations.owns_image(user_id=user_id, sha256=sha, kind="result")
    with session_scope() as session:
        usage = session.exec(select(UsageEvent)).one()
        assert (usage.images_requested, usage.images_delivered, usage.outcome) == (
            3,
            3,
            "succeeded",
        )


def test_partial_failure_refunds_exactly_the_failed_images(
    database_url: str, storage: LocalStorage, openai_images: FakeOpenAIImages
) -> None:
    user_id = funded_user(5)
    openai_images.script(["ok", "refuse", "ok"])
    result = generate(user_id, storage, openai(openai_images), variations=3)
    assert isinstance(result, generations.GenerationResult)
    assert (result.status, len(result.delivered), result.failed) == ("partial", 2, 1)
    assert "content policy" in (result.error_message or "")
    assert balance(user_id) == 3
    with session_scope() as session:
        entries = session.exec(select(CreditTransaction).order_by(CreditTransaction.id)).all()
        generation = session.exec(select(Generation)).one()
    assert [(e.kind, e.amount) for e in entries] == [
        ("purchase", 5),
        ("generation", -3),
        ("generation_refund", 1),
    ]
    assert entries[-1].reference == str(generation.id) and generation.credits_spent == 2


@pytest.mark.parametrize(
    ("script", "error_class"),
    [
        ([("status", 500)] * 2, "unavailable"),
        (["quota"], "quota_exhausted"),
        (["refuse"], "refused"),
        (["bad_image"], "bad_output"),
        ([("delay", 2.0)] * 2, "timeout"),
    ],
)
def test_failed_generation_refunds_everything(
    database_url: str,
    storage: LocalStorage,
    openai_images: FakeOpenAIImages,
    script: list,
    error_class: str,
) -> None:
    user_id = funded_user(2)
    openai_images.script(script)
    result = generate(user_id, storage, openai(openai_images, timeout_s=0.5))
    assert isinstance(result, generations.GenerationResult)
    assert (result.status, result.delivered) == ("failed", [])
    assert balance(user_id) == 2
    with session_scope() as session:
        assert session.exec(select(UsageEvent)).one().error_class == error_class
        assert credits.find_mismatches(session=session) == []


def test_url_jpeg_and_webp_answers_are_stored_as_results(
    database_url: str, storage: LocalStorage, openai_images: FakeOpenAIImages
) -> None:
    user_id = funded_user(3)
    openai_images.script(["url", "jpeg", "webp"])
    result = generate(user_id, storage, openai(openai_images), variations=3)
    assert isinstance(result, generations.GenerationResult)
    assert (result.status, len(result.delivered), result.failed) == ("succeeded", 3, 0)
    assert balance(user_id) == 0


def test_an_exhausted_quota_tells_the_user_the_service_is_unavailable(
    database_url: str, storage: LocalStorage, openai_images: FakeOpenAIImages
) -> None:
    user_id = funded_user(2)
    openai_images.script(["quota"] * 2)
    result = generate(user_id, storage, openai(openai_images), variations=2)
    assert isinstance(result, generations.GenerationResult)
    assert result.status == "failed" and balance(user_id) == 2
    assert "temporarily unavailable" in (result.error_message or "")
    assert [r["status"] for r in openai_images.requests] == [429, 429]  # one try per image


def test_insufficient_credits_creates_nothing(database_url: str, storage: LocalStorage) -> None:
    user_id = funded_user(1)
    with pytest.raises(InsufficientCredits):
        generate(user_id, storage, OfflineEngine(), variations=2)
    with session_scope() as session:
        assert session.exec(select(Generation)).all() == []
    assert balance(user_id) == 1


def test_a_repeated_submit_starts_one_job(database_url: str, storage: LocalStorage) -> None:
    user_id = funded_user(5)
    first = generate(user_id, storage, OfflineEngine(), request_id="click-1")
    second = generate(user_id, storage, OfflineEngine(), request_id="click-1")
    assert isinstance(second, generations.StartedGeneration) and second.repeated
    assert second.generation_id == first.generation_id
    assert balance(user_id) == 4


def test_identical_request_is_served_from_cache_for_free(
    database_url: str, storage: LocalStorage
) -> None:
    user_id = funded_user(5)
    first = generate(user_id, storage, OfflineEngine(), request_id="a")
    cached = generate(user_id, storage, OfflineEngine(), request_id="b")
    assert isinstance(cached, generations.StartedGeneration) and cached.cached
    assert balance(user_id) == 4
    summary = cached.summary
    assert summary is not None and summary.output_hashes == first.delivered and summary.cached
    fresh = generate(user_id, storage, OfflineEngine(), request_id="c", fresh=True)
    assert isinstance(fresh, generations.GenerationResult) and balance(user_id) == 3


def test_source_images_are_stored_once_by_content_hash(
    database_url: str, storage: LocalStorage
) -> None:
    user_id = funded_user(1)
    a = generations.ingest_source(user_id=user_id, data=jpeg(), storage=storage)
    b = generations.ingest_source(user_id=user_id, data=jpeg(), storage=storage)
    assert a.sha256 == b.sha256
    assert len(list((storage.root / "source").rglob("*.img"))) == 1
    assert len(list((storage.root / "prepared").rglob("*.png"))) == 1


def test_someone_elses_source_cannot_be_remixed(database_url: str, storage: LocalStorage) -> None:
    owner = funded_user(1)
    other = funded_user(1, email="other@example.com")
    upload = generations.ingest_source(user_id=owner, data=jpeg(), storage=storage)
    with pytest.raises(InvalidRequest):
        generations.start_generation(
            user_id=other,
            client_request_id="x",
            source_sha256=upload.sha256,
            options=RemixOptions(instructions="steal"),
            provider="offline",
            model="offline-v1",
        )
    assert not generations.owns_image(user_id=other, sha256=upload.sha256)


def test_remix_this_uses_an_earlier_result_as_the_source(
    database_url: str, storage: LocalStorage
) -> None:
    user_id = funded_user(3)
    result = generate(user_id, storage, OfflineEngine())
    upload = generations.use_result_as_source(
        user_id=user_id, sha256=result.delivered[0], storage=storage
    )
    assert generations.owns_image(user_id=user_id, sha256=upload.sha256, kind="source")
    other = make_user(email="intruder@example.com")
    with pytest.raises(InvalidRequest):
        generations.use_result_as_source(user_id=other, sha256=result.delivered[0], storage=storage)
