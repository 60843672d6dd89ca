"""Starting a generation: validate the request, reserve its credits, or reuse a result.

Credits for every requested variation (one each) are reserved in the same transaction that
creates the generation. A repeated submit (same client request id) returns the first
generation; an identical earlier request is served from the cache, free.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from adremix.db import session_scope
from adremix.enums import CreditKind, GenerationStatus, ImageKind
from adremix.models import BrandKit, Generation, StoredImage, User, utcnow
from adremix.services import credits
from adremix.services.generation.providers import provider_identity
from adremix.services.generation.remix_options import (
    InvalidRequest,
    RemixOptions,
    describe_result,
)
from adremix.services.generation.stored_images import holds_claim
from adremix.settings import get_settings

log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class GenerationRequest:
    """One press of Generate, as `start_generations` takes it (see `start_generation`)."""

    user_id: int
    client_request_id: str
    source_sha256: str
    options: RemixOptions
    fresh: bool = False
    provider: str = ""
    model: str = ""
    parent_id: int | None = None


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
    request = GenerationRequest(
        user_id, client_request_id, source_sha256, options, fresh, provider, model, parent_id
    )
    return _start(_prepared(request))


def start_generations(requests: list[GenerationRequest]) -> list[StartedGeneration | Exception]:
    """`start_generation` for presses that arrived together (any users), in ONE
    transaction: a burst of presses then costs one commit (on SQLite one disk flush and
    one turn of the single writer) instead of one each. Each press still gets its own
    answer, or its own error to raise. Should the shared transaction fail (one press
    refused: no credits, no such upload; a race on a request id), it is rolled back and
    every press is made in a transaction of its own, so one press's failure is never
    another's and nothing is reserved twice."""
    answers: list[StartedGeneration | Exception | None] = []
    ready: dict[int, GenerationRequest] = {}
    for position, request in enumerate(requests):
        try:
            ready[position] = _prepared(request)
            answers.append(None)
        except Exception as exc:  # that press's own error
            answers.append(exc)
    if len(ready) > 1:
        try:
            with session_scope() as session:
                together = dict(
                    zip(ready, _reserve_all_in(session, list(ready.values())), strict=True)
                )
            answers = [together.get(p, answer) for p, answer in enumerate(answers)]
            ready = {}
        except Exception:
            log.warning("%s reserves together failed; making them one by one", len(ready))
    for position, reserve in ready.items():
        try:
            answers[position] = _start(reserve)
        except Exception as exc:
            answers[position] = exc
    return [_answered(answer) for answer in answers]


def _answered(answer: StartedGeneration | Exception | None) -> StartedGeneration | Exception:
    assert answer is not None, "every press gets an answer"
    return answer


def _prepared(request: GenerationRequest) -> GenerationRequest:
    """The request checked, with its options validated (and the brand kit's copy) and its
    provider named: the work that needs no write transaction."""
    if not request.source_sha256:
        raise InvalidRequest("Upload an ad image first.")
    options = request.options.validated()
    if options.brand_kit_id:
        with session_scope() as session:
            options = dataclasses.replace(
                options, brand=brand_snapshot(session, request.user_id, options.brand_kit_id)
            )
    if not request.client_request_id or len(request.client_request_id) > 64:
        raise InvalidRequest("Missing request id; reload the page and try again.")
    provider, model = request.provider, request.model
    if not provider:
        provider, model = provider_identity(get_settings())
    return dataclasses.replace(request, options=options, provider=provider, model=model)


def _start(reserve: GenerationRequest) -> StartedGeneration:
    """One reserve in a transaction of its own."""
    try:
        with session_scope() as session:
            return _reserve_all_in(session, [reserve])[0]
    except IntegrityError:
        # The same request id raced in from a second click: hand back the first one.
        with session_scope() as session:
            press = (reserve.user_id, reserve.client_request_id)
            first = _by_request_ids(session, [press]).get(press)
            if first is None:
                raise
            return _started(first, repeated=True)


def _lock_users(session: Session, user_ids: list[int]) -> None:
    """The users' rows first, in id order: the reserve below locks each anyway, and two
    starts that each held the key-share lock the generation's foreign key takes would
    deadlock on it; in one order, two batches of starts never wait on each other in a
    circle (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises)."""
    session.exec(
        select(User.id)
        .where(User.id.in_(sorted(set(user_ids))))  # type: ignore[union-attr]
        .order_by(User.id)  # type: ignore[arg-type]
        .with_for_update()
    ).all()


def _reserve_all_in(session: Session, reserves: list[GenerationRequest]) -> list[StartedGeneration]:
    """Create the generations and reserve their credits, in the caller's transaction.
    A handful of statements serve the whole list (the users' locks, earlier presses,
    uploads, one multi-row insert); only the ledger moves credits once per generation.
    A press made twice in the list is the same press: the second gets the first's job."""
    _lock_users(session, [r.user_id for r in reserves])
    pressed = _by_request_ids(session, [(r.user_id, r.client_request_id) for r in reserves])
    uploads = _source_claims(session, [(r.user_id, r.source_sha256) for r in reserves])
    rows: list[tuple[Generation, bool]] = []  # each press's row, and whether a repeat
    for reserve in reserves:
        press = (reserve.user_id, reserve.client_request_id)
        if press in pressed:
            rows.append((pressed[press], True))
            continue
        pressed[press] = _new_generation(session, reserve, uploads)
        rows.append((pressed[press], False))
    session.flush()  # one INSERT … RETURNING for every new row
    for generation, repeated in rows:
        assert generation.id is not None
        if not repeated and generation.status == GenerationStatus.RUNNING:
            credits.spend(
                session=session,
                user_id=generation.user_id,
                amount=generation.credits_reserved,
                idempotency_key=f"generation:{generation.id}:reserve",
                reference=str(generation.id),
                kind=CreditKind.GENERATION,
            )
    return [_started(generation, repeated=repeated) for generation, repeated in rows]


def _new_generation(
    session: Session, reserve: GenerationRequest, uploads: set[tuple[int, str]]
) -> Generation:
    """The press's generation row (added to the session, not yet written), served from
    the cache when an identical earlier result exists and `fresh` is not asked for."""
    user_id, options = reserve.user_id, reserve.options
    if (user_id, reserve.source_sha256) not in uploads:
        raise InvalidRequest("Upload an image to remix first.")
    for kind, sha in (
        (ImageKind.RESULT, options.edit_of),
        (ImageKind.MASK, options.edit_mask),
    ):
        if sha and not holds_claim(session, user_id=user_id, sha256=sha, kind=kind):
            raise InvalidRequest("That image is not available.")
    key = cache_key(
        source_sha256=reserve.source_sha256,
        options=options,
        provider=reserve.provider,
        model=reserve.model,
    )
    cached = None if reserve.fresh else _cached_result(session, user_id, key)
    generation = Generation(
        user_id=user_id,
        client_request_id=reserve.client_request_id,
        status=GenerationStatus.SUCCEEDED if cached else GenerationStatus.RUNNING,
        instructions=options.instructions,
        template=options.template,
        placement=options.placement,
        quality=options.quality,
        variations=options.variations,
        options=dataclasses.asdict(options) | ({"cached_from": cached.id} if cached else {}),
        source_image_hash=reserve.source_sha256,
        output_hashes=list(cached.output_hashes) if cached else [],
        provider=reserve.provider,
        model=reserve.model,
        cache_key=key,
        credits_reserved=0 if cached else credits_for(options),
        latency_ms=0 if cached else None,
        completed_at=utcnow() if cached else None,
        # The sweep counts a job's wait in the queue from here.
        enqueued_at=None if cached else utcnow(),
        parent_id=reserve.parent_id,
        brand_kit_id=options.brand_kit_id or None,
    )
    session.add(generation)
    return generation


def _by_request_ids(
    session: Session, presses: list[tuple[int, str]]
) -> dict[tuple[int, str], Generation]:
    """The generations these (user, request id) presses already made."""
    wanted = set(presses)
    found = session.exec(
        select(Generation).where(
            Generation.user_id.in_({user for user, _ in wanted}),  # type: ignore[attr-defined]
            Generation.client_request_id.in_({key for _, key in wanted}),  # type: ignore[attr-defined]
        )
    ).all()
    return {
        (row.user_id, row.client_request_id): row
        for row in found
        if (row.user_id, row.client_request_id) in wanted
    }


def _source_claims(session: Session, uploads: list[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which of these (user, hash) uploads the user has a claim on, as a source."""
    wanted = set(uploads)
    found = session.exec(
        select(StoredImage.user_id, StoredImage.sha256).where(
            StoredImage.user_id.in_({user for user, _ in wanted}),  # type: ignore[attr-defined]
            StoredImage.sha256.in_({sha for _, sha in wanted}),  # type: ignore[attr-defined]
            StoredImage.kind == ImageKind.SOURCE,
        )
    ).all()
    return {(user, sha) for user, sha in found if (user, sha) in wanted}


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
