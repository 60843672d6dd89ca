"""Theme constants in one place, and the Radix Themes stylesheet trimmed to the colours used."""

import dataclasses
from typing import Any

from reflex_components_radix.plugin import RadixThemesPlugin

ACCENT = "violet"
GRAY = "slate"
SIDEBAR_WIDTH = "15rem"
PAGE_MAX_WIDTH = "72rem"
CARD_SHADOW = "0 1px 2px rgba(16,24,40,.06), 0 8px 24px rgba(16,24,40,.06)"
GRADIENT = "linear-gradient(135deg, var(--violet-9) 0%, var(--plum-9) 55%, var(--crimson-9) 100%)"

# Every Radix colour the app names (accent, gray, color_scheme, rx.color, var(--x-n));
# tests/test_theme_colors.py fails when code names one that is not here.
RADIX_COLORS = (
    ACCENT,
    GRAY,
    "gray",
    "amber",
    "blue",
    "crimson",
    "grass",
    "iris",
    "plum",
    "red",
)


@dataclasses.dataclass
class RadixThemesColors(RadixThemesPlugin):
    """Radix Themes with the colour tokens the app uses, not all 31 of them.

    `styles.css` declares about 870 colour custom properties on the page's root, light
    and dark, and the browser carries every one of them through each element's style
    while it computes the first paint (and Lighthouse's 4x slower phone pays it four
    times). Radix ships the parts separately for this: base tokens, one file per colour,
    components and utilities.
    """

    def get_stylesheet_paths(self, **context: Any) -> tuple[str, ...]:
        if not self.enabled:
            return ()
        return (
            "@radix-ui/themes/tokens/base.css",
            *(f"@radix-ui/themes/tokens/colors/{color}.css" for color in RADIX_COLORS),
            "@radix-ui/themes/components.css",
            "@radix-ui/themes/utilities.css",
        )
