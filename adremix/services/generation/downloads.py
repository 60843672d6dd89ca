"""Stored images as their owner downloads them: as stored, in another format, as a
thumbnail, or cropped to the ad placements.

Each public function here is what one `/files/...` route serves, ownership checked first:
"not yours" and "not there" are the same None, so hashes cannot be probed. A conversion
decodes the full image, so it is made once (within the decode budget) and kept next to
the stored file; every later request for it is a plain read. Files are sent a piece at a
time, never held whole in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from functools import partial
from typing import BinaryIO

from adremix.enums import ImageKind
from adremix.services.generation.decode_budget import decode_budget
from adremix.services.generation.images import (
    InvalidImage,
    decoded_untrusted,
    media_type_of,
    read_header,
    write_encoded,
)
from adremix.services.generation.placements import (
    PLACEMENT_EXPORTS,
    export_placement,
    placements_zip,
)
from adremix.services.generation.stored_images import owns_image, thumbnail_bytes
from adremix.services.storage import Storage, default_storage

DOWNLOAD_MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
CHUNK_BYTES = 256 * 1024


@dataclass(frozen=True)
class ImageFile:
    """A file to send: its bytes a piece at a time (read as they are sent), what it is,
    and the extension its name should have."""

    chunks: Iterator[bytes]
    media_type: str
    extension: str


class ConversionTooLarge(InvalidImage):
    """The image is too large to convert to the asked format within the memory budget."""


def owned_image_file(
    *,
    user_id: int,
    kind: ImageKind,
    sha256: str,
    fmt: str = "",
    storage: Storage | None = None,
) -> ImageFile | None:
    """The user's stored source or result, as stored or converted to `fmt` (png, jpeg or
    webp); None when it is not theirs, not there, or `fmt` is not offered.

    Raises ConversionTooLarge when the conversion would need more memory than one image
    may take (a very large image to WebP, say); the file as stored is always available.
    """
    storage = storage or default_storage()
    if (fmt and fmt not in DOWNLOAD_MEDIA_TYPES) or not _owned(user_id, kind, sha256, storage):
        return None
    with closing(storage.open(kind, sha256)) as stored:
        media_type = media_type_of(stored.read(16))
    variant = ""
    if fmt and DOWNLOAD_MEDIA_TYPES[fmt] != media_type:
        storage.derived(kind, sha256, fmt, partial(_convert, storage, kind, sha256, fmt))
        variant, media_type = fmt, DOWNLOAD_MEDIA_TYPES[fmt]
    extension = next((k for k, v in DOWNLOAD_MEDIA_TYPES.items() if v == media_type), "img")
    return ImageFile(
        chunks=_chunks(storage, kind, sha256, variant), media_type=media_type, extension=extension
    )


def owned_thumbnail(*, user_id: int, sha256: str, storage: Storage | None = None) -> bytes | None:
    """The WebP thumbnail of the user's source or result (made on first request)."""
    storage = storage or default_storage()
    if not owns_image(user_id=user_id, sha256=sha256):
        return None
    try:
        return thumbnail_bytes(storage, sha256)
    except FileNotFoundError:
        return None


def owned_placement(
    *, user_id: int, sha256: str, name: str, storage: Storage | None = None
) -> bytes | None:
    """One placement (a PLACEMENT_EXPORTS name) of the user's result, as JPEG."""
    storage = storage or default_storage()
    if name not in PLACEMENT_EXPORTS or not _owned(user_id, ImageKind.RESULT, sha256, storage):
        return None
    return export_placement(storage.read(ImageKind.RESULT, sha256), name)


def owned_placements_zip(
    *, user_id: int, sha256: str, storage: Storage | None = None
) -> bytes | None:
    """Every placement of the user's result in one ZIP (built once, then read from disk)."""
    storage = storage or default_storage()
    if not _owned(user_id, ImageKind.RESULT, sha256, storage):
        return None
    return placements_zip(sha256, storage)


def _owned(user_id: int, kind: ImageKind, sha256: str, storage: Storage) -> bool:
    # Ownership first: only hashes someone stored reach the storage key's checks.
    return owns_image(user_id=user_id, sha256=sha256, kind=kind) and storage.exists(kind, sha256)


def _chunks(storage: Storage, kind: ImageKind, sha256: str, variant: str) -> Iterator[bytes]:
    # Opened when the response starts reading, closed when it stops (or is cut off).
    with closing(storage.open(kind, sha256, variant)) as handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk


def _convert(storage: Storage, kind: ImageKind, sha256: str, fmt: str, target: BinaryIO) -> None:
    data = storage.read(kind, sha256)
    header = read_header(data)
    encoder_bytes = _encoder_bytes(header.pixels, header.mode, fmt)
    if header.decode_bytes(None, encoder_bytes) > decode_budget().limit_bytes:
        raise ConversionTooLarge(
            f"This image is too large to convert to {fmt.upper()}. "
            "Download it as it is stored, or in another format."
        )
    with decoded_untrusted(data, working_bytes=encoder_bytes) as stored:
        write_encoded(stored.image, fmt, target)


def _encoder_bytes(pixels: int, mode: str, fmt: str) -> int:
    """What the encoder needs beyond the image (measured: libwebp's ARGB and YUV copies
    take about 5.3 bytes a pixel; Pillow's optimising JPEG writer one)."""
    if fmt == "webp":
        return pixels * 6
    if fmt == "jpeg":
        # Transparency is flattened onto a white copy, through the alpha channel.
        return pixels * (1 if mode in ("RGB", "L") else 6)
    return 0
