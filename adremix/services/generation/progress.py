"""What New Ad shows, read from the database: job progress, and the form to restore.

Progress comes from the generation rows and their per-variation outputs, so any web
worker can answer it, whichever job worker is doing the work. The form (source image and
options) is kept as a draft per user, so a reload, a reconnect to another worker or a
restart brings back the page as the user left it, with the jobs still running.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import or_
from sqlmodel import select

from adremix.db import session_scope
from adremix.enums import ACTIVE_GENERATION_STATUSES, GenerationStatus, ImageKind
from adremix.models import AdDraft, Generation, GenerationOutput, StoredImage, utcnow
from adremix.services.generation.remix_options import (
    LANGUAGES,
    MAX_INSTRUCTIONS,
    MAX_TEXT,
    MAX_VARIATIONS,
    PLACEMENTS,
    QUALITIES,
    STYLES,
    describe_result,
)
from adremix.services.generation.start import GenerationSummary

# Finished jobs still shown when New Ad is restored; running ones always are.
RECENT_JOBS = timedelta(minutes=30)
MAX_RESTORED_JOBS = 8
DRAFT_TEXT_LIMITS = {
    "instructions": MAX_INSTRUCTIONS,
    "headline": MAX_TEXT,
    "call_to_action": MAX_TEXT,
    "brand_colors": 120,
}
DRAFT_CHOICES: dict[str, Any] = {
    "template": STYLES,
    "placement": PLACEMENTS,
    "quality": QUALITIES,
    "language": LANGUAGES,
}


@dataclass(frozen=True)
class DraftSource:
    sha256: str
    width: int
    height: int


@dataclass(frozen=True)
class NewAdSession:
    """The New Ad page as the user left it."""

    source: DraftSource | None
    options: dict[str, Any] = field(default_factory=dict)  # only valid values
    jobs: list[GenerationSummary] = field(default_factory=list)  # newest first


def job_progress(*, user_id: int, generation_ids: list[int]) -> list[GenerationSummary]:
    """The user's generations among `generation_ids`, with what each has delivered so far."""
    if not generation_ids:
        return []
    with session_scope() as session:
        rows = session.exec(
            select(Generation).where(
                Generation.user_id == user_id,
                Generation.id.in_(generation_ids),  # type: ignore[union-attr]
            )
        ).all()
        return _summaries(session, list(rows))


def restore_new_ad(*, user_id: int) -> NewAdSession:
    """The user's New Ad draft and the jobs to show: running ones and recent ones."""
    with session_scope() as session:
        draft = session.get(AdDraft, user_id)
        source = None
        if draft is not None and draft.source_sha256:
            image = session.exec(
                select(StoredImage).where(
                    StoredImage.user_id == user_id,
                    StoredImage.sha256 == draft.source_sha256,
                    StoredImage.kind == ImageKind.SOURCE,
                )
            ).first()
            if image is not None:
                source = DraftSource(image.sha256, image.width, image.height)
        rows = session.exec(
            select(Generation)
            .where(
                Generation.user_id == user_id,
                Generation.deleted_at.is_(None),  # type: ignore[union-attr]
                or_(
                    Generation.status.in_(ACTIVE_GENERATION_STATUSES),  # type: ignore[attr-defined]
                    Generation.created_at >= utcnow() - RECENT_JOBS,  # type: ignore[operator]
                ),
            )
            .order_by(Generation.created_at.desc())  # type: ignore[attr-defined]
            .limit(MAX_RESTORED_JOBS)
        ).all()
        return NewAdSession(
            source=source,
            options=_valid_options(draft.options if draft else {}),
            jobs=_summaries(session, list(rows)),
        )


def save_draft(*, user_id: int, source_sha256: str, options: dict[str, Any]) -> None:
    """Keep the New Ad form (source and options) for the next visit of the page."""
    with session_scope() as session:
        draft = session.get(AdDraft, user_id) or AdDraft(user_id=user_id)
        draft.source_sha256 = source_sha256[:64]
        draft.options = _valid_options(options)
        draft.updated_at = utcnow()
        session.add(draft)


def _valid_options(options: dict[str, Any]) -> dict[str, Any]:
    """What a draft may restore: known fields with values the form can show."""
    valid: dict[str, Any] = {}
    for name, limit in DRAFT_TEXT_LIMITS.items():
        if isinstance(options.get(name), str):
            valid[name] = options[name][:limit]
    for name, allowed in DRAFT_CHOICES.items():
        if options.get(name) in allowed:
            valid[name] = options[name]
    variations = options.get("variations")
    if isinstance(variations, int) and 1 <= variations <= MAX_VARIATIONS:
        valid["variations"] = variations
    kit = options.get("brand_kit_id")
    if isinstance(kit, int) and not isinstance(kit, bool) and kit >= 0:
        valid["brand_kit_id"] = kit  # checked against the user's kits when used
    for name in ("keep_product", "fresh"):
        if isinstance(options.get(name), bool):
            valid[name] = options[name]
    return valid


def _summaries(session: Any, rows: list[Generation]) -> list[GenerationSummary]:
    running = [row.id for row in rows if row.status == GenerationStatus.RUNNING]
    outputs: dict[int, list[GenerationOutput]] = {}
    if running:
        for output in session.exec(
            select(GenerationOutput)
            .where(GenerationOutput.generation_id.in_(running))  # type: ignore[attr-defined]
            .order_by(GenerationOutput.index)  # type: ignore[arg-type]
        ).all():
            outputs.setdefault(output.generation_id, []).append(output)
    summaries = []
    for row in rows:
        assert row.id is not None
        is_running = row.status == GenerationStatus.RUNNING
        if is_running:
            made = outputs.get(row.id, [])
            images = [o.sha256 for o in made if o.sha256]
            failed = sum(1 for o in made if not o.sha256)
        else:
            images = list(row.output_hashes)
            failed = row.variations - len(row.output_hashes) if row.completed_at else 0
        summaries.append(
            GenerationSummary(
                id=row.id,
                status=GenerationStatus(row.status),
                instructions=row.instructions,
                variations=row.variations,
                output_hashes=images,
                error_message=row.error_message,
                cached="cached_from" in (row.options or {}),
                image_description=describe_result(row.template, row.placement),
                failed=max(0, failed),
                queued=is_running and row.lease_owner is None,
            )
        )
    return sorted(summaries, key=lambda s: s.id, reverse=True)
