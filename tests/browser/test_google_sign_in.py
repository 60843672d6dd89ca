"""Production mode against a local OIDC provider: the real authlib flow in a real browser."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.app_server import RunningApp, run_app
from tests.browser.a11y import assert_accessible
from tests.fakes.oidc_provider import CLIENT_ID, CLIENT_SECRET, FakeOidcProvider


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeOidcProvider]:
    provider = FakeOidcProvider().start()
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def prod_app(
    app_port: int, tmp_path_factory: pytest.TempPathFactory, provider: FakeOidcProvider
) -> Iterator[RunningApp]:
    env = {
        "ADREMIX_ENV": "prod",
        "ADREMIX_SECRET_KEY": "browser-test-secret-key-0123456789",
        "GOOGLE_CLIENT_ID": CLIENT_ID,
        "GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_ISSUER": provider.issuer,
        "RAZORPAY_KEY_ID": "rzp_test_unused",
        "RAZORPAY_KEY_SECRET": "unused",
        "RAZORPAY_WEBHOOK_SECRET": "unused",
        "OPENAI_API_KEY": "sk-unused-by-these-tests",
        "ADREMIX_SELLER_GSTIN": "29AABCU9603R1ZJ",
        "ADREMIX_SELLER_ADDRESS": "1 MG Road, Bengaluru 560001",
    }
    with run_app(port=app_port, workdir=tmp_path_factory.mktemp("prod-app"), env=env) as app:
        yield app


@pytest.fixture(autouse=True)
def _fresh_provider(provider: FakeOidcProvider) -> None:
    provider.reset()


def test_google_sign_in_round_trip(page: Page, prod_app: RunningApp) -> None:
    page.goto(f"{prod_app.base_url}/credits")
    expect(page).to_have_url(re.compile(r"/login/?\?next=/credits"))
    expect(page.locator("#dev-sign-in-section")).to_have_count(0)
    expect(page.locator("#google-sign-in")).to_be_visible()
    assert_accessible(page, "the login page (Google)")

    page.locator("#google-sign-in").click()

    expect(page).to_have_url(re.compile(rf"^{prod_app.base_url}/credits/?$"))
    expect(page.locator("#user-name")).to_have_text("Maya Rao")
    expect(page.locator("#credit-balance")).to_have_text(re.compile(r"^\d+$"))
    cookie = next(c for c in page.context.cookies() if c["name"] == "adremix_session")
    assert cookie["httpOnly"] and cookie["secure"], "production cookies are Secure"

    page.reload()
    expect(page.locator("#user-name")).to_have_text("Maya Rao")

    page.locator("#profile-menu").click()
    page.locator("#sign-out").click()
    expect(page).to_have_url(re.compile(r"/login/?$"))
    page.goto(f"{prod_app.base_url}/credits")
    expect(page).to_have_url(re.compile(r"/login/?\?next=/credits"))


def test_unverified_email_is_refused_with_a_message(
    page: Page, prod_app: RunningApp, provider: FakeOidcProvider
) -> None:
    provider.identity["email_verified"] = False
    page.goto(f"{prod_app.base_url}/login")
    page.locator("#google-sign-in").click()
    expect(page.locator("#sign-in-error")).to_contain_text("not verified")
    assert not any(c["name"] == "adremix_session" for c in page.context.cookies())


def test_developer_sign_in_does_not_exist_in_production(prod_app: RunningApp) -> None:
    response = httpx.post(
        f"{prod_app.base_url}/auth/dev/login",
        data={"email": "intruder@example.com"},
        follow_redirects=False,
    )
    assert "adremix_session" not in response.cookies
    assert response.status_code in (404, 405)
