"""Who may see which stored image, and forgetting images when their owner lets go.

Files are stored once by content hash and shared; a `stored_image` row is one user's claim
on one (kind, hash). A file is served only to a claimant, and deleted only when the last
claim on its hash goes.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete
from sqlmodel import Session, select

from adremix.db import dialect_insert, session_scope
from adremix.enums import ImageKind
from adremix.models import StoredImage, utcnow
from adremix.services.generation.images import (
    THUMBNAIL_SIDE,
    decoded_untrusted,
    sha256_hex,
    thumbnail_webp,
)
from adremix.services.storage import Storage


def record_image(
    session: Session, *, user_id: int, sha256: str, kind: ImageKind, size: tuple[int, int]
) -> None:
    """Give the user a claim on a stored file (once, even when two jobs of theirs store
    the same image at the same moment)."""
    record_images(session, kind=kind, images={(user_id, sha256): size})


def record_images(
    session: Session, *, kind: ImageKind, images: dict[tuple[int, str], tuple[int, int]]
) -> None:
    """`record_image` for several (user, hash): size files of one kind, in one statement."""
    if not images:
        return
    insert = dialect_insert(session, StoredImage.__table__)  # type: ignore[attr-defined]
    now = utcnow()
    session.execute(
        insert.values(
            [
                {
                    "user_id": user_id,
                    "sha256": sha256,
                    "kind": kind,
                    "width": width,
                    "height": height,
                    "created_at": now,
                }
                for (user_id, sha256), (width, height) in images.items()
            ]
        ).on_conflict_do_nothing(index_elements=["user_id", "sha256", "kind"])
    )


def store_image(storage: Storage, kind: ImageKind, data: bytes, thumbnail: bytes) -> str:
    """Write the file and its thumbnail; returns the content hash that names both."""
    sha = sha256_hex(data)
    storage.put(kind, sha, data)
    storage.put(ImageKind.THUMB, sha, thumbnail)
    return sha


def thumbnail_bytes(storage: Storage, sha256: str) -> bytes:
    """The WebP thumbnail of a stored source or result. Results get theirs on first
    request (then kept), so a generation's job never waits for thumbnails."""
    try:
        return storage.read(ImageKind.THUMB, sha256)
    except FileNotFoundError:
        pass
    for kind in (ImageKind.RESULT, ImageKind.SOURCE):
        try:
            original = storage.read(kind, sha256)
        except FileNotFoundError:
            continue
        # A JPEG source is decoded at the reduced scale a thumbnail needs.
        with decoded_untrusted(original, fit_side=THUMBNAIL_SIDE) as decoded:
            thumb = thumbnail_webp(decoded.image)
        storage.put(ImageKind.THUMB, sha256, thumb)
        return thumb
    raise FileNotFoundError(sha256)


def owns_image(*, user_id: int, sha256: str, kind: ImageKind | None = None) -> bool:
    """Whether the user may see this stored file (sources and results they own)."""
    with session_scope() as session:
        return holds_claim(session, user_id=user_id, sha256=sha256, kind=kind)


def holds_claim(
    session: Session, *, user_id: int, sha256: str, kind: ImageKind | None = None
) -> bool:
    """`owns_image` inside the caller's transaction."""
    query = select(StoredImage.id).where(
        StoredImage.user_id == user_id, StoredImage.sha256 == sha256
    )
    if kind:
        query = query.where(StoredImage.kind == kind)
    return session.exec(query).first() is not None


def forget_images(
    session: Session,
    *,
    user_id: int,
    images: Iterable[tuple[ImageKind, str]],
    storage: Storage,
) -> None:
    """Drop the user's claims on these (kind, hash) images, and delete each file (with its
    thumbnail and prepared copy) once nobody has a claim on its hash any more.

    The one way images are forgotten: deleting generations and deleting the account both
    come here. Runs in the caller's transaction.
    """
    for kind, sha in set(images):
        session.execute(
            delete(StoredImage).where(
                StoredImage.user_id == user_id,
                StoredImage.sha256 == sha,
                StoredImage.kind == kind,
            )
        )
        session.flush()
        claimed = session.exec(select(StoredImage.id).where(StoredImage.sha256 == sha)).first()
        if claimed is None:
            storage.delete(kind, sha)
            storage.delete(ImageKind.THUMB, sha)
            if kind == ImageKind.SOURCE:
                storage.delete(ImageKind.PREPARED, sha)
