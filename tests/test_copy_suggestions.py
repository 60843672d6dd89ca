"""'Suggest copy': within every platform's limits in all nine languages, offline from the
phrase bank and through the OpenAI text API (a strict JSON schema) on the fake server."""

from __future__ import annotations

import json

import pytest

from adremix.services import brand
from adremix.services.brand import KitInput
from adremix.services.copywriting import (
    PHRASES,
    PLATFORMS,
    CopyError,
    CopyRefused,
    CopyRequest,
    length_on,
    response_schema,
    suggest_copy,
)
from adremix.services.generation import LANGUAGES
from adremix.services.generation.typesetting import SCRIPT_BLOCKS
from adremix.settings import get_settings
from tests.conftest import configure_app
from tests.factories import make_user
from tests.fakes.openai_images import API_KEY, FakeOpenAIImages

SCRIPTS = {
    "hi": "devanagari",
    "mr": "devanagari",
    "bn": "bengali",
    "ta": "tamil",
    "te": "telugu",
    "gu": "gujarati",
    "kn": "kannada",
    "ml": "malayalam",
}


def in_script(text: str, language: str) -> bool:
    if language == "en":  # Latin letters, no Indian script
        return not any(
            low <= ord(ch) <= high for low, high in SCRIPT_BLOCKS.values() for ch in text
        )
    low, high = SCRIPT_BLOCKS[SCRIPTS[language]]
    return any(low <= ord(ch) <= high for ch in text)


def check_fits(suggestions, language: str) -> None:  # type: ignore[no-untyped-def]
    for placement in suggestions.placements:
        platform = PLATFORMS[placement.platform]
        for kind, texts in (
            ("headline", placement.headlines),
            ("primary_text", placement.primary_texts),
            ("cta", placement.ctas),
        ):
            assert texts, f"{placement.platform} {kind} {language}: nothing suggested"
            for text in texts:
                assert length_on(platform, text) <= getattr(platform, kind), (platform.code, text)
                assert in_script(text, language), text


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_offline_copy_fits_every_platform_in_every_language(
    database_url: str, language: str
) -> None:
    user_id = make_user()
    suggestions = suggest_copy(
        user_id=user_id,
        request=CopyRequest(product="Masala Chai", platforms=tuple(PLATFORMS), language=language),
    )
    assert suggestions.engine == "offline"
    assert [p.platform for p in suggestions.placements] == list(PLATFORMS)
    check_fits(suggestions, language)
    assert any("Masala Chai" in t for t in suggestions.placements[0].headlines)


def test_a_long_product_name_still_fits_with_the_generic_phrases(database_url: str) -> None:
    user_id = make_user()
    suggestions = suggest_copy(
        user_id=user_id,
        request=CopyRequest(product="X" * 80, platforms=("google_display",), language="hi"),
    )
    check_fits(suggestions, "hi")


def test_the_phrase_bank_covers_all_nine_languages() -> None:
    assert set(PHRASES) == set(LANGUAGES) and len(LANGUAGES) == 9


def test_x_counts_characters_outside_its_light_ranges_twice() -> None:
    x, meta = PLATFORMS["x"], PLATFORMS["meta"]
    assert length_on(x, "नमस्ते") == 6  # Devanagari weighs 1 on X
    assert length_on(x, "Sale 🎉") == 7  # an emoji weighs 2
    assert length_on(meta, "Sale 🎉") == 6


def test_words_the_kit_avoids_never_appear(database_url: str) -> None:
    user_id = make_user()
    kit = brand.save_kit(user_id=user_id, data=KitInput(name="K", avoid_words="trust, today"))
    suggestions = suggest_copy(
        user_id=user_id,
        request=CopyRequest(product="Tea", platforms=("meta",), brand_kit_id=kit.id),
    )
    texts = [t for p in suggestions.placements for t in (*p.headlines, *p.primary_texts)]
    assert texts and not any("trust" in t.lower() or "today" in t.lower() for t in texts)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (CopyRequest(product="", platforms=("meta",)), "what the ad is for"),
        (CopyRequest(product="Tea", platforms=()), "placement"),
        (CopyRequest(product="Tea", platforms=("tiktok",)), "Unknown"),
        (CopyRequest(product="Tea", platforms=("meta",), language="fr"), "language"),
    ],
)
def test_bad_requests_say_what_to_fix(
    database_url: str, request_: CopyRequest, message: str
) -> None:
    with pytest.raises(CopyError, match=message):
        suggest_copy(user_id=make_user(), request=request_)


@pytest.fixture
def with_openai(
    database_url: str, openai_images: FakeOpenAIImages, monkeypatch: pytest.MonkeyPatch
) -> FakeOpenAIImages:
    configure_app(
        monkeypatch,
        DATABASE_URL=database_url,
        OPENAI_API_KEY=API_KEY,
        OPENAI_BASE_URL=openai_images.base_url,
        OPENAI_MAX_RETRIES="0",
    )
    return openai_images


@pytest.mark.parametrize("language", ["en", "hi", "ta", "ml"])
def test_openai_copy_uses_a_strict_json_schema_and_fits(
    with_openai: FakeOpenAIImages, language: str
) -> None:
    user_id = make_user()
    suggestions = suggest_copy(
        user_id=user_id,
        request=CopyRequest(product="Masala Chai", platforms=("meta", "x"), language=language),
    )
    assert suggestions.engine == "openai"
    check_fits(suggestions, language)
    [request] = with_openai.requests
    assert request["path"] == "/v1/chat/completions"
    sent = request["fields"]
    assert sent["model"] == get_settings().openai_text_model
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["strict"] is True
    assert sent["response_format"]["json_schema"]["schema"] == response_schema(("meta", "x"))
    system = sent["messages"][0]["content"]
    assert f"Write in {LANGUAGES[language]}" in system and "headline ≤ 40" in system


def test_variants_over_a_limit_are_dropped(with_openai: FakeOpenAIImages) -> None:
    with_openai.script(["over_limit"])
    suggestions = suggest_copy(
        user_id=make_user(), request=CopyRequest(product="Tea", platforms=("google_display",))
    )
    assert suggestions.dropped == 3  # one too-long variant of each kind
    check_fits(suggestions, "en")


@pytest.mark.parametrize(
    ("behaviour", "error", "message"),
    [
        ("refusal", CopyRefused, "declined"),
        ("length", CopyError, "cut short"),
        (("status", 500), CopyError, "busy"),
        ("quota", CopyError, "busy"),
    ],
)
def test_openai_failures_become_clear_errors(
    with_openai: FakeOpenAIImages, behaviour: object, error: type, message: str
) -> None:
    with_openai.script([behaviour])  # type: ignore[list-item]
    with pytest.raises(error, match=message):
        suggest_copy(user_id=make_user(), request=CopyRequest(product="Tea", platforms=("meta",)))


def test_the_fake_refuses_a_schema_strict_mode_does_not_allow(
    openai_images: FakeOpenAIImages,
) -> None:
    import openai

    client = openai.OpenAI(api_key=API_KEY, base_url=openai_images.base_url, max_retries=0)
    loose = {"type": "object", "properties": {"a": {"type": "string"}}, "required": []}
    with pytest.raises(openai.BadRequestError, match="Missing 'a'"):
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "hi"}],
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "x", "strict": True, "schema": loose},
            },
        )
    answer = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "hi"}],
        response_format={
            "type": "json_schema",
            "json_schema": {
                "name": "ad_copy",
                "strict": True,
                "schema": response_schema(("meta",)),
            },
        },
    )
    assert (
        json.loads(answer.choices[0].message.content or "")["placements"][0]["platform"] == "meta"
    )
