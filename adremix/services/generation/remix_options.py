"""What a remix request may ask for: the built-in styles, placements, qualities, and the
options object that validates a request before anything is stored or charged."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adremix.services.errors import UserFacingError

MAX_INSTRUCTIONS = 2000
MAX_TEXT = 80
MAX_VARIATIONS = 4


@dataclass(frozen=True)
class Style:
    code: str
    name: str
    prompt: str
    # Offline engine colour grade: (saturation, contrast, brightness, tint RGB, tint strength)
    grade: tuple[float, float, float, tuple[int, int, int], float]
    accent: tuple[int, int, int]


STYLES: dict[str, Style] = {
    t.code: t
    for t in (
        Style(
            "minimal",
            "Minimal",
            "Clean minimal layout: generous white space, one focal subject, restrained "
            "neutral palette, simple sans-serif typography.",
            (0.85, 1.05, 1.08, (245, 245, 240), 0.10),
            (30, 30, 30),
        ),
        Style(
            "bold_sale",
            "Bold sale",
            "High-energy sale ad: saturated colours, strong contrast, large bold headline, "
            "a prominent price or discount burst, urgent call to action.",
            (1.45, 1.25, 1.0, (230, 30, 45), 0.12),
            (220, 20, 40),
        ),
        Style(
            "festive",
            "Festive",
            "Festive celebration mood: warm golden light, marigold and deep red accents, "
            "subtle sparkles and diyas, joyful and premium.",
            (1.2, 1.1, 1.05, (255, 170, 40), 0.16),
            (200, 120, 10),
        ),
        Style(
            "luxury",
            "Luxury",
            "Luxury editorial look: deep dark background, soft dramatic lighting, gold "
            "details, elegant serif typography, lots of negative space.",
            (0.8, 1.2, 0.9, (25, 20, 15), 0.22),
            (200, 165, 90),
        ),
        Style(
            "playful",
            "Playful",
            "Playful and friendly: bright candy colours, rounded shapes, a bouncy casual "
            "type style, fun illustrated accents.",
            (1.35, 1.05, 1.1, (120, 80, 255), 0.10),
            (110, 60, 240),
        ),
    )
}

PLACEMENTS: dict[str, tuple[str, str, tuple[int, int]]] = {
    "square": ("Square", "1024x1024", (1024, 1024)),
    "portrait": ("Portrait", "1024x1536", (1024, 1536)),
    "landscape": ("Landscape", "1536x1024", (1536, 1024)),
}
QUALITIES = ("low", "medium", "high")


def describe_result(template: str, placement: str) -> str:
    """What a generated image is, in words (its alt text): "Generated ad, Festive style, square"."""
    style = STYLES.get(template)
    shape = PLACEMENTS.get(placement, (placement,))[0]
    return f"Generated ad, {style.name if style else template} style, {shape.lower()}"


# The languages ad text may be in (code -> name): English and eight Indian languages.
LANGUAGES: dict[str, str] = {
    "en": "English",
    "hi": "Hindi",
    "bn": "Bengali",
    "ta": "Tamil",
    "te": "Telugu",
    "mr": "Marathi",
    "gu": "Gujarati",
    "kn": "Kannada",
    "ml": "Malayalam",
}


class InvalidRequest(UserFacingError):
    """A remix request the user must fix."""


@dataclass(frozen=True)
class Attachments:
    """Files a provider gets besides the source: the kit's logo (PNG with alpha), its
    uploaded font (a path on this machine) and a region edit's mask (PNG, white = edit)."""

    logo_png: bytes | None = None
    font_path: str = ""
    mask_png: bytes | None = None


@dataclass(frozen=True)
class RemixOptions:
    instructions: str
    template: str = "minimal"
    placement: str = "square"
    quality: str = "medium"
    variations: int = 1
    headline: str = ""
    call_to_action: str = ""
    brand_colors: str = ""
    keep_product: bool = False
    language: str = "en"
    # The brand kit chosen on New Ad; `brand` is the copy of it the generation used
    # (filled in by start_generation from the user's own kit, never from the browser).
    brand_kit_id: int = 0
    brand: dict[str, Any] = field(default_factory=dict, hash=False)
    # A region edit: the result being edited and the mask (stored by content hash).
    edit_of: str = ""
    edit_mask: str = ""

    def validated(self) -> RemixOptions:
        instructions = self.instructions.strip()
        if not instructions:
            raise InvalidRequest("Describe how to remix the ad.")
        if len(instructions) > MAX_INSTRUCTIONS:
            raise InvalidRequest(
                f"Instructions are limited to {MAX_INSTRUCTIONS} characters "
                f"({len(instructions)} given)."
            )
        if self.template not in STYLES:
            raise InvalidRequest("Choose one of the style templates.")
        if self.placement not in PLACEMENTS:
            raise InvalidRequest("Choose square, portrait or landscape.")
        if self.quality not in QUALITIES:
            raise InvalidRequest("Choose low, medium or high quality.")
        if not 1 <= self.variations <= MAX_VARIATIONS:
            raise InvalidRequest(f"Choose between 1 and {MAX_VARIATIONS} variations.")
        if self.language not in LANGUAGES:
            raise InvalidRequest("Choose one of the offered languages.")
        for label, text in (("Headline", self.headline), ("Call to action", self.call_to_action)):
            if len(text.strip()) > MAX_TEXT:
                raise InvalidRequest(f"{label} is limited to {MAX_TEXT} characters.")
        return RemixOptions(
            instructions=instructions,
            template=self.template,
            placement=self.placement,
            quality=self.quality,
            variations=self.variations,
            headline=self.headline.strip(),
            call_to_action=self.call_to_action.strip(),
            brand_colors=self.brand_colors.strip()[:120],
            keep_product=self.keep_product,
            language=self.language,
            brand_kit_id=max(0, int(self.brand_kit_id or 0)),
            brand=dict(self.brand),
            edit_of=self.edit_of,
            edit_mask=self.edit_mask,
        )

    @property
    def size(self) -> str:
        return PLACEMENTS[self.placement][1]

    @property
    def pixels(self) -> tuple[int, int]:
        return PLACEMENTS[self.placement][2]


# The defaults of a new request (New Ad's form, preferences) are RemixOptions' own.
DEFAULT_OPTIONS = RemixOptions(instructions="")
