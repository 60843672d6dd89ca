"""Export a result to the standard ad placements, locally and free."""

from __future__ import annotations

import zipfile
from functools import partial
from typing import BinaryIO

from adremix.enums import ImageKind
from adremix.services.generation.images import encode, open_untrusted
from adremix.services.storage import Storage

PLACEMENT_EXPORTS: dict[str, tuple[str, tuple[int, int]]] = {
    "feed-1080x1080": ("Feed (square)", (1080, 1080)),
    "portrait-1080x1350": ("Portrait feed", (1080, 1350)),
    "story-1080x1920": ("Story / Reel", (1080, 1920)),
    "link-1200x628": ("Link ad", (1200, 628)),
}


def export_placement(image_bytes: bytes, name: str) -> bytes:
    """One placement as JPEG, with the offline engine's subject-aware crop or padding."""
    from adremix.services.generation.offline_engine import fit_to_canvas

    _, size = PLACEMENT_EXPORTS[name]
    picture = open_untrusted(image_bytes).image.convert("RGB")
    return encode(fit_to_canvas(picture, size), "JPEG", quality=92)


# The name of a result's placements ZIP beside it in storage (deleted with the result).
PLACEMENTS_ZIP = "placementszip"


def placements_zip(result_sha256: str, storage: Storage) -> bytes:
    """Every placement of a result in one ZIP, built once and then read from storage.

    A result never changes (it is stored by content hash), so neither does its ZIP: the
    first request pays for the encodes, every later one reads a file.
    """
    storage.derived(
        ImageKind.RESULT, result_sha256, PLACEMENTS_ZIP, partial(_write_zip, storage, result_sha256)
    )
    return storage.read(ImageKind.RESULT, result_sha256, PLACEMENTS_ZIP)


def _write_zip(storage: Storage, result_sha256: str, target: BinaryIO) -> None:
    source = storage.read(ImageKind.RESULT, result_sha256)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as archive:
        for name in PLACEMENT_EXPORTS:
            archive.writestr(
                f"adremix-{result_sha256[:12]}-{name}.jpg", export_placement(source, name)
            )
