"""The offline image engine: a deterministic Pillow remix, used when no OpenAI key is set.

It does what the product promises, locally: re-lays the ad out for the placement (crop
around the subject, or pad with a blurred copy of the image), applies the template's colour
grade, and sets the headline and call to action in a bundled open font (DejaVu Sans Bold).
"""

from __future__ import annotations

import asyncio
import io
import re
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps, ImageStat

from adremix.services.templates import TEMPLATES, RemixOptions

FONT_PATH = Path(__file__).resolve().parents[2] / "assets" / "fonts" / "DejaVuSans-Bold.ttf"
HEX_COLOUR = re.compile(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")
# Crop when it keeps at least this share of the image; otherwise pad.
MIN_KEPT_AREA = 0.8


@lru_cache(maxsize=32)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_PATH), size)


def subject_focus(image: Image.Image) -> tuple[float, float]:
    """Where the subject probably is, as fractions (x, y): the centroid of edge energy.

    Cheap saliency: ads put detail (product, text, faces) on a plainer background.
    """
    small = image.convert("L")
    small.thumbnail((128, 128))
    edges = small.filter(ImageFilter.FIND_EDGES)
    width, height = edges.size
    pixels = edges.load()
    total = sx = sy = 0.0
    # Skip a 1px border: FIND_EDGES marks the image frame itself.
    for y in range(1, height - 1):
        for x in range(1, width - 1):
            weight = pixels[x, y]
            if weight > 24:
                total += weight
                sx += weight * x
                sy += weight * y
    if total == 0:
        return 0.5, 0.5
    return sx / total / width, sy / total / height


def fit_to_canvas(
    image: Image.Image, size: tuple[int, int], *, focus: tuple[float, float] | None = None
) -> Image.Image:
    """Exactly `size`: crop around the subject when little is lost, otherwise pad."""
    image = image.convert("RGB")
    target_w, target_h = size
    src_w, src_h = image.size
    target_ratio, src_ratio = target_w / target_h, src_w / src_h
    kept = min(target_ratio, src_ratio) / max(target_ratio, src_ratio)
    if kept >= MIN_KEPT_AREA:
        fx, fy = focus or subject_focus(image)
        return ImageOps.fit(image, size, Image.Resampling.LANCZOS, centering=(fx, fy))
    # Too different to crop without cutting the subject: fit whole, pad with itself.
    background = ImageOps.fit(image, size, Image.Resampling.BILINEAR).filter(
        ImageFilter.GaussianBlur(radius=max(size) // 30)
    )
    background = ImageEnhance.Brightness(background).enhance(0.7)
    foreground = ImageOps.contain(image, size, Image.Resampling.LANCZOS)
    offset = ((target_w - foreground.width) // 2, (target_h - foreground.height) // 2)
    background.paste(foreground, offset)
    return background


def _grade(image: Image.Image, options: RemixOptions, index: int) -> Image.Image:
    saturation, contrast, brightness, tint, strength = TEMPLATES[options.template].grade
    # Variations differ visibly but deterministically: a stronger or lighter grade each.
    step = (0.0, 0.06, -0.05, 0.1)[index % 4]
    image = ImageEnhance.Color(image).enhance(saturation + step)
    image = ImageEnhance.Contrast(image).enhance(contrast + step / 2)
    image = ImageEnhance.Brightness(image).enhance(brightness)
    overlay = Image.new("RGB", image.size, tint)
    return Image.blend(image, overlay, max(0.0, min(0.6, strength + step)))


def brand_colour(text: str) -> tuple[int, int, int] | None:
    """The first #rgb / #rrggbb colour in the brand colours field, if any."""
    match = HEX_COLOUR.search(text or "")
    if not match:
        return None
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    return tuple(int(digits[i : i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int
) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        trial = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(trial, font=font) <= width:
            lines[-1] = trial
        else:
            lines.append(word)
    return lines


def _fit_text(
    draw: ImageDraw.ImageDraw, text: str, max_width: int, start: int, max_lines: int
) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    size = start
    while True:
        font = _font(size)
        lines = _wrap(draw, text, font, max_width)
        widest = max((draw.textlength(line, font=font) for line in lines), default=0)
        if (len(lines) <= max_lines and widest <= max_width) or size <= 14:
            return font, lines
        size = int(size * 0.9)


def _set_text(image: Image.Image, options: RemixOptions, focus_y: float) -> Image.Image:
    """Headline and call to action in one band at the edge away from the subject."""
    if not options.headline and not options.call_to_action:
        return image
    canvas = image.convert("RGBA")
    layer = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    width, height = canvas.size
    margin = width // 16
    headline_font, lines = (None, [])
    if options.headline:
        headline_font, lines = _fit_text(draw, options.headline, int(width * 0.85), width // 10, 3)
    button = None
    if options.call_to_action:
        font, cta_lines = _fit_text(draw, options.call_to_action, int(width * 0.6), width // 20, 1)
        label = cta_lines[0] if cta_lines else options.call_to_action
        pad_x, pad_y = font.size, font.size // 2
        button = (
            font,
            label,
            int(draw.textlength(label, font=font) + 2 * pad_x),
            font.size + 2 * pad_y,
            pad_x,
            pad_y,
        )
    line_height = int(headline_font.size * 1.18) if headline_font else 0
    band = (
        margin + line_height * len(lines) + (button[3] + margin // 2 if button else 0) + margin // 2
    )
    top = 0 if focus_y > 0.5 else height - band
    draw.rectangle((0, top, width, top + band), fill=(0, 0, 0, 110))
    y = top + margin // 2
    for line in lines:
        assert headline_font is not None
        x = (width - draw.textlength(line, font=headline_font)) / 2
        draw.text((x + 2, y + 2), line, font=headline_font, fill=(0, 0, 0, 160))
        draw.text((x, y), line, font=headline_font, fill=(255, 255, 255, 255))
        y += line_height
    if button:
        font, label, button_w, button_h, pad_x, pad_y = button
        colour = brand_colour(options.brand_colors) or TEMPLATES[options.template].accent
        left, y = (width - button_w) // 2, y + margin // 4
        draw.rounded_rectangle(
            (left, y, left + button_w, y + button_h), radius=button_h // 2, fill=(*colour, 245)
        )
        draw.text((left + pad_x, y + pad_y - font.size // 10), label, font=font, fill="white")
    return Image.alpha_composite(canvas, layer).convert("RGB")


def remix(source: Image.Image, options: RemixOptions, index: int) -> Image.Image:
    """The offline remix of `source` for `options`, variation `index`: RGB, placement size."""
    if source.mode in ("RGBA", "LA", "P"):
        flat = Image.new("RGB", source.size, (255, 255, 255))
        rgba = source.convert("RGBA")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        source = flat
    focus_x, focus_y = subject_focus(source)
    # Nudge the crop per variation so each is a slightly different framing.
    nudge = (0.0, -0.08, 0.08, 0.0)[index % 4]
    focus = (min(1.0, max(0.0, focus_x + nudge)), focus_y)
    laid_out = fit_to_canvas(source, options.pixels, focus=focus)
    graded = _grade(laid_out, options, index)
    return _set_text(graded, options, subject_focus(laid_out)[1])


def mean_colour(image: Image.Image) -> tuple[float, ...]:
    return tuple(ImageStat.Stat(image.convert("RGB")).mean)


class OfflineEngine:
    """Runs `remix` off the event loop; labelled "Offline engine" in the UI."""

    name = "offline"
    model = "offline-v1"

    async def generate_one(self, *, source_png: bytes, options: RemixOptions, index: int) -> bytes:
        return await asyncio.to_thread(_render, source_png, options, index)


def _render(source_png: bytes, options: RemixOptions, index: int) -> bytes:
    with Image.open(io.BytesIO(source_png)) as source:
        result = remix(source, options, index)
    buffer = io.BytesIO()
    result.save(buffer, format="PNG")
    return buffer.getvalue()
