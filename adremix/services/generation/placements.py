"""Export a result to the standard ad placements, locally and free."""

from __future__ import annotations

from adremix.services.generation.images import encode, open_untrusted

PLACEMENT_EXPORTS: dict[str, tuple[str, tuple[int, int]]] = {
    "feed-1080x1080": ("Feed (square)", (1080, 1080)),
    "portrait-1080x1350": ("Portrait feed", (1080, 1350)),
    "story-1080x1920": ("Story / Reel", (1080, 1920)),
    "link-1200x628": ("Link ad", (1200, 628)),
}


def export_placement(image_bytes: bytes, name: str) -> bytes:
    """One placement as JPEG, with the offline engine's subject-aware crop or padding."""
    from adremix.services.generation.offline_engine import fit_to_canvas

    _, size = PLACEMENT_EXPORTS[name]
    picture = open_untrusted(image_bytes).image.convert("RGB")
    return encode(fit_to_canvas(picture, size), "JPEG", quality=92)
