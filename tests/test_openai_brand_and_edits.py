"""The OpenAI engine with a brand kit (logo as a second input image, high input fidelity
where the model has it, the kit in the prompt) and region edits (images.edit with a mask
whose transparent pixels are the region), against the fake API's documented rules."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from PIL import Image, ImageDraw

from adremix.services.generation import (
    Attachments,
    OpenAIImageProvider,
    RemixOptions,
    encode_png,
    open_untrusted,
)
from tests.fakes.openai_images import API_KEY, EDIT_PAINT, FakeOpenAIImages

KIT = {
    "name": "Chai Co",
    "colors": {"primary": "#1a73e8", "accent": "#ff6600", "text": "#ffffff"},
    "tone": "Warm and witty",
    "avoid_words": ["cheap", "guaranteed"],
    "logo_sha256": "f" * 64,
}


def png(
    size: tuple[int, int], colour: tuple[int, ...] = (200, 120, 40), mode: str = "RGB"
) -> bytes:
    return encode_png(Image.new(mode, size, colour))


def run(
    fake: FakeOpenAIImages, options: RemixOptions, attachments: Attachments, **kw: Any
) -> bytes:
    provider = OpenAIImageProvider(
        api_key=API_KEY,
        base_url=fake.base_url,
        model=kw.pop("model", "gpt-image-1"),
        timeout_s=5.0,
        max_retries=0,
    )
    source = kw.pop("source", png((1024, 1024)))
    return asyncio.run(
        provider.generate_one(source_png=source, options=options, index=0, attachments=attachments)
    )


def test_the_logo_goes_as_a_second_image_with_high_fidelity_and_the_kit_in_the_prompt(
    openai_images: FakeOpenAIImages,
) -> None:
    options = RemixOptions(instructions="Diwali offer", brand=KIT)
    logo = png((300, 120), (230, 0, 200, 255), "RGBA")
    run(openai_images, options, Attachments(logo_png=logo))
    run(openai_images, options, Attachments(logo_png=logo), model="gpt-image-1-mini")
    full, mini = openai_images.requests
    assert full["image_sizes"] == [(1024, 1024), (300, 120)]  # source first, then the logo
    assert full["fields"]["input_fidelity"] == "high"
    assert mini["image_sizes"] == [(1024, 1024), (300, 120)]
    assert "input_fidelity" not in mini["fields"]  # not every model takes it
    prompt = full["fields"]["prompt"]
    assert "primary #1a73e8" in prompt and "accent #ff6600" in prompt
    assert "Tone of voice: Warm and witty" in prompt
    assert "cheap, guaranteed" in prompt
    assert "second input image is the brand's logo" in prompt


def test_without_a_logo_only_the_source_is_sent_and_fidelity_is_not_forced(
    openai_images: FakeOpenAIImages,
) -> None:
    run(
        openai_images,
        RemixOptions(instructions="x", brand=KIT | {"logo_sha256": ""}),
        Attachments(),
    )
    [request] = openai_images.requests
    assert request["image_sizes"] == [(1024, 1024)]
    assert "input_fidelity" not in request["fields"]
    assert "logo" not in request["fields"]["prompt"]


def mask_png(size: tuple[int, int], box: tuple[int, int, int, int]) -> bytes:
    """Our mask convention: greyscale, white where the image may change."""
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).rectangle(box, fill=255)
    return encode_png(mask)


def test_a_region_edit_sends_the_mask_with_the_region_transparent(
    openai_images: FakeOpenAIImages,
) -> None:
    options = RemixOptions(
        instructions="Replace the cup with a glass", edit_of="a" * 64, edit_mask="b" * 64
    )
    source = png((1024, 1024))
    out = run(
        openai_images,
        options,
        Attachments(mask_png=mask_png((1024, 1024), (100, 100, 299, 299)), logo_png=png((50, 50))),
        source=source,
    )
    [request] = openai_images.requests
    assert request["image_sizes"] == [(1024, 1024)]  # no logo on an edit
    sent: Image.Image = request["mask"]
    assert sent.mode == "RGBA" and sent.size == (1024, 1024)
    assert sent.getpixel((150, 150))[3] == 0 and sent.getpixel((600, 600))[3] == 255
    assert "Edit only the masked" in request["fields"]["prompt"]
    edited = open_untrusted(out).image.convert("RGB")
    assert edited.getpixel((150, 150)) == EDIT_PAINT
    assert edited.getpixel((600, 600)) == (200, 120, 40)


@pytest.mark.parametrize(
    ("mask", "message"),
    [
        (png((512, 512), (0, 0, 0, 0), "RGBA"), "does not match"),
        (png((1024, 1024), (0, 0, 0)), "format must be"),
    ],
)
def test_the_fake_refuses_masks_the_api_refuses(
    openai_images: FakeOpenAIImages, mask: bytes, message: str
) -> None:
    """The fake answers 400 as documented: same size as the image, an alpha channel."""
    import openai

    client = openai.OpenAI(api_key=API_KEY, base_url=openai_images.base_url, max_retries=0)
    with pytest.raises(openai.BadRequestError, match=message) as caught:
        client.images.edit(
            model="gpt-image-1",
            image=("s.png", png((1024, 1024)), "image/png"),
            mask=("m.png", mask, "image/png"),
            prompt="x",
        )
    assert caught.value.body["param"] == "mask"  # type: ignore[index]
