"""A kit's logo and font uploads: hostile input, checked before anything is stored.

Logos are PNG or WebP only. SVG is refused outright: it is a document that can carry
scripts (XSS when served) and it runs an XML parser on our side. Fonts are parsed by
opentype-sanitizer (OTS, the sanitiser Chrome and Firefox run on every web font) and only
its rewritten output is kept: anything OTS cannot vouch for is refused, and nothing is
stored for a refused file.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import ots
from PIL import Image, ImageFont

from adremix.db import session_scope
from adremix.enums import ImageKind
from adremix.services.errors import UserFacingError
from adremix.services.generation import (
    InvalidImage,
    decoded_untrusted,
    encode_png,
    read_header,
    record_image,
    sha256_hex,
)
from adremix.services.storage import Storage, default_storage

MAX_LOGO_BYTES = 5 * 1024 * 1024
MAX_LOGO_PIXELS = 16_000_000
LOGO_MAX_SIDE = 1024
MAX_FONT_BYTES = 2 * 1024 * 1024
SANITISE_TIMEOUT_S = 15
# sfnt versions: TrueType outlines, CFF outlines ("OTTO"), Apple's "true".
FONT_MAGIC = (b"\x00\x01\x00\x00", b"OTTO", b"true")
FONT_COLLECTION_MAGIC = b"ttcf"


class InvalidBrandAsset(UserFacingError):
    """A logo or font upload we will not use; the message says why."""


@dataclass(frozen=True)
class LogoUpload:
    sha256: str
    width: int
    height: int
    transparent: bool  # False: an opaque logo shows as a rectangle on the ad


@dataclass(frozen=True)
class FontUpload:
    sha256: str
    family: str


def _looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<svg", b"<?xml", b"<!doctype svg")) or b"<svg" in data[:4096].lower()


def check_logo(data: bytes) -> Image.Image:
    """The logo as RGBA, at most 1024 px on its long side; raises InvalidBrandAsset.

    Decoded through the upload path's own decoder, so a logo waits for room in the same
    decode-memory budget as every other image (ADREMIX_IMAGE_MEMORY_MB)."""
    if not data:
        raise InvalidBrandAsset("The logo file is empty.")
    if len(data) > MAX_LOGO_BYTES:
        raise InvalidBrandAsset("The logo is larger than 5 MB. Please upload a smaller file.")
    if _looks_like_svg(data):
        raise InvalidBrandAsset(
            "SVG logos aren't accepted (an SVG can carry scripts). "
            "Please export your logo as a PNG or WebP with a transparent background."
        )
    try:
        header = read_header(data, max_pixels=MAX_LOGO_PIXELS)
        if header.format not in ("PNG", "WebP"):
            raise InvalidBrandAsset(
                "The logo must be a PNG or WebP image (with a transparent background)."
            )
        if min(header.size) < 16:
            raise InvalidBrandAsset("The logo is too small (at least 16 px on each side).")
        with decoded_untrusted(data, max_pixels=MAX_LOGO_PIXELS) as decoded:
            logo = decoded.image.convert("RGBA")
    except InvalidImage as exc:
        raise InvalidBrandAsset(f"Logo: {exc.message}") from exc
    logo.thumbnail((LOGO_MAX_SIDE, LOGO_MAX_SIDE), Image.Resampling.LANCZOS)
    bbox = logo.getchannel("A").getbbox()
    if bbox is None:
        raise InvalidBrandAsset("The logo is completely transparent.")
    return logo.crop(bbox)  # no empty margins: the logo's own size decides its placement


def ingest_logo(*, user_id: int, data: bytes, storage: Storage | None = None) -> LogoUpload:
    """Validate a logo and store it (RGBA PNG, trimmed to its visible pixels)."""
    logo = check_logo(data)
    png = encode_png(logo)
    sha = sha256_hex(png)
    (storage or default_storage()).put(ImageKind.LOGO, sha, png)
    with session_scope() as session:
        record_image(session, user_id=user_id, sha256=sha, kind=ImageKind.LOGO, size=logo.size)
    transparent = logo.getchannel("A").getextrema()[0] < 255
    return LogoUpload(sha, logo.width, logo.height, transparent)


def sanitise_font(data: bytes) -> tuple[bytes, str]:
    """OTS's rewrite of an uploaded TTF/OTF and its family name; raises InvalidBrandAsset."""
    if not data:
        raise InvalidBrandAsset("The font file is empty.")
    if len(data) > MAX_FONT_BYTES:
        raise InvalidBrandAsset("The font is larger than 2 MB. Please upload a smaller font.")
    if data[:4] == FONT_COLLECTION_MAGIC:
        raise InvalidBrandAsset("Font collections (.ttc) aren't accepted; upload one TTF or OTF.")
    if data[:4] not in FONT_MAGIC:
        raise InvalidBrandAsset("This file isn't a TrueType (.ttf) or OpenType (.otf) font.")
    with tempfile.TemporaryDirectory(prefix="adremix-font-") as folder:
        source, clean = Path(folder) / "upload", Path(folder) / "clean"
        source.write_bytes(data)
        try:
            # The package's own ots-sanitize binary, run directly for its timeout
            # (ots.sanitize cannot pass one): a hostile font must not hold a worker.
            subprocess.run(
                [ots.OTS_SANITIZE, str(source), str(clean)],
                check=True,
                capture_output=True,
                timeout=SANITISE_TIMEOUT_S,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise InvalidBrandAsset(
                "This font failed the safety check (it is damaged or malformed)."
            ) from exc
        sanitised = clean.read_bytes()
        try:
            family = ImageFont.truetype(str(clean), 24).getname()[0] or "Uploaded font"
        except OSError as exc:
            raise InvalidBrandAsset("This font cannot be used for drawing text.") from exc
    return sanitised, family[:120]


def ingest_font(*, user_id: int, data: bytes, storage: Storage | None = None) -> FontUpload:
    """Sanitise an uploaded font and store OTS's output (never the original bytes)."""
    sanitised, family = sanitise_font(data)
    sha = sha256_hex(sanitised)
    (storage or default_storage()).put(ImageKind.FONT, sha, sanitised)
    with session_scope() as session:
        record_image(session, user_id=user_id, sha256=sha, kind=ImageKind.FONT, size=(0, 0))
    return FontUpload(sha, family)
