"""Image files named by content hash, behind one small interface (`Storage`).

Two backends: a local directory (the default; files written atomically) and
S3-compatible object storage through boto3 (`ADREMIX_S3_BUCKET`), which every web and
job worker of a cluster can share. Both use the same keys,
`<kind>/<first two hex digits>/<sha256>.<ext>`, so files can be copied between them as is.
"""

from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from adremix.enums import ImageKind
from adremix.settings import Settings, get_settings

# The prepared copy is made once at upload, so a generation never re-decodes the original.
EXTENSIONS = {
    ImageKind.SOURCE: "img",
    ImageKind.PREPARED: "png",
    ImageKind.RESULT: "png",
    ImageKind.THUMB: "webp",
}
HEX = frozenset("0123456789abcdef")


def storage_key(kind: ImageKind, sha256: str) -> str:
    """The relative name of a stored file; refuses anything but a known kind and a hash."""
    if kind not in EXTENSIONS or len(sha256) != 64 or not set(sha256) <= HEX:
        raise ValueError("bad storage key")
    return f"{kind}/{sha256[:2]}/{sha256}.{EXTENSIONS[ImageKind(kind)]}"


class Storage(Protocol):
    """Where images live. Files are immutable: a key always names the same bytes."""

    def exists(self, kind: ImageKind, sha256: str) -> bool: ...

    def put(self, kind: ImageKind, sha256: str, data: bytes) -> None:
        """Store the bytes under their key; a reader never sees a partial file."""
        ...

    def read(self, kind: ImageKind, sha256: str) -> bytes:
        """The stored bytes; FileNotFoundError when there are none."""
        ...

    def delete(self, kind: ImageKind, sha256: str) -> None:
        """Remove the file if it exists."""
        ...

    def check(self) -> None:
        """Raise when the storage cannot be used (for the readiness check)."""
        ...


class LocalStorage:
    """A directory on this machine's disk."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, kind: ImageKind, sha256: str) -> Path:
        return self.root / storage_key(kind, sha256)

    def exists(self, kind: ImageKind, sha256: str) -> bool:
        return self.path(kind, sha256).is_file()

    def put(self, kind: ImageKind, sha256: str, data: bytes) -> None:
        """Write once: a reader never sees a half-written file (temp file, then rename)."""
        target = self.path(kind, sha256)
        if target.is_file():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def read(self, kind: ImageKind, sha256: str) -> bytes:
        return self.path(kind, sha256).read_bytes()

    def delete(self, kind: ImageKind, sha256: str) -> None:
        self.path(kind, sha256).unlink(missing_ok=True)

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.root, prefix=".health-"):
            pass


class S3Storage:
    """An S3 bucket (AWS, or any S3-compatible service through `endpoint_url`).

    boto3 clients are thread-safe, so one client serves every worker thread. An object
    appears whole or not at all, so no temp-and-rename is needed.
    """

    def __init__(
        self, *, bucket: str, endpoint_url: str = "", region: str = "", prefix: str = ""
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            # Standard retries (throttling, 5xx); enough connections for a busy worker.
            config=Config(retries={"mode": "standard"}, max_pool_connections=64),
        )

    def _key(self, kind: ImageKind, sha256: str) -> str:
        return self.prefix + storage_key(kind, sha256)

    def exists(self, kind: ImageKind, sha256: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=self._key(kind, sha256))
        except self._client.exceptions.ClientError as exc:
            if _status(exc) == 404:
                return False
            raise
        return True

    def put(self, kind: ImageKind, sha256: str, data: bytes) -> None:
        # Content-addressed: writing the same key again writes the same bytes, so there
        # is no need for a HEAD round trip first. Two workers storing the same image at
        # the same moment may see one write refused; the object is there all the same.
        try:
            self._client.put_object(Bucket=self.bucket, Key=self._key(kind, sha256), Body=data)
        except self._client.exceptions.ClientError:
            if not self.exists(kind, sha256):
                raise

    def read(self, kind: ImageKind, sha256: str) -> bytes:
        key = self._key(kind, sha256)
        try:
            answer = self._client.get_object(Bucket=self.bucket, Key=key)
        except self._client.exceptions.NoSuchKey as exc:
            raise FileNotFoundError(key) from exc
        return answer["Body"].read()

    def delete(self, kind: ImageKind, sha256: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=self._key(kind, sha256))

    def check(self) -> None:
        self._client.head_bucket(Bucket=self.bucket)


def _status(exc: Exception) -> int:
    response = getattr(exc, "response", {}) or {}
    return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


@lru_cache(maxsize=8)
def _s3(bucket: str, endpoint_url: str, region: str, prefix: str) -> S3Storage:
    return S3Storage(bucket=bucket, endpoint_url=endpoint_url, region=region, prefix=prefix)


def storage_for(settings: Settings) -> Storage:
    """S3 when a bucket is configured, else the local directory."""
    if settings.s3_bucket:
        return _s3(
            settings.s3_bucket, settings.s3_endpoint_url, settings.s3_region, settings.s3_prefix
        )
    return LocalStorage(settings.storage_dir)


def default_storage() -> Storage:
    """The configured storage, for callers that do not pass one."""
    return storage_for(get_settings())
