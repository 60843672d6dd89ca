"""Image files on disk, named by content hash, written atomically.

A small interface (put / read / path / delete) so another backend (object storage) can
replace the local directory without touching callers.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from adremix.enums import ImageKind
from adremix.settings import get_settings

# The prepared copy is made once at upload, so a generation never re-decodes the original.
EXTENSIONS = {
    ImageKind.SOURCE: "img",
    ImageKind.PREPARED: "png",
    ImageKind.RESULT: "png",
    ImageKind.THUMB: "webp",
}


class LocalStorage:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, kind: ImageKind, sha256: str) -> Path:
        if (
            kind not in EXTENSIONS
            or len(sha256) != 64
            or not all(c in "0123456789abcdef" for c in sha256)
        ):
            raise ValueError("bad storage key")
        return self.root / kind / sha256[:2] / f"{sha256}.{EXTENSIONS[ImageKind(kind)]}"

    def exists(self, kind: ImageKind, sha256: str) -> bool:
        return self.path(kind, sha256).is_file()

    def put(self, kind: ImageKind, sha256: str, data: bytes) -> Path:
        """Write once: a reader never sees a half-written file (temp file, then rename)."""
        target = self.path(kind, sha256)
        if target.is_file():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return target

    def read(self, kind: ImageKind, sha256: str) -> bytes:
        return self.path(kind, sha256).read_bytes()

    def delete(self, kind: ImageKind, sha256: str) -> None:
        self.path(kind, sha256).unlink(missing_ok=True)


def default_storage() -> LocalStorage:
    """The configured storage (`ADREMIX_STORAGE_DIR`), for callers that do not pass one."""
    return LocalStorage(get_settings().storage_dir)
