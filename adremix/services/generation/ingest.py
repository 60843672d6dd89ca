"""Taking in a source image: validated, normalised and stored before anything is charged."""

from __future__ import annotations

from dataclasses import dataclass

from adremix.db import session_scope
from adremix.enums import ImageKind
from adremix.services.generation.images import downscale, encode_png, encode_source, open_untrusted
from adremix.services.generation.remix_options import InvalidRequest
from adremix.services.generation.stored_images import owns_image, record_image, store_image
from adremix.services.storage import Storage, default_storage


@dataclass(frozen=True)
class SourceUpload:
    sha256: str
    width: int
    height: int
    notes: list[str]


def ingest_source(*, user_id: int, data: bytes, storage: Storage | None = None) -> SourceUpload:
    """Validate an upload and store it (upright, metadata stripped) once by content hash,
    with the downscaled copy the provider will receive."""
    storage = storage or default_storage()
    normalised = open_untrusted(data)
    sha = store_image(storage, ImageKind.SOURCE, normalised, encode_source(normalised.image))
    storage.put(ImageKind.PREPARED, sha, encode_png(downscale(normalised.image), compress_level=1))
    with session_scope() as session:
        record_image(
            session,
            user_id=user_id,
            sha256=sha,
            kind=ImageKind.SOURCE,
            size=normalised.image.size,
        )
    width, height = normalised.image.size
    return SourceUpload(sha256=sha, width=width, height=height, notes=normalised.notes)


def use_result_as_source(
    *, user_id: int, sha256: str, storage: Storage | None = None
) -> SourceUpload:
    """ "Remix this": an earlier result of the user's becomes a new source image."""
    storage = storage or default_storage()
    if not owns_image(user_id=user_id, sha256=sha256, kind=ImageKind.RESULT):
        raise InvalidRequest("That image is not available.")
    data = storage.read(ImageKind.RESULT, sha256)
    return ingest_source(user_id=user_id, data=data, storage=storage)
