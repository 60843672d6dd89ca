"""Offline mode: no Google client, so the developer sign-in is the way in."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect
from sqlmodel import select

from adremix.db import engine_for, session_scope
from adremix.models import AuthSession
from adremix.services.accounts import hash_token
from tests.app_server import RunningApp
from tests.browser.a11y import assert_accessible
from tests.browser.conftest import save_screenshot, sign_in_as_developer


def test_signed_out_visitor_is_sent_to_login_with_next(page: Page, dev_app: RunningApp) -> None:
    page.goto(f"{dev_app.base_url}/history")
    expect(page).to_have_url(re.compile(r"/login/?\?next=/history"))
    expect(page.get_by_role("heading", name="Remix your best ads in seconds")).to_be_visible()


def test_developer_sign_in_shows_shell_and_survives_reload(page: Page, dev_app: RunningApp) -> None:
    page.goto(f"{dev_app.base_url}/history")
    expect(page.locator("#dev-sign-in-section")).to_contain_text("Developer sign-in")
    save_screenshot(page, "login")
    assert_accessible(page, "the login page (developer sign-in)")

    sign_in_as_developer(page, "Asha.Patel@Example.com")

    expect(page).to_have_url(re.compile(rf"^{dev_app.base_url}/history/?$"))
    expect(page.locator("#user-name")).to_have_text("asha.patel")
    expect(page.locator("#credit-balance")).to_have_text(re.compile(r"^\d+$"))
    expect(page.get_by_role("link", name="New Ad", exact=True)).to_be_visible()
    save_screenshot(page, "shell")

    page.reload()
    expect(page.locator("#user-name")).to_have_text("asha.patel")

    cookie = next(c for c in page.context.cookies() if c["name"] == "adremix_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"


def test_sign_out_revokes_the_session(page: Page, dev_app: RunningApp) -> None:
    page.goto(f"{dev_app.base_url}/login")
    sign_in_as_developer(page, "leaving@example.com")
    expect(page.locator("#user-name")).to_be_visible()
    token = next(c for c in page.context.cookies() if c["name"] == "adremix_session")["value"]

    page.locator("#profile-menu").click()
    page.locator("#sign-out").click()

    expect(page).to_have_url(re.compile(r"/login/?$"))
    page.goto(f"{dev_app.base_url}/account")
    expect(page).to_have_url(re.compile(r"/login/?\?next=/account"))
    # The old token is dead server-side, not just forgotten by this browser.
    with session_scope(engine_for(dev_app.database_url)) as session:
        stored = session.exec(
            select(AuthSession).where(AuthSession.token_hash == hash_token(token))
        ).one()
        assert stored.revoked_at is not None
    replay = httpx.get(
        f"{dev_app.base_url}/api/credits/export.csv", cookies={"adremix_session": token}
    )
    assert replay.status_code == 404


def test_shell_works_at_phone_width(page: Page, dev_app: RunningApp) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{dev_app.base_url}/login")
    sign_in_as_developer(page, "phone@example.com")
    expect(page.locator("#credit-balance")).to_be_visible()
    page.get_by_role("button", name="Open navigation").click()
    page.get_by_role("link", name="Credits").last.click()
    expect(page).to_have_url(re.compile(rf"^{dev_app.base_url}/credits/?$"))
