"""Generation benchmark.

    .venv/bin/python bench/generation.py

1. The pipeline's own overhead for a 12-megapixel JPEG (upload validation and storage,
   credit reservation, provider input, storing the result, settling credits) with a
   provider that answers at once: p50 and p95 in ms.
2. 50 presses of Generate at once through the whole pipeline (credit reserve, the
   in-process job queue, the OpenAI SDK, storage, settlement) against a fake images API
   (in its own process, warmed first) that takes 2 s per image, and in the same run 50
   bare `openai` SDK calls to that fake: both wall times and their ratio.
3. The peak resident memory of the process running those 50 generations.
4. Ingest of a 12-megapixel JPEG (validation, the stored original, the provider's copy,
   the thumbnail, the database row) against a bare Pillow open -> exif_transpose ->
   convert -> resize -> save of the same file, side by side, with the two provider-sized
   images compared (same size; PSNR).
Ends with one JSON line.
"""

from __future__ import annotations

import asyncio
import functools
import io
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Unset ADREMIX_ENV means production; a benchmark runs the development defaults.
os.environ["ADREMIX_ENV"] = "dev"

from PIL import Image, ImageChops, ImageDraw, ImageOps, ImageStat  # noqa: E402

from bench.openai_baseline import API_KEY, bare_sdk_calls, fake_images_api  # noqa: E402

ITERATIONS = 20
CONCURRENT = 50
PROVIDER_DELAY_S = 2.0
INGEST_ROUNDS = 12
T = TypeVar("T")


def use_fresh_database(tmp: str) -> None:
    import os

    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.db"
    os.environ["ADREMIX_STORAGE_DIR"] = f"{tmp}/files"
    from adremix.settings import get_settings
    from tests.app_server import migrate

    get_settings.cache_clear()
    migrate(os.environ["DATABASE_URL"])


def funded_user(amount: int) -> int:
    from adremix.db import session_scope
    from adremix.enums import CreditKind
    from adremix.models import User
    from adremix.services import credits

    with session_scope() as session:
        user = User(email="bench@example.com", name="Bench")
        session.add(user)
        session.flush()
        assert user.id is not None
        credits.grant(
            session=session,
            user_id=user.id,
            amount=amount,
            kind=CreditKind.PURCHASE,
            idempotency_key="bench:fund",
        )
        return user.id


def photo_12mp(seed: int) -> bytes:
    image = Image.effect_noise((4000, 3000), 40).convert("RGB")
    gradient = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
    image = Image.blend(image, gradient, 0.6)
    draw = ImageDraw.Draw(image)
    draw.rectangle((2400, 800, 3300, 2500), fill=(200, 40, seed % 255))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


class InstantProvider:
    """Answers at once with a ready image, so only our own pipeline is timed."""

    name = "instant"
    model = "instant"

    def __init__(self) -> None:
        buffer = io.BytesIO()
        Image.new("RGB", (1024, 1024), (120, 60, 220)).save(buffer, format="PNG")
        self.image = buffer.getvalue()

    async def generate_one(
        self, *, source_png: bytes, options: object, index: int, attachments: object = None
    ) -> bytes:
        return self.image


def overhead() -> tuple[float, float]:
    from adremix.services import generation as generations
    from adremix.services.generation import RemixOptions
    from adremix.services.storage import LocalStorage
    from adremix.settings import get_settings

    with tempfile.TemporaryDirectory() as tmp:
        use_fresh_database(tmp)
        storage = LocalStorage(get_settings().storage_dir)
        user_id = funded_user(ITERATIONS)
        provider = InstantProvider()
        timings = []
        for i in range(ITERATIONS):
            upload_bytes = photo_12mp(i)  # a different photo each time: nothing cached
            started = time.perf_counter()
            upload = generations.ingest_source(user_id=user_id, data=upload_bytes, storage=storage)
            job = generations.start_generation(
                user_id=user_id,
                client_request_id=f"o{i}",
                source_sha256=upload.sha256,
                options=RemixOptions(instructions="bench"),
                provider=provider.name,
                model=provider.model,
            )
            result = asyncio.run(
                generations.run_generation(
                    generation_id=job.generation_id, provider=provider, storage=storage
                )
            )
            timings.append((time.perf_counter() - started) * 1000)
            assert result.status == "succeeded"
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def bare_pillow(data: bytes, max_side: int) -> bytes:
    """What anyone would write: open, turn upright, RGB, Lanczos to the provider's size,
    save as PNG (at the app's own compression level for that copy)."""
    image = Image.open(io.BytesIO(data))
    image = ImageOps.exif_transpose(image)
    image = image.convert("RGB")
    scale = max_side / max(image.size)
    size = (round(image.width * scale), round(image.height * scale))
    image = image.resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def timed(into: list[float], fn: Callable[..., T], *args: object) -> T:
    """fn(*args), its wall time appended to `into` (ms)."""
    started = time.perf_counter()
    result = fn(*args)
    into.append((time.perf_counter() - started) * 1000)
    return result


def psnr_db(first: Image.Image, second: Image.Image) -> float:
    difference = ImageChops.difference(first.convert("RGB"), second.convert("RGB"))
    mse = sum(rms * rms for rms in ImageStat.Stat(difference).rms) / 3
    return 10 * math.log10(255**2 / mse) if mse else math.inf


def ingest_against_bare_pillow() -> dict[str, float]:
    """Ingest and the bare path on the same photos, interleaved (alternating which goes
    first) so the machine's noise falls on both alike; medians of each."""
    from adremix.enums import ImageKind
    from adremix.services import generation as generations
    from adremix.services.generation.images import PROVIDER_MAX_SIDE
    from adremix.services.storage import LocalStorage
    from adremix.settings import get_settings

    with tempfile.TemporaryDirectory() as tmp:
        use_fresh_database(tmp)
        storage = LocalStorage(get_settings().storage_dir)
        user_id = funded_user(1)
        app_ms: list[float] = []
        bare_ms: list[float] = []
        for i in range(INGEST_ROUNDS):
            data = photo_12mp(1000 + i)  # a new photo each round: nothing is cached

            upload = functools.partial(
                generations.ingest_source, user_id=user_id, data=data, storage=storage
            )
            if i % 2:
                bare_png = timed(bare_ms, bare_pillow, data, PROVIDER_MAX_SIDE)
                sha = timed(app_ms, upload).sha256
            else:
                sha = timed(app_ms, upload).sha256
                bare_png = timed(bare_ms, bare_pillow, data, PROVIDER_MAX_SIDE)
        ours = Image.open(io.BytesIO(storage.read(ImageKind.PREPARED, sha)))
        theirs = Image.open(io.BytesIO(bare_png))
        assert ours.size == theirs.size, (ours.size, theirs.size)
        # The yardstick: the bare result saved as a quality-90 JPEG, which is how the app
        # itself delivers JPEG downloads. Our copy must differ from the bare one by less.
        buffer = io.BytesIO()
        theirs.convert("RGB").save(buffer, format="JPEG", quality=90)
        yardstick = psnr_db(theirs, Image.open(buffer))
        quality = psnr_db(ours, theirs)
        assert quality >= yardstick, (quality, yardstick)
    app_p50, bare_p50 = statistics.median(app_ms), statistics.median(bare_ms)
    return {
        "ingest_p50_ms": round(app_p50, 1),
        "bare_pillow_p50_ms": round(bare_p50, 1),
        "ingest_vs_bare_pillow": round(app_p50 / bare_p50, 3),
        "ingest_psnr_db": round(quality, 1),
        "jpeg90_psnr_db": round(yardstick, 1),
        "size": f"{ours.width}x{ours.height}",
    }


def concurrent_child(base_url: str) -> None:
    """In its own process, so its peak memory is the backend's alone.

    The fake is warmed first (it renders each distinct answer once), so both figures
    measure the client side: 50 bare SDK calls, then 50 presses of Generate through the
    whole pipeline (reserve, in-process queue, job, storage, settlement)."""
    import os

    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(
            OPENAI_API_KEY=API_KEY,
            OPENAI_BASE_URL=base_url,
            OPENAI_MAX_RETRIES="0",
            OPENAI_TIMEOUT_S="60",
        )
        use_fresh_database(tmp)
        from adremix.enums import ImageKind
        from adremix.services import generation as generations
        from adremix.services.storage import default_storage

        user_id = funded_user(CONCURRENT)
        upload = generations.ingest_source(user_id=user_id, data=photo_12mp(1))
        source_png = default_storage().read(ImageKind.PREPARED, upload.sha256)
        asyncio.run(bare_sdk_calls(base_url, source_png, 1))  # warm the fake
        started = time.perf_counter()
        asyncio.run(bare_sdk_calls(base_url, source_png, CONCURRENT))
        bare = time.perf_counter() - started
        statuses, wall = asyncio.run(press_generate(user_id, upload.sha256, CONCURRENT))
        assert statuses == ["succeeded"] * CONCURRENT, statuses
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "wall_s": round(wall, 2),
                "bare_sdk_wall_s": round(bare, 2),
                "peak_rss_mb": round(peak_mb, 1),
            }
        )
    )


async def press_generate(user_id: int, source_sha: str, count: int) -> tuple[list[str], float]:
    """`count` presses of Generate at once, as New Ad makes them, until every job settled;
    returns their statuses and the time that took. The app starts its in-process queue
    when it starts (`serve_in_process`), not at a user's press: so here too, untimed."""
    from adremix.services import generation as generations
    from adremix.services.generation import RemixOptions

    await generations.job_queue().start()
    began = time.perf_counter()
    started = await asyncio.gather(
        *(
            generations.submit_generation(
                user_id=user_id,
                client_request_id=f"c{i}",
                source_sha256=source_sha,
                options=RemixOptions(instructions="bench"),
                fresh=True,
            )
            for i in range(count)
        )
    )
    await generations.job_queue().wait_idle()
    results = [generations.result_of(s.generation_id) for s in started]
    return [str(r.status) for r in results], time.perf_counter() - began


def main() -> None:
    p50, p95 = overhead()
    print(f"Pipeline overhead, 12 MP JPEG, instant provider: p50 {p50:.0f} ms, p95 {p95:.0f} ms")
    ingest = ingest_against_bare_pillow()
    print(
        f"Ingest of a 12 MP JPEG: app {ingest['ingest_p50_ms']:.0f} ms, bare Pillow "
        f"{ingest['bare_pillow_p50_ms']:.0f} ms (p50 of {INGEST_ROUNDS}): "
        f"ratio {ingest['ingest_vs_bare_pillow']:.2f} (target <= 1.0)"
    )
    print(
        f"  provider copy {ingest['size']} both; PSNR against the bare result "
        f"{ingest['ingest_psnr_db']:.1f} dB (a quality-90 JPEG of it: "
        f"{ingest['jpeg90_psnr_db']:.1f} dB)"
    )
    with fake_images_api(delay_s=PROVIDER_DELAY_S) as base_url:
        child = subprocess.run(
            [sys.executable, __file__, "--concurrent", base_url],
            capture_output=True,
            text=True,
            check=True,
        )
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    ratio = figures["wall_s"] / figures["bare_sdk_wall_s"]
    print(
        f"{CONCURRENT} generations at once, provider takes {PROVIDER_DELAY_S:.0f} s each "
        f"(warm fake): pipeline {figures['wall_s']:.2f} s wall, {CONCURRENT} bare SDK calls "
        f"{figures['bare_sdk_wall_s']:.2f} s: {ratio:.2f}x (target <= 1.2)"
    )
    print(f"Peak backend memory during that run: {figures['peak_rss_mb']:.0f} MB")
    print(
        json.dumps(
            {
                "overhead_p50_ms": round(p50, 1),
                "overhead_p95_ms": round(p95, 1),
                "concurrent50_wall_s": figures["wall_s"],
                "bare_sdk_wall_s": figures["bare_sdk_wall_s"],
                "pipeline_vs_bare_sdk": round(ratio, 3),
                "peak_rss_mb": figures["peak_rss_mb"],
                "ingest_p50_ms": ingest["ingest_p50_ms"],
                "bare_pillow_p50_ms": ingest["bare_pillow_p50_ms"],
                "ingest_vs_bare_pillow": ingest["ingest_vs_bare_pillow"],
                "ingest_psnr_db": ingest["ingest_psnr_db"],
            }
        )
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--concurrent"]:
        concurrent_child(sys.argv[2])
    else:
        main()
