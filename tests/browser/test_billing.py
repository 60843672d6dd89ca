"""Billing in a real browser (test mode): billing details on the Account page, a
subscription bought on the Credits page, its tax invoice downloaded as a PDF, a simulated
renewal and a failed one."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.app_server import RunningApp
from tests.billing_steps import BUYER_GSTIN_KA, pdf_text
from tests.browser.a11y import assert_accessible
from tests.browser.conftest import save_screenshot, sign_in_as_developer

SIGNUP_BONUS = 3
STARTER_CREDITS = 40


def fill_billing_details(page: Page, gstin: str) -> None:
    page.locator("#billing-legal_name").fill("Acme Ads LLP")
    page.locator("#billing-address_line1").fill("4 Church Street")
    page.locator("#billing-city").fill("Bengaluru")
    page.locator("#billing-pin_code").fill("560001")
    page.locator("#billing-gstin").fill(gstin)
    page.locator("#billing-state_code").click()
    page.get_by_role("option", name="Karnataka (29)").click()
    page.locator("#save-billing").click()


def test_subscribe_and_download_the_tax_invoice(page: Page, dev_app: RunningApp) -> None:
    page.goto(f"{dev_app.base_url}/login?next=/account")
    sign_in_as_developer(page, "subscriber@example.com")

    # A mistyped GSTIN is named under its field; nothing is saved.
    fill_billing_details(page, BUYER_GSTIN_KA[:-1] + "X")
    expect(page.locator("#billing-gstin-note")).to_contain_text("check character")
    expect(page.locator("#billing-gstin")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, "Account, billing details with a mistyped GSTIN")
    page.locator("#billing-gstin").fill(BUYER_GSTIN_KA)
    page.locator("#save-billing").click()
    expect(page.get_by_text("Billing details saved")).to_be_visible()

    page.goto(f"{dev_app.base_url}/credits")
    expect(page.locator("#credit-balance")).to_have_text(str(SIGNUP_BONUS))
    expect(page.locator("#subscribe-starter-monthly")).to_be_visible()
    assert_accessible(page, "Credits with the subscription plans")
    subscribe = page.locator("#subscribe-starter-monthly")
    subscribe.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Test checkout: subscription")
    assert_accessible(page, "Credits with the subscription checkout open")
    # Escape closes it without charging, and focus goes back to Subscribe.
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(page.get_by_text("Checkout closed. Nothing was charged.")).to_be_visible()
    expect(subscribe).to_be_focused()
    expect(subscribe).not_to_have_attribute("aria-busy", "true")
    subscribe.click()
    expect(dialog).to_contain_text("Test checkout: subscription")
    page.locator("#test-subscription-pay").click()

    expect(page.locator("#subscription-status")).to_have_text("Active")
    expect(page.locator("#credit-balance")).to_have_text(str(SIGNUP_BONUS + STARTER_CREDITS))
    expect(page.locator("#subscription-renewal")).to_contain_text("Renews on")
    documents = page.locator("#documents-table")
    expect(documents).to_contain_text("Tax invoice")
    expect(documents).to_contain_text("Starter subscription")
    save_screenshot(page, "subscriptions")
    assert_accessible(page, "Credits with a subscription and its tax invoice")

    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"^Download Tax invoice .* as PDF$")).first.click()
    text = pdf_text(open(download.value.path(), "rb").read())  # noqa: SIM115
    for words in ("Tax Invoice", "Acme Ads LLP", BUYER_GSTIN_KA, "Place of Supply", "SAC", "CGST"):
        assert words in text, words

    # Razorpay's renewal, simulated: more credits, a second invoice.
    page.locator("#simulate-renewal").click()
    expect(page.locator("#credit-balance")).to_have_text(str(SIGNUP_BONUS + 2 * STARTER_CREDITS))
    tax_invoices = documents.get_by_role("link", name=re.compile(r"^Download Tax invoice "))
    expect(tax_invoices).to_have_count(2)

    # A failed renewal: the banner asks for a new payment method; no credits added.
    page.locator("#simulate-failure").click()
    expect(page.locator("#subscription-banner")).to_contain_text("failed")
    expect(page.locator("#credit-balance")).to_have_text(str(SIGNUP_BONUS + 2 * STARTER_CREDITS))
    assert_accessible(page, "Credits after a failed renewal, with its banner")

    # Cancel now: the plans are offered again and every credit stays.
    page.locator("#cancel-subscription").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("Cancel your subscription?")
    assert_accessible(page, "Credits with the cancel dialog open")
    page.locator("#cancel-now").click()
    expect(page.locator("#subscribe-pro-monthly")).to_be_visible()
    expect(page.locator("#credit-balance")).to_have_text(str(SIGNUP_BONUS + 2 * STARTER_CREDITS))
