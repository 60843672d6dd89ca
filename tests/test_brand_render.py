"""The offline engine on brand: logo placed away from the busiest region, text in the
kit's font and colours at WCAG AA contrast on every pixel behind it, Indic scripts shaped
by libraqm (a Hindi headline against a reviewed reference render)."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from adremix.services.generation import (
    AA_NORMAL_TEXT,
    FontChoice,
    RemixOptions,
    contrast_ratio,
    draw_line,
    raqm_available,
)
from adremix.services.generation.offline_engine import BrandLook, compose
from adremix.services.generation.typesetting import FONT_DIR, runs

REFERENCE = Path(__file__).parent / "fixtures" / "render" / "hindi_headline.png"
HINDI = "दिवाली की शुभकामनाएँ: स्त्री क्षत्रिय"  # matras, a reph-less conjunct stack, क्ष
MAGENTA = (230, 0, 200)


def requires_raqm() -> None:
    assert raqm_available(), (
        "Pillow has no libraqm (RAQM layout): Indic text cannot be shaped. "
        "Install Debian's libraqm0 (scripts/ensure-system-packages.sh) and rerun."
    )


def busy_photo(size: tuple[int, int] = (1024, 1024), seed: int = 7) -> Image.Image:
    """Noise and stripes of every brightness: no single text colour reads on it bare."""
    rng = random.Random(seed)
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for _ in range(400):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        grey = rng.randrange(256)
        colour = (grey, rng.randrange(256), 255 - grey)
        draw.rectangle((x, y, x + rng.randrange(8, 120), y + rng.randrange(8, 60)), fill=colour)
    return image


def logo() -> Image.Image:
    mark = Image.new("RGBA", (240, 100), (0, 0, 0, 0))
    ImageDraw.Draw(mark).rounded_rectangle((0, 0, 239, 99), radius=18, fill=(*MAGENTA, 255))
    return mark


def worst_behind_text(image: Image.Image, box: tuple[int, int, int, int], fill: tuple) -> float:
    """The lowest contrast between the text colour and any pixel near the glyphs that is
    not part of a glyph, measured on the final image alone."""
    region = np.asarray(image.crop(box).convert("RGB")).astype(int)
    text = np.all(region == np.array(fill), axis=2)
    assert text.sum() > 200, "no text drawn in the box"
    glyphs = Image.fromarray((text * 255).astype(np.uint8))
    near = np.asarray(glyphs.filter(ImageFilter.MaxFilter(5))) > 0  # anti-aliased edges
    around = np.asarray(glyphs.filter(ImageFilter.MaxFilter(31))) > 0
    background = region[around & ~near]
    colours = {tuple(int(v) for v in px) for px in background}
    return min(contrast_ratio(fill, colour) for colour in colours)


@pytest.mark.parametrize(
    ("text_colour", "background"),
    [("#888888", "#777777"), ("#ffcc00", "#ffffff"), ("#1a1a1a", "#000000"), ("", "")],
    ids=["grey-kit", "yellow-kit", "dark-kit", "no-kit"],
)
def test_text_meets_wcag_aa_on_every_pixel_behind_it(text_colour: str, background: str) -> None:
    from adremix.services.generation import parse_hex

    look = BrandLook(
        font=FontChoice("inter"),
        text=parse_hex(text_colour) if text_colour else None,
        background=parse_hex(background) if background else None,
        button=(240, 240, 60),  # a light button: its label must turn dark
    )
    options = RemixOptions(instructions="x", headline="Monsoon Mega Sale", call_to_action="Shop")
    composed = compose(busy_photo(), options, look)
    headline = next(p for p in composed.placed if p.kind == "headline")
    assert headline.fill is not None
    assert worst_behind_text(composed.image, headline.box, headline.fill) >= AA_NORMAL_TEXT
    cta = next(p for p in composed.placed if p.kind == "cta")
    assert cta.fill is not None and cta.behind == (240, 240, 60)
    assert contrast_ratio(cta.fill, cta.behind) >= AA_NORMAL_TEXT
    button = composed.image.crop(cta.box)
    assert button.getpixel((button.width // 2, 2)) == (240, 240, 60)


def test_the_kit_text_colour_is_used_when_it_is_legible() -> None:
    calm = Image.new("RGB", (1024, 1024), (250, 250, 245))
    look = BrandLook(text=(20, 60, 160))  # dark blue on near-white: 8:1 without help
    composed = compose(calm, RemixOptions(instructions="x", headline="Hello"), look)
    headline = next(p for p in composed.placed if p.kind == "headline")
    assert headline.fill == (20, 60, 160)
    # No scrim was needed: the background outside the glyphs is untouched.
    assert composed.image.getpixel((5, headline.box[1] + 2)) == (250, 250, 245)


@pytest.mark.parametrize("busy_corner", ["top-left", "top-right", "bottom-left", "bottom-right"])
def test_the_logo_goes_to_a_quiet_corner_not_the_busiest(busy_corner: str) -> None:
    image = Image.new("RGB", (1024, 1024), (235, 235, 230))
    detail = busy_photo((420, 420), seed=3)
    left = 0 if busy_corner.endswith("left") else 1024 - 420
    top = 0 if busy_corner.startswith("top") else 1024 - 420
    image.paste(detail, (left, top))
    composed = compose(image, RemixOptions(instructions="x"), BrandLook(logo=logo()))
    placed = next(p for p in composed.placed if p.kind == "logo")
    x0, y0, x1, y1 = placed.box
    centre = ((x0 + x1) / 2, (y0 + y1) / 2)
    in_busy = left <= centre[0] <= left + 420 and top <= centre[1] <= top + 420
    assert not in_busy
    assert x1 - x0 >= 1024 * 0.24 * 0.99  # a quiet corner gets the largest size
    patch = composed.image.crop(placed.box)
    assert patch.getpixel((patch.width // 2, patch.height // 2)) == MAGENTA


def test_the_logo_avoids_the_text_band() -> None:
    image = Image.new("RGB", (1024, 1024), (235, 235, 230))
    image.paste(busy_photo((1024, 300)), (0, 0))  # detail on top: text goes to the bottom
    options = RemixOptions(instructions="x", headline="Big Sale", call_to_action="Buy now")
    composed = compose(image, options, BrandLook(logo=logo()))
    text = next(p for p in composed.placed if p.kind == "headline")
    mark = next(p for p in composed.placed if p.kind == "logo")
    assert text.box[1] > 512 and mark.box[3] < 512  # text at the bottom, logo at the top


def render_hindi(layout: ImageFont.Layout | None = None) -> Image.Image:
    image = Image.new("RGB", (900, 120), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    if layout is None:
        draw_line(draw, (450, 60), HINDI, FontChoice("inter"), 52, (20, 20, 20), language="hi")
    else:
        font = ImageFont.truetype(
            str(FONT_DIR / "NotoSansDevanagari-Bold.ttf"), 52, layout_engine=layout
        )
        draw.text((450, 60), HINDI, font=font, fill=(20, 20, 20), anchor="mm")
    return image


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    return float(np.asarray(ImageChops.difference(a, b).convert("L")).mean())


def test_a_hindi_headline_matches_the_reviewed_reference_render() -> None:
    requires_raqm()
    rendered = render_hindi()
    reference = Image.open(REFERENCE).convert("RGB")
    assert rendered.size == reference.size
    # Font rasterisation may differ by a grey level at glyph edges between FreeType
    # builds; misplaced matras or broken conjuncts move whole glyphs (means of 10+).
    assert mean_difference(rendered, reference) < 1.0
    # The check has teeth: without shaping (one glyph per code point) it fails.
    unshaped = render_hindi(ImageFont.Layout.BASIC)
    assert mean_difference(unshaped, reference) > 5.0


def test_mixed_script_text_is_split_into_runs_with_fonts_that_have_the_glyphs() -> None:
    requires_raqm()
    pieces = runs("दिवाली SALE ५०% off", FontChoice("inter"), 40)
    assert [p.text for p in pieces] == ["दिवाली ", "SALE ", "५०% ", "off"]
    families = [p.font.getname()[0] for p in pieces]
    assert families == ["Noto Sans Devanagari", "Inter", "Noto Sans Devanagari", "Inter"]
