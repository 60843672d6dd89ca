"""Setting text in images: bundled fonts, Indic scripts shaped by libraqm, mixed scripts.

Pillow's basic layout draws one glyph per code point, which breaks every Indic script
(conjuncts, reordered matras, reph); the RAQM layout (libraqm: FriBiDi + HarfBuzz) shapes
them as a reader expects. The bundled Noto fonts cover one Indic script each but no Latin
letters, so a headline such as "दिवाली SALE" is split into runs, each set in a font that
has its glyphs, on one baseline.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageDraw, ImageFont, features

from adremix.services.errors import UserFacingError

FONT_DIR = Path(__file__).resolve().parents[3] / "assets" / "fonts"

# The fonts a brand kit may choose (key -> label, file); each is an OFL (or free) font
# shipped in assets/fonts with its licence.
BUNDLED_FONTS: dict[str, tuple[str, str]] = {
    "inter": ("Inter", "Inter-Bold.otf"),
    "noto_sans": ("Noto Sans", "NotoSans-Bold.ttf"),
    "dejavu_sans": ("DejaVu Sans", "DejaVuSans-Bold.ttf"),
}
DEFAULT_FONT = "dejavu_sans"

# Unicode blocks of the Indian scripts we set, and the Noto font for each.
SCRIPT_BLOCKS: dict[str, tuple[int, int]] = {
    "devanagari": (0x0900, 0x097F),
    "bengali": (0x0980, 0x09FF),
    "gujarati": (0x0A80, 0x0AFF),
    "tamil": (0x0B80, 0x0BFF),
    "telugu": (0x0C00, 0x0C7F),
    "kannada": (0x0C80, 0x0CFF),
    "malayalam": (0x0D00, 0x0D7F),
}
SCRIPT_FONTS: dict[str, str] = {
    "devanagari": "NotoSansDevanagari-Bold.ttf",
    "bengali": "NotoSansBengali-Bold.ttf",
    "gujarati": "NotoSansGujarati-Bold.ttf",
    "tamil": "NotoSansTamil-Bold.ttf",
    "telugu": "NotoSansTelugu-Bold.ttf",
    "kannada": "NotoSansKannada-Bold.ttf",
    "malayalam": "NotoSansMalayalam-Bold.ttf",
}
LATIN = "latin"
# Joiners belong to the run they sit in (ZWJ/ZWNJ steer conjunct forms).
JOINERS = {"\u200c", "\u200d"}


class ShapingUnavailable(UserFacingError):
    """Pillow was built without libraqm: Indic text would be drawn wrongly, so it is not."""


def raqm_available() -> bool:
    return bool(features.check("raqm"))


def require_raqm() -> None:
    if not raqm_available():
        raise ShapingUnavailable(
            "Indian-language text needs Pillow with libraqm (RAQM layout), which this "
            "server lacks. Install libraqm0 (Debian) and restart."
        )


def script_of(char: str) -> str | None:
    """The Indian script a character belongs to, "latin" for other letters, None for
    characters any font has (spaces, digits, punctuation)."""
    point = ord(char)
    for script, (low, high) in SCRIPT_BLOCKS.items():
        if low <= point <= high:
            return script
    if char in JOINERS or not char.isalpha():
        return None
    return LATIN


def needs_shaping(text: str) -> bool:
    return any(script_of(ch) not in (None, LATIN) for ch in text)


@dataclass(frozen=True)
class FontChoice:
    """What a text is set in: a bundled font's key, or the path of an uploaded font."""

    key: str = DEFAULT_FONT
    path: str = ""  # an uploaded (sanitised) font on this machine; overrides `key`

    def latin_path(self) -> str:
        if self.path:
            return self.path
        return str(FONT_DIR / BUNDLED_FONTS.get(self.key, BUNDLED_FONTS[DEFAULT_FONT])[1])


@lru_cache(maxsize=256)
def load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    """A font at `size`, laid out by RAQM when Pillow has it (always needed for Indic)."""
    engine = ImageFont.Layout.RAQM if raqm_available() else ImageFont.Layout.BASIC
    return ImageFont.truetype(path, size, layout_engine=engine)


@dataclass(frozen=True)
class Run:
    text: str
    font: ImageFont.FreeTypeFont


def runs(text: str, choice: FontChoice, size: int) -> list[Run]:
    """`text` split into runs of one script each, each with a font that has its glyphs."""
    if needs_shaping(text):
        require_raqm()
    pieces: list[tuple[str, str]] = []  # (script, text)
    for char in text:
        script = script_of(char)
        if pieces and (script is None or script == pieces[-1][0]):
            pieces[-1] = (pieces[-1][0], pieces[-1][1] + char)
        elif pieces and pieces[-1][1].strip() == "":
            pieces[-1] = (script or pieces[-1][0], pieces[-1][1] + char)
        else:
            pieces.append((script or LATIN, char))
    result = []
    for script, piece in pieces:
        path = choice.latin_path() if script == LATIN else str(FONT_DIR / SCRIPT_FONTS[script])
        result.append(Run(piece, load_font(path, size)))
    return result


def text_width(text: str, choice: FontChoice, size: int) -> float:
    return sum(run.font.getlength(run.text) for run in runs(text, choice, size))


def draw_line(
    draw: ImageDraw.ImageDraw,
    centre: tuple[float, float],
    text: str,
    choice: FontChoice,
    size: int,
    fill: tuple[int, int, int],
    *,
    language: str = "",
) -> None:
    """One line of text centred on `centre`, every run on one baseline."""
    pieces = runs(text, choice, size)
    width = sum(run.font.getlength(run.text) for run in pieces)
    # The middle of the line box: ascent above the baseline, descent below (max of runs).
    ascent = max(run.font.getmetrics()[0] for run in pieces)
    descent = max(run.font.getmetrics()[1] for run in pieces)
    x = centre[0] - width / 2
    baseline = centre[1] + (ascent - descent) / 2
    for run in pieces:
        options = {"language": language} if language and raqm_available() else {}
        draw.text((x, baseline), run.text, font=run.font, fill=fill, anchor="ls", **options)
        x += run.font.getlength(run.text)
