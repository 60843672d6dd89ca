"""Colour contrast as WCAG 2 defines it (relative luminance, contrast ratio, AA = 4.5:1)."""

from __future__ import annotations

import re

import numpy as np
from PIL import Image

RGB = tuple[int, int, int]
AA_NORMAL_TEXT = 4.5
HEX = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
BLACK: RGB = (0, 0, 0)
WHITE: RGB = (255, 255, 255)


def parse_hex(text: str) -> RGB | None:
    """#rgb or #rrggbb (the # optional) as RGB; None if it is not one."""
    match = HEX.match(text.strip())
    if not match:
        return None
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))


def to_hex(colour: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: RGB) -> float:
    """WCAG 2 relative luminance."""
    r, g, b = (_channel(v) for v in colour[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: RGB, b: RGB) -> float:
    la, lb = luminance(a), luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


_LINEAR = np.array([_channel(v) for v in range(256)], dtype=np.float64)


def luminance_map(image: Image.Image) -> np.ndarray:
    """Relative luminance of every pixel (an array of the image's shape)."""
    pixels = np.asarray(image.convert("RGB"))
    linear = _LINEAR[pixels]
    return linear @ np.array([0.2126, 0.7152, 0.0722])


def worst_contrast(fill: RGB, region: Image.Image) -> float:
    """The lowest contrast of `fill` against any pixel of `region`."""
    if region.width == 0 or region.height == 0:
        return 21.0
    background = luminance_map(region)
    text = luminance(fill)
    ratios = (np.maximum(background, text) + 0.05) / (np.minimum(background, text) + 0.05)
    return float(ratios.min())


def best_text_colour(candidates: list[RGB], background: RGB) -> RGB:
    """The first candidate that meets AA on `background`, else black or white (one of
    the two always reaches at least 4.58:1)."""
    for colour in candidates:
        if contrast_ratio(colour, background) >= AA_NORMAL_TEXT:
            return colour
    return max((BLACK, WHITE), key=lambda c: contrast_ratio(c, background))
