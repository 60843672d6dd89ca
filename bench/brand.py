"""Brand kit benchmark.

    .venv/bin/python bench/brand.py

The same 20 sources (sizes and aspect ratios of real ads, calm and busy) rendered by the
offline engine in one run, each twice: plain (English headline and CTA, no kit) and with
a brand kit (logo placed by saliency, the kit's font and colours with the WCAG AA
contrast search, and a Hindi headline shaped by libraqm). Prints per-image p50/p95 of
both and their ratio, and ends with one JSON line (target: kit_vs_plain_ratio <= 1.5).
"""

from __future__ import annotations

import asyncio
import io
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw  # noqa: E402

from adremix.services.generation import (  # noqa: E402
    Attachments,
    OfflineEngine,
    RemixOptions,
    encode_png,
)

SOURCES = 20
TARGET_RATIO = 1.5
SIZES = [(1080, 1080), (1200, 628), (1080, 1350), (1080, 1920), (1600, 900)]
PLACEMENTS = ["square", "portrait", "landscape"]


def sources() -> list[bytes]:
    rng = random.Random(14)
    made = []
    for number in range(SOURCES):
        size = SIZES[number % len(SIZES)]
        image = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
        draw = ImageDraw.Draw(image)
        for _ in range(20 if number % 2 else 300):  # calm and busy ones
            x, y = rng.randrange(size[0]), rng.randrange(size[1])
            colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
            draw.rectangle(
                (x, y, x + rng.randrange(10, 300), y + rng.randrange(10, 200)), fill=colour
            )
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", compress_level=1)
        made.append(buffer.getvalue())
    return made


def logo_png() -> bytes:
    logo = Image.new("RGBA", (400, 160), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    draw.rounded_rectangle((0, 0, 399, 159), radius=30, fill=(230, 0, 200, 255))
    draw.ellipse((30, 30, 130, 130), fill=(255, 255, 255, 255))
    return encode_png(logo)


KIT = {
    "name": "Bench kit",
    "colors": {"primary": "#1a73e8", "text": "#ffcc00", "background": "#101010"},
    "font": "inter",
    "logo_sha256": "bench",
    "tone": "Warm",
    "avoid_words": [],
}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def render_all() -> tuple[list[float], list[float]]:
    engine = OfflineEngine()
    attachments = Attachments(logo_png=logo_png())
    plain_times: list[float] = []
    kit_times: list[float] = []
    images = sources()
    for number, source in enumerate(images):
        placement = PLACEMENTS[number % len(PLACEMENTS)]
        plain = RemixOptions(
            instructions="bench",
            placement=placement,
            headline="Festive Mega Sale",
            call_to_action="Shop now",
        )
        kit = RemixOptions(
            instructions="bench",
            placement=placement,
            headline="दिवाली की शुभकामनाएँ: महा सेल",
            call_to_action="अभी खरीदें",
            language="hi",
            brand=KIT,
        )
        # Alternate which goes first, so neither always meets a warm cache.
        order = [("plain", plain, None), ("kit", kit, attachments)]
        for name, options, extra in order if number % 2 else reversed(order):
            started = time.perf_counter()
            await engine.generate_one(
                source_png=source, options=options, index=number % 4, attachments=extra
            )
            (plain_times if name == "plain" else kit_times).append(
                (time.perf_counter() - started) * 1000
            )
    return plain_times, kit_times


def main() -> None:
    # Warm-up: fonts loaded, code paths compiled, once each, not measured.
    asyncio.run(render_all_warm())
    plain, kit = asyncio.run(render_all())
    ratio = sum(kit) / sum(plain)
    summary = {
        "benchmark": "brand",
        "sources": SOURCES,
        "plain_total_ms": round(sum(plain), 1),
        "kit_total_ms": round(sum(kit), 1),
        "plain_p50_ms": round(statistics.median(plain), 1),
        "plain_p95_ms": round(percentile(plain, 0.95), 1),
        "kit_p50_ms": round(statistics.median(kit), 1),
        "kit_p95_ms": round(percentile(kit, 0.95), 1),
        "kit_vs_plain_ratio": round(ratio, 3),
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio <= TARGET_RATIO,
    }
    print(
        f"plain (no kit):  total {summary['plain_total_ms']} ms, per image p50 "
        f"{summary['plain_p50_ms']} ms, p95 {summary['plain_p95_ms']} ms"
    )
    print(
        f"with brand kit:  total {summary['kit_total_ms']} ms, per image p50 "
        f"{summary['kit_p50_ms']} ms, p95 {summary['kit_p95_ms']} ms"
    )
    print(f"kit / plain: {ratio:.2f} (target <= {TARGET_RATIO})")
    print(json.dumps(summary))


async def render_all_warm() -> None:
    engine = OfflineEngine()
    source = sources()[0]
    for options, extra in (
        (RemixOptions(instructions="w", headline="Warm up", call_to_action="Go"), None),
        (
            RemixOptions(instructions="w", headline="गर्म", call_to_action="जाओ", brand=KIT),
            Attachments(logo_png=logo_png()),
        ),
    ):
        await engine.generate_one(source_png=source, options=options, index=0, attachments=extra)


if __name__ == "__main__":
    main()
