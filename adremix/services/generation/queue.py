"""The generation job queue: taskiq, in this process or through Redis.

`ADREMIX_JOB_QUEUE=inprocess` (the default, `make run`): taskiq's in-memory broker runs
each job as a task of the web process's own event loop; nothing else to start.
`ADREMIX_JOB_QUEUE=redis`: the web workers only put jobs on a Redis stream
(taskiq-redis's `RedisStreamBroker`, consumer group, acknowledged after the job ran, an
unacknowledged message claimed by another worker after `idle_timeout`), and
`python -m adremix worker` processes run them. The task code is the same either way:
`JobWorker.run`.

The queue only delivers; the generation row is the job (see jobs.py). Delivery may be
lost (a crash between commit and enqueue, an in-memory queue at restart) or repeated (a
redelivery, the sweep): the sweep queues again what nobody works on, and a job that is
settled or leased elsewhere is skipped.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import sys
import weakref
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from taskiq import AsyncBroker, InMemoryBroker, TaskiqEvents, TaskiqMessage
from taskiq.acks import AcknowledgeType
from taskiq.cli.worker.args import WorkerArgs
from taskiq.cli.worker.run import start_listen

from adremix.blocking import Coalesced, CoalescedAsync, call
from adremix.services.generation.edits import start_region_edit
from adremix.services.generation.jobs import JobWorker, new_worker_key, worker_key, worker_name
from adremix.services.generation.providers import ImageProvider
from adremix.services.generation.remix_options import RemixOptions
from adremix.services.generation.start import (
    GenerationRequest,
    StartedGeneration,
    start_generations,
)
from adremix.services.storage import Storage
from adremix.settings import Settings, get_settings

log = logging.getLogger(__name__)

TASK_NAME = "adremix.generation.run"
STREAM = "adremix:generation-jobs"
CONSUMER_GROUP = "adremix-job-workers"
# A message read but not acknowledged this long (its worker died) is claimed by another
# worker. Long, because a job may legitimately run for minutes; the sweep usually
# re-queues a dead worker's job much sooner.
UNACKED_IDLE_MS = 15 * 60 * 1000
# Seconds a stopping worker waits for its hand-back (releasing leases, re-queueing).
HAND_BACK_S = 10.0
AUTOCLAIM_LOCK_S = 2.0
WORKER_THREADS = 32
# A job worker's event loop drives every job's HTTP requests while up to WORKER_THREADS
# threads run their database and storage calls (SQLAlchemy, botocore: pure Python for a
# few milliseconds each). A thread waiting for the GIL asks the holder to let go only
# after the switch interval, 5 ms by default: each time the loop woke for a response it
# could wait that long behind one busy thread, and every job's next step with it. 1 ms
# bounds the wait; the price is more frequent hand-overs, microseconds each. Only in
# worker processes: the web process keeps Python's default.
SWITCH_INTERVAL_S = 0.001
READ_BATCH = 10


class JobQueue:
    """The broker and this process's `JobWorker`, wired together."""

    def __init__(
        self,
        settings: Settings,
        *,
        provider: ImageProvider | None = None,
        storage: Storage | None = None,
    ) -> None:
        self.settings = settings
        key = new_worker_key()
        # A job worker's stream consumer is named as it names itself on leases, so the
        # sweep can tell a dead worker's unacknowledged messages from a live one's.
        self.broker = _broker_for(settings, consumer=worker_name(key))
        self.worker = JobWorker(
            settings=settings,
            provider=provider,
            storage=storage,
            enqueue=self.enqueue_many,
            key=key,
        )
        if not self.in_process:
            self.worker.take_over = self._take_over_dead_consumers
        worker = self.worker

        async def run_generation_job(generation_id: int) -> None:
            await worker.take(generation_id)

        self._task = self.broker.register_task(run_generation_job, task_name=TASK_NAME)
        # Presses that arrive together reserve in one transaction (see start_generations).
        self.reserve = Coalesced(start_generations)
        self._started = False
        self._start_lock = asyncio.Lock()

    @property
    def in_process(self) -> bool:
        return isinstance(self.broker, InMemoryBroker)

    async def start(self) -> None:
        """Connect the broker (once): at the process's start, so that the first press
        does not wait for it."""
        async with self._start_lock:
            if not self._started:
                await self.broker.startup()
                self._started = True
                _freeze_long_lived_objects()

    async def enqueue(self, generation_id: int) -> None:
        """Put a generation on the queue (a job that is settled or running is skipped)."""
        await self.start()
        await self._task.kiq(generation_id)

    async def enqueue_many(self, generation_ids: list[int]) -> None:
        """`enqueue` for several generations: on Redis one round trip for them all.

        The sweep re-queues a dead worker's jobs together, and its jobs are resumed only
        once they are on the stream: as `kiq` calls at once, 51 of them took 80-110 ms
        of the event loop's CPU (a connection and a client object each), on the worker
        that is about to run them. The messages are those `kiq` sends."""
        if not generation_ids:
            return
        await self.start()
        if self.in_process:
            for generation_id in generation_ids:
                await self._task.kiq(generation_id)
            return
        from redis.asyncio import Redis

        broker: Any = self.broker
        messages = [
            broker.formatter.dumps(
                TaskiqMessage(
                    task_id=broker.id_generator(),
                    task_name=TASK_NAME,
                    labels={},
                    labels_types={},
                    args=[generation_id],
                    kwargs={},
                )
            )
            for generation_id in generation_ids
        ]
        async with (
            Redis(connection_pool=broker.connection_pool) as redis,
            redis.pipeline(transaction=False) as pipe,
        ):
            for message in messages:
                # What RedisStreamBroker.kick sends for one message.
                pipe.xadd(
                    STREAM,
                    {b"data": message.message},
                    maxlen=broker.maxlen,
                    approximate=broker.approximate,
                )
            await pipe.execute()

    async def _take_over_dead_consumers(self, alive: frozenset[int]) -> list[int]:
        """The generations whose messages a dead worker had read and not acknowledged
        (its stream consumer's pending entries), for the sweep to queue again; the dead
        consumer is then removed, its entries with it, so nothing of it is delivered
        again later. `alive`: the presence keys of the workers alive now. A consumer
        whose name is not a worker's (none here) is left alone."""
        from redis.asyncio import Redis
        from redis.exceptions import ResponseError

        broker: Any = self.broker
        ids: list[int] = []
        async with Redis(connection_pool=broker.connection_pool) as redis:
            try:
                consumers = await redis.xinfo_consumers(STREAM, CONSUMER_GROUP)
            except ResponseError:  # no stream or group yet: nobody has read anything
                return []
            for consumer in consumers:
                name = _text(consumer["name"])
                key = worker_key(name)
                if key is None or key in alive:
                    continue
                entries: list[Any] = []
                if consumer["pending"]:
                    pending = await redis.xpending_range(
                        STREAM,
                        CONSUMER_GROUP,
                        min="-",
                        max="+",
                        count=int(consumer["pending"]),
                        consumername=name,
                    )
                    message_ids = [p["message_id"] for p in pending]
                    async with redis.pipeline(transaction=False) as pipe:
                        for message_id in message_ids:
                            pipe.xrange(STREAM, message_id, message_id)
                        entries = [e for found in await pipe.execute() for e in found]
                for _, fields in entries:
                    message = broker.formatter.loads(fields[b"data"])
                    if message.task_name == TASK_NAME and message.args:
                        ids.append(int(message.args[0]))
                # Its entries go with it: the caller queues their jobs again.
                await redis.xgroup_delconsumer(STREAM, CONSUMER_GROUP, name)
                if entries:
                    log.warning("Worker %s died holding generation(s) %s", name, ids)
        return ids

    async def wait_idle(self) -> None:
        """In-process only: until every job handed to this process has finished."""
        if isinstance(self.broker, InMemoryBroker):
            while self.broker._running_tasks:
                await self.broker.wait_all()
                # A finished task leaves the set in a done-callback, which runs only once
                # this loop gets a turn: without one, tasks that finished together (a
                # batch of outcomes) would keep this spinning on them forever.
                await asyncio.sleep(0)

    async def serve_in_process(self) -> None:
        """Run the in-process queue's upkeep until cancelled: first queue again what a
        previous run of this process left, then heartbeat and sweep. On cancellation
        (shutdown) running jobs release their leases for the next start to resume."""
        await self.start()
        await self.worker.start()
        try:
            await self.worker.sweep(everything_unclaimed=True)
            await self.worker.maintain()
        finally:
            await self.worker.hand_back(requeue=False, timeout_s=HAND_BACK_S)
            await self.worker.stop()

    def serve_as_worker(self) -> None:
        """Run taskiq's worker loop on this queue in this process (blocks until stopped)."""
        upkeep: list[asyncio.Task[Any]] = []

        async def started(_: Any) -> None:
            self._started = True  # taskiq's receiver started the broker itself
            _freeze_long_lived_objects()
            # Jobs wait on the database, storage and Redis, not the CPU: enough threads
            # that those waits do not queue behind each other.
            asyncio.get_running_loop().set_default_executor(
                ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="job")
            )
            await self.worker.start()
            await self.worker.sweep()
            upkeep.append(asyncio.create_task(self.worker.maintain()))

        async def stopping(_: Any) -> None:
            handed = await self.worker.hand_back(requeue=True, timeout_s=HAND_BACK_S)
            if handed:
                log.warning("Handed back generation(s) %s to the queue", handed)
            for task in upkeep:
                task.cancel()
            await self.worker.stop()

        self.broker.add_event_handler(TaskiqEvents.WORKER_STARTUP, started)
        self.broker.add_event_handler(TaskiqEvents.WORKER_SHUTDOWN, stopping)
        self.broker.is_worker_process = True
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        start_listen(
            WorkerArgs(
                broker=self.broker,  # type: ignore[arg-type]  (taskiq takes an instance too)
                modules=[],
                max_async_tasks=self.settings.worker_concurrency,
                wait_tasks_timeout=self.settings.worker_shutdown_s,
                shutdown_timeout=HAND_BACK_S + 5,
                ack_type=AcknowledgeType.WHEN_EXECUTED,
            )
        )

    async def close(self) -> None:
        if self._started:
            await self.broker.shutdown()
            self._started = False


@functools.cache
def _freeze_long_lived_objects() -> None:
    """Leave what the process holds once it is ready to run jobs (imported modules, the
    database engine and its statement cache, the HTTP clients) out of the cyclic garbage
    collector's full passes. A burst of jobs allocates enough to trigger one, and
    walking that whole heap holds the GIL for tenths of a second, stalling every job's
    event loop and thread at once. The objects stay alive either way; only the collector
    stops looking at them. Once per process (cyclic garbage still around at that moment
    is never freed, a bounded one-off), and without a collection first: that would be
    the very full pass this avoids, in the middle of the first job."""
    gc.freeze()


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _acknowledgements(broker: Any, stream: str) -> CoalescedAsync[str, None]:
    """A stream's acknowledgements, shared: one XACK for the ids acknowledged while the
    one before was on its way (XACK takes any number). Each call still returns only once
    its own id is acknowledged, or raises what the XACK raised. taskiq-redis sends one
    XACK per job, on a Redis client and pooled connection of its own: ~0.5 ms of the
    worker's event loop per job, which a burst of results, settled together in one
    transaction, paid dozens of times in a row."""
    from redis.asyncio import Redis

    async def xack(message_ids: list[str]) -> list[Exception | None]:
        async with Redis(connection_pool=broker.connection_pool) as redis:
            await redis.xack(stream, broker.consumer_group_name, *message_ids)
        return [None] * len(message_ids)

    return CoalescedAsync(xack)


def _broker_for(settings: Settings, *, consumer: str) -> AsyncBroker:
    if settings.job_queue == "redis":
        from taskiq_redis import RedisStreamBroker

        class StreamBroker(RedisStreamBroker):
            """taskiq-redis's stream broker, its acknowledgements sent together."""

            def __init__(self, **options: Any) -> None:
                super().__init__(**options)
                self._acknowledgements: dict[str, CoalescedAsync[str, None]] = {}

            def _ack_generator(self, id: str, queue_name: str) -> Callable[[], Awaitable[None]]:
                acks = self._acknowledgements.get(queue_name)
                if acks is None:
                    acks = self._acknowledgements[queue_name] = _acknowledgements(self, queue_name)
                return functools.partial(acks, id)

        return StreamBroker(
            url=settings.redis_url,
            queue_name=STREAM,
            consumer_group_name=CONSUMER_GROUP,
            consumer_name=consumer,
            # Start a new group at the stream's beginning, so nothing queued before the
            # first worker ever started is skipped.
            consumer_id="0",
            idle_timeout=UNACKED_IDLE_MS,
            # Workers take turns claiming unacknowledged messages under a Redis lock; a
            # worker killed while holding it would otherwise stall every other worker's
            # loop for good (taskiq-redis's default is no expiry).
            unacknowledged_lock_timeout=AUTOCLAIM_LOCK_S,
            xread_block=1000,
            # A few at a time: each read also costs the library's claim-lock round trips
            # (four commands), which one message at a time paid per job. A worker holds
            # at most this many it has not started beyond its free slots, and if it dies
            # the sweep queues exactly those again (see `_take_over_dead_consumers`).
            xread_count=READ_BATCH,
            # Acknowledged messages are not needed again; keep the stream from growing forever.
            maxlen=100_000,
        )
    return InMemoryBroker(max_async_tasks=settings.worker_concurrency)


_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, JobQueue] = (
    weakref.WeakKeyDictionary()
)


def job_queue() -> JobQueue:
    """This event loop's queue, for the current settings."""
    loop = asyncio.get_running_loop()
    settings = get_settings()
    queue = _queues.get(loop)
    if queue is None or queue.settings is not settings:
        queue = _queues[loop] = JobQueue(settings)
    return queue


async def submit_generation(
    *,
    user_id: int,
    client_request_id: str,
    source_sha256: str,
    options: RemixOptions,
    fresh: bool = False,
) -> StartedGeneration:
    """Start a generation (credits reserved in a transaction shared with the presses
    this process received at the same moment) and, once that has committed, queue its
    job. A repeated press or a cached result queues nothing."""
    started = await job_queue().reserve(
        GenerationRequest(
            user_id=user_id,
            client_request_id=client_request_id,
            source_sha256=source_sha256,
            options=options,
            fresh=fresh,
        )
    )
    return await _queue_started(started)


async def submit_region_edit(**edit: Any) -> StartedGeneration:
    """Start a region edit (see edits.start_region_edit) and queue its job, as above."""
    return await _queue_started(await call(start_region_edit, **edit))


async def _queue_started(started: StartedGeneration) -> StartedGeneration:
    if not (started.cached or started.repeated):
        try:
            await job_queue().enqueue(started.generation_id)
        except Exception:
            # Committed and paid for: the sweep queues it once the queue is reachable.
            log.exception("Could not queue generation %s yet", started.generation_id)
    return started


async def serve_in_process() -> None:
    """The web process's part: when jobs run in it (`ADREMIX_JOB_QUEUE=inprocess`), run
    the queue's upkeep until cancelled; with Redis, only connect to the queue now."""
    queue = job_queue()
    if queue.in_process:
        await queue.serve_in_process()
    else:
        await queue.start()


def run_worker(settings: Settings | None = None) -> None:
    """A separate job worker process (`python -m adremix worker`), until SIGTERM/SIGINT.

    Stopping: taskiq stops taking new jobs and waits up to `ADREMIX_WORKER_SHUTDOWN_S`
    for running ones; what is still running then hands its lease back and is re-queued,
    so another worker resumes it from its missing variations.
    """
    settings = settings or get_settings()
    if settings.job_queue != "redis":
        raise SystemExit(
            "A separate worker needs ADREMIX_JOB_QUEUE=redis and ADREMIX_REDIS_URL; "
            "with the default in-process queue the web process runs the jobs itself."
        )
    JobQueue(settings).serve_as_worker()
