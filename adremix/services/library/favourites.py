"""Favourites and deletion of the user's own generations."""

from __future__ import annotations

from sqlalchemy import delete, update
from sqlmodel import select

from adremix.db import session_scope
from adremix.enums import ImageKind
from adremix.models import CollectionItem, Generation, utcnow
from adremix.services.generation import forget_images
from adremix.services.library.history import own_generation_ids
from adremix.services.storage import Storage, default_storage


def set_favourite(*, user_id: int, generation_ids: list[int], value: bool) -> int:
    """Star or unstar the user's own generations; returns how many."""
    with session_scope() as session:
        own = own_generation_ids(session, user_id, generation_ids)
        if own:
            session.execute(
                update(Generation).where(Generation.id.in_(own)).values(is_favourite=value)  # type: ignore[union-attr]
            )
        return len(own)


def delete_generations(
    *, user_id: int, generation_ids: list[int], storage: Storage | None = None
) -> int:
    """Delete generations and their images; the ledger entries that paid for them stay."""
    storage = storage or default_storage()
    with session_scope() as session:
        own = own_generation_ids(session, user_id, generation_ids)
        if not own:
            return 0
        rows = session.exec(select(Generation).where(Generation.id.in_(own))).all()  # type: ignore[union-attr]
        hashes = {sha for row in rows for sha in row.output_hashes}
        sources = {row.source_image_hash for row in rows if row.source_image_hash}
        masks = {str((row.options or {}).get("edit_mask") or "") for row in rows} - {""}
        for row in rows:
            row.deleted_at = utcnow()
            row.output_hashes = []
            row.is_favourite = False
            session.add(row)
        session.execute(delete(CollectionItem).where(CollectionItem.generation_id.in_(own)))  # type: ignore[attr-defined]
        session.flush()
        # A result another live generation of theirs still shows (a cached copy) stays,
        # and so does a source another live generation was made from.
        live = session.exec(
            select(
                Generation.output_hashes, Generation.source_image_hash, Generation.options
            ).where(
                Generation.user_id == user_id,
                Generation.deleted_at.is_(None),  # type: ignore[union-attr]
            )
        ).all()
        still_shown = {sha for outputs, _, _ in live for sha in outputs}
        still_used = {source for _, source, _ in live}
        # A region edit's mask goes with it (a repeat of the same edit shares it).
        masks_used = {str((options or {}).get("edit_mask") or "") for _, _, options in live}
        forget_images(
            session,
            user_id=user_id,
            images=[(ImageKind.RESULT, sha) for sha in hashes - still_shown]
            + [(ImageKind.SOURCE, sha) for sha in sources - still_used]
            + [(ImageKind.MASK, sha) for sha in masks - masks_used],
            storage=storage,
        )
        return len(own)
