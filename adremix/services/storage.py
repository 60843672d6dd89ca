"""Image files named by content hash, behind one small interface (`Storage`).

Two backends: a local directory (the default; files written atomically) and
S3-compatible object storage through boto3 (`ADREMIX_S3_BUCKET`), which every web and
job worker of a cluster can share. Both use the same keys,
`<kind>/<first two hex digits>/<sha256>.<ext>`, so files can be copied between them as is.
Files made from a stored one (a download in another format) are kept beside them under
`derived/<kind>/<first two hex digits>/<sha256>.<variant>` and deleted with it.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from adremix.enums import ImageKind
from adremix.settings import Settings, get_settings

# The prepared copy is made once at upload, so a generation never re-decodes the original.
EXTENSIONS = {
    ImageKind.SOURCE: "img",
    ImageKind.PREPARED: "png",
    ImageKind.RESULT: "png",
    ImageKind.THUMB: "webp",
    ImageKind.LOGO: "png",
    ImageKind.FONT: "font",
    ImageKind.MASK: "png",
}
HEX = frozenset("0123456789abcdef")
DERIVED = "derived"
# A derived file of more than this is spooled to a temporary file, not memory, on its
# way to object storage.
SPOOL_BYTES = 8 * 1024 * 1024


def storage_key(kind: ImageKind, sha256: str, variant: str = "") -> str:
    """The relative name of a stored file, or with `variant` of a file derived from it;
    refuses anything but a known kind, a hash and a plain variant name."""
    if kind not in EXTENSIONS or len(sha256) != 64 or not set(sha256) <= HEX:
        raise ValueError("bad storage key")
    if variant:
        if not (variant.isascii() and variant.isalnum()):
            raise ValueError("bad derived variant")
        return f"{_derived_prefix(kind, sha256)}{variant}"
    return f"{kind}/{sha256[:2]}/{sha256}.{EXTENSIONS[ImageKind(kind)]}"


def _derived_prefix(kind: ImageKind, sha256: str) -> str:
    return f"{DERIVED}/{kind}/{sha256[:2]}/{sha256}."


class ReadableFile(Protocol):
    """A stored file opened for reading a piece at a time (a file, or an S3 body)."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


MakeFile = Callable[[BinaryIO], None]


class Storage(Protocol):
    """Where images live. Files are immutable: a key always names the same bytes."""

    def exists(self, kind: ImageKind, sha256: str) -> bool: ...

    def put(self, kind: ImageKind, sha256: str, data: bytes) -> None:
        """Store the bytes under their key; a reader never sees a partial file."""
        ...

    def read(self, kind: ImageKind, sha256: str, variant: str = "") -> bytes:
        """The stored (or derived) bytes; FileNotFoundError when there are none."""
        ...

    def open(self, kind: ImageKind, sha256: str, variant: str = "") -> ReadableFile:
        """The stored (or derived) file, to read a piece at a time and close;
        FileNotFoundError when there is none."""
        ...

    def derived(self, kind: ImageKind, sha256: str, variant: str, make: MakeFile) -> None:
        """Make the file `variant` of a stored one with `make` (it writes into the handle
        it is given) unless it is there already. Requests that find it missing at the
        same moment in one process make it once; it is deleted with the stored file."""
        ...

    def delete(self, kind: ImageKind, sha256: str) -> None:
        """Remove the file, and every file derived from it, if they exist."""
        ...

    def check(self) -> None:
        """Raise when the storage cannot be used (for the readiness check)."""
        ...


# Striped locks: a request that finds a derived file missing makes it while the others
# wait for it, rather than every request decoding the same image at once.
_MAKING = [threading.Lock() for _ in range(64)]


def _making(key: str) -> threading.Lock:
    return _MAKING[hash(key) % len(_MAKING)]


class LocalStorage:
    """A directory on this machine's disk."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, kind: ImageKind, sha256: str, variant: str = "") -> Path:
        return self.root / storage_key(kind, sha256, variant)

    def exists(self, kind: ImageKind, sha256: str) -> bool:
        return self.path(kind, sha256).is_file()

    def put(self, kind: ImageKind, sha256: str, data: bytes) -> None:
        """Write once: a reader never sees a half-written file (temp file, then rename)."""
        target = self.path(kind, sha256)
        if not target.is_file():
            _write_atomically(target, lambda handle: handle.write(data))

    def read(self, kind: ImageKind, sha256: str, variant: str = "") -> bytes:
        return self.path(kind, sha256, variant).read_bytes()

    def open(self, kind: ImageKind, sha256: str, variant: str = "") -> ReadableFile:
        return self.path(kind, sha256, variant).open("rb")

    def derived(self, kind: ImageKind, sha256: str, variant: str, make: MakeFile) -> None:
        target = self.path(kind, sha256, variant)
        if target.is_file():
            return
        with _making(str(target)):
            if not target.is_file():
                _write_atomically(target, make)

    def delete(self, kind: ImageKind, sha256: str) -> None:
        self.path(kind, sha256).unlink(missing_ok=True)
        prefix = self.root / _derived_prefix(kind, sha256)
        for derived in prefix.parent.glob(f"{prefix.name}*"):
            derived.unlink(missing_ok=True)

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.root, prefix=".health-"):
            pass


def _write_atomically(target: Path, make: MakeFile) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as handle:
            make(handle)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


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

    def _key(self, kind: ImageKind, sha256: str, variant: str = "") -> str:
        return self.prefix + storage_key(kind, sha256, variant)

    def exists(self, kind: ImageKind, sha256: str) -> bool:
        return self._exists(self._key(kind, sha256))

    def _exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=key)
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

    def read(self, kind: ImageKind, sha256: str, variant: str = "") -> bytes:
        body = self.open(kind, sha256, variant)
        try:
            return body.read()
        finally:
            body.close()

    def open(self, kind: ImageKind, sha256: str, variant: str = "") -> ReadableFile:
        key = self._key(kind, sha256, variant)
        try:
            answer = self._client.get_object(Bucket=self.bucket, Key=key)
        except self._client.exceptions.NoSuchKey as exc:
            raise FileNotFoundError(key) from exc
        return answer["Body"]  # botocore's StreamingBody: read(n) and close()

    def derived(self, kind: ImageKind, sha256: str, variant: str, make: MakeFile) -> None:
        # Several workers may each make a missing file once; they make the same bytes.
        key = self._key(kind, sha256, variant)
        if self._exists(key):
            return
        with _making(key):
            if self._exists(key):
                return
            with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
                make(spool)  # type: ignore[arg-type]
                spool.seek(0)
                self._client.upload_fileobj(spool, self.bucket, key)

    def delete(self, kind: ImageKind, sha256: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=self._key(kind, sha256))
        listed = self._client.list_objects_v2(
            Bucket=self.bucket, Prefix=self.prefix + _derived_prefix(kind, sha256)
        )
        for found in listed.get("Contents", []):
            self._client.delete_object(Bucket=self.bucket, Key=found["Key"])

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
