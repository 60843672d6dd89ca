"""Buying credits in test mode: the whole checkout, receipt and ledger in a real browser."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from tests.app_server import RunningApp
from tests.browser.a11y import assert_accessible
from tests.browser.conftest import save_screenshot, sign_in_as_developer

SIGNUP_BONUS = 3


def test_test_mode_purchase_adds_credits_and_shows_receipt(page: Page, dev_app: RunningApp) -> None:
    page.goto(f"{dev_app.base_url}/login?next=/credits")
    sign_in_as_developer(page, "buyer@example.com")
    expect(page.locator("#credit-balance")).to_have_text(str(SIGNUP_BONUS))
    expect(page.get_by_text("Test mode: no real payments")).to_be_visible()
    assert_accessible(page, "Credits")

    page.locator("#buy-growth").click()
    expect(page.get_by_role("dialog")).to_contain_text("Test mode")
    save_screenshot(page, "test-checkout")
    assert_accessible(page, "Credits with the checkout dialog open")
    page.locator("#test-checkout-pay").click()

    expect(page.locator("#purchase-confirmation")).to_be_visible()
    expect(page.locator("#credit-balance")).to_have_text(str(SIGNUP_BONUS + 50))
    expect(page.locator("#ledger-table")).to_contain_text("Purchase")
    expect(page.locator("#ledger-table")).to_contain_text("+50")
    save_screenshot(page, "credits")
    expect(page.get_by_text("Payment received: 50 credits added.")).to_be_visible()
    assert_accessible(page, "Credits after a purchase, with its toast")

    receipt_href = page.locator("#receipt-link").get_attribute("href")
    assert receipt_href and receipt_href.startswith("/receipts/AR-")
    page.goto(dev_app.base_url + receipt_href)
    receipt = page.locator("#receipt")
    expect(receipt).to_contain_text("Growth (50 credits)")
    expect(receipt).to_contain_text("₹799.00")
    expect(receipt).to_contain_text("GST @ 18%")
    expect(receipt).to_contain_text("₹121.88")  # 799 incl. 18% GST: 677.12 + 121.88
    expect(receipt).to_contain_text("buyer@example.com")
    # Print works under the CSP (a script file, no inline handler).
    page.evaluate("window.print = () => { window.printed = true; }")
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("window.printed === true")

    # The receipt is the buyer's alone: a signed-out request gets 404.
    assert httpx.get(dev_app.base_url + receipt_href).status_code == 404


def test_failed_test_payment_changes_nothing(page: Page, dev_app: RunningApp) -> None:
    page.goto(f"{dev_app.base_url}/login?next=/credits")
    sign_in_as_developer(page, "declined@example.com")
    expect(page.locator("#credit-balance")).to_have_text(str(SIGNUP_BONUS))

    page.locator("#buy-starter").click()
    page.locator("#test-checkout-fail").click()

    expect(
        page.get_by_text(re.compile("Payment failed: Test mode: the card was declined"))
    ).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.reload()
    expect(page.locator("#credit-balance")).to_have_text(str(SIGNUP_BONUS))
    expect(page.locator("#ledger-table")).not_to_contain_text("Purchase")


def test_a_double_click_on_pay_pays_once(page: Page, dev_app: RunningApp) -> None:
    page.goto(f"{dev_app.base_url}/login?next=/credits")
    sign_in_as_developer(page, "double-payer@example.com")
    page.locator("#buy-starter").click()
    pay = page.locator("#test-checkout-pay")
    expect(pay).to_be_visible()

    box = pay.bounding_box()
    assert box is not None
    page.mouse.dblclick(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    expect(page.locator("#purchase-confirmation")).to_be_visible()
    page.wait_for_timeout(1_500)
    expect(page.locator("#credit-balance")).to_have_text(str(SIGNUP_BONUS + 10))
    page.reload()
    expect(page.locator("#ledger-table")).to_contain_text("+10")
    expect(page.locator("#ledger-table").get_by_text("Purchase")).to_have_count(1)
