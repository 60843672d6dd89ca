"""Durable generation jobs: a killed worker's job is resumed, not refunded; a job delivered
twice makes one result per variation; a job is queued only once its reserve committed."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from sqlalchemy import event, func, text
from sqlmodel import select
from taskiq_redis import RedisStreamBroker

from adremix.db import get_engine, session_scope
from adremix.enums import CreditKind
from adremix.models import CreditTransaction, Generation, GenerationOutput, StoredImage, UsageEvent
from adremix.services import credits
from adremix.services import generation as generations
from adremix.services.credits import InsufficientCredits
from adremix.services.generation import JobWorker, RemixOptions, jobs
from adremix.services.generation.providers import ProviderRefused
from adremix.services.generation.queue import CONSUMER_GROUP, STREAM, JobQueue
from adremix.services.storage import default_storage
from adremix.settings import get_settings
from tests.app_server import ROOT
from tests.factories import balance, funded_user, jpeg
from tests.fakes.openai_images import API_KEY, FakeOpenAIImages


def use_fake_openai(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAIImages, **settings: str
) -> None:
    """The app's configured provider is the real SDK against the fake."""
    for name, value in {
        "OPENAI_API_KEY": API_KEY,
        "OPENAI_BASE_URL": fake.base_url,
        "OPENAI_MAX_RETRIES": "0",
        "OPENAI_TIMEOUT_S": "120",
        **settings,
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()


def start(user_id: int, variations: int, key: str = "press-1") -> int:
    upload = generations.ingest_source(user_id=user_id, data=jpeg())
    started = generations.start_generation(
        user_id=user_id,
        client_request_id=key,
        source_sha256=upload.sha256,
        options=RemixOptions(instructions="Monsoon sale", variations=variations),
        fresh=True,
    )
    return started.generation_id


def row(generation_id: int) -> Generation:
    with session_scope() as session:
        found = session.get(Generation, generation_id)
        assert found is not None
        return found


def outputs(generation_id: int) -> list[GenerationOutput]:
    with session_scope() as session:
        return list(
            session.exec(
                select(GenerationOutput)
                .where(GenerationOutput.generation_id == generation_id)
                .order_by(GenerationOutput.index)  # type: ignore[arg-type]
            ).all()
        )


def ledger(user_id: int) -> list[tuple[str, int]]:
    with session_scope() as session:
        entries = session.exec(
            select(CreditTransaction)
            .where(CreditTransaction.user_id == user_id)
            .order_by(CreditTransaction.id)  # type: ignore[arg-type]
        ).all()
        return [(e.kind, e.amount) for e in entries]


def wait_until(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def crash_a_worker_part_way(generation_id: int, done: int) -> None:
    """A real worker process takes the job; it is `kill -9`ed once `done` outputs exist."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.run_one_job", str(generation_id)], cwd=ROOT
    )
    try:
        wait_until(lambda: len(outputs(generation_id)) >= done)
    finally:
        worker.kill()
        worker.wait()


# --- lease expiry and resume ------------------------------------------------------------


def test_a_killed_worker_s_job_is_resumed_from_its_missing_variations(
    database_url: str, openai_images: FakeOpenAIImages, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fake_openai(monkeypatch, openai_images, ADREMIX_JOB_LEASE_S="2")
    user_id = funded_user(4)
    generation_id = start(user_id, variations=4)
    openai_images.script(["ok", "ok", ("delay", 60), ("delay", 60)])

    crash_a_worker_part_way(generation_id, done=2)

    crashed = row(generation_id)
    assert crashed.status == "running" and crashed.lease_owner is not None
    assert balance(user_id) == 0  # all four still reserved: nothing refunded on a crash
    # While the dead worker's lease holds, nobody takes the job over ...
    assert generations.requeue_lapsed(requeue_after_s=60) == []
    # ... and once it lapses the sweep queues it again.
    wait_until(lambda: generations.requeue_lapsed(requeue_after_s=60) == [generation_id], 5)
    sent_before = len(openai_images.requests)

    result = asyncio.run(generations.run_generation(generation_id=generation_id))

    assert (result.status, len(result.delivered), result.failed) == ("succeeded", 4, 0)
    assert len(openai_images.requests) - sent_before == 2  # only the two missing ones
    assert sorted(o.attempt for o in outputs(generation_id)) == [1, 1, 2, 2]
    assert row(generation_id).attempts == 2
    assert balance(user_id) == 0 and ledger(user_id) == [("purchase", 4), ("generation", -4)]
    with session_scope() as session:
        assert credits.find_mismatches(session=session) == []


def test_postgresql_notices_a_dead_worker_without_waiting_for_its_lease(
    postgres_url: str, openai_images: FakeOpenAIImages, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fake_openai(monkeypatch, openai_images, ADREMIX_JOB_LEASE_S="300")
    user_id = funded_user(2)
    generation_id = start(user_id, variations=2)
    openai_images.script(["ok", ("delay", 60)])

    crash_a_worker_part_way(generation_id, done=1)

    # The lease has minutes to run, but its holder's presence lock died with its process.
    assert row(generation_id).lease_owner is not None
    wait_until(lambda: generations.requeue_lapsed(requeue_after_s=60) == [generation_id], 5)
    result = asyncio.run(generations.run_generation(generation_id=generation_id))
    assert (result.status, len(result.delivered)) == ("succeeded", 2)
    assert balance(user_id) == 0


def test_a_live_worker_s_lease_is_not_taken_over(
    postgres_url: str, openai_images: FakeOpenAIImages, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fake_openai(monkeypatch, openai_images, ADREMIX_JOB_LEASE_S="300")
    user_id = funded_user(1)
    generation_id = start(user_id, variations=1)
    openai_images.script([("delay", 1.5)])

    async def scenario() -> list[int]:
        job = asyncio.create_task(generations.run_generation(generation_id=generation_id))
        await asyncio.sleep(0.5)
        swept = await asyncio.to_thread(generations.requeue_lapsed, requeue_after_s=60)
        await job
        return swept

    assert asyncio.run(scenario()) == []
    assert row(generation_id).attempts == 1 and row(generation_id).status == "succeeded"


def test_after_the_last_attempt_what_is_missing_is_refunded_once_with_the_reason(
    database_url: str, openai_images: FakeOpenAIImages, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fake_openai(
        monkeypatch, openai_images, ADREMIX_JOB_LEASE_S="1", ADREMIX_JOB_MAX_ATTEMPTS="1"
    )
    user_id = funded_user(3)
    generation_id = start(user_id, variations=3)
    openai_images.script(["ok", ("delay", 60), ("delay", 60)])
    crash_a_worker_part_way(generation_id, done=1)
    wait_until(lambda: generations.requeue_lapsed(requeue_after_s=60) == [generation_id], 5)

    result = asyncio.run(generations.run_generation(generation_id=generation_id))
    again = asyncio.run(generations.run_generation(generation_id=generation_id))

    assert (result.status, len(result.delivered), result.failed) == ("partial", 1, 2)
    assert again.status == "partial"
    assert ledger(user_id) == [("purchase", 3), ("generation", -3), ("generation_refund", 2)]
    with session_scope() as session:
        refund = session.exec(
            select(CreditTransaction).where(CreditTransaction.kind == CreditKind.GENERATION_REFUND)
        ).one()
        assert "interrupted too many times" in (refund.reason or "")
        assert session.exec(select(func.count()).select_from(UsageEvent)).one() == 1


def test_one_user_s_presses_at_once_on_postgresql_each_start_a_job(postgres_url: str) -> None:
    user_id = funded_user(20)
    source = generations.ingest_source(user_id=user_id, data=jpeg())

    def press(number: int) -> int:
        return generations.start_generation(
            user_id=user_id,
            client_request_id=f"intent-{number}",
            source_sha256=source.sha256,
            options=RemixOptions(instructions="Many at once"),
            fresh=True,
        ).generation_id

    with ThreadPoolExecutor(max_workers=10) as pool:
        ids = set(pool.map(press, range(20)))

    assert len(ids) == 20 and balance(user_id) == 0


# --- duplicate delivery -----------------------------------------------------------------


def test_the_same_job_delivered_twice_at_once_runs_once(
    database_url: str, openai_images: FakeOpenAIImages, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fake_openai(monkeypatch, openai_images)
    user_id = funded_user(3)
    generation_id = start(user_id, variations=3)
    openai_images.default_delay_s = 0.5

    async def two_workers() -> list[generations.GenerationResult]:
        first, second = JobWorker(), JobWorker()
        return await asyncio.gather(first.run(generation_id), second.run(generation_id))

    results = asyncio.run(two_workers())

    assert sorted(r.status for r in results) == ["running", "succeeded"]  # one skipped it
    assert len(openai_images.requests) == 3
    assert [o.index for o in outputs(generation_id)] == [0, 1, 2]
    assert balance(user_id) == 0 and ledger(user_id) == [("purchase", 3), ("generation", -3)]


def test_a_job_run_twice_after_its_lease_lapsed_keeps_one_result_per_variation(
    database_url: str, openai_images: FakeOpenAIImages, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first worker stalls past its lease (no heartbeat reaches the database), so a
    # second delivery takes the job over while the first is still making the same images.
    use_fake_openai(monkeypatch, openai_images, ADREMIX_JOB_LEASE_S="0.3")
    user_id = funded_user(2)
    generation_id = start(user_id, variations=2)
    openai_images.default_delay_s = 1.0

    async def overlapping() -> list[generations.GenerationResult]:
        stalled = asyncio.create_task(JobWorker().run(generation_id))
        await asyncio.sleep(0.6)
        late = asyncio.create_task(JobWorker().run(generation_id))
        return await asyncio.gather(stalled, late)

    results = asyncio.run(overlapping())

    assert len(openai_images.requests) == 4  # both made both images ...
    assert {r.status for r in results} == {"succeeded"}
    made = outputs(generation_id)
    assert [o.index for o in made] == [0, 1]  # ... one result per variation is kept
    assert row(generation_id).output_hashes == [o.sha256 for o in made]
    assert balance(user_id) == 0 and ledger(user_id) == [("purchase", 2), ("generation", -2)]
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(UsageEvent)).one() == 1
        claims = session.exec(
            select(func.count()).select_from(StoredImage).where(StoredImage.kind == "result")
        ).one()
        assert claims == len({o.sha256 for o in made})


def test_a_settled_job_delivered_again_changes_nothing(
    database_url: str, openai_images: FakeOpenAIImages, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fake_openai(monkeypatch, openai_images)
    user_id = funded_user(2)
    generation_id = start(user_id, variations=2)
    openai_images.script(["ok", "refuse"])
    first = asyncio.run(generations.run_generation(generation_id=generation_id))
    again = asyncio.run(generations.run_generation(generation_id=generation_id))
    assert first == again and first.status == "partial"
    assert len(openai_images.requests) == 2
    assert ledger(user_id) == [("purchase", 2), ("generation", -2), ("generation_refund", 1)]


def test_the_last_two_variations_finishing_at_once_settle_the_generation(
    postgres_url: str,
) -> None:
    # Variation 1's outcome is written but not committed yet when variation 0's arrives
    # on another thread, as when two images of one job come back at the same moment.
    # Each must count the other's outcome, or neither settles the generation.
    user_id = funded_user(2)
    generation_id = start(user_id, variations=2)
    claim = jobs._claim(generation_id, owner="test:1:1", key=None, lease_s=60, max_attempts=3)
    assert claim is not None
    refused = ProviderRefused("Declined.")
    with ThreadPoolExecutor(max_workers=1) as other, session_scope() as session:
        jobs.record_outcome_in(session, claim, 1, None, refused)
        second = other.submit(jobs._record_outcome, claim, 0, None, refused)
        time.sleep(0.5)  # the other thread's transaction runs (or waits) meanwhile
    assert second.result(timeout=10).status == "failed"
    assert row(generation_id).status == "failed"
    assert balance(user_id) == 2  # both refunded, once
    with session_scope() as session:
        assert credits.find_mismatches(session=session) == []


# --- enqueue after commit ---------------------------------------------------------------


def stream_length(url: str) -> int:
    with redis.Redis.from_url(url) as client:
        return int(client.xlen(STREAM)) if client.exists(STREAM) else 0


async def press(
    user_id: int, source_sha: str, key: str, variations: int = 1
) -> generations.StartedGeneration:
    """A press of Generate, as New Ad makes it."""
    return await generations.submit_generation(
        user_id=user_id,
        client_request_id=key,
        source_sha256=source_sha,
        options=RemixOptions(instructions="Queued", variations=variations),
        fresh=True,
    )


def submit(user_id: int, source_sha: str, key: str, variations: int = 1) -> int:
    return asyncio.run(press(user_id, source_sha, key, variations)).generation_id


def test_a_reserve_that_rolls_back_is_never_queued(database_url: str, redis_queue: str) -> None:
    user_id = funded_user(5)
    source = generations.ingest_source(user_id=user_id, data=jpeg())
    with get_engine().begin() as connection:
        # The database refuses the reserve's ledger row, after the generation row was
        # written in the same transaction: the whole transaction rolls back.
        connection.execute(
            text(
                "CREATE TRIGGER refuse_reserve BEFORE INSERT ON credit_transaction "
                "WHEN NEW.kind = 'generation' BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
        )
    with pytest.raises(Exception, match="disk full"):
        submit(user_id, source.sha256, "doomed")
    poor = funded_user(1, email="poor@example.com")
    poor_source = generations.ingest_source(user_id=poor, data=jpeg())
    with pytest.raises(InsufficientCredits):
        submit(poor, poor_source.sha256, "too-big", variations=2)

    assert stream_length(redis_queue) == 0
    with session_scope() as session:
        assert session.exec(select(Generation)).all() == []
    assert generations.requeue_lapsed(requeue_after_s=0) == []  # nothing for a sweep either
    assert balance(user_id) == 5


def test_a_committed_generation_is_queued_once_and_the_sweep_finds_a_lost_message(
    database_url: str, redis_queue: str
) -> None:
    user_id = funded_user(5)
    source = generations.ingest_source(user_id=user_id, data=jpeg())

    generation_id = submit(user_id, source.sha256, "press")
    again = submit(user_id, source.sha256, "press")  # the same press, repeated

    assert again == generation_id and stream_length(redis_queue) == 1
    assert row(generation_id).status == "running" and balance(user_id) == 4
    # Had that message been lost (a crash between commit and enqueue), nothing waits
    # forever: once it has waited ADREMIX_JOB_REQUEUE_S, the sweep queues it again.
    assert generations.requeue_lapsed(requeue_after_s=60) == []
    assert generations.requeue_lapsed(requeue_after_s=0) == [generation_id]


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database(request: pytest.FixtureRequest) -> str:
    return str(
        request.getfixturevalue("database_url" if request.param == "sqlite" else "postgres_url")
    )


@pytest.fixture
def commits(any_database: str) -> Iterator[list[int]]:
    """One item per transaction committed on the app's engine while the test runs."""
    counted: list[int] = []

    def count(_connection: object) -> None:
        counted.append(1)

    event.listen(get_engine(), "commit", count)
    yield counted
    event.remove(get_engine(), "commit", count)


async def press_all(presses: list[tuple[int, str, str, int]]) -> list[object]:
    """Presses (user, upload, request id, variations) arriving at the same moment; each
    press's answer, or the exception it raised."""
    return await asyncio.gather(*(press(*p) for p in presses), return_exceptions=True)


def test_presses_at_the_same_moment_reserve_in_one_transaction(
    commits: list[int], redis_queue: str
) -> None:
    users = [funded_user(3, email=f"burst{n}@example.com") for n in range(3)]
    shas = [generations.ingest_source(user_id=u, data=jpeg()).sha256 for u in users]
    presses = [
        (u, sha, f"press-{n}", 1) for n, (u, sha) in enumerate(zip(users, shas, strict=True))
    ]
    presses += [(users[0], shas[0], "press-0", 1)]  # a double click: the same press again
    presses += [(users[1], shas[1], "second", 2)]
    commits.clear()

    answers = asyncio.run(press_all(presses))

    assert len(commits) == 1  # one commit for all five, not five
    started = [a for a in answers if isinstance(a, generations.StartedGeneration)]
    assert len(started) == 5
    assert answers[3].generation_id == answers[0].generation_id and answers[3].repeated
    assert stream_length(redis_queue) == 4  # each new generation queued once
    assert [balance(u) for u in users] == [2, 0, 3 - 1]
    with session_scope() as session:
        assert credits.find_mismatches(session=session) == []


def test_a_refused_press_in_a_burst_fails_alone(any_database: str, redis_queue: str) -> None:
    rich = funded_user(5, email="rich@example.com")
    poor = funded_user(1, email="poor@example.com")
    rich_sha = generations.ingest_source(user_id=rich, data=jpeg()).sha256
    poor_sha = generations.ingest_source(user_id=poor, data=jpeg((10, 90, 200))).sha256

    answers = asyncio.run(
        press_all(
            [
                (rich, rich_sha, "ok-1", 2),
                (poor, poor_sha, "too-big", 2),  # more than the balance
                (rich, poor_sha, "not-mine", 1),  # another user's upload
                (poor, poor_sha, "fits", 1),
                (rich, rich_sha, "ok-2", 1),
            ]
        )
    )

    assert isinstance(answers[1], InsufficientCredits)
    assert isinstance(answers[2], generations.InvalidRequest)
    kept = [answers[i] for i in (0, 3, 4)]
    assert all(isinstance(a, generations.StartedGeneration) and not a.repeated for a in kept)
    assert balance(rich) == 5 - 3 and balance(poor) == 0
    assert stream_length(redis_queue) == 3
    with session_scope() as session:
        assert len(session.exec(select(Generation)).all()) == 3
        assert credits.find_mismatches(session=session) == []


def test_the_in_process_queue_runs_the_job_in_this_process(database_url: str) -> None:
    user_id = funded_user(2)
    source = generations.ingest_source(user_id=user_id, data=jpeg())

    async def press_and_wait() -> int:
        started = await generations.submit_generation(
            user_id=user_id,
            client_request_id="local",
            source_sha256=source.sha256,
            options=RemixOptions(instructions="In process", variations=2),
        )
        await generations.job_queue().wait_idle()
        return started.generation_id

    generation_id = asyncio.run(press_and_wait())
    assert row(generation_id).status == "succeeded" and balance(user_id) == 0


# --- a dead worker's messages on the Redis queue --------------------------------------------


def read_as(url: str, consumer: str, count: int) -> list[bytes]:
    """Take `count` messages off the stream as that consumer would (then not acknowledge
    them: what a worker killed right after reading leaves)."""
    with redis.Redis.from_url(url) as client:
        fetched = client.xreadgroup(CONSUMER_GROUP, consumer, {STREAM: ">"}, count=count)
    return [message_id for _, messages in fetched for message_id, _ in messages]


def consumers(url: str) -> list[str]:
    with redis.Redis.from_url(url) as client:
        return [c["name"].decode() for c in client.xinfo_consumers(STREAM, CONSUMER_GROUP)]


def test_the_sweep_queues_again_exactly_what_a_dead_worker_held(
    postgres_url: str, redis_queue: str
) -> None:
    user_id = funded_user(5)
    source = generations.ingest_source(user_id=user_id, data=jpeg())
    # Queued in this order: two a worker reads and dies with (one of them claimed, so its
    # lease names the dead worker), one a live worker reads and works on, two still waiting.
    ids = [submit(user_id, source.sha256, f"press-{n}") for n in range(5)]
    dead_key = jobs.new_worker_key()
    dead = jobs.worker_name(dead_key)

    async def scenario() -> tuple[list[int], list[int]]:
        live, survivor = JobQueue(get_settings()), JobQueue(get_settings())
        await live.worker.start()
        await survivor.worker.start()
        try:
            assert len(await asyncio.to_thread(read_as, redis_queue, dead, 2)) == 2
            claim = await asyncio.to_thread(
                jobs._claim, ids[0], owner=dead, key=dead_key, lease_s=300, max_attempts=3
            )
            assert claim is not None
            assert len(await asyncio.to_thread(read_as, redis_queue, live.worker.owner, 1)) == 1
            held = await asyncio.to_thread(
                jobs._claim,
                ids[2],
                owner=live.worker.owner,
                key=live.worker.key,
                lease_s=300,
                max_attempts=3,
            )
            assert held is not None
            first = await survivor.worker.sweep()
            again = await survivor.worker.sweep()  # nothing of the dead worker is left
            return first, again
        finally:
            for queue in (live, survivor):
                await queue.worker.stop()
                await queue.close()

    swept, again = asyncio.run(scenario())

    # The dead worker's claimed job (its lease) and the one it had read but not claimed;
    # neither the live worker's running job nor the two still waiting on the stream.
    assert sorted(swept) == ids[:2] and again == []
    assert dead not in consumers(redis_queue)
    assert stream_length(redis_queue) == 5 + 2
    assert row(ids[2]).lease_owner is not None and row(ids[0]).lease_owner is None


def test_outcomes_written_together_are_each_kept_and_one_failure_is_not_the_others(
    any_database: str,
) -> None:
    user_id = funded_user(3)
    first, second = start(user_id, 1, "press-a"), start(user_id, 2, "press-b")
    claims = [
        jobs._claim(g, owner="test:1:1", key=None, lease_s=60, max_attempts=3)
        for g in (first, second)
    ]
    assert claims[0] is not None and claims[1] is not None
    refused = ProviderRefused("Declined.")
    gone = dataclasses.replace(claims[1], generation_id=10_000)  # no such generation

    together = jobs._record_outcomes([(claims[0], 0, None, refused), (claims[1], 0, None, refused)])
    assert [r.status for r in together] == ["failed", "running"]  # type: ignore[union-attr]
    alone = jobs._record_outcomes([(claims[1], 1, None, refused), (gone, 0, None, refused)])
    assert isinstance(alone[1], Exception)
    assert alone[0].status == "failed"  # type: ignore[union-attr]
    assert [len(outputs(g)) for g in (first, second)] == [1, 2]
    assert balance(user_id) == 3  # every credit refunded, once


def test_deliveries_claimed_together_each_get_their_job_once(any_database: str) -> None:
    user_id = funded_user(2)
    first, second = start(user_id, 1, "press-a"), start(user_id, 1, "press-b")
    worker = JobWorker()

    claims = worker._claim_many([first, second, first])  # the first delivered twice

    assert [getattr(c, "generation_id", None) for c in claims] == [first, second, None]
    assert worker._claim_many([first]) == [None]  # held: this worker's lease is live
    assert row(first).lease_owner == worker.owner and row(first).attempts == 1


@pytest.fixture
def statements(any_database: str) -> Iterator[list[str]]:
    """The first word of each statement SQLAlchemy sends on the app's engine while the
    test runs (an executemany once; the ledger's own driver-level statements are not
    seen)."""
    sent: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        sent.append(statement.split(None, 1)[0].upper())

    event.listen(get_engine(), "before_cursor_execute", note)
    yield sent
    event.remove(get_engine(), "before_cursor_execute", note)


def test_a_burst_of_last_outcomes_settles_its_generations_in_a_fixed_number_of_statements(
    statements: list[str],
) -> None:
    def burst(size: int) -> tuple[int, list[int], int]:
        """`size` one-image generations whose outcomes arrive together, the first one
        refused; returns the user, the generations and the statements it took."""
        user_id = funded_user(size, email=f"burst{size}@example.com")
        ids = [start(user_id, 1, f"press-{size}-{n}") for n in range(size)]
        claims = [
            jobs._claim(g, owner="test:1:1", key=None, lease_s=60, max_attempts=3) for g in ids
        ]
        statements.clear()
        results = jobs._record_outcomes(
            [
                (claim, 0, None, ProviderRefused("Declined."))
                if n == 0
                else (claim, 0, (f"{n:064x}", (1024, 1024)), None)
                for n, claim in enumerate(claims)  # type: ignore[misc]
            ]
        )
        assert [r.status for r in results] == ["failed"] + ["succeeded"] * (size - 1)  # type: ignore[union-attr]
        return user_id, ids, len(statements)

    _, _, few = burst(3)
    user_id, ids, many = burst(20)

    assert many == few  # not a few statements per generation
    settled = [row(g) for g in ids]
    assert [g.status for g in settled] == ["failed"] + ["succeeded"] * 19
    assert [g.credits_spent for g in settled] == [0] + [1] * 19
    assert settled[1].output_hashes == [f"{1:064x}"] and settled[0].output_hashes == []
    assert all(g.completed_at and g.lease_owner is None for g in settled)
    assert balance(user_id) == 1  # the refused one refunded, once
    with session_scope() as session:
        events = session.exec(select(UsageEvent).where(UsageEvent.user_id == user_id)).all()
        assert sorted((e.generation_id, e.outcome) for e in events) == sorted(
            (g.id, g.status) for g in settled
        )
        assert credits.find_mismatches(session=session) == []


def test_a_settle_that_finds_a_generation_settled_elsewhere_is_not_applied_twice(
    any_database: str,
) -> None:
    user_id = funded_user(2)
    first, second = start(user_id, 1, "press-a"), start(user_id, 1, "press-b")
    for g in (first, second):
        claim = jobs._claim(g, owner="test:1:1", key=None, lease_s=60, max_attempts=3)
        assert claim is not None
        with session_scope() as session:
            jobs._insert_outcomes(session, [(g, 0, claim.attempt, ("a" * 64, (8, 8)), None)])
    with session_scope() as session:  # another worker settled the second meanwhile
        session.get(Generation, second).status = "succeeded"  # type: ignore[union-attr]

    with pytest.raises(jobs._SettledElsewhere), session_scope() as session:  # rolled back
        rows = [session.get(Generation, g) for g in (first, second)]
        jobs._settle_complete(session, rows, jobs._outcomes_of(session, [first, second]))  # type: ignore[arg-type]
    with session_scope() as session:
        alone = session.get(Generation, second)
        assert alone is not None
        assert jobs._settle_complete(session, [alone], jobs._outcomes_of(session, [second])) == {
            second: jobs._result(alone)
        }

    assert [row(g).status for g in (first, second)] == ["running", "succeeded"]
    with session_scope() as session:  # the rolled-back batch left no usage event behind
        assert session.exec(select(func.count()).select_from(UsageEvent)).one() == 0


def test_a_worker_that_dies_during_a_sweep_is_alive_to_the_whole_of_it(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_id = funded_user(1)
    generation_id = start(user_id, 1)
    gone_key = jobs.new_worker_key()  # nobody holds it: its worker is dead now
    claim = jobs._claim(
        generation_id, owner=jobs.worker_name(gone_key), key=gone_key, lease_s=300, max_attempts=3
    )
    assert claim is not None
    # It was alive when the sweep began, and died before the sweep looked at the leases.
    answers = iter([frozenset({gone_key}), frozenset()])
    with monkeypatch.context() as patched:
        patched.setattr(jobs, "live_worker_keys", lambda: next(answers))
        ids, alive = jobs._sweep(
            requeue_after_s=60, everything_unclaimed=False, exact_redelivery=True
        )

    # Its lease stands, and the queue's part of the sweep also takes it for alive, so
    # its messages are not queued again while its jobs are leased; the next sweep sees
    # it dead in both.
    assert ids == [] and gone_key in alive
    assert row(generation_id).lease_key == gone_key
    ids, alive = jobs._sweep(requeue_after_s=60, everything_unclaimed=False, exact_redelivery=True)
    assert ids == [generation_id] and gone_key not in alive


def test_the_sweep_runs_every_interval_however_long_it_takes(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADREMIX_JOB_SWEEP_S", "0.5")
    get_settings.cache_clear()

    async def nothing(_: list[int]) -> None:
        return None

    worker = JobWorker(enqueue=nothing)
    began: list[float] = []

    async def slow_sweep() -> list[int]:
        began.append(time.monotonic())
        await asyncio.sleep(0.4)  # a busy worker's sweep
        return []

    async def no_heartbeat() -> None:
        return None

    monkeypatch.setattr(worker, "sweep", slow_sweep)
    monkeypatch.setattr(worker, "heartbeat", no_heartbeat)

    async def run_a_while() -> None:
        upkeep = asyncio.create_task(worker.maintain())
        await asyncio.sleep(1.8)
        upkeep.cancel()

    asyncio.run(run_a_while())

    gaps = [later - earlier for earlier, later in itertools.pairwise(began)]
    assert len(began) >= 3
    assert all(gap < 0.8 for gap in gaps)  # 0.5 s apart, not 0.5 s after each ended (0.9)


class CountingStorage:
    """The configured storage, counting the reads of each (kind, hash)."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.reads: dict[tuple[str, str], int] = {}

    def read(self, kind: str, sha256: str, variant: str = "") -> bytes:
        self.reads[(kind, sha256)] = self.reads.get((kind, sha256), 0) + 1
        time.sleep(0.05)  # a round trip to object storage: the other jobs arrive meanwhile
        return self.inner.read(kind, sha256, variant)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_jobs_that_share_a_source_read_it_once(
    database_url: str, openai_images: FakeOpenAIImages, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fake_openai(monkeypatch, openai_images)
    user_id = funded_user(4)
    upload = generations.ingest_source(user_id=user_id, data=jpeg())
    ids = [
        generations.start_generation(
            user_id=user_id,
            client_request_id=f"press-{n}",
            source_sha256=upload.sha256,
            options=RemixOptions(instructions="Monsoon sale", variations=1),
            fresh=True,
        ).generation_id
        for n in range(4)
    ]
    storage = CountingStorage(default_storage())
    worker = JobWorker(storage=storage)  # type: ignore[arg-type]

    async def run_all() -> list[jobs.GenerationResult]:
        at_once = await asyncio.gather(*(worker.run(g) for g in ids[:3]))
        return [*at_once, await worker.run(ids[3])]  # later: kept from the first read

    results = asyncio.run(run_all())

    assert [r.status for r in results] == ["succeeded"] * 4
    assert storage.reads == {("prepared", upload.sha256): 1}
    assert all(r["image_size"] for r in openai_images.requests)  # each got the source


def test_jobs_queued_again_together_go_in_one_round_trip_as_kiq_would_send_them(
    redis_queue: str,
) -> None:
    async def scenario() -> int:
        queue = JobQueue(get_settings())
        await queue.start()
        try:
            await queue.enqueue(1)  # as one press queues its job
            with redis.Redis.from_url(redis_queue) as client:
                client.config_resetstat()
            await queue.enqueue_many(list(range(2, 22)))
            with redis.Redis.from_url(redis_queue) as client:
                # Minus this client's own connection.
                return int(client.info("stats")["total_connections_received"]) - 1
        finally:
            await queue.close()

    assert asyncio.run(scenario()) <= 1  # 20 `kiq`s at once opened up to 20
    queue = JobQueue(get_settings())
    with redis.Redis.from_url(redis_queue) as client:
        sent = [
            queue.broker.formatter.loads(fields[b"data"])
            for _, fields in client.xrange(STREAM, "-", "+")
        ]
    assert [m.args for m in sent] == [[n] for n in range(1, 22)]
    assert {(m.task_name, str(m.labels), str(m.kwargs)) for m in sent} == {
        (sent[0].task_name, str(sent[0].labels), str(sent[0].kwargs))
    }
    assert len({m.task_id for m in sent}) == 21


def test_jobs_finished_together_are_acknowledged_in_one_xack(redis_queue: str) -> None:
    async def scenario() -> None:
        queue = JobQueue(get_settings())
        await queue.start()
        try:
            await queue.enqueue_many(list(range(1, 21)))
            read = await asyncio.to_thread(read_as, redis_queue, "reader", 20)
            with redis.Redis.from_url(redis_queue) as client:
                client.config_resetstat()
            # The hook we replace is the one taskiq-redis's listen() calls for each message.
            assert "_ack_generator" in vars(RedisStreamBroker)
            # What taskiq does for each job it ran (ack when executed), all at once.
            acks = [queue.broker._ack_generator(id=m.decode(), queue_name=STREAM) for m in read]  # type: ignore[attr-defined]
            await asyncio.gather(*(ack() for ack in acks))
            with redis.Redis.from_url(redis_queue) as client:
                assert client.xpending(STREAM, CONSUMER_GROUP)["pending"] == 0
                assert client.info("commandstats")["cmdstat_xack"]["calls"] == 1
            # One more later goes on its own, and fails as its XACK does.
            await queue.broker._ack_generator(id=read[0].decode(), queue_name=STREAM)()  # type: ignore[attr-defined]
            with pytest.raises(redis.exceptions.ResponseError):
                await queue.broker._ack_generator(id="not-an-id", queue_name=STREAM)()  # type: ignore[attr-defined]
        finally:
            await queue.close()

    asyncio.run(scenario())
