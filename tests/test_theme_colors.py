"""The app ships only the Radix colour tokens it names (adremix/styles.py): a colour used
in code but missing from that list would render with undefined custom properties."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from reflex_components_radix.themes.base import LiteralAccentColor, LiteralGrayColor

from adremix.styles import RADIX_COLORS, RadixThemesColors

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [
    *sorted((ROOT / "adremix").rglob("*.py")),
    *sorted((ROOT / "assets").glob("*.css")),
    *sorted((ROOT / "assets").glob("*.js*")),
    *sorted((ROOT / "adremix").rglob("*.jsx")),
    ROOT / "rxconfig.py",
]
# Radix's accent colours (gray among them) and the grays a theme can take ("auto" is
# a choice, not a colour).
ALL_COLORS = {*typing.get_args(LiteralAccentColor), *typing.get_args(LiteralGrayColor)} - {"auto"}


def named_colors(text: str) -> set[str]:
    """Radix colours named as a string ("red", 'red') or a token (--red-9, var(--red-a3))."""
    found = set()
    for color in ALL_COLORS:
        if re.search(rf"""["']{color}["']|--{color}-""", text):
            found.add(color)
    return found


def test_every_colour_the_code_names_is_shipped() -> None:
    used: dict[str, list[str]] = {}
    for path in SOURCES:
        for color in named_colors(path.read_text()):
            used.setdefault(color, []).append(str(path.relative_to(ROOT)))
    missing = {color: files for color, files in used.items() if color not in RADIX_COLORS}
    assert not missing, f"colours used but not in styles.RADIX_COLORS: {missing}"
    assert "violet" in used and "red" in used  # the scan reads the sources


def test_the_scan_sees_a_colour_outside_the_list() -> None:
    assert named_colors('rx.badge("x", color_scheme="tomato")') == {"tomato"}
    assert named_colors("background: var(--jade-9);") == {"jade"}
    assert "tomato" not in RADIX_COLORS


def test_the_stylesheet_is_radix_in_parts_with_only_those_colours() -> None:
    sheets = RadixThemesColors().get_stylesheet_paths()
    colors = [s.rsplit("/", 1)[1].removesuffix(".css") for s in sheets if "/colors/" in s]
    assert sorted(colors) == sorted(set(RADIX_COLORS))
    assert sheets[0] == "@radix-ui/themes/tokens/base.css"
    assert sheets[-2:] == ("@radix-ui/themes/components.css", "@radix-ui/themes/utilities.css")
    assert RadixThemesColors(enabled=False).get_stylesheet_paths() == ()
