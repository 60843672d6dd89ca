"""The OpenAI provider through the real openai SDK against the fake images API."""

from __future__ import annotations

import asyncio
import io
import time
from typing import Any

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
from adremix.services.templates import RemixOptions, build_prompt
from tests.fakes.openai_images import API_KEY, FakeOpenAIImages

PORTRAIT = RemixOptions(instructions="Festive look", placement="portrait", quality="high")


def source_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 50, 50)).save(buffer, format="PNG")
    return buffer.getvalue()


def generate(
    fake: FakeOpenAIImages,
    options: RemixOptions = PORTRAIT,
    *,
    source: bytes | None = None,
    **provider_args: Any,
) -> bytes:
    settings: dict[str, Any] = {
        "api_key": API_KEY,
        "model": "gpt-image-1",
        "timeout_s": 5.0,
        "max_retries": 2,
    } | provider_args
    provider = OpenAIImageProvider(base_url=fake.base_url, **settings)
    source = source_png() if source is None else source
    return asyncio.run(provider.generate_one(source_png=source, options=options, index=0))


def statuses(fake: FakeOpenAIImages) -> list[int]:
    return [request["status"] for request in fake.requests]


def test_edit_returns_a_valid_image_of_the_placement_size(openai_images: FakeOpenAIImages) -> None:
    data = generate(openai_images, PORTRAIT)
    assert open_untrusted(data).image.size == (1024, 1536)
    [request] = openai_images.requests
    assert request["path"] == "/v1/images/edits"
    assert request["image_sizes"] == [(640, 480)]
    fields = request["fields"]
    assert (fields["model"], fields["size"], fields["quality"], fields["n"]) == (
        "gpt-image-1",
        "1024x1536",
        "high",
        "1",
    )
    assert fields["prompt"] == build_prompt(PORTRAIT)
    assert "input_fidelity" not in fields


def test_rate_limit_is_retried_by_the_sdk(openai_images: FakeOpenAIImages) -> None:
    openai_images.script([("status", 429)])
    assert open_untrusted(generate(openai_images)).image.size == (1024, 1536)
    assert statuses(openai_images) == [429, 200]


def test_persistent_server_errors_give_up_after_the_sdk_retries(
    openai_images: FakeOpenAIImages,
) -> None:
    openai_images.script([("status", 500)] * 3)
    with pytest.raises(ProviderUnavailable, match="busy or unreachable"):
        generate(openai_images)
    assert statuses(openai_images) == [500, 500, 500]  # one try and max_retries=2


def test_content_policy_refusal_is_not_retried_and_says_so(openai_images: FakeOpenAIImages) -> None:
    openai_images.script(["refuse"])
    with pytest.raises(ProviderRefused, match="content policy"):
        generate(openai_images)
    assert statuses(openai_images) == [400]


def test_an_image_the_api_cannot_read_is_refused_without_retry(
    openai_images: FakeOpenAIImages,
) -> None:
    with pytest.raises(ProviderRefused, match="could not use this request"):
        generate(openai_images, source=b"\x89PNG\r\n\x1a\n but truncated")
    assert statuses(openai_images) == [400]


def test_a_wrong_api_key_is_unavailable_not_retried(openai_images: FakeOpenAIImages) -> None:
    with pytest.raises(ProviderUnavailable, match="credentials"):
        generate(openai_images, api_key="sk-wrong-key")
    assert statuses(openai_images) == [401]


def test_slower_than_the_deadline_times_out(openai_images: FakeOpenAIImages) -> None:
    openai_images.script([("delay", 3.0)] * 3)
    started = time.monotonic()
    with pytest.raises(ProviderTimedOut, match="took too long"):
        generate(openai_images, timeout_s=2.0, max_retries=2, deadline_s=1.0)
    assert time.monotonic() - started < 1.9  # the deadline, not the SDK timeout, ended it
    assert len(openai_images.requests) == 1


def test_sdk_timeout_after_its_retries_is_a_timeout(openai_images: FakeOpenAIImages) -> None:
    openai_images.script([("delay", 1.0)] * 3)
    with pytest.raises(ProviderTimedOut, match="took too long"):
        generate(openai_images, timeout_s=0.3, max_retries=2, deadline_s=30.0)
    assert len(openai_images.requests) == 3  # the SDK retries timeouts too


@pytest.mark.parametrize("behaviour", ["bad_image", "not_base64"])
def test_an_answer_that_is_not_an_image_is_bad_output(
    openai_images: FakeOpenAIImages, behaviour: str
) -> None:
    openai_images.script([behaviour])
    with pytest.raises(ProviderBadOutput):
        generate(openai_images)
    assert statuses(openai_images) == [200]


def test_keep_product_asks_for_high_input_fidelity_only_where_supported(
    openai_images: FakeOpenAIImages,
) -> None:
    keep = RemixOptions(instructions="Keep the bottle", keep_product=True)
    generate(openai_images, keep)
    generate(openai_images, keep, model="gpt-image-1-mini")
    first, second = (request["fields"] for request in openai_images.requests)
    assert (first["model"], first.get("input_fidelity")) == ("gpt-image-1", "high")
    assert second["model"] == "gpt-image-1-mini"
    assert "input_fidelity" not in second
