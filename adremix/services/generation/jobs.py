"""Running a generation as a durable job: leased, resumable, settled once.

The generation row is the job. A worker claims it by taking its lease (owner + expiry)
and renews the lease with a heartbeat while it works. Each variation's outcome is a
`generation_output` row, unique per (generation, index), written as soon as it is known,
so a variation is stored (and paid for) once however often it is tried. When a worker
dies its lease lapses — on PostgreSQL at once, because the advisory lock its connection
held goes with it — and the sweep queues the job again; the next worker resumes only the
variations that have no outcome yet.

A job is settled when every variation has an outcome, or after
`ADREMIX_JOB_MAX_ATTEMPTS` claims (what is still missing then counts as failed): in one
transaction the failed variations are refunded (once, keyed by the generation, with the
reason) and the generation gets its final status.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import math
import os
import secrets
import socket
import tempfile
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import Connection, and_, or_, text, update
from sqlmodel import Session, select

from adremix.blocking import Coalesced, call, call_in
from adremix.db import dialect_insert, get_engine, session_scope
from adremix.enums import GenerationStatus, ImageKind
from adremix.models import Generation, GenerationOutput, UsageEvent, utcnow
from adremix.services import credits
from adremix.services.generation.images import (
    PROVIDER_MAX_SIDE,
    InvalidImage,
    decoded_untrusted,
    downscale,
    encode_png,
    open_untrusted,
    png_size,
    sha256_hex,
)
from adremix.services.generation.providers import (
    ImageProvider,
    ProviderBadOutput,
    ProviderError,
    provider_for,
)
from adremix.services.generation.remix_options import Attachments, InvalidRequest, RemixOptions
from adremix.services.generation.stored_images import record_images
from adremix.services.storage import Storage, storage_for
from adremix.settings import Settings, get_settings

log = logging.getLogger(__name__)

# Puts generations (back) on the queue, all in one go where the queue can.
Enqueue = Callable[[list[int]], Awaitable[None]]
# Given the presence keys of the live workers, the queue hands back the generations whose
# messages dead workers had taken but not acknowledged (see queue.py).
TakeOver = Callable[[frozenset[int]], Awaitable[list[int]]]
T = TypeVar("T")
# First key of the advisory lock a worker holds on PostgreSQL while it is alive.
PRESENCE_LOCK_SPACE = 0x41_44_52_58 & 0x7FFF_FFFF  # "ADRX"
GAVE_UP = ProviderError(
    "This image could not be made: the job was interrupted too many times. "
    "The credit was refunded.",
    code="interrupted",
)
# A variation that failed on our side (database, storage) is tried again this much later.
RETRY_AFTER_ERROR_S = 5.0
SOURCE_GONE = ProviderError(
    "The source image is no longer available. The credits were refunded.", code="source_missing"
)


@dataclass(frozen=True)
class GenerationResult:
    generation_id: int
    status: GenerationStatus
    delivered: list[str]
    failed: int
    error_message: str | None


@dataclass(frozen=True)
class _Claim:
    generation_id: int
    user_id: int
    attempt: int
    exhausted: bool  # claimed more often than allowed: settle what is there
    source_sha256: str
    options: RemixOptions
    missing: list[int]  # variation indexes without an outcome yet


class JobWorker:
    """Works on generation jobs in this process: claim, heartbeat, resume, hand back.

    `enqueue` puts generations (back) on the queue; the sweep and a graceful hand-back
    use it. `take_over`, when the queue can tell whose messages a dead worker held,
    lets the sweep queue again exactly those. `provider` and `storage` default to the
    configured ones.
    """

    def __init__(
        self,
        *,
        settings: Settings | None = None,
        provider: ImageProvider | None = None,
        storage: Storage | None = None,
        enqueue: Enqueue | None = None,
        key: int | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.provider = provider or provider_for(self.settings)
        self.storage = storage or storage_for(self.settings)
        self._enqueue = enqueue
        self.take_over: TakeOver | None = None
        self.key = key or new_worker_key()
        self.owner = worker_name(self.key)
        self._jobs: dict[int, asyncio.Task[Any]] = {}
        self._lost: set[int] = set()
        self._requeue_on_cancel = True
        self._presence: Connection | None = None
        self._outcomes = Coalesced(_record_outcomes)
        self._claims = Coalesced(self._claim_many)
        self._sources = _SourceCache()

    @property
    def running(self) -> list[int]:
        """Generations this worker is working on right now."""
        return sorted(self._jobs)

    async def start(self) -> None:
        """Announce this worker as alive, so a crash is noticed without waiting for its
        leases to lapse (PostgreSQL only: an advisory lock held by a connection)."""
        if self._presence is None:
            self._presence = await call(_hold_presence, self.key)

    async def stop(self) -> None:
        presence, self._presence = self._presence, None
        if presence is not None:
            with contextlib.suppress(Exception):
                await call(presence.close)

    async def run(self, generation_id: int) -> GenerationResult:
        """Work on a generation unless another worker holds it: make its missing
        variations, then settle it. Safe to call for any id, any number of times."""
        worked = await self.take(generation_id)
        return worked if worked is not None else await call(result_of, generation_id)

    async def take(self, generation_id: int) -> GenerationResult | None:
        """`run` for the queue, which wants no answer: None, without reading the row
        again, when the job is settled or held by another worker (a second delivery)."""
        if generation_id in self._jobs:  # delivered twice to this very worker
            return None
        claim = await self._claims(generation_id)
        if claim is None:  # settled, or another live worker has it
            return None
        task = asyncio.current_task()
        assert task is not None
        self._jobs[generation_id] = task
        try:
            return await self._work(claim)
        except asyncio.CancelledError:
            if generation_id not in self._lost:
                await self._give_back(generation_id)
            raise
        finally:
            self._jobs.pop(generation_id, None)
            self._lost.discard(generation_id)

    def _claim_many(self, ids: list[int]) -> list[_Claim | Exception | None]:
        """Claim these jobs, in one transaction if there are several (a burst of
        deliveries); a second delivery of the same job in the batch gets None."""
        terms = {
            "owner": self.owner,
            "key": self.key if self._presence is not None else None,
            "lease_s": self.settings.job_lease_s,
            "max_attempts": self.settings.job_max_attempts,
        }
        unique = sorted(set(ids))
        claimed: dict[int, _Claim | Exception | None] = {}
        if len(unique) > 1:
            try:
                with session_scope() as session:
                    claimed = dict(_claim_all(session, unique, **terms))
            except Exception:
                log.warning("A batch of %s claims failed; claiming them one by one", len(ids))
                claimed = {}
        for generation_id in unique:
            if generation_id not in claimed:
                try:
                    claimed[generation_id] = _claim(generation_id, **terms)
                except Exception as exc:  # that delivery's waiter gets it
                    claimed[generation_id] = exc
        seen: set[int] = set()
        results: list[_Claim | Exception | None] = []
        for generation_id in ids:
            results.append(None if generation_id in seen else claimed[generation_id])
            seen.add(generation_id)
        return results

    async def _work(self, claim: _Claim) -> GenerationResult:
        if claim.exhausted:
            log.warning(
                "Generation %s gave up after %s attempts", claim.generation_id, claim.attempt
            )
            return await call(_settle, claim.generation_id, give_up=True)
        if not claim.missing:  # every outcome is in, yet it was never settled
            return await call(_settle, claim.generation_id, give_up=False)
        try:
            if claim.options.edit_of:  # a region edit works on its parent's result
                source = await self._sources.get(
                    (ImageKind.RESULT, claim.options.edit_of),
                    functools.partial(self.storage.read, ImageKind.RESULT, claim.options.edit_of),
                )
            else:
                source = await self._sources.get(
                    (ImageKind.PREPARED, claim.source_sha256),
                    functools.partial(_provider_input, self.storage, claim.source_sha256),
                )
            attachments = (
                await call(_attachments, self.storage, claim.options)
                if _has_attachments(claim.options)
                else Attachments()
            )
        except FileNotFoundError:
            for index in claim.missing:
                await self._outcomes((claim, index, None, SOURCE_GONE))
            return await call(_settle, claim.generation_id, give_up=False)
        outcomes = await asyncio.gather(
            *(self._variation(claim, index, source, attachments) for index in claim.missing),
            return_exceptions=True,
        )
        unexpected = [o for o in outcomes if isinstance(o, BaseException)]
        for outcome in unexpected:
            if not isinstance(outcome, Exception):
                raise outcome
        if unexpected:
            # Not the provider's answer but our side (database, storage): the lease lapses
            # shortly and the sweep queues the job again, resumed from what is missing.
            log.error(
                "Generation %s attempt %s: %s variation(s) will be retried in %s s",
                claim.generation_id,
                claim.attempt,
                len(unexpected),
                RETRY_AFTER_ERROR_S,
                exc_info=unexpected[0],
            )
            await call(_lapse_soon, claim.generation_id, owner=self.owner)
            return await call(result_of, claim.generation_id)
        # The last variation's outcome settled the generation, and said so: no need to
        # read it again (unless another worker settled it, or it is still missing some).
        settled = [
            o
            for o in outcomes
            if isinstance(o, GenerationResult) and o.status != GenerationStatus.RUNNING
        ]
        return settled[0] if settled else await call(result_of, claim.generation_id)

    async def _variation(
        self, claim: _Claim, index: int, source: bytes, attachments: Attachments
    ) -> GenerationResult:
        try:
            image = await self.provider.generate_one(
                source_png=source, options=claim.options, index=index, attachments=attachments
            )
            stored = await call(_store_result, self.storage, image)
        except ProviderError as exc:  # the provider's final word on this variation
            return await self._outcomes((claim, index, None, exc))
        return await self._outcomes((claim, index, stored, None))

    async def _give_back(self, generation_id: int) -> None:
        """Release the lease so another worker can take the job over at once."""
        released = await call(_release, generation_id, owner=self.owner)
        if released and self._requeue_on_cancel and self._enqueue is not None:
            try:
                await self._enqueue([generation_id])
            except Exception:  # the sweep queues it again
                log.exception("Could not re-queue generation %s", generation_id)

    async def hand_back(self, *, requeue: bool, timeout_s: float = 10.0) -> list[int]:
        """Stop every job this worker runs now: each releases its lease (and, with
        `requeue`, goes back on the queue). Outcomes already recorded stay."""
        self._requeue_on_cancel = requeue
        handed = list(self._jobs)
        tasks = list(self._jobs.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout_s)
        return handed

    async def heartbeat(self) -> None:
        """Renew the leases of running jobs; stop any job whose lease another worker took."""
        if self._presence is not None and not await _upkeep(_still_present, self._presence):
            await self.stop()
            await self.start()
        ids = list(self._jobs)
        if not ids:
            return
        lost = await _upkeep(
            _renew_leases, ids, owner=self.owner, lease_s=self.settings.job_lease_s
        )
        for generation_id in lost:
            task = self._jobs.get(generation_id)
            if task is not None and not task.done():
                log.warning("Lost the lease of generation %s; stopping it", generation_id)
                self._lost.add(generation_id)
                task.cancel()

    async def sweep(self, *, everything_unclaimed: bool = False) -> list[int]:
        """Queue again the jobs whose worker died (lapsed lease) and those nobody took up
        within `ADREMIX_JOB_REQUEUE_S` (a lost message); `everything_unclaimed` when
        this process's own queue was just emptied (a restart of the in-process queue).

        A dead worker may also have taken messages of jobs it had not claimed yet. When
        the queue can name them (`take_over`, with live workers known by their presence
        locks) exactly those are queued again; otherwise every job still waiting is, and
        whoever gets a job second skips it."""
        exact = self.take_over is not None and self._presence is not None
        ids, alive = await _upkeep(
            _sweep,
            requeue_after_s=self.settings.job_requeue_after_s,
            everything_unclaimed=everything_unclaimed,
            exact_redelivery=exact,
        )
        if exact and self.take_over is not None:
            held = set(ids)
            ids += [i for i in await self.take_over(alive | {self.key}) if i not in held]
        if self._enqueue is not None and ids:
            # All at once: one by one, a dead worker's last jobs waited for its first
            # ones' round trips before they were on the queue at all.
            await self._enqueue(ids)
        if ids:
            log.info("Re-queued %s generation job(s): %s", len(ids), ids)
        return ids

    async def maintain(self) -> None:
        """Heartbeat (and, with a queue to feed, sweep) until cancelled. Each at its own
        pace: a lease needs renewing a few times per lease, while the sweep may be set
        to look for dead workers far more often; beating that often too would only add
        database round trips to every running job's."""
        beat_every = self.settings.job_lease_s / 3
        sweep_every = self.settings.job_sweep_interval_s
        sweeps = self._enqueue is not None
        last_beat = last_sweep = -math.inf
        while True:
            try:
                if time.monotonic() - last_beat >= beat_every:
                    last_beat = time.monotonic()
                    await self.heartbeat()
                if sweeps and time.monotonic() - last_sweep >= sweep_every:
                    last_sweep = time.monotonic()
                    await self.sweep()
            except Exception:  # the database or the queue is down: try again next beat
                log.exception("Job maintenance failed")
            # Until the next one is due, counted from when the last one began: waiting a
            # whole interval after each sweep made the period the interval plus however
            # long the sweep took (0.1-0.3 s on a busy worker, with a 0.25 s interval).
            due = last_beat + beat_every
            if sweeps:
                due = min(due, last_sweep + sweep_every)
            await asyncio.sleep(max(0.0, due - time.monotonic()))


@lru_cache(maxsize=1)
def _upkeep_thread() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="job-upkeep")


async def _upkeep(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run the heartbeat's and the sweep's database work on a thread of their own. In
    the shared pool they would wait behind a burst of jobs' storage and database calls,
    and a dead worker's jobs would be noticed that much later."""
    return await call_in(_upkeep_thread(), fn, *args, **kwargs)


# --- the database side, each function one transaction (run in worker threads) ----------


def _claim(
    generation_id: int,
    *,
    owner: str,
    key: int | None,
    lease_s: float,
    max_attempts: int,
) -> _Claim | None:
    """Take the job's lease, in a transaction of its own."""
    with session_scope() as session:
        return _claim_all(
            session,
            [generation_id],
            owner=owner,
            key=key,
            lease_s=lease_s,
            max_attempts=max_attempts,
        )[generation_id]


def _claim_all(
    session: Session,
    ids: list[int],
    *,
    owner: str,
    key: int | None,
    lease_s: float,
    max_attempts: int,
) -> dict[int, _Claim | None]:
    """Take these jobs' leases in `session`'s transaction; None for a job that is settled
    or leased to another worker. Three statements however many jobs: their row locks in
    id order (so two workers' batches never wait on each other in a circle), the claim,
    which returns what the jobs need, and their outcomes so far."""
    unique = sorted(set(ids))
    session.execute(
        select(Generation.id)
        .where(Generation.id.in_(unique))  # type: ignore[union-attr]
        .order_by(Generation.id)  # type: ignore[arg-type]
        .with_for_update()
    ).all()
    now = utcnow()
    rows = session.execute(
        update(Generation)
        .where(
            Generation.id.in_(unique),  # type: ignore[union-attr]
            Generation.status == GenerationStatus.RUNNING,
            or_(
                Generation.lease_owner.is_(None),  # type: ignore[union-attr]
                Generation.lease_expires_at < now,  # type: ignore[operator]
            ),
        )
        .values(
            lease_owner=owner,
            lease_key=key,
            lease_expires_at=now + timedelta(seconds=lease_s),
            attempts=Generation.attempts + 1,
        )
        .returning(
            Generation.id,
            Generation.user_id,
            Generation.attempts,
            Generation.variations,
            Generation.source_image_hash,
            Generation.options,
        )
        .execution_options(synchronize_session=False)
    ).all()
    done: dict[int, set[int]] = {row.id: set() for row in rows}
    if done:
        for generation_id, index in session.execute(
            select(GenerationOutput.generation_id, GenerationOutput.index).where(
                GenerationOutput.generation_id.in_(list(done))  # type: ignore[attr-defined]
            )
        ):
            done[generation_id].add(index)
    claims: dict[int, _Claim | None] = dict.fromkeys(unique)
    for row in rows:
        claims[row.id] = _Claim(
            generation_id=row.id,
            user_id=row.user_id,
            attempt=row.attempts,
            exhausted=row.attempts > max_attempts,
            source_sha256=row.source_image_hash,
            options=options_from(row.options or {}),
            missing=[i for i in range(row.variations) if i not in done[row.id]],
        )
    return claims


def options_from(stored: dict[str, Any]) -> RemixOptions:
    """RemixOptions from their stored form (unknown keys, such as `cached_from`, dropped)."""
    fields = {f.name for f in dataclasses.fields(RemixOptions)}
    return RemixOptions(**{k: v for k, v in stored.items() if k in fields})


class _SourceCache:
    """The provider's copies of the sources this worker used last, by storage kind and
    hash. Stored files never change, so they are kept in memory: a user's jobs often
    share one source ("Generate again", several variations, a burst of presses), and
    each fetch from object storage is a round trip and ~10 ms of CPU between client and
    server. Jobs that need the same source at the same moment share one read (a burst
    used to read it once per job, each missing the cache the others were filling), and
    a job whose source is kept needs no worker thread for it. A failed read is not kept.
    One per event loop."""

    def __init__(self, size: int = 16) -> None:
        self._size = size
        self._reads: OrderedDict[tuple[ImageKind, str], asyncio.Future[bytes]] = OrderedDict()

    async def get(self, key: tuple[ImageKind, str], read: Callable[[], bytes]) -> bytes:
        found = self._reads.get(key)
        if found is None:
            found = self._reads[key] = asyncio.ensure_future(call(read))
            while len(self._reads) > self._size:
                self._reads.popitem(last=False)
        else:
            self._reads.move_to_end(key)
        try:
            # Shielded: a job cancelled while waiting does not cancel the others' read.
            return await asyncio.shield(found)
        except BaseException:
            if found.done() and self._reads.get(key) is found:
                del self._reads[key]  # read again next time
            raise


def _provider_input(storage: Storage, source_sha256: str) -> bytes:
    """The provider's copy of the source."""
    try:
        return storage.read(ImageKind.PREPARED, source_sha256)
    except FileNotFoundError:  # stored before prepared copies existed
        data = storage.read(ImageKind.SOURCE, source_sha256)
        with decoded_untrusted(data, fit_side=PROVIDER_MAX_SIDE) as source:
            return encode_png(downscale(source.image), compress_level=1)


def _has_attachments(options: RemixOptions) -> bool:
    brand = options.brand or {}
    return bool(brand.get("logo_sha256") or brand.get("font_sha256") or options.edit_mask)


def _attachments(storage: Storage, options: RemixOptions) -> Attachments:
    """The kit's logo and font and an edit's mask, read from storage for the provider."""
    brand = options.brand or {}
    logo_sha = str(brand.get("logo_sha256") or "")
    font_sha = str(brand.get("font_sha256") or "")
    return Attachments(
        logo_png=storage.read(ImageKind.LOGO, logo_sha) if logo_sha else None,
        font_path=str(local_font(storage, font_sha)) if font_sha else "",
        mask_png=storage.read(ImageKind.MASK, options.edit_mask) if options.edit_mask else None,
    )


def local_font(storage: Storage, sha256: str) -> Path:
    """An uploaded font as a file on this machine (FreeType opens fonts by path); the
    storage may be remote, so a copy is kept in the temp directory, named by its hash."""
    target = Path(tempfile.gettempdir()) / "adremix-fonts" / f"{sha256}.font"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(storage.read(ImageKind.FONT, sha256))
        os.replace(temp, target)
    return target


def _store_result(storage: Storage, image_bytes: bytes) -> tuple[str, tuple[int, int]]:
    """Keep a result: a provider's PNG byte for byte, anything else normalised to PNG.
    Its thumbnail is made when first asked for, off the job's path."""
    size = png_size(image_bytes)
    data = image_bytes
    if size is None:
        try:
            normalised = open_untrusted(image_bytes)
        except InvalidImage as exc:
            raise ProviderBadOutput("The image service returned an unreadable image.") from exc
        data, size = encode_png(normalised.image), normalised.image.size
    sha = sha256_hex(data)
    storage.put(ImageKind.RESULT, sha, data)
    return sha, size


def _record_outcome(
    claim: _Claim,
    index: int,
    stored: tuple[str, tuple[int, int]] | None,
    error: ProviderError | None,
) -> GenerationResult:
    """Keep what became of one variation (a second outcome for it is ignored); the last
    one settles the generation in the same transaction. Returns where it stands."""
    with session_scope() as session:
        return record_outcome_in(session, claim, index, stored, error)


_Outcome = tuple["_Claim", int, tuple[str, tuple[int, int]] | None, ProviderError | None]


def _record_outcomes(outcomes: list[_Outcome]) -> list[GenerationResult | Exception]:
    """`_record_outcome` for several variations in one transaction. Should the batch
    fail, each is tried again in a transaction of its own, so one's failure is not the
    others'."""
    if len(outcomes) > 1:
        try:
            with session_scope() as session:
                return list(record_outcomes_in(session, outcomes))
        except Exception:
            log.warning("A batch of %s outcomes failed; writing them one by one", len(outcomes))
    singles: list[GenerationResult | Exception] = []
    for outcome in outcomes:
        try:
            singles.append(_record_outcome(*outcome))
        except Exception as exc:  # that variation's waiter gets it
            singles.append(exc)
    return singles


def record_outcome_in(
    session: Session,
    claim: _Claim,
    index: int,
    stored: tuple[str, tuple[int, int]] | None,
    error: ProviderError | None,
) -> GenerationResult:
    """`_record_outcome` inside the caller's transaction."""
    return record_outcomes_in(session, [(claim, index, stored, error)])[0]


def record_outcomes_in(session: Session, outcomes: list[_Outcome]) -> list[GenerationResult]:
    """Several variations' outcomes inside the caller's transaction, each answered with
    where its generation stands. The statements serve the whole list, however long: the
    generations' row locks (in id order, so two workers' batches never wait on each
    other in a circle), one INSERT of the outcomes, one of the users' claims on the new
    images, one read of the outcomes, then each generation whose last outcome this was
    is settled."""
    ids = sorted({claim.generation_id for claim, *_ in outcomes})
    rows = _lock_generations(session, ids)
    kept = _insert_outcomes(
        session,
        [
            (claim.generation_id, index, claim.attempt, stored, error)
            for claim, index, stored, error in outcomes
        ],
    )
    record_images(
        session,
        kind=ImageKind.RESULT,
        images={
            (claim.user_id, stored[0]): stored[1]
            for claim, index, stored, _ in outcomes
            if stored is not None and (claim.generation_id, index) in kept
        },
    )
    settled = _settle_all_in(session, rows, give_up=False)
    return [settled[claim.generation_id] for claim, *_ in outcomes]


def _lock_generations(session: Session, ids: list[int]) -> dict[int, Generation]:
    """Take the generations' row locks before counting their outcomes, and return the
    rows as read under them. Without the locks, on PostgreSQL the last two variations
    finishing at once each see only their own uncommitted outcome besides the committed
    ones, so neither settles the generation and it stays "running" with every image
    made. (SQLite's BEGIN IMMEDIATE already serialises.) The caller keeps the rows: the
    session holds loaded rows only weakly, so reading them again there would be a
    SELECT per generation."""
    rows = {
        row.id: row
        for row in session.exec(
            select(Generation)
            .where(Generation.id.in_(ids))  # type: ignore[union-attr]
            .order_by(Generation.id)  # type: ignore[arg-type]
            .with_for_update()
        )
    }
    if len(rows) != len(set(ids)):
        raise InvalidRequest("That generation does not exist.")
    return rows  # type: ignore[return-value]


_NewOutcome = tuple[int, int, int, tuple[str, tuple[int, int]] | None, ProviderError | None]


def _insert_outcomes(session: Session, rows: list[_NewOutcome]) -> set[tuple[int, int]]:
    """Insert (generation, index, attempt, stored image, error) outcomes in one
    statement; an index that already has one keeps it. Returns the (generation, index)
    pairs written now."""
    first: dict[tuple[int, int], _NewOutcome] = {}
    for row in rows:  # the same variation twice in one list: the first counts
        first.setdefault((row[0], row[1]), row)
    if not first:
        return set()
    now = utcnow()
    table = GenerationOutput.__table__  # type: ignore[attr-defined]
    statement = (
        dialect_insert(session, table)
        .values(
            [
                {
                    "generation_id": generation_id,
                    "index": index,
                    "sha256": stored[0] if stored else None,
                    "error_code": error.code[:40] if error else None,
                    "error_message": error.message if error else None,
                    "attempt": attempt,
                    "created_at": now,
                }
                for generation_id, index, attempt, stored, error in first.values()
            ]
        )
        .on_conflict_do_nothing(index_elements=["generation_id", "index"])
        .returning(table.c.generation_id, table.c.index)
    )
    return {(generation_id, index) for generation_id, index in session.execute(statement)}


def _outcomes_of(session: Session, ids: list[int]) -> dict[int, list[GenerationOutput]]:
    """Each generation's outcomes, in variation order."""
    found: dict[int, list[GenerationOutput]] = {generation_id: [] for generation_id in ids}
    if ids:
        for output in session.exec(
            select(GenerationOutput)
            .where(GenerationOutput.generation_id.in_(ids))  # type: ignore[attr-defined]
            .order_by(GenerationOutput.generation_id, GenerationOutput.index)  # type: ignore[arg-type]
        ):
            found[output.generation_id].append(output)
    return found


def _settle(generation_id: int, *, give_up: bool) -> GenerationResult:
    """Finish the generation if every variation has an outcome (with `give_up`, the
    missing ones fail now): refund the failed ones, once, and set the final status."""
    with session_scope() as session:
        rows = _lock_generations(session, [generation_id])
        return _settle_all_in(session, rows, give_up=give_up)[generation_id]


def _settle_all_in(
    session: Session, rows: dict[int, Generation], *, give_up: bool
) -> dict[int, GenerationResult]:
    """`_settle` for these generations, whose row locks the caller's transaction holds
    (`rows`, as `_lock_generations` read them)."""
    running = [g for g, row in rows.items() if row.status == GenerationStatus.RUNNING]
    outcomes = _outcomes_of(session, running)
    if give_up:
        missing = [
            (g, index, rows[g].attempts, None, GAVE_UP)
            for g in running
            for index in sorted(set(range(rows[g].variations)) - {o.index for o in outcomes[g]})
        ]
        if missing:
            _insert_outcomes(session, missing)
            outcomes = _outcomes_of(session, running)
    settled = {g: _result(row) for g, row in rows.items()}
    # Those still missing some outcome stay running: a later attempt resumes them.
    complete = [rows[g] for g in running if len(outcomes[g]) >= rows[g].variations]
    settled.update(_settle_complete(session, complete, outcomes))
    return settled


class _SettledElsewhere(Exception):
    """A batch's settling UPDATE matched fewer generations than it settles."""


def _settle_complete(
    session: Session, rows: list[Generation], outcomes: dict[int, list[GenerationOutput]]
) -> dict[int, GenerationResult]:
    """Give running generations with every outcome in their final status and refund
    their failed variations, once. One UPDATE (an executemany: one round trip on
    PostgreSQL's pipeline) and one INSERT of usage events serve them all; statement by
    statement, a burst of 50 results cost 100 round trips, each waiting for the GIL
    behind the other jobs' threads."""
    if not rows:
        return {}
    now = utcnow()
    results: dict[int, GenerationResult] = {}
    updates: list[dict[str, Any]] = []
    for row in rows:
        assert row.id is not None
        delivered = [o.sha256 for o in outcomes[row.id] if o.sha256]
        failed = [o for o in outcomes[row.id] if not o.sha256]
        status = (
            GenerationStatus.SUCCEEDED
            if not failed
            else (GenerationStatus.PARTIAL if delivered else GenerationStatus.FAILED)
        )
        message = failed[0].error_message if failed else None
        results[row.id] = GenerationResult(row.id, status, delivered, len(failed), message)
        updates.append(
            {
                "settle_id": row.id,
                "settle_status": status,
                # A generation deleted while it ran keeps no images.
                "settle_hashes": [] if row.deleted_at else delivered,
                "settle_spent": len(delivered),
                "settle_latency": _latency_ms(row, now),
                "settle_error": message,
            }
        )
    table = Generation.__table__  # type: ignore[attr-defined]
    won = session.connection().execute(
        update(table)
        .where(
            table.c.id == sa.bindparam("settle_id"),
            table.c.status == GenerationStatus.RUNNING,
        )
        .values(
            status=sa.bindparam("settle_status"),
            output_hashes=sa.bindparam("settle_hashes", type_=table.c.output_hashes.type),
            credits_spent=sa.bindparam("settle_spent"),
            latency_ms=sa.bindparam("settle_latency"),
            error_message=sa.bindparam("settle_error"),
            completed_at=now,
            lease_owner=None,
            lease_key=None,
            lease_expires_at=None,
        ),
        updates,
    )
    if won.rowcount != len(rows):
        # Another transaction settled one first, which the row locks the caller holds
        # rule out. Should it happen all the same: one generation alone says where it
        # stands; a batch is rolled back, and its outcomes are written one by one.
        if len(rows) > 1:
            raise _SettledElsewhere(f"{won.rowcount} of {len(rows)} generations settled")
        session.refresh(rows[0])
        return {rows[0].id: _result(rows[0])}  # type: ignore[dict-item]
    for row in rows:
        result = results[row.id]  # type: ignore[index]
        if result.failed:
            credits.refund(
                session=session,
                user_id=row.user_id,
                amount=result.failed,
                idempotency_key=f"generation:{row.id}:refund",
                reference=str(row.id),
                reason=f"{result.failed} image(s) not delivered: {result.error_message}",
            )
    # Core's executemany: the ORM would insert them one by one on SQLite (for their ids).
    session.connection().execute(
        sa.insert(UsageEvent.__table__),  # type: ignore[attr-defined]
        [
            {
                "user_id": row.user_id,
                "generation_id": row.id,
                "provider": row.provider,
                "model": row.model,
                "images_requested": row.variations,
                "images_delivered": len(results[row.id].delivered),  # type: ignore[index]
                "latency_ms": _latency_ms(row, now),
                "outcome": results[row.id].status,  # type: ignore[index]
                "error_class": _first_error_class(outcomes[row.id]),  # type: ignore[index]
                "created_at": now,
            }
            for row in rows
        ],
    )
    return results


def _latency_ms(row: Generation, now: datetime) -> int:
    return int((now - row.created_at).total_seconds() * 1000)


def _first_error_class(outcomes: list[GenerationOutput]) -> str | None:
    return next((o.error_code for o in outcomes if not o.sha256), None)


def _result(row: Generation) -> GenerationResult:
    assert row.id is not None
    return GenerationResult(
        row.id,
        GenerationStatus(row.status),
        list(row.output_hashes),
        row.variations - len(row.output_hashes) if row.completed_at else 0,
        row.error_message,
    )


def result_of(generation_id: int) -> GenerationResult:
    """Where a generation stands now."""
    with session_scope() as session:
        row = session.get(Generation, generation_id)
        if row is None:
            raise InvalidRequest("That generation does not exist.")
        return _result(row)


def _renew_leases(ids: list[int], *, owner: str, lease_s: float) -> set[int]:
    """Renew this worker's leases; returns the ids whose lease another worker now holds
    (or the sweep cleared): still running, but no longer ours."""
    with session_scope() as session:
        kept = session.execute(
            update(Generation)
            .where(
                Generation.id.in_(ids),  # type: ignore[union-attr]
                Generation.lease_owner == owner,
                Generation.status == GenerationStatus.RUNNING,
            )
            .values(lease_expires_at=utcnow() + timedelta(seconds=lease_s))
            .returning(Generation.id)
            .execution_options(synchronize_session=False)
        )
        others = set(ids) - set(kept.scalars().all())
        if not others:
            return set()
        # Settled ones are simply done; only a running one under another owner is lost.
        return set(
            session.exec(
                select(Generation.id).where(
                    Generation.id.in_(others),  # type: ignore[union-attr]
                    Generation.status == GenerationStatus.RUNNING,
                )
            ).all()
        )


def _lapse_soon(generation_id: int, *, owner: str) -> None:
    with session_scope() as session:
        session.execute(
            update(Generation)
            .where(Generation.id == generation_id, Generation.lease_owner == owner)
            .values(lease_expires_at=utcnow() + timedelta(seconds=RETRY_AFTER_ERROR_S))
            .execution_options(synchronize_session=False)
        )


def _release(generation_id: int, *, owner: str) -> bool:
    with session_scope() as session:
        released = session.execute(
            update(Generation)
            .where(
                Generation.id == generation_id,
                Generation.lease_owner == owner,
                Generation.status == GenerationStatus.RUNNING,
            )
            .values(lease_owner=None, lease_key=None, lease_expires_at=None, enqueued_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return released.rowcount == 1  # type: ignore[attr-defined]


def new_worker_key() -> int:
    """A worker's presence key: its advisory lock on PostgreSQL, and its name's last part."""
    return secrets.randbelow(2**31 - 2) + 1


def worker_name(key: int) -> str:
    """Who holds a lease (and, on Redis, which stream consumer): host, pid and key."""
    return f"{socket.gethostname()}:{os.getpid()}:{key}"[-120:]


def worker_key(name: str) -> int | None:
    """The presence key a `worker_name` ends with (None for any other name)."""
    last = name.rpartition(":")[2]
    return int(last) if last.isdigit() and name.count(":") >= 2 else None


def _sweep(
    *, requeue_after_s: float, everything_unclaimed: bool, exact_redelivery: bool
) -> tuple[list[int], frozenset[int]]:
    """The sweep's database part: `requeue_lapsed`, and (for an exact redelivery) the
    presence keys of the workers alive now.

    One verdict per worker for the whole sweep: a worker that dies while the sweep runs
    is alive to both its parts (the next sweep finds it dead in both). Asked apart, the
    leases once saw a worker alive and the queue a moment later saw it dead, so its
    messages were queued again while its jobs were still leased: every delivery was
    skipped, and its jobs waited for the next sweep."""
    alive = live_worker_keys() if exact_redelivery else None
    ids = requeue_lapsed(
        requeue_after_s=requeue_after_s,
        everything_unclaimed=everything_unclaimed,
        exact_redelivery=exact_redelivery,
        alive_before=alive,
    )
    if alive is None:
        return ids, frozenset()
    # Plus any worker that started since: its key was not held when `alive` was read.
    return ids, alive | live_worker_keys()


def live_worker_keys() -> frozenset[int]:
    """The presence keys held now (PostgreSQL): the workers that are alive."""
    with session_scope() as session:
        return frozenset(int(k) for k in session.execute(_alive_keys()).scalars())


def requeue_lapsed(
    *,
    requeue_after_s: float,
    everything_unclaimed: bool = False,
    exact_redelivery: bool = False,
    alive_before: frozenset[int] | None = None,
) -> list[int]:
    """Clear the lapsed leases of running generations and mark them queued again, with
    the jobs nobody took up within `requeue_after_s` (a lost message); returns their ids
    (the lapsed ones first), for the caller to put on the queue.

    A worker found dead may also have been holding messages of jobs it had not claimed
    yet, so then every job still waiting is queued again too (`everything_unclaimed`
    does the same unconditionally): whoever gets a job second skips it. Unless
    `exact_redelivery`: the caller then queues again the dead worker's own messages.
    `alive_before`: the presence keys held when the caller's sweep began; a worker in
    it counts as alive here too."""
    now = utcnow()
    cleared = {
        "lease_owner": None,
        "lease_key": None,
        "lease_expires_at": None,
        "enqueued_at": now,
    }
    with session_scope() as session:
        lapsed = Generation.lease_expires_at < now  # type: ignore[operator]
        if session.get_bind().dialect.name == "postgresql":
            lapsed = or_(lapsed, _owner_gone(alive_before))
        running = Generation.status == GenerationStatus.RUNNING
        orphaned = set(
            session.execute(
                update(Generation)
                .where(running, Generation.lease_owner.is_not(None), lapsed)  # type: ignore[union-attr]
                .values(**cleared)
                .returning(Generation.id)
                .execution_options(synchronize_session=False)
            )
            .scalars()
            .all()
        )
        waited = or_(
            Generation.enqueued_at.is_(None),  # type: ignore[union-attr]
            Generation.enqueued_at < now - timedelta(seconds=requeue_after_s),  # type: ignore[operator]
        )
        waiting = set(
            session.execute(
                update(Generation)
                .where(
                    running,
                    Generation.lease_owner.is_(None),  # type: ignore[union-attr]
                    Generation.id.not_in(orphaned) if orphaned else sa.true(),  # type: ignore[union-attr]
                    sa.true()
                    if everything_unclaimed or (orphaned and not exact_redelivery)
                    else waited,
                )
                .values(**cleared)
                .returning(Generation.id)
                .execution_options(synchronize_session=False)
            )
            .scalars()
            .all()
        )
        # The dead worker's own jobs first: they were already under way, while the
        # waiting ones are mostly still on the queue too (their second delivery is
        # skipped), so the takeover should not queue behind those.
        return sorted(orphaned) + sorted(waiting)


_pg_locks = sa.table(
    "pg_locks",
    sa.column("locktype"),
    sa.column("classid"),
    sa.column("objid"),
    sa.column("objsubid"),
    sa.column("granted"),
)


def _alive_keys() -> sa.Select[tuple[int]]:
    """The presence keys whose lock is held: their workers' processes are alive."""
    return sa.select(sa.cast(_pg_locks.c.objid, sa.BigInteger)).where(
        _pg_locks.c.locktype == "advisory",
        _pg_locks.c.classid == PRESENCE_LOCK_SPACE,
        _pg_locks.c.objsubid == 2,
        _pg_locks.c.granted,
    )


def _owner_gone(alive_before: frozenset[int] | None = None) -> sa.ColumnElement[bool]:
    """The lease's owner no longer holds its presence lock: its process is gone (and,
    given `alive_before`, it was not alive then either)."""
    gone = and_(
        Generation.lease_key.is_not(None),  # type: ignore[union-attr]
        Generation.lease_key.not_in(_alive_keys()),  # type: ignore[union-attr]
    )
    if alive_before is None:
        return gone
    return and_(gone, Generation.lease_key.not_in(sorted(alive_before)))  # type: ignore[union-attr]


def _hold_presence(key: int) -> Connection | None:
    engine = get_engine()
    if engine.dialect.name != "postgresql":
        return None
    connection = engine.connect()
    try:
        held = connection.execute(
            text("SELECT pg_try_advisory_lock(:space, :key)"),
            {"space": PRESENCE_LOCK_SPACE, "key": key},
        ).scalar()
        connection.commit()
    except Exception:
        connection.close()
        log.warning("No presence lock (leases will only lapse by time)", exc_info=True)
        return None
    if not held:
        connection.close()
        return None
    return connection


def _still_present(connection: Connection) -> bool:
    try:
        connection.execute(text("SELECT 1"))
        connection.commit()
    except Exception:
        return False
    return True


async def run_generation(
    *,
    generation_id: int,
    provider: ImageProvider | None = None,
    storage: Storage | None = None,
) -> GenerationResult:
    """Work on one generation's job in this process, now, as a queue worker would (for
    operator tools, tests and benchmarks that bypass the queue)."""
    worker = JobWorker(provider=provider, storage=storage)
    await worker.start()
    upkeep = asyncio.create_task(worker.maintain())
    try:
        return await worker.run(generation_id)
    finally:
        upkeep.cancel()
        await worker.stop()
