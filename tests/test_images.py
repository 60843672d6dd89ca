"""Hostile and odd uploads: each gets a clear message, or is converted correctly."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, ImageCms
from sqlmodel import select

from adremix.db import session_scope
from adremix.models import StoredImage
from adremix.services.generation import InvalidRequest, RemixOptions, drop_refusal, ingest_source
from adremix.services.generation.images import (
    InvalidImage,
    decoded_untrusted,
    encode_png,
    open_untrusted,
    read_header,
)
from adremix.services.generation.ingest import prepare_source
from adremix.services.generation.jpeg_original import jpeg_without_metadata
from adremix.services.storage import LocalStorage
from tests.factories import make_user


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


def chunk_offset(data: bytes, kind: bytes) -> tuple[int, int]:
    """(offset of the chunk's data, its length) of the first `kind` chunk of a PNG."""
    at = data.index(kind)
    return at + 4, struct.unpack(">I", data[at - 4 : at])[0]


def corrupt_idat_png() -> bytes:
    """PngSuite's xcsn0g01 case: the pixels decode, but the IDAT chunk's CRC is wrong."""
    data = bytearray(png_bytes(Image.new("RGB", (64, 64), "teal")))
    start, length = chunk_offset(bytes(data), b"IDAT")
    data[start + length] ^= 0xFF  # first byte of the chunk's CRC
    return bytes(data)


def test_png_whose_image_data_checksum_is_wrong_is_refused() -> None:
    with pytest.raises(InvalidImage, match="damaged or incomplete"):
        open_untrusted(corrupt_idat_png())


def test_png_whose_image_data_is_corrupted_is_refused() -> None:
    image = Image.effect_noise((96, 96), 60).convert("RGB")
    data = bytearray(png_bytes(image))
    start, length = chunk_offset(bytes(data), b"IDAT")
    data[start + length // 2] ^= 0x5A
    with pytest.raises(InvalidImage, match="damaged or incomplete"):
        open_untrusted(bytes(data))


def test_a_pixel_count_over_the_limit_is_refused_from_the_header_alone() -> None:
    data = bomb_png(8_000, 7_000)
    header = data[: data.index(b"IDAT") + 8]  # a few bytes of pixel data: nothing to decode
    with pytest.raises(InvalidImage, match=r"56 megapixels\); the limit is 50"):
        read_header(header)


def photo(size: tuple[int, int] = (4000, 3000), **params: object) -> bytes:
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    return encoded(image, "JPEG", quality=90, **params)


def test_a_jpeg_needed_small_is_decoded_at_a_reduced_scale() -> None:
    data = photo()
    with decoded_untrusted(data, fit_side=1536) as small:
        assert small.image.size == (2000, 1500)  # libjpeg's 1/2 scale: still >= 1536 x 1152
        assert small.size == (4000, 3000)
    with decoded_untrusted(data) as full:
        assert full.image.size == (4000, 3000)


def metadata_rich_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # camera maker
    exif[0x8825] = {1: "N", 2: (12.0, 58.0, 10.0)}  # GPS position
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>creator Jane</rdf:RDF></x:xmpmeta>'
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = photo((640, 480), exif=exif.tobytes(), xmp=xmp, icc_profile=icc, progressive=True)
    # A comment segment, and something hidden after the end of the image.
    comment = b"\xff\xfe" + struct.pack(">H", 14) + b"secret note!"
    return data[:2] + comment + data[2:] + b"PK\x03\x04 appended archive"


def test_an_upright_jpeg_keeps_its_data_and_loses_its_metadata() -> None:
    data = metadata_rich_jpeg()
    kept = jpeg_without_metadata(data)
    assert kept is not None
    for secret in (b"SecretCam", b"Exif", b"creator Jane", b"ICC_PROFILE", b"secret note", b"PK"):
        assert secret in data and secret not in kept
    original, stored = Image.open(io.BytesIO(data)), Image.open(io.BytesIO(kept))
    assert stored.format == "JPEG" and not stored.getexif() and "icc_profile" not in stored.info
    assert list(stored.getdata()) == list(original.getdata())  # the very same pixels


def test_an_upright_jpeg_upload_is_stored_as_its_own_data_without_metadata() -> None:
    data = metadata_rich_jpeg()
    prepared = prepare_source(data)
    assert prepared.original == jpeg_without_metadata(data)
    assert prepared.size == (640, 480)
    provider = Image.open(io.BytesIO(prepared.provider_png))
    assert provider.format == "PNG" and provider.size == (640, 480)


def test_a_sideways_jpeg_keeps_its_data_and_only_its_orientation() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, meant portrait
    exif[0x010F] = "SecretCam"
    data = photo((800, 400), exif=exif.tobytes())
    prepared = prepare_source(data)
    assert b"SecretCam" not in prepared.original
    stored = Image.open(io.BytesIO(prepared.original))
    assert dict(stored.getexif()) == {0x0112: 6}
    assert list(stored.getdata()) == list(Image.open(io.BytesIO(data)).getdata())
    # Shown upright wherever it is shown: the size, the provider's copy, a conversion.
    assert prepared.size == (400, 800)
    assert Image.open(io.BytesIO(prepared.provider_png)).size == (400, 800)
    assert open_untrusted(prepared.original).image.size == (400, 800)


def test_jpegs_a_browser_cannot_show_are_re_encoded() -> None:
    baseline = photo((64, 64))
    sof0 = baseline.index(b"\xff\xc0")
    arithmetic = baseline[:sof0] + b"\xff\xc9" + baseline[sof0 + 2 :]  # SOF9
    assert jpeg_without_metadata(arithmetic) is None
    assert jpeg_without_metadata(baseline[: len(baseline) // 2]) is None  # truncated
    cmyk = prepare_source(encoded(Image.new("CMYK", (40, 40), (0, 255, 255, 0)), "JPEG"))
    assert Image.open(io.BytesIO(cmyk.original)).mode == "RGB"


def test_drop_zone_refusals_use_the_apps_own_words() -> None:
    def refused(*codes: str) -> str:
        return drop_refusal(list(codes)).message

    assert refused("file-invalid-type") == (
        "This file isn't a PNG, JPEG or WebP image. Please upload one of those."
    )
    assert refused("file-too-large") == (
        "The file is larger than 20 MB. Please upload a smaller image."
    )
    assert refused("too-many-files", "file-too-large") == (
        "The file is larger than 20 MB. Please upload a smaller image."
    )
    assert refused("too-many-files") == "Please choose one image at a time."
    # Whatever the browser sends, the answer is a message, never an error of ours.
    for junk in (None, "file-too-large", [1, "a"], [{"code": "x"}], [None]):
        assert drop_refusal(junk).message


def refused_uploads() -> dict[str, tuple[bytes, str]]:
    truncated = encoded(Image.new("RGB", (800, 600), "orange"), "JPEG", quality=95)
    return {
        "corrupt-idat": (corrupt_idat_png(), "The image is damaged or incomplete"),
        "bomb": (bomb_png(10_000, 6_000), r"10000x6000 \(60 megapixels\); the limit is 50"),
        "truncated-jpeg": (truncated[: len(truncated) // 3], "The image is damaged or incomplete"),
        "svg": (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "SVG files aren't supported"),
    }


@pytest.mark.parametrize("name", list(refused_uploads()))
def test_a_refused_upload_says_why_and_stores_nothing(name: str, storage: LocalStorage) -> None:
    data, message = refused_uploads()[name]
    with pytest.raises(InvalidImage, match=message):
        ingest_source(user_id=make_user(), data=data)
    assert not [path for path in storage.root.rglob("*") if path.is_file()]
    with session_scope() as session:
        assert session.exec(select(StoredImage)).first() is None
