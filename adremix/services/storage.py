"""Image files on disk, named by content hash, written atomically.

A small interface (put / read / path / delete) so another backend (object storage) can
replace the local directory without touching callers.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# source: the upright, metadata-free original (JPEG or PNG); prepared: the provider's input
# (PNG, at most 1536 px), made once at upload so a generation never re-decodes the original.
KINDS = {"source": "img", "prepared": "png", "result": "png", "thumb": "webp"}


class LocalStorage:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, kind: str, sha256: str) -> Path:
        if (
            kind not in KINDS
            or len(sha256) != 64
            or not all(c in "0123456789abcdef" for c in sha256)
        ):
            raise ValueError("bad storage key")
        return self.root / kind / sha256[:2] / f"{sha256}.{KINDS[kind]}"

    def exists(self, kind: str, sha256: str) -> bool:
        return self.path(kind, sha256).is_file()

    def put(self, kind: str, sha256: str, data: bytes) -> Path:
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

    def read(self, kind: str, sha256: str) -> bytes:
        return self.path(kind, sha256).read_bytes()

    def delete(self, kind: str, sha256: str) -> None:
        self.path(kind, sha256).unlink(missing_ok=True)
