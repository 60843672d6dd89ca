"""Export a result to the standard ad placements, locally and free."""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from pathlib import Path

from adremix.enums import ImageKind
from adremix.services.generation.images import encode, open_untrusted
from adremix.services.storage import LocalStorage

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


def placements_zip_path(storage: LocalStorage, result_sha256: str) -> Path:
    """Where a result's placements ZIP is kept (removed with the result)."""
    storage.path(ImageKind.RESULT, result_sha256)  # validates the hash
    return storage.root / "exports" / result_sha256[:2] / f"{result_sha256}-placements.zip"


def placements_zip(result_sha256: str, storage: LocalStorage) -> bytes:
    """Every placement of a result in one ZIP, built once and then served from disk.

    A result never changes (it is stored by content hash), so neither does its ZIP: the
    first request pays for the nine encodes, every later one reads a file.
    """
    cached = placements_zip_path(storage, result_sha256)
    if cached.is_file():
        return cached.read_bytes()
    source = storage.read(ImageKind.RESULT, result_sha256)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name in PLACEMENT_EXPORTS:
            archive.writestr(
                f"adremix-{result_sha256[:12]}-{name}.jpg", export_placement(source, name)
            )
    data = buffer.getvalue()
    cached.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=cached.parent, prefix=".incoming-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temp, cached)  # atomic: a concurrent reader sees the whole file or none
    return data
