"""Running a started generation: one provider call per image, then settle its credits.

Each delivered image keeps its credit and every failed one is refunded, in the transaction
that finishes the generation. A generation a crash left running is failed and refunded at
the next start.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select

from adremix.blocking import call
from adremix.db import session_scope
from adremix.enums import (
    ACTIVE_GENERATION_STATUSES,
    GenerationStage,
    GenerationStatus,
    ImageKind,
)
from adremix.models import Generation, UsageEvent, utcnow
from adremix.services import credits
from adremix.services.generation.images import InvalidImage, downscale, encode_png, open_untrusted
from adremix.services.generation.providers import (
    ImageProvider,
    ProviderBadOutput,
    ProviderError,
    provider_for,
)
from adremix.services.generation.remix_options import InvalidRequest, RemixOptions
from adremix.services.generation.stored_images import record_image, store_image
from adremix.services.storage import LocalStorage, default_storage
from adremix.settings import get_settings

log = logging.getLogger(__name__)
Progress = Callable[[GenerationStage, int], Awaitable[None]]


@dataclass(frozen=True)
class GenerationResult:
    generation_id: int
    status: GenerationStatus
    delivered: list[str]
    failed: int
    error_message: str | None


async def run_generation(
    *,
    generation_id: int,
    provider: ImageProvider | None = None,
    storage: LocalStorage | None = None,
    progress: Progress | None = None,
) -> GenerationResult:
    """Produce the images of a started generation, then settle its credits.

    `provider` and `storage` default to the configured ones. Database and Pillow work runs
    in worker threads; only the provider's own HTTP calls are awaited on the event loop.
    """
    started = time.monotonic()
    provider = provider or provider_for(get_settings())
    storage = storage or default_storage()

    async def report(stage: GenerationStage, done: int = 0) -> None:
        # Progress is for the screen only: it must never stop credits being settled.
        if progress is None:
            return
        try:
            await progress(stage, done)
        except Exception:
            log.exception("Progress report for generation %s failed", generation_id)

    await report(GenerationStage.PREPARING)
    generation, options = await call(_load_running, generation_id)
    if generation is None:
        return await call(_result_of, generation_id)
    delivered: list[tuple[str, tuple[int, int]]] = []
    errors: list[ProviderError | Exception] = []
    try:
        source = await call(_provider_input, storage, generation.source_image_hash)
        await report(GenerationStage.GENERATING, 0)
        done = 0

        async def one(index: int) -> tuple[str, tuple[int, int]]:
            nonlocal done
            image_bytes = await provider.generate_one(
                source_png=source, options=options, index=index
            )
            stored = await call(_store_result, storage, image_bytes)
            done += 1
            await report(GenerationStage.GENERATING, done)
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
    await report(GenerationStage.FINISHING, len(delivered))
    latency_ms = int((time.monotonic() - started) * 1000)
    return await call(
        _finish, generation, delivered, errors, latency_ms, provider.name, provider.model
    )


def _load_running(generation_id: int) -> tuple[Generation | None, RemixOptions]:
    with session_scope() as session:
        generation = session.get(Generation, generation_id)
        if generation is None or generation.status != GenerationStatus.RUNNING:
            return None, RemixOptions(instructions="-")
        fields = {f.name for f in dataclasses.fields(RemixOptions)}
        options = RemixOptions(**{k: v for k, v in generation.options.items() if k in fields})
        return generation, options


def _provider_input(storage: LocalStorage, source_sha256: str) -> bytes:
    if storage.exists(ImageKind.PREPARED, source_sha256):
        return storage.read(ImageKind.PREPARED, source_sha256)
    source = open_untrusted(storage.read(ImageKind.SOURCE, source_sha256))
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
    sha = store_image(storage, ImageKind.RESULT, normalised, data)
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
    status = (
        GenerationStatus.SUCCEEDED
        if failed == 0
        else (GenerationStatus.PARTIAL if delivered else GenerationStatus.FAILED)
    )
    with session_scope() as session:
        row = session.get(Generation, generation.id)
        assert row is not None and row.id is not None
        if failed:
            credits.refund(
                session=session,
                user_id=row.user_id,
                amount=failed,
                idempotency_key=f"generation:{row.id}:refund",
                reference=str(row.id),
                reason=f"{failed} image(s) not delivered",
            )
        for sha, size in delivered:
            record_image(session, user_id=row.user_id, sha256=sha, kind=ImageKind.RESULT, size=size)
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
                    getattr(errors[0], "code", type(errors[0]).__name__) if errors else None
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
            GenerationStatus(row.status),
            list(row.output_hashes),
            row.variations - len(row.output_hashes),
            row.error_message,
        )


def recover_interrupted(*, started_before: datetime) -> int:
    """Fail and refund generations a crashed process left running. Returns how many."""
    with session_scope() as session:
        stale = session.exec(
            select(Generation).where(
                Generation.status.in_(ACTIVE_GENERATION_STATUSES),  # type: ignore[attr-defined]
                Generation.created_at < started_before,
            )
        ).all()
        for row in stale:
            if row.credits_reserved:
                credits.refund(
                    session=session,
                    user_id=row.user_id,
                    amount=row.credits_reserved,
                    idempotency_key=f"generation:{row.id}:refund",
                    reference=str(row.id),
                    reason="Interrupted by a server restart",
                )
            row.status = GenerationStatus.FAILED
            row.error_message = "Interrupted by a server restart. The credits were refunded."
            row.completed_at = utcnow()
            session.add(row)
        return len(stale)
