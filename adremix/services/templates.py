"""Built-in style templates, placements and the one function that builds the prompt."""

from __future__ import annotations

from dataclasses import dataclass

MAX_INSTRUCTIONS = 2000
MAX_TEXT = 80


@dataclass(frozen=True)
class StyleTemplate:
    code: str
    name: str
    prompt: str
    # Offline engine colour grade: (saturation, contrast, brightness, tint RGB, tint strength)
    grade: tuple[float, float, float, tuple[int, int, int], float]
    accent: tuple[int, int, int]


TEMPLATES: dict[str, StyleTemplate] = {
    t.code: t
    for t in (
        StyleTemplate(
            "minimal",
            "Minimal",
            "Clean minimal layout: generous white space, one focal subject, restrained "
            "neutral palette, simple sans-serif typography.",
            (0.85, 1.05, 1.08, (245, 245, 240), 0.10),
            (30, 30, 30),
        ),
        StyleTemplate(
            "bold_sale",
            "Bold sale",
            "High-energy sale ad: saturated colours, strong contrast, large bold headline, "
            "a prominent price or discount burst, urgent call to action.",
            (1.45, 1.25, 1.0, (230, 30, 45), 0.12),
            (220, 20, 40),
        ),
        StyleTemplate(
            "festive",
            "Festive",
            "Festive celebration mood: warm golden light, marigold and deep red accents, "
            "subtle sparkles and diyas, joyful and premium.",
            (1.2, 1.1, 1.05, (255, 170, 40), 0.16),
            (200, 120, 10),
        ),
        StyleTemplate(
            "luxury",
            "Luxury",
            "Luxury editorial look: deep dark background, soft dramatic lighting, gold "
            "details, elegant serif typography, lots of negative space.",
            (0.8, 1.2, 0.9, (25, 20, 15), 0.22),
            (200, 165, 90),
        ),
        StyleTemplate(
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


class InvalidRequest(Exception):
    """A remix request the user must fix (message safe to show)."""


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

    def validated(self) -> RemixOptions:
        instructions = self.instructions.strip()
        if not instructions:
            raise InvalidRequest("Describe how to remix the ad.")
        if len(instructions) > MAX_INSTRUCTIONS:
            raise InvalidRequest(
                f"Instructions are limited to {MAX_INSTRUCTIONS} characters "
                f"({len(instructions)} given)."
            )
        if self.template not in TEMPLATES:
            raise InvalidRequest("Choose one of the style templates.")
        if self.placement not in PLACEMENTS:
            raise InvalidRequest("Choose square, portrait or landscape.")
        if self.quality not in QUALITIES:
            raise InvalidRequest("Choose low, medium or high quality.")
        if not 1 <= self.variations <= 4:
            raise InvalidRequest("Choose between 1 and 4 variations.")
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
        )

    @property
    def size(self) -> str:
        return PLACEMENTS[self.placement][1]

    @property
    def pixels(self) -> tuple[int, int]:
        return PLACEMENTS[self.placement][2]


def build_prompt(options: RemixOptions) -> str:
    """The prompt sent to the image model: instructions, style, layout and text rules."""
    template = TEMPLATES[options.template]
    width, height = options.pixels
    shape = {"square": "square", "portrait": "tall portrait", "landscape": "wide landscape"}[
        options.placement
    ]
    parts = [
        "Remix the attached advertisement into a new, polished ad creative.",
        f"Instructions from the marketer: {options.instructions}",
        f"Style: {template.prompt}",
        f"Layout: a {shape} composition ({width}x{height}); keep important content away "
        "from the edges so it survives cropping.",
    ]
    if options.keep_product:
        parts.append(
            "Keep the product and any logo exactly as in the original: same shape, colours, "
            "label text and proportions. Change only the surroundings."
        )
    if options.brand_colors:
        parts.append(f"Use the brand colours: {options.brand_colors}.")
    text_rules = []
    if options.headline:
        text_rules.append(f'the headline "{options.headline}"')
    if options.call_to_action:
        text_rules.append(f'a call-to-action button reading "{options.call_to_action}"')
    if text_rules:
        parts.append(
            "Render exactly this text, spelled correctly, legible, and nothing else: "
            + " and ".join(text_rules)
            + "."
        )
    else:
        parts.append("Do not add any new text beyond what the original ad contains.")
    return "\n".join(parts)
