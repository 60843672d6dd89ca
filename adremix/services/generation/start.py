"""Starting a generation: validate the request, reserve its credits, or reuse a result.

Credits for every requested variation (one each) are reserved in the same transaction that
creates the generation. A repeated submit (same client request id) returns the first
generation; an identical earlier request is served from the cache, free.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from adremix.db import session_scope
from adremix.enums import CreditKind, GenerationStatus, ImageKind
from adremix.models import BrandKit, Generation, User, utcnow
from adremix.services import credits
from adremix.services.generation.providers import provider_identity
from adremix.services.generation.remix_options import (
    InvalidRequest,
    RemixOptions,
    describe_result,
)
from adremix.services.generation.stored_images import holds_claim
from adremix.settings import get_settings


@dataclass(frozen=True)
class GenerationSummary:
    """A generation as New Ad shows it."""

    id: int
    status: GenerationStatus
    instructions: str
    variations: int
    output_hashes: list[str]  # delivered so far, in variation order
    error_message: str | None
    cached: bool
    image_description: str  # what its images are, for their alt text
    failed: int = 0  # variations that will not be delivered (refunded)
    queued: bool = False  # running, but no worker has taken it up yet


@dataclass(frozen=True)
class StartedGeneration:
    generation_id: int
    cached: bool  # served from an identical earlier result, free
    repeated: bool  # a copy of a press already accepted: its job exists already
    summary: GenerationSummary


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


def credits_for(options: RemixOptions) -> int:
    """What a request costs: one credit per requested image."""
    return options.variations


def start_generation(
    *,
    user_id: int,
    client_request_id: str,
    source_sha256: str,
    options: RemixOptions,
    provider: str = "",
    model: str = "",
    fresh: bool = False,
    parent_id: int | None = None,
) -> StartedGeneration:
    """Create the generation and reserve its credits (or serve it from the cache).

    `provider` and `model` default to the configured image provider's. The brand kit
    named by `options.brand_kit_id` must be the user's; a copy of it goes with the
    generation. `parent_id` makes it a region edit of that generation.
    """
    if not source_sha256:
        raise InvalidRequest("Upload an ad image first.")
    options = options.validated()
    with session_scope() as session:
        options = dataclasses.replace(
            options, brand=brand_snapshot(session, user_id, options.brand_kit_id)
        )
    if not client_request_id or len(client_request_id) > 64:
        raise InvalidRequest("Missing request id; reload the page and try again.")
    if not provider:
        provider, model = provider_identity(get_settings())
    key = cache_key(source_sha256=source_sha256, options=options, provider=provider, model=model)
    try:
        with session_scope() as session:
            # The user's row first: the reserve below locks it anyway, and two starts
            # that each held the key-share lock the generation's foreign key takes
            # would deadlock on it (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises).
            session.exec(select(User.id).where(User.id == user_id).with_for_update()).first()
            repeated = _by_request_id(session, user_id, client_request_id)
            if repeated is not None:
                return _started(repeated, repeated=True)
            source = {"user_id": user_id, "sha256": source_sha256, "kind": ImageKind.SOURCE}
            if not holds_claim(session, **source):
                raise InvalidRequest("Upload an image to remix first.")
            for kind, sha in (
                (ImageKind.RESULT, options.edit_of),
                (ImageKind.MASK, options.edit_mask),
            ):
                if sha and not holds_claim(session, user_id=user_id, sha256=sha, kind=kind):
                    raise InvalidRequest("That image is not available.")
            cached = None if fresh else _cached_result(session, user_id, key)
            generation = Generation(
                user_id=user_id,
                client_request_id=client_request_id,
                status=GenerationStatus.SUCCEEDED if cached else GenerationStatus.RUNNING,
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
                credits_reserved=0 if cached else credits_for(options),
                latency_ms=0 if cached else None,
                completed_at=utcnow() if cached else None,
                # The sweep counts a job's wait in the queue from here.
                enqueued_at=None if cached else utcnow(),
                parent_id=parent_id,
                brand_kit_id=options.brand_kit_id or None,
            )
            session.add(generation)
            session.flush()
            assert generation.id is not None
            if not cached:
                credits.spend(
                    session=session,
                    user_id=user_id,
                    amount=credits_for(options),
                    idempotency_key=f"generation:{generation.id}:reserve",
                    reference=str(generation.id),
                    kind=CreditKind.GENERATION,
                )
            return _started(generation, repeated=False)
    except IntegrityError:
        # The same request id raced in from a second click: hand back the first one.
        with session_scope() as session:
            first = _by_request_id(session, user_id, client_request_id)
            if first is None:
                raise
            return _started(first, repeated=True)


def brand_snapshot(session: Session, user_id: int, kit_id: int) -> dict[str, Any]:
    """A copy of the user's kit as the generation uses it ({} for no kit)."""
    if not kit_id:
        return {}
    kit = session.get(BrandKit, kit_id)
    if kit is None or kit.user_id != user_id:
        raise InvalidRequest("That brand kit no longer exists. Choose another one.")
    return {
        "id": kit.id,
        "name": kit.name,
        "colors": dict(kit.colors),
        "font": kit.font,
        "font_sha256": kit.font_sha256,
        "font_name": kit.font_name,
        "logo_sha256": kit.logo_sha256,
        "tone": kit.tone,
        "avoid_words": list(kit.avoid_words),
    }


def _started(row: Generation, *, repeated: bool) -> StartedGeneration:
    cached = "cached_from" in (row.options or {})
    return StartedGeneration(
        generation_id=row.id or 0,
        cached=cached and not repeated,
        repeated=repeated,
        summary=GenerationSummary(
            id=row.id or 0,
            status=GenerationStatus(row.status),
            instructions=row.instructions,
            variations=row.variations,
            output_hashes=list(row.output_hashes),
            error_message=row.error_message,
            cached=cached,
            image_description=describe_result(row.template, row.placement),
            queued=row.status == GenerationStatus.RUNNING and row.lease_owner is None,
        ),
    )


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
            Generation.status == GenerationStatus.SUCCEEDED,
            Generation.deleted_at.is_(None),  # type: ignore[union-attr]
        )
        .order_by(Generation.created_at.desc())  # type: ignore[attr-defined]
    ).first()
