"""Reading untrusted images safely and normalising them. Pure Pillow, no I/O of its own.

Every way an upload can be hostile or odd ends in `InvalidImage` with a message a person
can act on, before anything is stored or charged. Memory stays bounded: the header is
read first (`Image.open` decodes no pixels) and anything over `MAX_PIXELS` is refused
there; JPEGs are decoded at a reduced scale when the full size is not needed; and every
decode holds its size in the process-wide decode budget until its pixels are let go.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

from adremix.services.errors import UserFacingError
from adremix.services.generation.decode_budget import decode_budget

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 50_000_000
ALLOWED_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP"}
PROVIDER_MAX_SIDE = 1536
THUMBNAIL_SIDE = 384
EXIF_ORIENTATION = 0x0112
# Orientations that swap width and height (a quarter turn, with or without a mirror).
QUARTER_TURNS = {5, 6, 7, 8}
ROTATED = {2, 3, 4, *QUARTER_TURNS}
# How many bytes Pillow keeps per pixel: RGB is padded to four, like RGBA and CMYK.
BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2}
# The most bytes per pixel alive at once while a decoded image is made RGB or RGBA: the
# decoded pixels and the converted copy (16-bit and float greyscale go through floats).
NORMALISING_BYTES_PER_PIXEL = {"RGB": 4, "RGBA": 4, "1": 5, "L": 5, "P": 5, "I": 12, "F": 12}
# Shrinking in two steps, an integer box reduce then Lanczos from at least twice the
# target size, is what Pillow's own thumbnail() does: the same picture, a fraction of
# the work.
REDUCING_GAP = 2.0
THUMBNAIL_GAP = 1.5  # a thumbnail is small enough for a coarser first step

TOO_LARGE_FILE = "The file is larger than 20 MB. Please upload a smaller image."
NOT_AN_ALLOWED_FORMAT = "This file isn't a PNG, JPEG or WebP image. Please upload one of those."
DAMAGED = "The image is damaged or incomplete. Please upload it again."
# react-dropzone's refusal codes, most useful first.
DROP_REFUSALS = {
    "file-invalid-type": NOT_AN_ALLOWED_FORMAT,
    "file-too-large": TOO_LARGE_FILE,
    "too-many-files": "Please choose one image at a time.",
}


class InvalidImage(UserFacingError):
    """The upload cannot be used; the message says why in plain words."""


@dataclass(frozen=True)
class ImageHeader:
    """What the file says about itself, read without decoding a pixel."""

    format: str  # PNG, JPEG or WebP
    size: tuple[int, int]  # as stored, before any EXIF rotation
    mode: str
    orientation: int
    animated: bool

    @property
    def upright_size(self) -> tuple[int, int]:
        width, height = self.size
        return (height, width) if self.orientation in QUARTER_TURNS else (width, height)

    def draft_size(self, fit_side: int | None) -> tuple[int, int] | None:
        """The size to ask a JPEG decoder for when only `fit_side` pixels are needed."""
        if fit_side is None or self.format != "JPEG" or max(self.size) <= fit_side:
            return None
        return fitted(self.size, fit_side)

    @property
    def pixels(self) -> int:
        return self.size[0] * self.size[1]

    def decode_bytes(self, draft: tuple[int, int] | None, working_bytes: int = 0) -> int:
        """The most memory decoding takes at once: the decoded pixels with a rotated or
        converted copy, or the upright RGB(A) image with the caller's `working_bytes`."""
        width, height = self.size
        pixels = self.pixels
        if draft is not None:
            # The decoder scales by 1/2, 1/4 or 1/8, never below the size asked for.
            scale = 1
            while (
                scale < 8 and width // (scale * 2) >= draft[0] and height // (scale * 2) >= draft[1]
            ):
                scale *= 2
            pixels = -(-width // scale) * -(-height // scale)
        decoded = BYTES_PER_PIXEL.get(self.mode, 4)
        turned = 2 * decoded if self.orientation in ROTATED else 0
        normalising = NORMALISING_BYTES_PER_PIXEL.get(self.mode, 8)
        return max(pixels * max(turned, normalising), pixels * 4 + working_bytes)


@dataclass(frozen=True)
class NormalisedImage:
    """An upright, metadata-free RGB/RGBA image and what was done to get it.

    `image` may be a reduced-scale decode (see `decoded_untrusted`); `size` is always
    the full upright size of the file.
    """

    image: Image.Image
    source_format: str
    notes: list[str] = field(default_factory=list)
    size: tuple[int, int] = (0, 0)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fitted(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """`size` scaled down so its long side is `max_side` (never enlarged)."""
    width, height = size
    if max(width, height) <= max_side:
        return size
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def drop_refusal(codes: object) -> InvalidImage:
    """Why the drop zone refused files before uploading them, in the words the server
    uses for the same problem. `codes` are react-dropzone's error codes, taken as
    untrusted input."""
    given = (
        set(codes) if isinstance(codes, list) and all(isinstance(c, str) for c in codes) else set()
    )
    for code, message in DROP_REFUSALS.items():
        if code in given:
            return InvalidImage(message)
    return InvalidImage(NOT_AN_ALLOWED_FORMAT)


def _looks_like_svg(data: bytes) -> bool:
    head = data[:512].lstrip().lower()
    return head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in data[:4096])


@contextmanager
def _pillow_errors() -> Iterator[None]:
    """Pillow's ways of saying "no" become one clear message each."""
    try:
        with warnings.catch_warnings():
            # Pillow warns (then errors) on decompression bombs; make both an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except InvalidImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidImage(
            "The image is too large to process safely (it may be a decompression bomb)."
        ) from exc
    except UnidentifiedImageError as exc:
        raise InvalidImage("This file isn't an image we can read (PNG, JPEG or WebP).") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidImage(DAMAGED) from exc


def read_header(data: bytes, *, max_pixels: int = MAX_PIXELS) -> ImageHeader:
    """Every refusal that needs no pixels: size, type, and the pixel count from the header."""
    if not data:
        raise InvalidImage("The file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidImage(TOO_LARGE_FILE)
    if _looks_like_svg(data):
        raise InvalidImage("SVG files aren't supported. Please upload a PNG, JPEG or WebP image.")
    with _pillow_errors(), Image.open(io.BytesIO(data)) as image:
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
            raise InvalidImage(NOT_AN_ALLOWED_FORMAT)
        # A PNG's EXIF may sit after its image data, where reading it means decoding.
        exif = image.getexif() if image_format != "PNG" or "exif" in image.info else {}
        orientation = exif.get(EXIF_ORIENTATION, 1)
        return ImageHeader(
            format=ALLOWED_FORMATS[image_format],
            size=(width, height),
            mode=image.mode,
            orientation=orientation if isinstance(orientation, int) else 1,
            animated=bool(getattr(image, "is_animated", False)),
        )


@contextmanager
def decoded_untrusted(
    data: bytes,
    *,
    max_pixels: int = MAX_PIXELS,
    fit_side: int | None = None,
    working_bytes: int = 0,
) -> Iterator[NormalisedImage]:
    """Decode an uploaded file, refusing anything unsafe, unsupported or damaged.

    The decode waits for room in the decode budget and keeps it until the block ends, so
    the caller's own work on the full-size pixels (`working_bytes` beyond the image
    itself) is counted too. With `fit_side`, a JPEG is decoded at the smallest scale that
    still covers that long side.
    """
    header = read_header(data, max_pixels=max_pixels)
    draft = header.draft_size(fit_side)
    with _budget_for(header, header.decode_bytes(draft, working_bytes)):
        normalised = _decode(data, header, draft)
        try:
            yield normalised
        finally:
            # The pixels go with the budget they held, whoever still refers to them.
            normalised.image.close()


def open_untrusted(data: bytes, *, max_pixels: int = MAX_PIXELS) -> NormalisedImage:
    """Decode for a caller that keeps the image: for images known to be small (results,
    exports), since the budget covers the decode only."""
    header = read_header(data, max_pixels=max_pixels)
    with _budget_for(header, header.decode_bytes(None)):
        return _decode(data, header, None)


def _budget_for(header: ImageHeader, nbytes: int) -> AbstractContextManager[None]:
    budget = decode_budget()
    if nbytes > budget.limit_bytes:
        # Within the pixel limit, but this mode (CMYK, 16-bit) or a rotation would need
        # more memory than one image may take.
        width, height = header.size
        raise InvalidImage(
            f"The image is {width}x{height} and too large to process in this form. "
            "Please upload a smaller image, or save it as an RGB JPEG or PNG."
        )
    return budget.hold(nbytes)


def _decode(data: bytes, header: ImageHeader, draft: tuple[int, int] | None) -> NormalisedImage:
    notes: list[str] = []
    with _pillow_errors():
        if header.format == "PNG":
            # load() skips the checksums of the image data chunks; verify() checks every
            # chunk's, so a corrupted PNG is refused rather than shown with damage.
            with Image.open(io.BytesIO(data)) as check:
                check.verify()
        image = Image.open(io.BytesIO(data))
        if header.animated:
            image.seek(0)
            notes.append("The animated image was reduced to its first frame.")
        if draft is not None:
            image.draft(image.mode, draft)
        image.load()  # every pixel: a truncated or broken file fails here
    ImageOps.exif_transpose(image, in_place=True)  # in place: no second full-size copy
    return NormalisedImage(
        image=_normalise_mode(image),
        source_format=header.format,
        notes=notes,
        size=header.upright_size if draft is not None else image.size,
    )


def _normalise_mode(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when the image has transparency; handles CMYK, 16-bit and palettes.

    Metadata is dropped: what was read from the file (EXIF, ICC, text) stays behind.
    """
    mode = image.mode
    if mode in ("RGB", "RGBA"):
        image.info = {}
        return image
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
    size = fitted(image.size, max_side)
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)


def encode_png(image: Image.Image, *, compress_level: int = 6) -> bytes:
    """PNG bytes with no metadata (EXIF, ICC, text chunks are not carried over)."""
    buffer = io.BytesIO()
    # The PNG writer copies only the ICC profile from `info` unless told otherwise.
    image.save(
        buffer, format="PNG", optimize=False, compress_level=compress_level, icc_profile=None
    )
    return buffer.getvalue()


def encode_source(image: Image.Image) -> bytes:
    """The stored original: JPEG (q 92) when opaque, fast PNG when it has transparency.

    A full-resolution PNG of a 12-megapixel photo takes seconds to encode; JPEG takes
    tens of milliseconds and the provider never sees more than 1536 px anyway.
    """
    if image.mode == "RGBA":
        return encode_png(image, compress_level=1)
    buffer = io.BytesIO()
    _as_rgb(image).save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def _as_rgb(image: Image.Image) -> Image.Image:
    # convert() to the same mode still copies every pixel.
    return image if image.mode == "RGB" else image.convert("RGB")


def media_type_of(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    return "image/webp" if data[8:12] == b"WEBP" else "application/octet-stream"


def encode(image: Image.Image, fmt: str, *, quality: int = 90) -> bytes:
    """Encode for download: PNG, JPEG (flattened on white) or WebP."""
    buffer = io.BytesIO()
    write_encoded(image, fmt, buffer, quality=quality)
    return buffer.getvalue()


def write_encoded(image: Image.Image, fmt: str, target: BinaryIO, *, quality: int = 90) -> None:
    """`encode`, written straight into `target` (a large image's file never sits in memory)."""
    fmt = fmt.upper()
    if fmt == "PNG":
        image.save(target, format="PNG", compress_level=6, icc_profile=None)
    elif fmt == "JPEG":
        flat = image
        if image.mode == "RGBA":
            flat = Image.new("RGB", image.size, (255, 255, 255))
            flat.paste(image, mask=image.getchannel("A"))
        _as_rgb(flat).save(target, format="JPEG", quality=quality, optimize=True)
    elif fmt == "WEBP":
        image.save(target, format="WEBP", quality=quality)
    else:
        raise ValueError(f"Unsupported output format {fmt}")


def thumbnail_webp(image: Image.Image, size: int = THUMBNAIL_SIDE) -> bytes:
    # Box averages first, then Lanczos for the last step (reducing_gap): the same look
    # at a third of the cost, and no full-size copy; WebP's fastest method costs a
    # quarter of its default.
    thumb = image
    if max(image.size) > size:
        thumb = image.resize(
            fitted(image.size, size), Image.Resampling.LANCZOS, reducing_gap=THUMBNAIL_GAP
        )
    buffer = io.BytesIO()
    thumb.save(buffer, format="WEBP", quality=80, method=1)
    return buffer.getvalue()
