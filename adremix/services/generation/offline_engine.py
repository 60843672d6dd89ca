"""The offline image engine: a deterministic Pillow remix, used when no OpenAI key is set.

It does what the product promises, locally: re-lays the ad out for the placement (crop
around the subject, or pad with a blurred copy of the image), applies the template's colour
grade, and sets the headline and call to action in a bundled open font (DejaVu Sans Bold).
Same inputs give byte-identical PNGs, so tests and cached results are stable.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

from adremix.blocking import call
from adremix.services.generation.contrast import (
    AA_NORMAL_TEXT,
    BLACK,
    RGB,
    WHITE,
    best_text_colour,
    luminance,
    luminance_map,
    parse_hex,
)
from adremix.services.generation.images import encode_png
from adremix.services.generation.remix_options import STYLES, Attachments, RemixOptions, Style
from adremix.services.generation.typesetting import FontChoice, draw_line, text_width

HEX_COLOUR = re.compile(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")
# Crop when it keeps at least this share of the image; otherwise pad.
MIN_KEPT_AREA = 0.8
# Saliency and text placement look at a copy this small: fast, and detail is enough.
ANALYSIS_SIDE = 128
# FIND_EDGES responds a little to JPEG noise and gradients; below this it is not detail.
EDGE_FLOOR = 24
# Headline, button and margins together never take more of the height than this.
MAX_TEXT_SHARE = 0.38
MIN_FONT_SIZE = 14
# How dark the scrim behind the text gets at least without a kit (of 255).
SCRIM_ALPHA = 160


@dataclass(frozen=True)
class Variation:
    """How variation `index` differs from the first: framing and grade strength."""

    nudge: tuple[float, float]  # crop mode: focus shift, as fractions of the source
    zoom: float  # crop mode: >1 crops a little tighter
    align: float  # pad mode: where the picture sits along the padded axis (0.5 centred)
    grade_step: float  # added to saturation and tint strength, half of it to contrast


# Small, deterministic steps: each variation looks different, none loses the subject.
VARIATIONS = (
    Variation((0.0, 0.0), 1.0, 0.5, 0.0),
    Variation((-0.06, 0.0), 1.06, 0.3, 0.1),
    Variation((0.06, 0.0), 1.06, 0.7, -0.08),
    Variation((0.0, -0.04), 1.12, 0.4, 0.16),
)


def flatten(image: Image.Image) -> Image.Image:
    """An RGB copy; transparent areas become white, as the ad would show on a page."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, WHITE)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


def _edge_map(image: Image.Image) -> Image.Image:
    """Edge energy of a small greyscale copy, noise floored and the frame removed."""
    small = image.convert("RGB")
    small.thumbnail((ANALYSIS_SIDE, ANALYSIS_SIDE), Image.Resampling.BILINEAR)
    edges = small.convert("L").filter(ImageFilter.FIND_EDGES)
    edges = edges.point(lambda v: v if v > EDGE_FLOOR else 0)
    # FIND_EDGES marks the image frame itself; blank a 1px border.
    ImageDraw.Draw(edges).rectangle((0, 0, edges.width - 1, edges.height - 1), outline=0)
    return edges


def _profile(edges: Image.Image, axis: str) -> list[float]:
    """Mean edge energy per column ("x") or per row ("y"); a BOX resize averages for us."""
    size = (edges.width, 1) if axis == "x" else (1, edges.height)
    return [float(v) for v in edges.resize(size, Image.Resampling.BOX).getdata()]


def _centroid(weights: list[float]) -> float | None:
    total = sum(weights)
    if total <= 0:
        return None
    return sum(w * (i + 0.5) for i, w in enumerate(weights)) / total / len(weights)


def subject_focus(image: Image.Image) -> tuple[float, float]:
    """Where the subject probably is, as fractions (x, y): the centroid of edge energy.

    Cheap saliency: ads put the detail (product, text, faces) on a plainer background.
    A featureless image has its focus in the centre.
    """
    edges = _edge_map(image)
    fx = _centroid(_profile(edges, "x"))
    fy = _centroid(_profile(edges, "y"))
    return (0.5 if fx is None else fx, 0.5 if fy is None else fy)


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def _crop_around(
    image: Image.Image, size: tuple[int, int], focus: tuple[float, float], zoom: float
) -> Image.Image:
    src_w, src_h = image.size
    ratio = size[0] / size[1]
    if src_w / src_h > ratio:  # wider than the placement: keep the height, trim the sides
        crop_w, crop_h = src_h * ratio / zoom, src_h / zoom
    else:
        crop_w, crop_h = src_w / zoom, src_w / ratio / zoom
    # Centre the window on the subject, then slide it back inside the image.
    left = _clamp(focus[0] * src_w - crop_w / 2, 0.0, src_w - crop_w)
    top = _clamp(focus[1] * src_h - crop_h / 2, 0.0, src_h - crop_h)
    return image.resize(
        size, Image.Resampling.LANCZOS, box=(left, top, left + crop_w, top + crop_h)
    )


def _pad(image: Image.Image, size: tuple[int, int], align: float) -> Image.Image:
    target_w, target_h = size
    scale = min(target_w / image.width, target_h / image.height)
    fg_w = max(1, min(target_w, round(image.width * scale)))
    fg_h = max(1, min(target_h, round(image.height * scale)))
    foreground = image.resize((fg_w, fg_h), Image.Resampling.LANCZOS)
    # The background is the image itself, scaled to cover, blurred hard and darkened a
    # little, so the padding carries the ad's colours instead of flat bars. Blurring an
    # eighth-size copy and enlarging it is as smooth as a full-size blur and ~50x cheaper.
    small_size = (max(1, target_w // 8), max(1, target_h // 8))
    cover = max(small_size[0] / image.width, small_size[1] / image.height)
    cover_w, cover_h = image.width * cover, image.height * cover
    box_left = (cover_w - small_size[0]) / 2 / cover
    box_top = (cover_h - small_size[1]) / 2 / cover
    small = image.resize(
        small_size,
        Image.Resampling.BILINEAR,
        box=(box_left, box_top, image.width - box_left, image.height - box_top),
        reducing_gap=2.0,
    )
    small = small.filter(ImageFilter.GaussianBlur(radius=max(small_size) / 10))
    background = ImageEnhance.Brightness(small).enhance(0.78)
    offset = (round((target_w - fg_w) * align), round((target_h - fg_h) * align))
    # A soft shadow lifts the picture off its own blurred copy.
    shadow = Image.new("L", small_size, 0)
    ImageDraw.Draw(shadow).rectangle(
        (
            offset[0] // 8,
            (offset[1] + max(2, target_h // 200)) // 8,
            (offset[0] + fg_w) // 8,
            (offset[1] + fg_h) // 8 + 1,
        ),
        fill=120,
    )
    shadow = shadow.filter(ImageFilter.GaussianBlur(radius=2))
    canvas = background.resize(size, Image.Resampling.BICUBIC)
    canvas.paste((0, 0, 0), (0, 0, *size), mask=shadow.resize(size, Image.Resampling.BICUBIC))
    canvas.paste(foreground, offset)
    return canvas


def fit_to_canvas(
    image: Image.Image,
    size: tuple[int, int],
    *,
    focus: tuple[float, float] | None = None,
    zoom: float = 1.0,
    align: float = 0.5,
) -> Image.Image:
    """An RGB image of exactly `size`: crop around the subject when little is lost, else pad.

    Cropping is used when it keeps at least 80% of the image; `focus` (fractions x, y)
    overrides the estimated subject position and `zoom` > 1 crops a little tighter. For
    shapes further apart the whole image is kept, on a blurred copy of itself; `align`
    places it along the padded axis (0 top/left, 0.5 centred, 1 bottom/right).
    """
    image = flatten(image)
    src_ratio = image.width / image.height
    target_ratio = size[0] / size[1]
    kept = min(src_ratio, target_ratio) / max(src_ratio, target_ratio)
    if kept >= MIN_KEPT_AREA:
        return _crop_around(image, size, focus or subject_focus(image), max(1.0, zoom))
    return _pad(image, size, _clamp(align, 0.0, 1.0))


def apply_grade(image: Image.Image, template: Style, *, step: float = 0.0) -> Image.Image:
    """The template's colour grade: saturation, contrast, brightness, then a tint blend.

    `step` strengthens (or, negative, softens) the grade for a variation.
    """
    saturation, contrast, brightness, tint, strength = template.grade
    image = ImageEnhance.Color(image).enhance(max(0.0, saturation + step))
    image = ImageEnhance.Contrast(image).enhance(max(0.0, contrast + step / 2))
    image = ImageEnhance.Brightness(image).enhance(brightness)
    overlay = Image.new("RGB", image.size, tint)
    return Image.blend(image, overlay, _clamp(strength + step, 0.0, 0.6))


def brand_colour(text: str) -> tuple[int, int, int] | None:
    """The first valid #rgb / #rrggbb colour in the free-text brand colours field, if any."""
    match = HEX_COLOUR.search(text or "")
    if not match:
        return None
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))


def _wrap(text: str, choice: FontChoice, size: int, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        trial = f"{lines[-1]} {word}" if lines else word
        if lines and text_width(trial, choice, size) <= width:
            lines[-1] = trial
        else:
            lines.append(word)
    return lines


def _fit_text(
    text: str,
    choice: FontChoice,
    *,
    max_width: int,
    max_height: int,
    start: int,
    max_lines: int,
) -> tuple[int, list[str]]:
    """The largest font size (from `start`, shrinking) whose wrapped text fits the box."""
    size = max(start, MIN_FONT_SIZE)
    while True:
        lines = _wrap(text, choice, size, max_width)
        widest = max((text_width(line, choice, size) for line in lines), default=0)
        fits = len(lines) <= max_lines and widest <= max_width
        if (fits and _line_height(size) * len(lines) <= max_height) or size <= MIN_FONT_SIZE:
            return size, lines
        size = max(MIN_FONT_SIZE, int(size * 0.92))


def _line_height(size: int) -> int:
    # Indic scripts stack matras above and below: a taller line than Latin needs.
    return round(size * 1.35)


def _quieter_edge_is_top(image: Image.Image, share: float) -> bool:
    """Whether the top `share` of the image has less detail than the bottom `share`.

    Text goes where the subject isn't; on a tie the bottom wins, as in most ads.
    """
    rows = _profile(_edge_map(image), "y")
    span = max(1, round(len(rows) * share))
    return sum(rows[:span]) < sum(rows[-span:])


def _scrim(
    size: tuple[int, int], *, at_top: bool, solid: int, fade: int, alpha: int
) -> Image.Image:
    """Alpha mask: `alpha` behind the text (`solid` px) fading out over `fade` px more."""
    height = size[1]
    column = Image.new("L", (1, height), 0)
    column.paste(alpha, (0, 0, 1, min(height, solid)))
    # linear_gradient runs 0 -> 255 downwards; invert and scale it to fade the dark out.
    ramp = Image.linear_gradient("L").resize((1, max(1, fade)))
    column.paste(ramp.point(lambda v: alpha - v * alpha // 255), (0, solid))
    if not at_top:
        column = column.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    return column.resize(size, Image.Resampling.NEAREST)


@dataclass(frozen=True)
class BrandLook:
    """What a brand kit changes in the offline remix: font, colours and the logo."""

    font: FontChoice = field(default_factory=FontChoice)
    text: RGB | None = None  # the kit's text colour, preferred where it is legible
    background: RGB | None = None
    button: RGB | None = None  # the call to action's fill (the kit's primary colour)
    logo: Image.Image | None = None  # RGBA


@dataclass(frozen=True)
class Placed:
    """Where something was drawn (for tests and the benchmark)."""

    kind: str  # "headline", "cta" or "logo"
    box: tuple[int, int, int, int]
    fill: RGB | None = None  # text colour
    behind: RGB | None = None  # the solid colour behind the text (the button), if any


@dataclass
class Composition:
    image: Image.Image
    placed: list[Placed]


# Scrim strengths tried, weakest first, until the text meets WCAG AA on every pixel.
SCRIM_STEPS = (0, 64, 112, SCRIM_ALPHA, 200, 232, 255)
# How strong a scrim the kit's own text colour may need before white or black is used.
KIT_SCRIM_LIMIT = 200


def _scrimmed_luminance(region: np.ndarray, colour: RGB, alpha: int) -> np.ndarray:
    blended = region * (1 - alpha / 255) + np.array(colour, dtype=np.float64) * (alpha / 255)
    return luminance_map(Image.fromarray(blended.round().astype(np.uint8), "RGB"))


def _worst(fill: RGB, lum: np.ndarray) -> float:
    text = luminance(fill)
    ratios = (np.maximum(lum, text) + 0.05) / (np.minimum(lum, text) + 0.05)
    return float(ratios.min())


def _legible_text(
    image: Image.Image,
    box: tuple[int, int, int, int],
    preferred: list[RGB],
    base_alpha: int,
) -> tuple[RGB, RGB, int]:
    """(text colour, scrim colour, scrim alpha) reaching 4.5:1 against every pixel behind
    the text. The kit's colours come first, with up to a strong scrim; then white or
    black with the weakest scrim that works. A fully opaque black or white scrim always
    gets there (see contrast.best_text_colour)."""
    region = np.asarray(image.crop(box).convert("RGB"), dtype=np.float64)

    def passes(fill: RGB, alpha: int) -> RGB | None:
        scrim = BLACK if luminance(fill) > 0.18 else WHITE
        lum = _scrimmed_luminance(region, scrim, alpha)
        return scrim if _worst(fill, lum) >= AA_NORMAL_TEXT else None

    for fill in preferred:
        for alpha in (a for a in SCRIM_STEPS if base_alpha <= a <= KIT_SCRIM_LIMIT):
            scrim = passes(fill, alpha)
            if scrim is not None:
                return fill, scrim, alpha
    for alpha in (a for a in SCRIM_STEPS if a >= base_alpha):
        for fill in (WHITE, BLACK):
            scrim = passes(fill, alpha)
            if scrim is not None:
                return fill, scrim, alpha
    return WHITE, BLACK, 255


def _set_text(
    image: Image.Image, options: RemixOptions, look: BrandLook, placed: list[Placed]
) -> tuple[Image.Image, bool | None]:
    """Headline and call to action together, at the edge with less detail; returns the
    image and whether the text went to the top (None: no text)."""
    if not options.headline and not options.call_to_action:
        return image, None
    template = STYLES[options.template]
    width, height = image.size
    short_side = min(width, height)
    margin = short_side // 24
    gap = short_side // 40
    text_width_max = int(width * 0.85)
    available = int(height * MAX_TEXT_SHARE) - 2 * margin
    font = look.font

    button: tuple[int, str, int, int] | None = None
    if options.call_to_action:
        size, cta_lines = _fit_text(
            options.call_to_action,
            font,
            max_width=int(width * 0.6),
            max_height=available // 3,
            start=short_side // 22,
            max_lines=1,
        )
        label = cta_lines[0] if cta_lines else options.call_to_action
        button_w = round(text_width(label, font, size)) + 2 * size
        button_h = round(size * 2.1)
        button = (size, label, min(button_w, width - 2 * margin), button_h)
        available -= button_h + gap

    headline: tuple[int, list[str]] | None = None
    if options.headline:
        headline = _fit_text(
            options.headline,
            font,
            max_width=text_width_max,
            max_height=available,
            start=short_side // 11,
            max_lines=3,
        )

    block_h = 0
    if headline:
        block_h += _line_height(headline[0]) * len(headline[1])
    if button:
        block_h += button[3] + (gap if headline else 0)
    solid = block_h + 2 * margin
    at_top = _quieter_edge_is_top(image, solid / height)
    top = margin if at_top else height - margin - block_h

    canvas = image.copy()
    draw = ImageDraw.Draw(canvas)
    language = options.language if options.language != "en" else ""
    y = top
    if headline:
        size, lines = headline
        widest = max(text_width(line, font, size) for line in lines)
        box = (
            max(0, round((width - widest) / 2) - 2),
            max(0, y),
            min(width, round((width + widest) / 2) + 2),
            min(height, y + _line_height(size) * len(lines)),
        )
        preferred = [c for c in (look.text, look.background) if c is not None]
        # Without a kit: white on a dark scrim, the engine's usual look.
        candidates = [*preferred, WHITE, BLACK] if preferred else [WHITE, BLACK]
        fill, scrim, alpha = _legible_text(canvas, box, candidates, 0 if preferred else SCRIM_ALPHA)
        if alpha:
            canvas.paste(
                scrim,
                (0, 0, width, height),
                mask=_scrim(image.size, at_top=at_top, solid=solid, fade=solid // 3, alpha=alpha),
            )
            draw = ImageDraw.Draw(canvas)
        for line in lines:
            centre = (width / 2, y + _line_height(size) / 2)
            draw_line(draw, centre, line, font, size, fill, language=language)
            y += _line_height(size)
        y += gap
        placed.append(Placed("headline", box, fill))
    if button:
        size, label, button_w, button_h = button
        colour = look.button or brand_colour(options.brand_colors) or template.accent
        label_colour = best_text_colour(
            [c for c in (WHITE, look.text, look.background) if c is not None], colour
        )
        left = (width - button_w) // 2
        draw.rounded_rectangle(
            (left, y, left + button_w, y + button_h), radius=button_h // 2, fill=colour
        )
        draw_line(
            draw, (width / 2, y + button_h / 2), label, font, size, label_colour, language=language
        )
        placed.append(Placed("cta", (left, y, left + button_w, y + button_h), label_colour, colour))
    return canvas, at_top


# Logo widths tried, as shares of the short side, largest first.
LOGO_SHARES = (0.24, 0.18, 0.13)
# Mean edge energy (0-255) under which a corner counts as quiet enough for the logo.
QUIET_CORNER = 12.0


def _place_logo(
    image: Image.Image, logo: Image.Image, text_at_top: bool | None, placed: list[Placed]
) -> Image.Image:
    """The logo in the quietest corner away from the text, as large as that corner allows."""
    width, height = image.size
    short_side = min(width, height)
    margin = short_side // 24
    edges = _edge_map(image)
    scale_x, scale_y = edges.width / width, edges.height / height
    corners = ["top-left", "top-right", "bottom-left", "bottom-right"]
    if text_at_top is not None:  # the other edge: the text band is taken
        corners = [c for c in corners if c.startswith("bottom" if text_at_top else "top")]
    best: tuple[float, tuple[int, int, int, int]] | None = None
    for share in LOGO_SHARES:
        logo_w = round(short_side * share)
        logo_h = round(logo_w * logo.height / logo.width)
        if logo_h > height * 0.16:
            logo_h = round(height * 0.16)
            logo_w = max(1, round(logo_h * logo.width / logo.height))
        for corner in corners:
            left = margin if corner.endswith("left") else width - margin - logo_w
            top = margin if corner.startswith("top") else height - margin - logo_h
            box = (left, top, left + logo_w, top + logo_h)
            small = (
                int(box[0] * scale_x),
                int(box[1] * scale_y),
                max(int(box[0] * scale_x) + 1, round(box[2] * scale_x)),
                max(int(box[1] * scale_y) + 1, round(box[3] * scale_y)),
            )
            energy = float(np.asarray(edges.crop(small), dtype=np.float64).mean())
            if best is None or energy < best[0]:
                best = (energy, box)
        if best is not None and best[0] <= QUIET_CORNER:
            break
    assert best is not None
    box = best[1]
    fitted = logo.resize((box[2] - box[0], box[3] - box[1]), Image.Resampling.LANCZOS)
    canvas = image.copy()
    canvas.paste(fitted, box[:2], mask=fitted.getchannel("A"))
    placed.append(Placed("logo", box))
    return canvas


def compose(
    image: Image.Image, options: RemixOptions, look: BrandLook | None = None
) -> Composition:
    """Text and logo on a laid-out, graded image; says where each went."""
    look = look or BrandLook()
    placed: list[Placed] = []
    canvas, text_at_top = _set_text(image, options, look, placed)
    if look.logo is not None:
        canvas = _place_logo(canvas, look.logo, text_at_top, placed)
    return Composition(canvas, placed)


def remix(
    source: Image.Image, options: RemixOptions, index: int, look: BrandLook | None = None
) -> Image.Image:
    """The offline remix of `source` for `options`, variation `index` (0-based).

    Returns an RGB image of exactly the placement's size: laid out for the placement,
    colour graded by the template, with the headline and call to action (if any) set.
    """
    source = flatten(source)
    variation = VARIATIONS[index % len(VARIATIONS)]
    focus_x, focus_y = subject_focus(source)
    focus = (
        _clamp(focus_x + variation.nudge[0], 0.0, 1.0),
        _clamp(focus_y + variation.nudge[1], 0.0, 1.0),
    )
    laid_out = fit_to_canvas(
        source, options.pixels, focus=focus, zoom=variation.zoom, align=variation.align
    )
    graded = apply_grade(laid_out, STYLES[options.template], step=variation.grade_step)
    return compose(graded, options, look).image


def brand_look(options: RemixOptions, attachments: Attachments | None) -> BrandLook | None:
    """The offline engine's reading of the kit copied into the options (None: no kit)."""
    brand = options.brand
    if not brand:
        return None
    attachments = attachments or Attachments()
    colours = brand.get("colors") or {}
    logo = None
    if attachments.logo_png:
        with Image.open(io.BytesIO(attachments.logo_png)) as opened:
            logo = opened.convert("RGBA")
    return BrandLook(
        font=FontChoice(key=str(brand.get("font") or ""), path=attachments.font_path),
        text=parse_hex(str(colours.get("text", ""))),
        background=parse_hex(str(colours.get("background", ""))),
        button=parse_hex(str(colours.get("primary", ""))),
        logo=logo,
    )


QUOTED = re.compile(r"[\"“”«»]([^\"“”«»]{1,80})[\"“”«»]")
INPAINT_RADIUS = 7


def quoted_text(instructions: str) -> str:
    """The text an edit asks to show: the first quoted phrase of the instruction."""
    match = QUOTED.search(instructions)
    return match.group(1).strip() if match else ""


def region_edit(
    image: Image.Image, mask: Image.Image, instructions: str, look: BrandLook | None = None
) -> Image.Image:
    """Fill the masked region from its surroundings (OpenCV's Telea inpainting) and set
    the instruction's quoted text in it, if any; pixels outside the mask stay as they were."""
    import cv2  # only the edit path needs OpenCV

    base = flatten(image)
    region = mask.convert("L")
    if region.size != base.size:
        region = region.resize(base.size, Image.Resampling.NEAREST)
    region = region.point(lambda v: 255 if v >= 128 else 0)
    pixels = np.ascontiguousarray(np.asarray(base)[:, :, ::-1])  # OpenCV works in BGR
    healed = cv2.inpaint(pixels, np.asarray(region), INPAINT_RADIUS, cv2.INPAINT_TELEA)
    edited = Image.fromarray(np.ascontiguousarray(healed[:, :, ::-1]), "RGB")
    text = quoted_text(instructions)
    box = region.getbbox()
    if text and box:
        font = (look or BrandLook()).font
        width, height = box[2] - box[0], box[3] - box[1]
        size, lines = _fit_text(
            text,
            font,
            max_width=int(width * 0.9),
            max_height=int(height * 0.8),
            start=max(MIN_FONT_SIZE, height // 3),
            max_lines=3,
        )
        behind = tuple(int(v) for v in np.asarray(edited.crop(box)).reshape(-1, 3).mean(axis=0))
        candidates = [c for c in ((look.text if look else None), WHITE, BLACK) if c is not None]
        fill = best_text_colour(candidates, behind)  # type: ignore[arg-type]
        draw = ImageDraw.Draw(edited)
        y = box[1] + (height - _line_height(size) * len(lines)) / 2
        for line in lines:
            draw_line(
                draw, ((box[0] + box[2]) / 2, y + _line_height(size) / 2), line, font, size, fill
            )
            y += _line_height(size)
    return Image.composite(edited, base, region)


def _render(
    source_png: bytes, options: RemixOptions, index: int, attachments: Attachments | None
) -> bytes:
    look = brand_look(options, attachments)
    with Image.open(io.BytesIO(source_png)) as source:
        source.load()
        if options.edit_mask and attachments is not None and attachments.mask_png:
            with Image.open(io.BytesIO(attachments.mask_png)) as mask:
                result = region_edit(source, mask, options.instructions, look)
        else:
            result = remix(source, options, index, look)
    return encode_png(result)


class OfflineEngine:
    """Runs `remix` off the event loop; labelled "Offline engine" in the UI."""

    name = "offline"
    model = "offline-v1"

    async def generate_one(
        self,
        *,
        source_png: bytes,
        options: RemixOptions,
        index: int,
        attachments: Attachments | None = None,
    ) -> bytes:
        """One remixed PNG for variation `index`; CPU work runs in a worker thread."""
        return await call(_render, source_png, options, index, attachments)
