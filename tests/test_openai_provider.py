"""The OpenAI provider through the real openai SDK against the fake images API."""

from __future__ import annotations

import asyncio
import io
import time
from typing import Any

import httpx
import openai
import pytest
from PIL import Image

from adremix.services.generation import (
    OpenAIImageProvider,
    ProviderBadOutput,
    ProviderQuotaExhausted,
    ProviderRefused,
    ProviderTimedOut,
    ProviderUnavailable,
    RemixOptions,
    build_prompt,
)
from adremix.services.generation.images import open_untrusted
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
        "retry_max_wait_s": 0.01,  # OPENAI_RETRY_MAX_WAIT_S: keep scripted retries quick
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


def test_the_same_request_twice_gives_two_different_images(
    openai_images: FakeOpenAIImages,
) -> None:
    # As the real API: every image is sampled anew, so no two answers share their bytes
    # (content-addressed storage never sees one object written by many results at once).
    first, second = generate(openai_images), generate(openai_images)
    assert first != second
    assert open_untrusted(first).image.tobytes() == open_untrusted(second).image.tobytes()


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


# --- errors and answers as the real API gives them ---------------------------------------


def raw_edit(fake: FakeOpenAIImages) -> httpx.Response:
    """One edit straight over HTTP, to see exactly what the fake answers."""
    return httpx.post(
        f"{fake.base_url}/images/edits",
        headers={"Authorization": f"Bearer {API_KEY}"},
        files={"image": ("a.png", source_png(), "image/png")},
        data={"model": "gpt-image-1", "prompt": "x"},
        timeout=10,
    )


def test_the_fakes_rate_limit_and_quota_answers_have_openais_shape(
    openai_images: FakeOpenAIImages,
) -> None:
    openai_images.script([("status", 429), "quota"])
    limited, quota = raw_edit(openai_images), raw_edit(openai_images)
    assert limited.status_code == quota.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    assert limited.headers["retry-after"] == "1" and "retry-after-ms" not in limited.headers
    assert quota.json() == {
        "error": {
            "message": quota.json()["error"]["message"],
            "type": "insufficient_quota",
            "param": None,
            "code": "insufficient_quota",
        }
    }
    assert "retry-after" not in quota.headers
    assert limited.headers["x-request-id"].startswith("req_")


def test_a_rate_limit_waits_the_servers_retry_after(openai_images: FakeOpenAIImages) -> None:
    openai_images.script([("status", 429)])
    started = time.monotonic()
    generate(openai_images, retry_max_wait_s=None)  # no cap: the real Retry-After wait
    assert time.monotonic() - started >= 1.0
    assert statuses(openai_images) == [429, 200]


def test_insufficient_quota_is_its_own_error_never_retried_and_logged_for_operators(
    openai_images: FakeOpenAIImages, caplog: pytest.LogCaptureFixture
) -> None:
    openai_images.script(["quota"] * 3)
    with caplog.at_level("ERROR"), pytest.raises(ProviderQuotaExhausted) as raised:
        generate(openai_images)
    assert statuses(openai_images) == [429]
    assert raised.value.code == "quota_exhausted"
    assert "temporarily unavailable" in str(raised.value)
    (record,) = [r for r in caplog.records if r.levelname == "ERROR"]
    assert "insufficient_quota" in record.getMessage() and "req_" in record.getMessage()


@pytest.mark.parametrize("behaviour", ["refuse", "content_policy"])
def test_both_kinds_of_content_refusal_are_not_retried(
    openai_images: FakeOpenAIImages, behaviour: str
) -> None:
    openai_images.script([behaviour])
    with pytest.raises(ProviderRefused, match="content policy"):
        generate(openai_images)
    assert statuses(openai_images) == [400]


def test_an_overloaded_503_is_retried(openai_images: FakeOpenAIImages) -> None:
    openai_images.script([("status", 503)])
    generate(openai_images)
    assert statuses(openai_images) == [503, 200]


@pytest.mark.parametrize(("behaviour", "fmt"), [("jpeg", "JPEG"), ("webp", "WEBP")])
def test_jpeg_and_webp_answers_are_images_too(
    openai_images: FakeOpenAIImages, behaviour: str, fmt: str
) -> None:
    openai_images.script([behaviour])
    data = generate(openai_images)
    assert Image.open(io.BytesIO(data)).format == fmt
    assert open_untrusted(data).image.size == (1024, 1536)


def test_usage_details_and_request_id_come_through_the_sdk(
    openai_images: FakeOpenAIImages,
) -> None:
    async def call() -> Any:
        client = openai.AsyncOpenAI(api_key=API_KEY, base_url=openai_images.base_url)
        return await client.images.with_raw_response.edit(
            image=("a.png", source_png(), "image/png"), prompt="x", model="gpt-image-1"
        )

    raw = asyncio.run(call())
    assert raw.headers["x-request-id"].startswith("req_")
    usage = raw.parse().usage
    assert usage.output_tokens_details.image_tokens == usage.output_tokens > 0
    assert usage.input_tokens_details.image_tokens > 0


def test_a_url_answer_is_downloaded_and_checked(openai_images: FakeOpenAIImages) -> None:
    openai_images.script(["url"])
    assert open_untrusted(generate(openai_images)).image.size == (1024, 1536)


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        ("url_huge", "too large"),
        ("url_gone", "link failed \\(404\\)"),
        ("url_not_image", "isn't an image"),
    ],
)
def test_a_bad_url_answer_is_bad_output(
    openai_images: FakeOpenAIImages, behaviour: str, message: str
) -> None:
    openai_images.script([behaviour])
    with pytest.raises(ProviderBadOutput, match=message):
        generate(openai_images)


def test_a_multipart_request_body_is_sent_as_one_piece() -> None:
    import httpx2

    from adremix.services.generation.providers import whole_body

    request = httpx2.Request(
        "POST",
        "http://127.0.0.1/v1/images/edits",
        data={"model": "gpt-image-1", "prompt": "Festive look", "n": "1"},
        files={"image": ("source.png", source_png(), "image/png")},
    )

    async def pieces() -> list[bytes]:
        return [piece async for piece in request.stream]  # type: ignore[union-attr]

    streamed = asyncio.run(pieces())
    asyncio.run(whole_body(request))

    assert len(streamed) > 5  # each field's headers, value and line break on its own
    assert asyncio.run(pieces()) == [b"".join(streamed)]
