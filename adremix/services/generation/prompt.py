"""The one function that turns remix options into the image model's prompt."""

from __future__ import annotations

from adremix.services.generation.remix_options import STYLES, RemixOptions


def build_prompt(options: RemixOptions) -> str:
    """The prompt sent to the image model: instructions, style, layout and text rules."""
    template = STYLES[options.template]
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
