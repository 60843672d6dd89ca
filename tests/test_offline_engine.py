"""The offline engine really remixes: placement size, grade, text, deterministic output."""

from __future__ import annotations

import asyncio
import io

import pytest
from PIL import Image, ImageChops, ImageDraw

from adremix.services.images import open_untrusted
from adremix.services.offline_engine import (
    OfflineEngine,
    brand_colour,
    fit_to_canvas,
    mean_colour,
    remix,
)
from adremix.services.templates import PLACEMENTS, RemixOptions


def product_ad(size: tuple[int, int] = (1200, 900), mode: str = "RGB") -> Image.Image:
    image = Image.new(mode, size, (235, 230, 220) if mode == "RGB" else (235, 230, 220, 255))
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.rectangle((int(w * 0.6), int(h * 0.3), int(w * 0.8), int(h * 0.8)), fill=(200, 40, 60))
    return image


def as_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("placement", list(PLACEMENTS))
def test_output_has_the_placement_size(placement: str) -> None:
    out = remix(product_ad(), RemixOptions(instructions="x", placement=placement), 0)
    assert out.size == PLACEMENTS[placement][2] and out.mode == "RGB"


def test_remix_is_deterministic_and_variations_differ() -> None:
    options = RemixOptions(instructions="x", headline="Sale", call_to_action="Buy")
    first, again = remix(product_ad(), options, 0), remix(product_ad(), options, 0)
    assert as_png(first) == as_png(again)
    assert ImageChops.difference(first, remix(product_ad(), options, 1)).getbbox() is not None


def test_templates_grade_colours_differently() -> None:
    warm = mean_colour(remix(product_ad(), RemixOptions(instructions="x", template="festive"), 0))
    dark = mean_colour(remix(product_ad(), RemixOptions(instructions="x", template="luxury"), 0))
    assert sum(dark) < sum(warm) - 60  # luxury is a dark grade, festive a warm bright one
    assert warm[0] > warm[2]  # festive leans warm: more red than blue


def test_headline_and_call_to_action_are_drawn() -> None:
    plain = remix(product_ad(), RemixOptions(instructions="x"), 0)
    texted = remix(
        product_ad(),
        RemixOptions(instructions="x", headline="Big Sale", call_to_action="Shop now"),
        0,
    )
    changed = ImageChops.difference(plain, texted).getbbox()
    assert changed is not None
    left, _top, right, _bottom = changed
    assert (right - left) > plain.width * 0.3  # a band of text, not a stray pixel


def test_brand_colour_is_parsed_from_free_text() -> None:
    assert brand_colour("our colours: #FF6600 and #222") == (255, 102, 0)
    assert brand_colour("#0a7") == (0, 170, 119)
    assert brand_colour("red, blue") is None


def test_extreme_aspect_is_padded_not_cropped_away() -> None:
    banner = Image.new("RGB", (4000, 300), (20, 20, 20))
    ImageDraw.Draw(banner).rectangle((3600, 50, 3900, 250), fill=(0, 200, 0))  # subject at the end
    story = fit_to_canvas(banner, (1080, 1920))
    assert story.size == (1080, 1920)
    greens = [px for px in story.getdata() if px[1] > 150 and px[0] < 80]
    assert greens, "the subject at the far end of the banner must survive"


def test_near_aspect_crops_around_the_subject() -> None:
    image = Image.new("RGB", (1000, 800), (240, 240, 240))
    ImageDraw.Draw(image).ellipse((820, 300, 980, 460), fill=(10, 10, 200))
    square = fit_to_canvas(image, (800, 800))
    assert square.size == (800, 800)
    blues = [px for px in square.getdata() if px[2] > 150 and px[0] < 80]
    assert len(blues) > 1000, "cropping kept the subject in frame"


def test_transparent_source_is_flattened() -> None:
    out = remix(product_ad(mode="RGBA"), RemixOptions(instructions="x"), 0)
    assert out.mode == "RGB"


def test_engine_returns_valid_png_bytes() -> None:
    data = asyncio.run(
        OfflineEngine().generate_one(
            source_png=as_png(product_ad()), options=RemixOptions(instructions="x"), index=2
        )
    )
    assert open_untrusted(data).image.size == (1024, 1024)
