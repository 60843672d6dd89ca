"""The OpenAI provider through the real openai SDK against the fake images API."""

from __future__ import annotations

import asyncio
import io

import pytest
from PIL import Image

from adremix.services.image_providers import (
    OpenAIImageProvider,
    ProviderBadOutput,
    ProviderRefused,
    ProviderTimedOut,
    ProviderUnavailable,
)
from adremix.services.images import open_untrusted
from adremix.services.templates import RemixOptions
from tests.fakes.openai_images import API_KEY, FakeOpenAIImages


def source_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 50, 50)).save(buffer, format="PNG")
    return buffer.getvalue()


def generate(
    fake: FakeOpenAIImages, options: RemixOptions | None = None, **provider_args: object
) -> bytes:
    settings: dict = {"model": "gpt-image-1", "timeout_s": 5.0, "max_retries": 2} | provider_args
    provider = OpenAIImageProvider(api_key=API_KEY, base_url=fake.base_url, **settings)
    options = options or RemixOptions(instructions="Festive look", placement="portrait")
    return asyncio.run(provider.generate_one(source_png=source_png(), options=options, index=0))


def test_edit_returns_a_valid_image_of_the_placement_size(openai_images: FakeOpenAIImages) -> None:
    data = generate(
        openai_images,
        RemixOptions(instructions="Festive look", placement="portrait", quality="high"),
    )
    assert open_untrusted(data).image.size == (1024, 1536)
    [request] = openai_images.requests
    assert request["path"] == "/v1/images/edits" and request["image_size"] == (640, 480)
    fields = request["fields"]
    assert (fields["model"], fields["size"], fields["quality"], fields["n"]) == (
        "gpt-image-1",
        "1024x1536",
        "high",
        "1",
    )
    assert "Festive look" in fields["prompt"]


def test_rate_limit_is_retried_by_the_sdk(openai_images: FakeOpenAIImages) -> None:
    openai_images.script([("status", 429)])
    assert open_untrusted(generate(openai_images)).image
    assert len(openai_images.requests) == 2


def test_persistent_server_errors_give_up_after_the_sdk_retries(
    openai_images: FakeOpenAIImages,
) -> None:
    openai_images.script([("status", 500)] * 3)
    with pytest.raises(ProviderUnavailable):
        generate(openai_images)
    assert len(openai_images.requests) == 3  # one try and max_retries=2


def test_content_policy_refusal_is_not_retried_and_says_so(openai_images: FakeOpenAIImages) -> None:
    openai_images.script(["refuse"])
    with pytest.raises(ProviderRefused, match="content policy"):
        generate(openai_images)
    assert len(openai_images.requests) == 1


def test_slower_than_the_deadline_times_out(openai_images: FakeOpenAIImages) -> None:
    openai_images.script([("delay", 3.0)] * 3)
    with pytest.raises(ProviderTimedOut):
        generate(openai_images, timeout_s=10.0, max_retries=0, deadline_s=1.0)


def test_sdk_timeout_is_a_timeout(openai_images: FakeOpenAIImages) -> None:
    openai_images.script([("delay", 2.0)] * 3)
    with pytest.raises(ProviderTimedOut):
        generate(openai_images, timeout_s=0.5, max_retries=0, deadline_s=30.0)


@pytest.mark.parametrize("behaviour", ["bad_image", "not_base64"])
def test_an_answer_that_is_not_an_image_is_bad_output(
    openai_images: FakeOpenAIImages, behaviour: str
) -> None:
    openai_images.script([behaviour])
    with pytest.raises(ProviderBadOutput):
        generate(openai_images)


def test_keep_product_asks_for_high_input_fidelity_only_where_supported(
    openai_images: FakeOpenAIImages,
) -> None:
    keep = RemixOptions(instructions="Keep the bottle", keep_product=True)
    generate(openai_images, keep)
    generate(openai_images, keep, model="gpt-image-1-mini")
    first, second = (r["fields"] for r in openai_images.requests)
    assert first.get("input_fidelity") == "high"
    assert "input_fidelity" not in second
