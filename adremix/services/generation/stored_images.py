"""Who may see which stored image, and forgetting images when their owner lets go.

Files are stored once by content hash and shared; a `stored_image` row is one user's claim
on one (kind, hash). A file is served only to a claimant, and deleted only when the last
claim on its hash goes.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete
from sqlmodel import Session, select

from adremix.db import session_scope
from adremix.enums import ImageKind
from adremix.models import StoredImage
from adremix.services.generation.images import NormalisedImage, sha256_hex, thumbnail_webp
from adremix.services.generation.placements import placements_zip_path
from adremix.services.storage import Storage


def record_image(
    session: Session, *, user_id: int, sha256: str, kind: ImageKind, size: tuple[int, int]
) -> None:
    """Give the user a claim on a stored file (once)."""
    exists = session.exec(
        select(StoredImage.id).where(
            StoredImage.user_id == user_id, StoredImage.sha256 == sha256, StoredImage.kind == kind
        )
    ).first()
    if exists is None:
        session.add(
            StoredImage(user_id=user_id, sha256=sha256, kind=kind, width=size[0], height=size[1])
        )


def store_image(storage: Storage, kind: ImageKind, image: NormalisedImage, data: bytes) -> str:
    """Write the file and its thumbnail; returns the content hash that names both."""
    sha = sha256_hex(data)
    storage.put(kind, sha, data)
    storage.put(ImageKind.THUMB, sha, thumbnail_webp(image.image))
    return sha


def owns_image(*, user_id: int, sha256: str, kind: ImageKind | None = None) -> bool:
    """Whether the user may see this stored file (sources and results they own)."""
    with session_scope() as session:
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
            if kind == ImageKind.RESULT:
                placements_zip_path(storage, sha).unlink(missing_ok=True)
