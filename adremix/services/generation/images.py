"""Reading untrusted images safely and normalising them. Pure Pillow, no I/O of its own.

Every way an upload can be hostile or odd ends in `InvalidImage` with a message a person
can act on, before anything is stored or charged.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass, field

from PIL import Image, ImageOps, UnidentifiedImageError

from adremix.services.errors import UserFacingError

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 50_000_000
ALLOWED_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP"}
PROVIDER_MAX_SIDE = 1536


class InvalidImage(UserFacingError):
    """The upload cannot be used; the message says why in plain words."""


@dataclass(frozen=True)
class NormalisedImage:
    """An upright, metadata-free RGB/RGBA image and what was done to get it."""

    image: Image.Image
    source_format: str
    notes: list[str] = field(default_factory=list)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _looks_like_svg(data: bytes) -> bool:
    head = data[:512].lstrip().lower()
    return head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in data[:4096])


def open_untrusted(data: bytes, *, max_pixels: int = MAX_PIXELS) -> NormalisedImage:
    """Decode an uploaded file, refusing anything unsafe or unsupported."""
    if not data:
        raise InvalidImage("The file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidImage("The file is larger than 20 MB. Please upload a smaller image.")
    if _looks_like_svg(data):
        raise InvalidImage("SVG files aren't supported. Please upload a PNG, JPEG or WebP image.")
    try:
        with warnings.catch_warnings():
            # Pillow warns (then errors) on decompression bombs; make both an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            image_format = (image.format or "").upper()
            width, height = image.size
            if width * height > max_pixels:
                raise InvalidImage(
                    f"The image is {width}x{height} ({width * height / 1e6:.0f} megapixels); "
                    f"the limit is {max_pixels // 1_000_000} megapixels."
                )
            if image_format == "GIF":
                raise InvalidImage("GIF images aren't supported. Please upload PNG, JPEG or WebP.")
            if image_format not in ALLOWED_FORMATS:
                raise InvalidImage(
                    "This file isn't a PNG, JPEG or WebP image. Please upload one of those."
                )
            notes: list[str] = []
            if getattr(image, "is_animated", False):
                image.seek(0)
                notes.append("The animated image was reduced to its first frame.")
            image.load()
    except InvalidImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidImage(
            "The image is too large to process safely (it may be a decompression bomb)."
        ) from exc
    except UnidentifiedImageError as exc:
        raise InvalidImage("This file isn't an image we can read (PNG, JPEG or WebP).") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidImage("The image is damaged or incomplete. Please upload it again.") from exc
    return NormalisedImage(
        image=_normalise_mode(ImageOps.exif_transpose(image)),
        source_format=ALLOWED_FORMATS[image_format],
        notes=notes,
    )


def _normalise_mode(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when the image has transparency; handles CMYK, 16-bit and palettes."""
    mode = image.mode
    if mode in ("RGB", "RGBA"):
        return image.copy()
    if mode == "P":
        has_alpha = "transparency" in image.info
        return image.convert("RGBA" if has_alpha else "RGB")
    if mode in ("LA", "PA") or (mode == "L" and "transparency" in image.info):
        return image.convert("RGBA")
    if mode.startswith("I;16") or mode in ("I", "F"):
        # 16/32-bit greyscale: scale to 8 bits rather than clip everything to white.
        as_float = image.convert("F")
        low, high = as_float.getextrema()
        scale = 255.0 / (high - low) if high > low else 1.0
        return as_float.point(lambda v: (v - low) * scale).convert("L").convert("RGB")
    return image.convert("RGB")  # CMYK, YCbCr, L, 1, LAB, HSV ...


def check_image_bytes(data: bytes) -> str:
    """Cheap integrity check of image bytes (headers and checksums, no pixel decode).

    Returns the format; raises InvalidImage. For output from a trusted provider.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format = (image.format or "").upper()
            image.verify()
    except Exception as exc:
        raise InvalidImage("Not a readable image.") from exc
    if image_format not in ALLOWED_FORMATS:
        raise InvalidImage("Not a PNG, JPEG or WebP image.")
    return image_format


def png_size(data: bytes) -> tuple[int, int] | None:
    """A PNG's (width, height) from its header alone, when it is a PNG of a size we
    accept; None otherwise. For provider output already checked by `check_image_bytes`:
    kept byte for byte, it needs no decode (re-encoding costs ~0.2 s of CPU per image)."""
    if not data.startswith(b"\x89PNG"):
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                return None
            width, height = image.size
    except Exception:
        return None
    return (width, height) if 0 < width * height <= MAX_PIXELS else None


def downscale(image: Image.Image, max_side: int = PROVIDER_MAX_SIDE) -> Image.Image:
    """Shrink so the long side is at most `max_side`; never enlarges."""
    if max(image.size) <= max_side:
        return image
    copy = image.copy()
    copy.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return copy


def encode_png(image: Image.Image, *, compress_level: int = 6) -> bytes:
    """PNG bytes with no metadata (EXIF, ICC, text chunks are not carried over)."""
    buffer = io.BytesIO()
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    clean.save(buffer, format="PNG", optimize=False, compress_level=compress_level)
    return buffer.getvalue()


def encode_source(image: Image.Image) -> bytes:
    """The stored original: JPEG (q 92) when opaque, fast PNG when it has transparency.

    A full-resolution PNG of a 12-megapixel photo takes seconds to encode; JPEG takes
    tens of milliseconds and the provider never sees more than 1536 px anyway.
    """
    if image.mode == "RGBA":
        return encode_png(image, compress_level=1)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def media_type_of(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    return "image/webp" if data[8:12] == b"WEBP" else "application/octet-stream"


def encode(image: Image.Image, fmt: str, *, quality: int = 90) -> bytes:
    """Encode for download: PNG, JPEG (flattened on white) or WebP."""
    fmt = fmt.upper()
    if fmt == "PNG":
        return encode_png(image)
    buffer = io.BytesIO()
    if fmt == "JPEG":
        flat = image
        if image.mode == "RGBA":
            flat = Image.new("RGB", image.size, (255, 255, 255))
            flat.paste(image, mask=image.getchannel("A"))
        flat.convert("RGB").save(buffer, format="JPEG", quality=quality, optimize=True)
    elif fmt == "WEBP":
        image.save(buffer, format="WEBP", quality=quality)
    else:
        raise ValueError(f"Unsupported output format {fmt}")
    return buffer.getvalue()


def thumbnail_webp(image: Image.Image, size: int = 384) -> bytes:
    thumb = image.copy()
    # Halve by box averages first, then Lanczos for the last step: the same look at a
    # third of the cost; WebP's fastest method costs a quarter of its default.
    thumb.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=1.5)
    buffer = io.BytesIO()
    thumb.save(buffer, format="WEBP", quality=80, method=1)
    return buffer.getvalue()
