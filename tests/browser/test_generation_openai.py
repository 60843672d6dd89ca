"""New Ad against the fake OpenAI images API: the real SDK path from a real browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.app_server import RunningApp, run_app
from tests.browser.conftest import sign_in_as_developer
from tests.browser.test_generation import SIGNUP_BONUS, ad_image, upload
from tests.fakes.openai_images import API_KEY, FakeOpenAIImages


@pytest.fixture(scope="module")
def openai_fake() -> Iterator[FakeOpenAIImages]:
    fake = FakeOpenAIImages().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def openai_app(
    app_port: int, tmp_path_factory: pytest.TempPathFactory, openai_fake: FakeOpenAIImages
) -> Iterator[RunningApp]:
    env = {
        "ADREMIX_ENV": "dev",
        "GOOGLE_CLIENT_ID": "",
        "RAZORPAY_KEY_ID": "",
        "OPENAI_API_KEY": API_KEY,
        "OPENAI_BASE_URL": openai_fake.base_url,
        "OPENAI_MAX_RETRIES": "1",
    }
    with run_app(port=app_port, workdir=tmp_path_factory.mktemp("openai-app"), env=env) as app:
        yield app


def test_generate_through_openai_and_refund_a_refused_image(
    page: Page, openai_app: RunningApp, openai_fake: FakeOpenAIImages, tmp_path: Path
) -> None:
    openai_fake.reset()
    openai_fake.script(["ok", "refuse"])
    page.goto(f"{openai_app.base_url}/login?next=/new")
    sign_in_as_developer(page, "openai-user@example.com")
    expect(page.locator("#engine-label")).to_have_text("OpenAI gpt-image-1")

    upload(page, ad_image(tmp_path / "ad.jpg"))
    page.locator("#instructions").fill("Monsoon sale, rainy mood")
    page.locator("#variations").select_option("2")
    page.locator("#generate").click()

    expect(page.locator(".job-card")).to_contain_text("Partly done", timeout=60_000)
    expect(page.locator(".job-card .result-thumb")).to_have_count(1)
    expect(page.locator(".job-card")).to_contain_text("content policy")
    expect(page.locator("#credit-balance")).to_have_text(str(SIGNUP_BONUS - 1))
    edits = [r for r in openai_fake.requests if r["path"] == "/v1/images/edits"]
    assert len(edits) == 2 and edits[0]["fields"]["model"] == "gpt-image-1"
