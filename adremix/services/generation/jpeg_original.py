"""Keeping an uploaded JPEG's own compressed data, without its metadata.

Re-encoding a photo to strip its metadata costs a full-size decode and encode and loses
a little quality each time; turning it upright costs a second full-size copy. So the
stored original is the uploaded file with every metadata segment taken out: EXIF (GPS
position, camera serial, dates), XMP, IPTC, ICC profiles, comments, embedded thumbnails,
and anything after the end of the image. The image data itself is copied unchanged, and
a photo taken sideways keeps one fact, its EXIF orientation, which browsers and the
app's own decoder apply when they show it.
"""

from __future__ import annotations

from PIL import Image

SOI = b"\xff\xd8"
EOI = 0xD9
SOS = 0xDA
COM = 0xFE
APP0, APP14, APP15 = 0xE0, 0xEE, 0xEF
# Frame types a browser decodes: baseline, extended sequential and progressive Huffman.
BROWSER_FRAMES = {0xC0, 0xC1, 0xC2}
# Tables and markers a plain Huffman JPEG needs: DHT, DQT, DNL, DRI.
TABLES = {0xC4, 0xDB, 0xDC, 0xDD}
# A minimal JFIF header (version 1.01, no units, 1:1, no thumbnail).
JFIF = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
EXIF_ORIENTATION = 0x0112
# In entropy-coded data a 0xFF byte is followed by 0x00 (stuffing), a restart marker
# (0xD0-0xD7) or another 0xFF (fill before a marker); any other byte makes it a marker.
NOT_A_MARKER = {0x00, *range(0xD0, 0xD8), 0xFF}


def jpeg_without_metadata(data: bytes, *, orientation: int = 1) -> bytes | None:
    """The JPEG with only what decoding needs (Adobe's colour-transform flag included)
    and, unless it is 1, an EXIF block holding nothing but `orientation`, ending at its
    end-of-image marker; None when the file is anything but a plain Huffman-coded JPEG,
    so the caller re-encodes it instead."""
    if not data.startswith(SOI):
        return None
    kept: list[bytes] = [SOI]
    had_jfif = False
    position = 2
    in_scan = False
    while True:
        if in_scan:
            found = _next_marker(data, position)
            if found is None:
                return None  # no end-of-image marker: truncated
            start, marker = found
            kept.append(data[position:start])  # entropy-coded data, as is
            position = start + 2
        else:
            if data[position : position + 1] != b"\xff":
                return None  # a marker must follow the previous segment
            while position < len(data) and data[position] == 0xFF:
                position += 1  # fill bytes before a marker
            if position >= len(data):
                return None
            marker, position = data[position], position + 1
        if marker == EOI:
            if not in_scan:
                return None  # no image data at all
            kept.append(b"\xff\xd9")
            break
        if position + 2 > len(data):
            return None
        length = int.from_bytes(data[position : position + 2], "big")
        end = position + length
        if length < 2 or end > len(data):
            return None
        segment = data[position:end]
        position = end
        if APP0 <= marker <= APP15 or marker == COM:
            had_jfif = had_jfif or (marker == APP0 and segment[2:7] == b"JFIF\x00")
            if marker == APP14 and segment[2:7] == b"Adobe":
                kept.append(b"\xff\xee" + segment)  # says whether the data is YCbCr
            continue
        if marker not in BROWSER_FRAMES | TABLES | {SOS}:
            return None  # arithmetic coding, lossless, hierarchical, or unknown
        kept.append(bytes((0xFF, marker)) + segment)
        in_scan = in_scan or marker == SOS
    if orientation != 1:
        kept.insert(1, _orientation_only(orientation))
    if had_jfif:
        kept.insert(1, JFIF)
    return b"".join(kept)


def _orientation_only(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    block = exif.tobytes()  # b"Exif\0\0" and a TIFF header with the one tag
    return b"\xff\xe1" + (len(block) + 2).to_bytes(2, "big") + block


def _next_marker(data: bytes, position: int) -> tuple[int, int] | None:
    """(offset of the 0xFF, marker byte) of the next marker in entropy-coded data."""
    while (start := data.find(b"\xff", position)) != -1 and start + 1 < len(data):
        if data[start + 1] not in NOT_A_MARKER:
            return start, data[start + 1]
        position = start + 1
    return None
