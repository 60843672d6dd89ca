"""The offline engine really remixes: placement size, grade, text, deterministic output."""

from __future__ import annotations

import asyncio
import io
import itertools
import time

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

from adremix.services.generation import PLACEMENTS, STYLES, RemixOptions
from adremix.services.generation.images import open_untrusted
from adremix.services.generation.offline_engine import (
    OfflineEngine,
    apply_grade,
    brand_colour,
    fit_to_canvas,
    remix,
    subject_focus,
)

BACKDROP = (235, 230, 220)
PRODUCT = (200, 40, 60)


def product_ad(
    size: tuple[int, int] = (1200, 900),
    *,
    mode: str = "RGB",
    box: tuple[float, float, float, float] = (0.6, 0.3, 0.8, 0.8),
) -> Image.Image:
    """A plain backdrop with a coloured "product"; `box` is its position as fractions."""
    backdrop = (*BACKDROP, 255) if mode == "RGBA" else BACKDROP
    image = Image.new(mode, size, backdrop)
    w, h = size
    left, top, right, bottom = box
    ImageDraw.Draw(image).rectangle(
        (int(w * left), int(h * top), int(w * right), int(h * bottom)), fill=PRODUCT
    )
    return image


def options(**overrides: object) -> RemixOptions:
    return RemixOptions(instructions="Make it pop", **overrides)  # type: ignore[arg-type]


def as_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def mean_colour(image: Image.Image) -> tuple[float, ...]:
    return tuple(ImageStat.Stat(image.convert("RGB")).mean)


def area_of_colour(image: Image.Image, colour: tuple[int, int, int], tolerance: int = 40) -> int:
    """How many pixels are within `tolerance` of `colour` on every channel."""
    difference = ImageChops.difference(image.convert("RGB"), Image.new("RGB", image.size, colour))
    close = [band.point(lambda v: 255 if v <= tolerance else 0) for band in difference.split()]
    mask = ImageChops.multiply(ImageChops.multiply(close[0], close[1]), close[2])
    return mask.histogram()[255]


def changed_box(a: Image.Image, b: Image.Image) -> tuple[int, int, int, int] | None:
    """Bounding box of pixels that differ by more than rounding noise."""
    difference = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v > 8 else 0)
    return difference.getbbox()


@pytest.mark.parametrize("placement", list(PLACEMENTS))
def test_output_has_exactly_the_placement_size(placement: str) -> None:
    out = remix(product_ad(), options(placement=placement, headline="Sale"), 0)
    assert out.size == PLACEMENTS[placement][2]
    assert out.mode == "RGB"


def test_same_inputs_give_byte_identical_pngs() -> None:
    engine = OfflineEngine()
    request = options(
        template="festive", placement="portrait", headline="Sale", call_to_action="Buy"
    )
    source = as_png(product_ad())

    def render() -> bytes:
        return asyncio.run(engine.generate_one(source_png=source, options=request, index=1))

    assert render() == render()


@pytest.mark.parametrize("source_size", [(1200, 900), (1000, 1000)], ids=["padded", "cropped"])
def test_every_variation_looks_different(source_size: tuple[int, int]) -> None:
    request = options(headline="Sale", call_to_action="Buy")
    variations = [remix(product_ad(source_size), request, index) for index in range(4)]
    for first, second in itertools.combinations(variations, 2):
        assert changed_box(first, second) is not None


def test_templates_grade_colours_differently() -> None:
    warm = mean_colour(remix(product_ad(), options(template="festive"), 0))
    dark = mean_colour(remix(product_ad(), options(template="luxury"), 0))
    assert sum(dark) < sum(warm) - 60  # luxury is a dark grade, festive a warm bright one
    assert warm[0] > warm[2] + 20  # festive leans warm: more red than blue
    means = {code: mean_colour(remix(product_ad(), options(template=code), 0)) for code in STYLES}
    for (a, mean_a), (b, mean_b) in itertools.combinations(means.items(), 2):
        distance = sum(abs(x - y) for x, y in zip(mean_a, mean_b, strict=True))
        assert distance > 10, f"{a} and {b} look alike"


def test_without_text_the_remix_is_the_fitted_graded_image() -> None:
    source = product_ad()
    request = options(template="bold_sale", placement="portrait")
    expected = apply_grade(fit_to_canvas(source, request.pixels), STYLES["bold_sale"])
    assert as_png(remix(source, request, 0)) == as_png(expected)


def test_headline_and_call_to_action_are_drawn() -> None:
    plain = remix(product_ad(), options(), 0)
    texted = remix(product_ad(), options(headline="Big Sale", call_to_action="Shop now"), 0)
    changed = changed_box(plain, texted)
    assert changed is not None
    left, _top, right, _bottom = changed
    assert right - left > plain.width * 0.5  # a band of text, not a stray pixel
    headline_only = remix(product_ad(), options(headline="Big Sale"), 0)
    assert changed_box(headline_only, texted) is not None  # the button adds pixels of its own


def test_text_goes_where_the_subject_is_not() -> None:
    for box, text_on_top in (((0.3, 0.55, 0.7, 0.95), True), ((0.3, 0.05, 0.7, 0.45), False)):
        source = product_ad((1000, 1000), box=box)
        plain = remix(source, options(), 0)
        texted = remix(source, options(headline="Big Sale", call_to_action="Shop now"), 0)
        changed = changed_box(plain, texted)
        assert changed is not None
        _left, top, _right, bottom = changed
        if text_on_top:
            assert top == 0 and bottom < plain.height / 2
        else:
            assert bottom == plain.height and top > plain.height / 2


def test_long_text_shrinks_and_leaves_most_of_the_ad_clear() -> None:
    source = product_ad((1000, 1000), box=(0.3, 0.55, 0.7, 0.95))
    request = options(
        headline="Everything must go " * 4, call_to_action="Claim your discount today"
    )
    changed = changed_box(remix(source, options(), 0), remix(source, request, 0))
    assert changed is not None
    assert changed[3] < 1024 * 0.55


def test_call_to_action_uses_the_first_brand_colour() -> None:
    orange = (255, 102, 0)
    branded = remix(product_ad(), options(call_to_action="Buy", brand_colors="#FF6600, #222"), 0)
    default = remix(product_ad(), options(call_to_action="Buy"), 0)
    assert area_of_colour(branded, orange, tolerance=6) > 2000
    assert area_of_colour(default, orange, tolerance=6) == 0


def test_brand_colour_is_parsed_from_free_text() -> None:
    assert brand_colour("our colours: #FF6600 and #222") == (255, 102, 0)
    assert brand_colour("#0a7") == (0, 170, 119)
    assert brand_colour("#12345, #zzzzzz, #abcd, #336699") == (51, 102, 153)
    assert brand_colour("red, blue") is None
    assert brand_colour("") is None


def test_extreme_aspect_is_padded_not_cropped_away() -> None:
    banner = Image.new("RGB", (4000, 300), (240, 140, 20))
    ImageDraw.Draw(banner).rectangle((3600, 50, 3900, 250), fill=(0, 200, 0))  # subject at the end
    story = fit_to_canvas(banner, (1080, 1920))
    assert story.size == (1080, 1920)
    # The whole banner is kept: the subject is scaled down with it, not cut off.
    scale = 1080 / 4000
    assert area_of_colour(story, (0, 200, 0), tolerance=30) > 300 * 200 * scale**2 * 0.8
    # The padding is the banner's own colour, blurred and darkened, not black bars.
    top_padding = mean_colour(story.crop((0, 0, 1080, 400)))
    assert top_padding[0] > 120 and top_padding[0] > top_padding[2] + 60


def test_near_aspect_crops_around_the_subject() -> None:
    image = Image.new("RGB", (1000, 800), (240, 240, 240))
    ImageDraw.Draw(image).ellipse((820, 300, 980, 460), fill=(10, 10, 200))
    assert subject_focus(image)[0] > 0.8
    square = fit_to_canvas(image, (800, 800))
    assert square.size == (800, 800)
    # Cropped, not padded: the corners are the untouched background...
    assert square.getpixel((0, 0)) == (240, 240, 240)
    # ...and the whole subject is still in frame.
    assert area_of_colour(square, (10, 10, 200), tolerance=30) > 3.14 * 80 * 80 * 0.9


@pytest.mark.parametrize("size", [(1080, 1080), (1080, 1350), (1080, 1920), (1200, 628)])
def test_fit_to_canvas_gives_the_exact_export_size(size: tuple[int, int]) -> None:
    for source_size in ((1024, 1024), (1536, 1024), (1024, 1536), (300, 4000), (7, 3)):
        assert fit_to_canvas(product_ad(source_size), size).size == size


def test_transparent_source_is_flattened_on_white() -> None:
    source = Image.new("RGBA", (800, 800), (0, 0, 0, 0))
    ImageDraw.Draw(source).rectangle((300, 300, 500, 500), fill=(*PRODUCT, 255))
    out = remix(source, options(), 0)
    assert out.mode == "RGB"
    assert min(out.getpixel((10, 10))) > 200  # white, graded: not the black of RGBA zeros
    assert min(fit_to_canvas(source, (1200, 628)).getpixel((600, 10))) > 200


def test_engine_returns_png_bytes_the_upload_checks_accept() -> None:
    data = asyncio.run(
        OfflineEngine().generate_one(
            source_png=as_png(product_ad(mode="RGBA")),
            options=options(placement="landscape", headline="Sale"),
            index=2,
        )
    )
    assert data.startswith(b"\x89PNG")
    checked = open_untrusted(data)
    assert checked.source_format == "PNG"
    assert checked.image.size == (1536, 1024)


def test_a_portrait_remix_is_fast() -> None:
    source = product_ad((1024, 1536))
    request = options(placement="portrait", headline="Big Sale", call_to_action="Shop now")
    started = time.perf_counter()
    remix(source, request, 1)
    assert time.perf_counter() - started < 1.0
