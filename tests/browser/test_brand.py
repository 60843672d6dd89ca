"""Brand kits, copy suggestions and region edits in a real browser: create a kit, generate
with it, take a suggested headline, then paint a region of the result and edit it."""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

from tests.app_server import RunningApp
from tests.browser.a11y import assert_accessible
from tests.browser.conftest import save_screenshot, sign_in_as_developer
from tests.browser.test_generation import SIGNUP_BONUS, ad_image, upload


def logo_file(path: Path) -> Path:
    logo = Image.new("RGBA", (300, 120), (0, 0, 0, 0))
    ImageDraw.Draw(logo).rounded_rectangle((0, 0, 299, 119), radius=20, fill=(230, 0, 200, 255))
    logo.save(path)
    return path


def test_create_a_kit_generate_with_it_and_edit_a_region(
    page: Page, dev_app: RunningApp, tmp_path: Path
) -> None:
    page.goto(f"{dev_app.base_url}/login?next=/brand")
    sign_in_as_developer(page, "brand@example.com")
    expect(page.get_by_text("No brand kits yet")).to_be_visible()
    assert_accessible(page, "Brand, no kits yet")

    # An SVG logo is refused with a reason (by the browser first; the server checks again,
    # see test_brand_kits), and nothing is kept.
    svg = tmp_path / "logo.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    page.locator("#logo-upload input[type=file]").set_input_files(str(svg))
    expect(page.get_by_text(re.compile("SVG isn't accepted"))).to_be_visible()
    expect(page.locator("#kit-logo-preview")).to_have_count(0)

    page.locator("#kit-name").fill("Chai Co")
    page.locator("#logo-upload input[type=file]").set_input_files(
        str(logo_file(tmp_path / "l.png"))
    )
    expect(page.locator("#kit-logo-preview")).to_be_visible()
    page.locator("#kit-primary").fill("#1a73e8")
    page.locator("#kit-text").fill("#ffcc00")
    page.locator("#kit-tone").fill("Warm and witty")
    page.locator("#kit-avoid").fill("cheap, guaranteed")
    page.locator("#save-kit").click()
    expect(page.locator(".kit-tile")).to_have_count(1)
    expect(page.locator(".kit-tile")).to_contain_text("Default")
    expect(page.locator(".kit-tile")).to_contain_text("cheap, guaranteed")
    save_screenshot(page, "brand")
    assert_accessible(page, "Brand with a kit")

    # New Ad preselects the default kit; a suggested headline goes into the form.
    page.get_by_role("link", name="New Ad").first.click()
    expect(page.locator("#brand-kit option:checked")).to_have_text("Chai Co")
    upload(page, ad_image(tmp_path / "ad.jpg"))
    expect(page.locator("#source-preview")).to_be_visible()
    page.locator("#instructions").fill("A warm Diwali offer")
    page.locator("#suggest-copy").click()
    page.locator("#copy-product").fill("Masala Chai")
    page.locator("#run-suggest-copy").click()
    expect(page.locator(".copy-placement")).to_have_count(2)
    expect(page.locator("#copy-results")).to_contain_text("Google Ads responsive display")
    assert_accessible(page, "New Ad, the copy suggestions")
    page.locator(".copy-placement").first.locator(".use-copy").first.click()
    page.get_by_role("button", name="Close", exact=True).click()
    expect(page.locator("#headline")).to_have_value(re.compile("Masala Chai"))

    page.locator("#generate").click()
    expect(page.locator(".job-card .result-thumb")).to_have_count(1, timeout=60_000)
    expect(page.locator("#credit-balance")).to_have_text(str(SIGNUP_BONUS - 1))

    # History: open it, paint over part of the result, describe the change, generate.
    page.get_by_role("link", name="History").first.click()
    page.locator(".history-card").first.get_by_role("button", name="Open").click()
    page.locator(".edit-region").first.click()
    canvas = page.locator("#region-canvas")
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 100, box["y"] + 120)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(box["x"] + 100 + step * 15, box["y"] + 120 + step * 5)
    page.mouse.up()
    expect(page.locator("#region-edit-dialog")).to_contain_text("1 stroke(s)")
    page.locator("#region-instructions").fill('Write "SALE" here')
    save_screenshot(page, "region-edit")
    assert_accessible(page, "History, the region-edit dialog")
    page.locator("#generate-edit").click()
    expect(page.get_by_text(re.compile(r"Edit started as generation #\d+"))).to_be_visible()
    expect(page.locator("#credit-balance")).to_have_text(str(SIGNUP_BONUS - 2))

    # The edit is its own generation, linked to its parent; step through the versions.
    page.reload()
    expect(page.locator(".edit-of")).to_have_count(1, timeout=30_000)
    edit_card = page.locator(".history-card").filter(has=page.locator(".edit-of"))
    for _ in range(30):  # History shows what the database says when it loads
        if "Succeeded" in (edit_card.text_content() or ""):
            break
        page.wait_for_timeout(1000)
        page.reload()
    expect(edit_card).to_contain_text("Succeeded")
    edit_card.get_by_role("button", name="Open").click()
    expect(page.locator("#version-position")).to_have_text("Version 2 of 2")
    page.locator("#version-previous").click()
    expect(page.locator("#version-position")).to_have_text("Version 1 of 2")
    assert_accessible(page, "History detail with versions")
    save_screenshot(page, "history-versions")
