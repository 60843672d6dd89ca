"""The one function that turns remix options into the image model's prompt."""

from __future__ import annotations

from adremix.services.generation.remix_options import LANGUAGES, STYLES, RemixOptions

COLOUR_ROLES = ("primary", "secondary", "accent", "text", "background")


def build_prompt(options: RemixOptions, *, with_logo: bool = False) -> str:
    """The prompt sent to the image model: instructions, style, layout, brand and text."""
    if options.edit_mask:
        return _edit_prompt(options)
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
    parts.extend(_brand_rules(options, with_logo=with_logo))
    text_rules = []
    language = LANGUAGES.get(options.language, "English")
    if options.language != "en" and (options.headline or options.call_to_action):
        parts.append(
            f"The ad text is in {language}: keep its script exactly as given, with every "
            "conjunct and vowel sign correctly formed."
        )
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


def _brand_rules(options: RemixOptions, *, with_logo: bool) -> list[str]:
    """What the brand kit asks of the image: colours by role, logo, tone, words to avoid."""
    brand = options.brand
    if not brand:
        return []
    rules = []
    colours = brand.get("colors") or {}
    named = [f"{role} {colours[role]}" for role in COLOUR_ROLES if colours.get(role)]
    if named:
        rules.append("Brand colours (role and hex): " + ", ".join(named) + ".")
    if with_logo:
        rules.append(
            "The second input image is the brand's logo: place it once, clearly visible "
            "and unaltered (same shape, colours and lettering), in a corner away from the "
            "main subject."
        )
    if brand.get("tone"):
        rules.append(f"Tone of voice: {brand['tone']}")
    avoid = [str(word) for word in brand.get("avoid_words") or []]
    if avoid:
        rules.append(
            "Never show these words or ideas anywhere in the image: " + ", ".join(avoid) + "."
        )
    return rules


def _edit_prompt(options: RemixOptions) -> str:
    """A region edit: change only the masked area, as the instruction says."""
    parts = [
        "Edit only the masked (transparent) region of the image; leave everything else "
        "exactly as it is and blend the edit seamlessly into its surroundings.",
        f"Instruction: {options.instructions}",
    ]
    parts.extend(_brand_rules(options, with_logo=False))
    return "\n".join(parts)
