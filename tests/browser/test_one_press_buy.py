"""One press of Buy, one Razorpay order: rapid presses reuse the pack's open order."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from adremix.db import engine_for, session_scope
from adremix.models import PaymentOrder
from tests.app_server import RunningApp, run_app
from tests.browser.conftest import sign_in_as_developer
from tests.browser.test_one_press import SETTLE_MS
from tests.fakes.razorpay_api import KEY_ID, KEY_SECRET, FakeRazorpay

# Razorpay's checkout.js cannot load offline; this stand-in opens and is closed at once.
CHECKOUT_JS_STANDIN = (
    "window.Razorpay = function (options) {"
    " this.on = function () {};"
    " this.open = function () { setTimeout(function () { options.modal.ondismiss(); }, 10); };"
    "};"
)


@pytest.fixture(scope="module")
def razorpay_fake() -> Iterator[FakeRazorpay]:
    fake = FakeRazorpay().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def razorpay_app(
    app_port: int, tmp_path_factory: pytest.TempPathFactory, razorpay_fake: FakeRazorpay
) -> Iterator[RunningApp]:
    env = {
        "ADREMIX_ENV": "dev",
        "GOOGLE_CLIENT_ID": "",
        "OPENAI_API_KEY": "",
        "RAZORPAY_KEY_ID": KEY_ID,
        "RAZORPAY_KEY_SECRET": KEY_SECRET,
        "RAZORPAY_WEBHOOK_SECRET": "whsec_browser_test",
        "RAZORPAY_BASE_URL": razorpay_fake.base_url,
    }
    with run_app(port=app_port, workdir=tmp_path_factory.mktemp("razorpay-app"), env=env) as app:
        yield app


def test_twenty_rapid_buy_presses_make_one_razorpay_order(
    page: Page, razorpay_app: RunningApp, razorpay_fake: FakeRazorpay
) -> None:
    razorpay_fake.reset()
    page.route(
        "https://checkout.razorpay.com/**",
        lambda route: route.fulfill(content_type="text/javascript", body=CHECKOUT_JS_STANDIN),
    )
    page.goto(f"{razorpay_app.base_url}/login?next=/credits")
    sign_in_as_developer(page, "rapid-buyer@example.com")
    buy = page.locator("#buy-growth")
    expect(buy).to_be_enabled()

    page.evaluate(
        "() => { const b = document.getElementById('buy-growth');"
        " for (let i = 0; i < 10; i++) b.click(); }"
    )
    expect(page.get_by_text("Checkout closed. Nothing was charged.")).to_be_visible()
    box = buy.bounding_box()
    assert box is not None
    for _ in range(10):  # ten more, as a burst of real clicks once the first checkout closed
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(SETTLE_MS)
    expect(buy).not_to_have_attribute("aria-busy", "true")

    assert len(razorpay_fake.orders) == 1
    with session_scope(engine_for(razorpay_app.database_url)) as session:
        orders = session.exec(select(PaymentOrder.provider_order_id)).all()
    assert orders == list(razorpay_fake.orders)
