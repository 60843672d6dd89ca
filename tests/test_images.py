"""Hostile and odd uploads: each gets a clear message, or is converted correctly."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from adremix.services.generation import InvalidRequest, RemixOptions
from adremix.services.generation.images import InvalidImage, encode_png, open_untrusted


def png_bytes(image: Image.Image, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **params)
    return buffer.getvalue()


def encoded(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A tiny file that claims a huge 1-bit image: the classic decompression bomb."""
    raw = b"".join(b"\x00" + b"\x00" * ((width + 7) // 8) for _ in range(16))
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def test_text_file_with_image_extension_is_refused() -> None:
    with pytest.raises(InvalidImage, match="isn't an image"):
        open_untrusted(b"GIF89a? no, just a text file pretending to be ad.png")


def test_empty_file_is_refused() -> None:
    with pytest.raises(InvalidImage, match="empty"):
        open_untrusted(b"")


def test_truncated_jpeg_is_refused() -> None:
    data = encoded(Image.new("RGB", (800, 600), "orange"), "JPEG", quality=95)
    with pytest.raises(InvalidImage, match="damaged or incomplete"):
        open_untrusted(data[: len(data) // 3])


def test_decompression_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(InvalidImage, match="too large to process safely"):
        open_untrusted(bomb_png(30_000, 30_000))


def test_more_than_fifty_megapixels_is_refused_with_the_numbers() -> None:
    with pytest.raises(InvalidImage, match=r"60 megapixels\); the limit is 50"):
        open_untrusted(bomb_png(10_000, 6_000))


def test_svg_is_refused_by_name() -> None:
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
    with pytest.raises(InvalidImage, match="SVG files aren't supported"):
        open_untrusted(svg)


def test_gif_is_refused_with_the_supported_formats() -> None:
    frames = [Image.new("P", (50, 50), i) for i in range(3)]
    data = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(InvalidImage, match="GIF images aren't supported"):
        open_untrusted(data)


def test_animated_webp_uses_the_first_frame_and_says_so() -> None:
    frames = [Image.new("RGB", (40, 40), color) for color in ("red", "green", "blue")]
    data = encoded(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    result = open_untrusted(data)
    assert result.notes == ["The animated image was reduced to its first frame."]
    assert result.image.getpixel((20, 20))[:3] == (255, 0, 0)


def test_cmyk_jpeg_becomes_rgb() -> None:
    result = open_untrusted(encoded(Image.new("CMYK", (30, 30), (0, 255, 255, 0)), "JPEG"))
    assert result.image.mode == "RGB"
    red, green, blue = result.image.getpixel((15, 15))
    assert red > 200 and green < 60 and blue < 60


def test_sixteen_bit_png_keeps_its_tones() -> None:
    image = Image.new("I;16", (64, 1))
    for x in range(64):
        image.putpixel((x, 0), x * 1000)
    result = open_untrusted(png_bytes(image))
    assert result.image.mode == "RGB"
    assert result.image.getpixel((0, 0))[0] < 10 and result.image.getpixel((63, 0))[0] > 245


def test_palette_png_with_transparency_keeps_alpha() -> None:
    image = Image.new("P", (20, 20), 0)
    image.putpalette([255, 0, 0] + [0, 0, 255] * 255)
    image.putpixel((5, 5), 1)
    result = open_untrusted(png_bytes(image, transparency=0))
    assert result.image.mode == "RGBA"
    assert result.image.getpixel((0, 0))[3] == 0 and result.image.getpixel((5, 5)) == (
        0,
        0,
        255,
        255,
    )


def test_rgba_png_is_kept_with_alpha() -> None:
    result = open_untrusted(png_bytes(Image.new("RGBA", (10, 10), (1, 2, 3, 128))))
    assert result.image.mode == "RGBA" and result.image.getpixel((1, 1)) == (1, 2, 3, 128)


def test_exif_rotated_photo_is_shown_upright_and_metadata_is_stripped() -> None:
    photo = Image.new("RGB", (400, 200), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to view": stored landscape, meant portrait
    exif[0x010F] = "SecretCam"
    data = encoded(photo, "JPEG", exif=exif.tobytes())
    result = open_untrusted(data)
    assert result.image.size == (200, 400)
    stored = Image.open(io.BytesIO(encode_png(result.image)))
    assert not stored.getexif() and "exif" not in stored.info


def test_empty_and_overlong_instructions_are_refused() -> None:
    with pytest.raises(InvalidRequest, match="Describe how to remix"):
        RemixOptions(instructions="   ").validated()
    with pytest.raises(InvalidRequest, match="limited to 2000 characters"):
        RemixOptions(instructions="x" * 2001).validated()
    with pytest.raises(InvalidRequest, match="between 1 and 4"):
        RemixOptions(instructions="ok", variations=5).validated()
