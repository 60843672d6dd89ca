"""Each platform's published text limits for a placement, in one table.

Where a platform publishes a "recommended" length (text past it is cut off with "See
more" in the feed) and a hard maximum, we keep to the recommended one: copy that shows in
full. Call-to-action buttons are chosen from fixed lists on Meta, Google and LinkedIn; the
CTA limit here is what fits those buttons, kept short enough for any of them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class PlatformLimits:
    code: str
    name: str
    headline: int
    primary_text: int
    cta: int
    source: str
    x_weighted: bool = False  # X counts some characters as two (twitter-text rules)


PLATFORMS: dict[str, PlatformLimits] = {
    p.code: p
    for p in (
        # Meta Ads Guide, Facebook/Instagram feed image: primary text 125, headline 40
        # characters recommended.
        PlatformLimits(
            "meta",
            "Meta (Facebook & Instagram feed)",
            headline=40,
            primary_text=125,
            cta=20,
            source="https://www.facebook.com/business/ads-guide/update/image/facebook-feed",
        ),
        # Google Ads Help, "About responsive display ads": short headline 30 characters,
        # description 90 (long headline 90).
        PlatformLimits(
            "google_display",
            "Google Ads responsive display",
            headline=30,
            primary_text=90,
            cta=15,
            source="https://support.google.com/google-ads/answer/6363750",
        ),
        # LinkedIn Ads Guide, single image ads: headline 70 characters and introductory
        # text 150 recommended (200 and 600 at most).
        PlatformLimits(
            "linkedin",
            "LinkedIn single image ad",
            headline=70,
            primary_text=150,
            cta=20,
            source="https://business.linkedin.com/marketing-solutions/success/ads-guide/single-image-ads",
        ),
        # X Business, creative ad specifications: post text 280 characters (weighted as
        # twitter-text counts them), website card headline 70.
        PlatformLimits(
            "x",
            "X (Twitter) image ad",
            headline=70,
            primary_text=280,
            cta=20,
            source="https://business.x.com/en/help/campaign-setup/creative-ad-specifications",
            x_weighted=True,
        ),
    )
}

# twitter-text v3 configuration: code points in these ranges weigh 1, all others 2.
X_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))


def length_on(platform: PlatformLimits, text: str) -> int:
    """How long `text` is as the platform counts it (after NFC normalisation; code
    points, or twitter-text's weighted length on X)."""
    text = unicodedata.normalize("NFC", text)
    if not platform.x_weighted:
        return len(text)
    return sum(
        1 if any(low <= ord(ch) <= high for low, high in X_LIGHT_RANGES) else 2 for ch in text
    )
