"""New Ad in a real browser: upload, generate with the offline engine, see results and cost."""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

from tests.app_server import RunningApp
from tests.browser.a11y import assert_accessible
from tests.browser.conftest import save_screenshot, sign_in_as_developer
from tests.test_images import bomb_png

SIGNUP_BONUS = 3


def ad_image(path: Path) -> Path:
    image = Image.new("RGB", (1200, 900), (240, 236, 228))
    draw = ImageDraw.Draw(image)
    draw.rectangle((700, 250, 950, 700), fill=(200, 40, 60))
    draw.ellipse((760, 180, 890, 300), fill=(30, 30, 30))
    image.save(path, format="JPEG", quality=90)
    return path


def upload(page: Page, path: Path) -> None:
    # The prerendered page keeps its controls disabled until the signed-in state arrives;
    # setting files does not wait for that by itself.
    expect(page.locator("#page-controls:enabled")).to_have_count(1)
    page.locator("#source-upload input[type=file]").set_input_files(str(path))


def test_generate_with_the_offline_engine(page: Page, dev_app: RunningApp, tmp_path: Path) -> None:
    page.goto(f"{dev_app.base_url}/login?next=/new")
    sign_in_as_developer(page, "creator@example.com")
    expect(page.locator("#engine-label")).to_have_text("Offline engine")
    expect(page.locator("#generate")).to_be_disabled()
    expect(page.locator("#generate-hint")).to_have_text("Upload an ad to start.")
    assert_accessible(page, "New Ad, empty")

    upload(page, ad_image(tmp_path / "ad.jpg"))
    expect(page.locator("#source-preview")).to_be_visible()
    page.locator("#instructions").fill("Make it a festive Diwali offer")
    page.locator("#template-festive").click()
    page.locator("#headline").fill("Diwali Dhamaka")
    page.locator("#cta").fill("Shop now")
    page.locator("#variations").select_option("2")
    expect(page.locator("#cost-summary")).to_contain_text("Cost: 2 credit(s)")
    assert_accessible(page, "New Ad with a source")

    page.locator("#generate").click()

    expect(page.locator(".job-card .result-thumb")).to_have_count(2, timeout=60_000)
    expect(page.locator(".job-card")).to_contain_text("Done")
    expect(page.locator("#credit-balance")).to_have_text(str(SIGNUP_BONUS - 2))
    page.locator("#results").scroll_into_view_if_needed()
    page.wait_for_timeout(300)  # thumbnails fade in
    save_screenshot(page, "new-ad")
    assert_accessible(page, "New Ad after a generation")

    page.get_by_role("link", name="History").first.click()
    expect(page.locator("#history-grid")).to_contain_text("Make it a festive Diwali offer")
    save_screenshot(page, "history")
    assert_accessible(page, "History")


def test_a_fake_image_is_refused_with_a_clear_message(
    page: Page, dev_app: RunningApp, tmp_path: Path
) -> None:
    page.goto(f"{dev_app.base_url}/login?next=/new")
    sign_in_as_developer(page, "careful@example.com")
    fake = tmp_path / "ad.png"
    fake.write_bytes(b"this is a text file wearing a .png extension")
    upload(page, fake)
    expect(page.get_by_text(re.compile("isn't an image we can read"))).to_be_visible()
    expect(page.locator("#source-preview")).to_have_count(0)
    expect(page.locator("#credit-balance")).to_have_text(str(SIGNUP_BONUS))


def test_not_enough_credits_explains_itself(
    page: Page, dev_app: RunningApp, tmp_path: Path
) -> None:
    page.goto(f"{dev_app.base_url}/login?next=/new")
    sign_in_as_developer(page, "thrifty@example.com")
    upload(page, ad_image(tmp_path / "ad.jpg"))
    page.locator("#instructions").fill("Brighter")
    page.locator("#variations").select_option("4")
    expect(page.locator("#generate-hint")).to_have_text("Not enough credits for this many images.")
    expect(page.locator("#generate")).to_be_disabled()
    expect(page.get_by_role("link", name="Buy credits").last).to_be_visible()


def test_refused_files_are_explained_in_the_apps_own_words(
    page: Page, dev_app: RunningApp, tmp_path: Path
) -> None:
    """Type and size are checked by the drop zone before uploading, the pixel count by
    the server from the header; each refusal says what is wrong, never "Files not Accepted"."""
    page.goto(f"{dev_app.base_url}/login?next=/new")
    sign_in_as_developer(page, "picky@example.com")
    refusals = {
        "ad.gif": "This file isn't a PNG, JPEG or WebP image. Please upload one of those.",
        "huge.png": "The file is larger than 20 MB. Please upload a smaller image.",
        "poster.png": "The image is 10000x6000 (60 megapixels); the limit is 50 megapixels.",
    }
    Image.new("RGB", (40, 40), "red").save(tmp_path / "ad.gif", format="GIF")
    (tmp_path / "huge.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(21 * 1024 * 1024))
    (tmp_path / "poster.png").write_bytes(bomb_png(10_000, 6_000))
    sent: list[int] = []  # a refused file must not travel to the server anyway
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(len(frame))))
    page.reload()
    for name, message in refusals.items():
        upload(page, tmp_path / name)
        expect(page.get_by_text(message)).to_be_visible()
    expect(page.get_by_text("Files not Accepted")).to_have_count(0)
    expect(page.locator("#source-preview")).to_have_count(0)
    assert sent and max(sent) < 64 * 1024
