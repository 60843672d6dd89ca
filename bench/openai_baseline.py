"""What the generation benchmarks hold AdRemix against: bare `openai` SDK calls to the
fake images API, which runs in a process of its own so its CPU is not counted as ours.

    with fake_images_api(delay_s=2.0) as base_url:
        await bare_sdk_calls(base_url, source_png, 50)
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "sk-test-fake-openai"  # what the fake accepts (tests/fakes/openai_images.py)


@contextmanager
def fake_images_api(*, delay_s: float) -> Iterator[str]:
    """The fake images API in its own process, answering each image after `delay_s`;
    yields its base URL."""
    server = subprocess.Popen(
        [sys.executable, __file__, str(delay_s)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield server.stdout.readline().strip()  # type: ignore[union-attr]
    finally:
        server.stdin.close()  # type: ignore[union-attr]
        server.wait(timeout=10)


async def bare_sdk_calls(base_url: str, source_png: bytes, count: int) -> None:
    """`count` image edits at once with the openai SDK alone, asking what New Ad asks."""
    import openai

    from adremix.services.generation import RemixOptions, build_prompt

    options = RemixOptions(instructions="bench")
    client = openai.AsyncOpenAI(api_key=API_KEY, base_url=base_url, max_retries=0, timeout=60)
    async with client:
        answers = await asyncio.gather(
            *(
                client.images.edit(
                    image=("source.png", source_png, "image/png"),
                    model="gpt-image-1",
                    prompt=build_prompt(options),
                    size=options.size,  # type: ignore[arg-type]
                    quality=options.quality,  # type: ignore[arg-type]
                    n=1,
                )
                for _ in range(count)
            )
        )
    assert all(a.data and a.data[0].b64_json for a in answers)


def _serve(delay_s: float) -> None:
    sys.path.insert(0, str(ROOT))
    from tests.fakes.openai_images import FakeOpenAIImages

    fake = FakeOpenAIImages().start()
    fake.default_delay_s = delay_s
    print(fake.base_url, flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    fake.stop()


if __name__ == "__main__":
    _serve(float(sys.argv[1]))
