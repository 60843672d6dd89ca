"""Taking in a source image: validated, normalised and stored before anything is charged."""

from __future__ import annotations

from dataclasses import dataclass

from adremix.db import session_scope
from adremix.enums import ImageKind
from adremix.services.generation.images import (
    PROVIDER_MAX_SIDE,
    ImageHeader,
    NormalisedImage,
    decoded_untrusted,
    downscale,
    encode_png,
    encode_source,
    read_header,
    thumbnail_webp,
)
from adremix.services.generation.jpeg_original import jpeg_without_metadata
from adremix.services.generation.remix_options import InvalidRequest
from adremix.services.generation.stored_images import owns_image, record_image, store_image
from adremix.services.storage import Storage, default_storage


@dataclass(frozen=True)
class SourceUpload:
    sha256: str
    width: int
    height: int
    notes: list[str]


@dataclass(frozen=True)
class PreparedSource:
    """The files one upload becomes: the stored original, the provider's copy, a thumbnail."""

    original: bytes
    provider_png: bytes
    thumbnail: bytes
    size: tuple[int, int]
    notes: list[str]


def prepare_source(data: bytes) -> PreparedSource:
    """Validate an upload and make its files (pure image work, nothing stored).

    The provider's copy is decoded from a JPEG original at a reduced scale, so the full
    size is decoded at most once and never shrunk in memory. An RGB or greyscale JPEG is
    its own original (its data kept, its metadata dropped but for its orientation) and is
    never decoded at full size at all; anything else is decoded once and re-encoded
    upright.
    """
    header = read_header(data)
    original = (
        jpeg_without_metadata(data, orientation=header.orientation)
        if _keeps_its_data(header)
        else None
    )
    notes: list[str] = []
    if original is None:
        # Beyond the image: the original's encoder output, or a PNG's shrinking below.
        with decoded_untrusted(data, working_bytes=header.pixels) as upload:
            original, notes = encode_source(upload.image), upload.notes
            if upload.image.mode == "RGBA":
                # Kept as PNG, which cannot be decoded at a reduced scale: shrink it now.
                return _prepared(original, upload, notes)
    # Decoding the very bytes that are kept also proves they are a whole, readable image.
    with decoded_untrusted(original, fit_side=PROVIDER_MAX_SIDE) as stored:
        return _prepared(original, stored, notes)


def _prepared(original: bytes, decoded: NormalisedImage, notes: list[str]) -> PreparedSource:
    provider_copy = downscale(decoded.image)
    return PreparedSource(
        original=original,
        provider_png=encode_png(provider_copy, compress_level=1),
        thumbnail=thumbnail_webp(provider_copy),
        size=decoded.size,
        notes=notes,
    )


def _keeps_its_data(header: ImageHeader) -> bool:
    # CMYK and the rarer colour spaces need converting for browsers.
    return header.format == "JPEG" and header.mode in ("RGB", "L")


def ingest_source(*, user_id: int, data: bytes, storage: Storage | None = None) -> SourceUpload:
    """Validate an upload and store it (upright, metadata stripped) once by content hash,
    with the downscaled copy the provider will receive."""
    storage = storage or default_storage()
    prepared = prepare_source(data)
    sha = store_image(storage, ImageKind.SOURCE, prepared.original, prepared.thumbnail)
    storage.put(ImageKind.PREPARED, sha, prepared.provider_png)
    with session_scope() as session:
        record_image(
            session, user_id=user_id, sha256=sha, kind=ImageKind.SOURCE, size=prepared.size
        )
    width, height = prepared.size
    return SourceUpload(sha256=sha, width=width, height=height, notes=prepared.notes)


def use_result_as_source(
    *, user_id: int, sha256: str, storage: Storage | None = None
) -> SourceUpload:
    """ "Remix this": an earlier result of the user's becomes a new source image."""
    storage = storage or default_storage()
    if not owns_image(user_id=user_id, sha256=sha256, kind=ImageKind.RESULT):
        raise InvalidRequest("That image is not available.")
    data = storage.read(ImageKind.RESULT, sha256)
    return ingest_source(user_id=user_id, data=data, storage=storage)
