"""Ad generation: ingest the source, reserve credits, call the provider, keep what worked.

Credits for every requested variation are reserved in the same transaction that creates
the generation; each delivered image keeps its credit and every failed one is refunded in
the transaction that finishes the generation. A repeated submit (same client request id)
returns the first generation; an identical earlier request is served from the cache free.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from adremix.db import session_scope
from adremix.models import Generation, StoredImage, UsageEvent, utcnow
from adremix.services import ledger
from adremix.services.image_providers import ImageProvider, ProviderBadOutput, ProviderError
from adremix.services.images import (
    InvalidImage,
    NormalisedImage,
    downscale,
    encode_png,
    encode_source,
    open_untrusted,
    sha256_hex,
    thumbnail_webp,
)
from adremix.services.storage import LocalStorage
from adremix.services.templates import InvalidRequest, RemixOptions

log = logging.getLogger(__name__)
ACTIVE_STATUSES = ("pending", "running")
Progress = Callable[[str, int], Awaitable[None]]


@dataclass(frozen=True)
class SourceUpload:
    sha256: str
    width: int
    height: int
    notes: list[str]


def _record_image(session: Session, *, user_id: int, sha256: str, kind: str, size: tuple) -> None:
    exists = session.exec(
        select(StoredImage.id).where(
            StoredImage.user_id == user_id, StoredImage.sha256 == sha256, StoredImage.kind == kind
        )
    ).first()
    if exists is None:
        session.add(
            StoredImage(user_id=user_id, sha256=sha256, kind=kind, width=size[0], height=size[1])
        )


def _store_image(storage: LocalStorage, kind: str, image: NormalisedImage, data: bytes) -> str:
    sha = sha256_hex(data)
    storage.put(kind, sha, data)
    storage.put("thumb", sha, thumbnail_webp(image.image))
    return sha


def ingest_source(*, user_id: int, data: bytes, storage: LocalStorage) -> SourceUpload:
    """Validate an upload and store it (upright, metadata stripped) once by content hash,
    with the downscaled copy the provider will receive."""
    normalised = open_untrusted(data)
    sha = _store_image(storage, "source", normalised, encode_source(normalised.image))
    storage.put("prepared", sha, encode_png(downscale(normalised.image), compress_level=1))
    with session_scope() as session:
        _record_image(
            session, user_id=user_id, sha256=sha, kind="source", size=normalised.image.size
        )
    width, height = normalised.image.size
    return SourceUpload(sha256=sha, width=width, height=height, notes=normalised.notes)


def owns_image(*, user_id: int, sha256: str, kind: str | None = None) -> bool:
    """Whether the user may see this stored file (sources and results they own)."""
    with session_scope() as session:
        query = select(StoredImage.id).where(
            StoredImage.user_id == user_id, StoredImage.sha256 == sha256
        )
        if kind:
            query = query.where(StoredImage.kind == kind)
        return session.exec(query).first() is not None


def cache_key(*, source_sha256: str, options: RemixOptions, provider: str, model: str) -> str:
    material = json.dumps(
        {
            "source": source_sha256,
            "options": dataclasses.asdict(options),
            "provider": provider,
            "model": model,
        },
        sort_keys=True,
    )
    return hashlib.sha256(material.encode()).hexdigest()


@dataclass(frozen=True)
class StartedGeneration:
    generation_id: int
    cached: bool
    repeated: bool
    credits_reserved: int


def start_generation(
    *,
    user_id: int,
    client_request_id: str,
    source_sha256: str,
    options: RemixOptions,
    provider: str,
    model: str,
    fresh: bool = False,
) -> StartedGeneration:
    """Create the generation and reserve its credits (or serve it from the cache)."""
    options = options.validated()
    if not client_request_id or len(client_request_id) > 64:
        raise InvalidRequest("Missing request id; reload the page and try again.")
    if not owns_image(user_id=user_id, sha256=source_sha256, kind="source"):
        raise InvalidRequest("Upload an image to remix first.")
    key = cache_key(source_sha256=source_sha256, options=options, provider=provider, model=model)
    try:
        with session_scope() as session:
            repeated = _by_request_id(session, user_id, client_request_id)
            if repeated is not None:
                return StartedGeneration(repeated.id or 0, False, True, repeated.credits_reserved)
            cached = None if fresh else _cached_result(session, user_id, key)
            generation = Generation(
                user_id=user_id,
                client_request_id=client_request_id,
                status="succeeded" if cached else "running",
                instructions=options.instructions,
                template=options.template,
                placement=options.placement,
                quality=options.quality,
                variations=options.variations,
                options=dataclasses.asdict(options)
                | ({"cached_from": cached.id} if cached else {}),
                source_image_hash=source_sha256,
                output_hashes=list(cached.output_hashes) if cached else [],
                provider=provider,
                model=model,
                cache_key=key,
                credits_reserved=0 if cached else options.variations,
                latency_ms=0 if cached else None,
                completed_at=utcnow() if cached else None,
            )
            session.add(generation)
            session.flush()
            assert generation.id is not None
            if not cached:
                ledger.spend(
                    session=session,
                    user_id=user_id,
                    amount=options.variations,
                    idempotency_key=f"generation:{generation.id}:reserve",
                    reference=str(generation.id),
                )
            return StartedGeneration(
                generation.id, cached is not None, False, generation.credits_reserved
            )
    except IntegrityError:
        # The same request id raced in from a second click: hand back the first one.
        with session_scope() as session:
            first = _by_request_id(session, user_id, client_request_id)
            if first is None:
                raise
            return StartedGeneration(first.id or 0, False, True, first.credits_reserved)


def _by_request_id(session: Session, user_id: int, client_request_id: str) -> Generation | None:
    return session.exec(
        select(Generation).where(
            Generation.user_id == user_id, Generation.client_request_id == client_request_id
        )
    ).first()


def _cached_result(session: Session, user_id: int, key: str) -> Generation | None:
    return session.exec(
        select(Generation)
        .where(
            Generation.user_id == user_id,
            Generation.cache_key == key,
            Generation.status == "succeeded",
            Generation.deleted_at.is_(None),  # type: ignore[union-attr]
        )
        .order_by(Generation.created_at.desc())  # type: ignore[attr-defined]
    ).first()


@dataclass(frozen=True)
class GenerationResult:
    generation_id: int
    status: str
    delivered: list[str]
    failed: int
    error_message: str | None


async def run_generation(
    *,
    generation_id: int,
    provider: ImageProvider,
    storage: LocalStorage,
    progress: Progress | None = None,
) -> GenerationResult:
    """Produce the images of a started generation, then settle its credits."""
    started = time.monotonic()

    async def report(stage: str, done: int = 0) -> None:
        # Progress is for the screen only: it must never stop credits being settled.
        if progress is None:
            return
        try:
            await progress(stage, done)
        except Exception:
            log.exception("Progress report for generation %s failed", generation_id)

    await report("preparing")
    generation, options = await asyncio.to_thread(_load_running, generation_id)
    if generation is None:
        return await asyncio.to_thread(_result_of, generation_id)
    delivered: list[tuple[str, tuple[int, int]]] = []
    errors: list[ProviderError | Exception] = []
    try:
        source = await asyncio.to_thread(_provider_input, storage, generation.source_image_hash)
        await report("generating", 0)
        done = 0

        async def one(index: int) -> tuple[str, tuple[int, int]]:
            nonlocal done
            image_bytes = await provider.generate_one(
                source_png=source, options=options, index=index
            )
            stored = await asyncio.to_thread(_store_result, storage, image_bytes)
            done += 1
            await report("generating", done)
            return stored

        outcomes = await asyncio.gather(
            *(one(i) for i in range(generation.variations)), return_exceptions=True
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                if not isinstance(outcome, Exception):
                    raise outcome
                errors.append(outcome)
            else:
                delivered.append(outcome)
    except Exception as exc:  # the source vanished, the disk is full ...
        log.exception("Generation %s failed before the provider answered", generation_id)
        errors.append(exc)
    await report("finishing", len(delivered))
    latency_ms = int((time.monotonic() - started) * 1000)
    return await asyncio.to_thread(
        _finish, generation, delivered, errors, latency_ms, provider.name, provider.model
    )


def _load_running(generation_id: int) -> tuple[Generation | None, RemixOptions]:
    with session_scope() as session:
        generation = session.get(Generation, generation_id)
        if generation is None or generation.status != "running":
            return None, RemixOptions(instructions="-")
        fields = {f.name for f in dataclasses.fields(RemixOptions)}
        options = RemixOptions(**{k: v for k, v in generation.options.items() if k in fields})
        return generation, options


def _provider_input(storage: LocalStorage, source_sha256: str) -> bytes:
    if storage.exists("prepared", source_sha256):
        return storage.read("prepared", source_sha256)
    source = open_untrusted(storage.read("source", source_sha256))
    return encode_png(downscale(source.image), compress_level=1)


def _store_result(storage: LocalStorage, image_bytes: bytes) -> tuple[str, tuple[int, int]]:
    try:
        normalised = open_untrusted(image_bytes)
    except InvalidImage as exc:
        raise ProviderBadOutput("The image service returned an unreadable image.") from exc
    # A provider's PNG is kept byte for byte (re-encoding costs ~0.2 s of CPU per image);
    # anything else is normalised to PNG.
    is_png = image_bytes.startswith(b"\x89PNG") and normalised.source_format == "PNG"
    data = image_bytes if is_png else encode_png(normalised.image)
    sha = _store_image(storage, "result", normalised, data)
    return sha, normalised.image.size


def _error_message(errors: list[Exception]) -> str | None:
    if not errors:
        return None
    first = errors[0]
    if isinstance(first, ProviderError):
        return str(first)
    return "Something went wrong while generating. The credits were refunded."


def _finish(
    generation: Generation,
    delivered: list[tuple[str, tuple[int, int]]],
    errors: list[Exception],
    latency_ms: int,
    provider: str,
    model: str,
) -> GenerationResult:
    failed = generation.variations - len(delivered)
    status = "succeeded" if failed == 0 else ("partial" if delivered else "failed")
    with session_scope() as session:
        row = session.get(Generation, generation.id)
        assert row is not None and row.id is not None
        if failed:
            ledger.refund(
                session=session,
                user_id=row.user_id,
                amount=failed,
                idempotency_key=f"generation:{row.id}:refund",
                reference=str(row.id),
                reason=f"{failed} image(s) not delivered",
            )
        for sha, size in delivered:
            _record_image(session, user_id=row.user_id, sha256=sha, kind="result", size=size)
        row.status = status
        row.output_hashes = [sha for sha, _ in delivered]
        row.credits_spent = len(delivered)
        row.latency_ms = latency_ms
        row.completed_at = utcnow()
        row.error_message = _error_message(errors)
        session.add(row)
        session.add(
            UsageEvent(
                user_id=row.user_id,
                generation_id=row.id,
                provider=provider,
                model=model,
                images_requested=row.variations,
                images_delivered=len(delivered),
                latency_ms=latency_ms,
                outcome=status,
                error_class=(
                    getattr(errors[0], "kind", type(errors[0]).__name__) if errors else None
                ),
            )
        )
    return GenerationResult(row.id, status, row.output_hashes, failed, row.error_message)


def _result_of(generation_id: int) -> GenerationResult:
    with session_scope() as session:
        row = session.get(Generation, generation_id)
        if row is None:
            raise InvalidRequest("That generation does not exist.")
        return GenerationResult(
            generation_id,
            row.status,
            list(row.output_hashes),
            row.variations - len(row.output_hashes),
            row.error_message,
        )


def recover_interrupted(*, started_before: datetime) -> int:
    """Fail and refund generations a crashed process left running. Returns how many."""
    with session_scope() as session:
        stale = session.exec(
            select(Generation).where(
                Generation.status.in_(ACTIVE_STATUSES),  # type: ignore[attr-defined]
                Generation.created_at < started_before,
            )
        ).all()
        for row in stale:
            if row.credits_reserved:
                ledger.refund(
                    session=session,
                    user_id=row.user_id,
                    amount=row.credits_reserved,
                    idempotency_key=f"generation:{row.id}:refund",
                    reference=str(row.id),
                    reason="Interrupted by a server restart",
                )
            row.status = "failed"
            row.error_message = "Interrupted by a server restart. The credits were refunded."
            row.completed_at = utcnow()
            session.add(row)
        return len(stale)


def use_result_as_source(*, user_id: int, sha256: str, storage: LocalStorage) -> SourceUpload:
    """ "Remix this": an earlier result of the user's becomes a new source image."""
    if not owns_image(user_id=user_id, sha256=sha256, kind="result"):
        raise InvalidRequest("That image is not available.")
    data = storage.read("result", sha256)
    return ingest_source(user_id=user_id, data=data, storage=storage)


@dataclass(frozen=True)
class GenerationSummary:
    id: int
    status: str
    created_at: datetime
    instructions: str
    template: str
    placement: str
    variations: int
    credits_spent: int
    output_hashes: list[str]
    source_hash: str
    error_message: str | None
    cached: bool


def _summary(row: Generation) -> GenerationSummary:
    return GenerationSummary(
        id=row.id or 0,
        status=row.status,
        created_at=row.created_at,
        instructions=row.instructions,
        template=row.template,
        placement=row.placement,
        variations=row.variations,
        credits_spent=row.credits_spent,
        output_hashes=list(row.output_hashes),
        source_hash=row.source_image_hash,
        error_message=row.error_message,
        cached="cached_from" in (row.options or {}),
    )


def recent_generations(
    *, user_id: int, limit: int = 50, offset: int = 0
) -> list[GenerationSummary]:
    """The user's generations, newest first (deleted ones hidden)."""
    with session_scope() as session:
        rows = session.exec(
            select(Generation)
            .where(Generation.user_id == user_id, Generation.deleted_at.is_(None))  # type: ignore[union-attr]
            .order_by(Generation.created_at.desc(), Generation.id.desc())  # type: ignore[attr-defined,union-attr]
            .offset(offset)
            .limit(limit)
        ).all()
        return [_summary(row) for row in rows]


def generation_for(*, user_id: int, generation_id: int) -> GenerationSummary | None:
    with session_scope() as session:
        row = session.get(Generation, generation_id)
        if row is None or row.user_id != user_id or row.deleted_at is not None:
            return None
        return _summary(row)
