"""Issue 10 in a real browser against the production build: headers and CSP, own-origin
only, CSRF, nothing of one user reaching the next, crafted websocket events, rate-limit
toasts, History links, toast placement and the balance across tabs."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Browser, Page, WebSocketRoute, expect
from sqlmodel import select

from adremix.db import engine_for, session_scope
from adremix.models import User
from adremix.state.errors import GENERIC_MESSAGE
from tests.app_server import RunningApp
from tests.browser.conftest import csp_violations, sign_in_as_developer
from tests.browser.test_generation import ad_image, upload

EVIL = "http://evil.test"


class Tap:
    """Sits between the page and the backend's websocket, keeping both directions."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.received: list[str] = []
        self.server: WebSocketRoute | None = None

    def route(self, page_side: WebSocketRoute) -> None:
        server = page_side.connect_to_server()

        def from_page(message: str | bytes) -> None:
            self.sent.append(str(message))
            server.send(message)

        def from_server(message: str | bytes) -> None:
            self.received.append(str(message))
            page_side.send(message)

        page_side.on_message(from_page)
        server.on_message(from_server)
        self.server = server

    def frame_for(self, handler: str) -> str:
        return next(m for m in reversed(self.sent) if f".{handler}" in m)

    def send(self, frame: str) -> None:
        assert self.server is not None
        self.server.send(frame)


def crafted(frame: str, handler: str, payload: object) -> str:
    """A copy of a captured Socket.IO event frame calling `handler` with `payload`."""
    prefix, _, rest = frame.partition("[")
    message = json.loads("[" + rest)
    as_text = isinstance(message[1], str)
    event = json.loads(message[1]) if as_text else message[1]
    event["name"] = event["name"].rsplit(".", 1)[0] + "." + handler
    event["payload"] = payload
    message[1] = json.dumps(event) if as_text else event
    return prefix + json.dumps(message)


def tapped(page: Page) -> Tap:
    tap = Tap()
    page.route_web_socket(re.compile(r"/_event"), tap.route)
    return tap


# --- headers ------------------------------------------------------------------------------


def test_pages_and_assets_carry_the_headers_and_hashed_assets_are_immutable(
    dev_app: RunningApp,
) -> None:
    page = httpx.get(f"{dev_app.base_url}/login/")
    csp = page.headers["content-security-policy"]
    for directive in ("frame-ancestors 'none'", "object-src 'none'", "base-uri 'self'"):
        assert directive in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in page.headers["permissions-policy"]
    assets = re.findall(r'/assets/[^"]+\.js', page.text)
    # The route manifest differs for staff (it lists the admin console): never shared.
    manifests = [a for a in assets if a.startswith("/assets/manifest-")]
    assets = [a for a in assets if a not in manifests]
    assert assets and manifests
    asset = httpx.get(f"{dev_app.base_url}{assets[0]}")
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "nosniff" in asset.headers["x-content-type-options"]
    manifest = httpx.get(f"{dev_app.base_url}{manifests[0]}")
    assert manifest.status_code == 200 and manifest.text.startswith("window.__reactRouter")
    assert manifest.headers["cache-control"] == "private, no-cache"
    assert "nosniff" in manifest.headers["x-content-type-options"]
    assert httpx.get(f"{dev_app.base_url}/account/").headers["cache-control"] == "no-store"


def test_the_app_works_under_its_csp(page: Page, dev_app: RunningApp, tmp_path: Path) -> None:
    # The `page` fixture fails any test the CSP blocked something in; this one walks
    # through every page to be sure of it.
    blocked = csp_violations(page)
    page.goto(f"{dev_app.base_url}/login?next=/new")
    sign_in_as_developer(page, "csp@example.com")
    upload(page, ad_image(tmp_path / "ad.jpg"))
    expect(page.locator("#source-preview")).to_be_visible()
    for name in ("History", "Credits", "Account", "Dashboard"):
        page.get_by_role("link", name=name, exact=True).first.click()
        expect(page.locator("#user-name")).to_be_visible()
    assert blocked == []


# --- only our own pages talk to the backend -----------------------------------------------


def test_other_origins_get_no_cors_grant(dev_app: RunningApp) -> None:
    foreign = httpx.get(f"{dev_app.base_url}/ping", headers={"Origin": EVIL})
    assert "access-control-allow-origin" not in foreign.headers
    preflight = httpx.options(
        f"{dev_app.base_url}/ping",
        headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 400
    own = httpx.get(f"{dev_app.base_url}/ping", headers={"Origin": dev_app.base_url})
    assert own.headers["access-control-allow-origin"] == dev_app.base_url


def websocket_handshake_status(base_url: str, origin: str) -> int:
    parts = urlsplit(base_url)
    request = (
        "GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: {parts.netloc}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: {origin}\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request.encode())
        status_line = sock.recv(1024).split(b"\r\n", 1)[0].decode()
    return int(status_line.split()[1])


def test_the_websocket_refuses_other_origins(dev_app: RunningApp) -> None:
    assert websocket_handshake_status(dev_app.base_url, dev_app.base_url) == 101
    assert websocket_handshake_status(dev_app.base_url, EVIL) != 101


# --- CSRF -----------------------------------------------------------------------------------


def post_from_another_site(page: Page, action: str, fields: dict[str, str]) -> None:
    inputs = "".join(f'<input name="{k}" value="{v}">' for k, v in fields.items())
    html = f'<form id="f" method="post" action="{action}">{inputs}</form>'
    page.route(f"{EVIL}/", lambda route: route.fulfill(body=html, content_type="text/html"))
    page.goto(f"{EVIL}/")
    with page.expect_navigation(url=re.compile(r"^http://localhost")):
        page.evaluate("document.getElementById('f').submit()")


def test_a_cross_site_form_cannot_sign_you_out(page: Page, dev_app: RunningApp) -> None:
    page.goto(f"{dev_app.base_url}/login?next=/history")
    sign_in_as_developer(page, "stays-in@example.com")
    expect(page.locator("#user-name")).to_have_text("stays-in")

    post_from_another_site(page, f"{dev_app.base_url}/auth/logout", {})

    page.goto(f"{dev_app.base_url}/history")
    expect(page.locator("#user-name")).to_have_text("stays-in")


def test_a_cross_site_form_cannot_sign_you_in(page: Page, dev_app: RunningApp) -> None:
    post_from_another_site(
        page, f"{dev_app.base_url}/auth/dev/login", {"email": "attacker@example.com"}
    )
    assert not [c for c in page.context.cookies() if c["name"] == "adremix_session"]
    # Refused by the server, not just by the browser's SameSite rules: no session was made.
    with session_scope(engine_for(dev_app.database_url)) as session:
        assert session.exec(select(User).where(User.email == "attacker@example.com")).all() == []


def test_the_sign_out_button_still_works(page: Page, dev_app: RunningApp) -> None:
    page.goto(f"{dev_app.base_url}/login")
    sign_in_as_developer(page, "leaves@example.com")
    page.locator("#profile-menu").click()
    page.locator("#sign-out").click()
    expect(page).to_have_url(re.compile(r"/login/?$"))
    assert not [c for c in page.context.cookies() if c["name"] == "adremix_session"]


# --- nothing of one user reaches another ------------------------------------------------


def test_the_next_user_in_the_same_tab_sees_nothing_of_the_last(
    page: Page, dev_app: RunningApp, tmp_path: Path
) -> None:
    page.goto(f"{dev_app.base_url}/login?next=/new")
    sign_in_as_developer(page, "first@example.com")
    upload(page, ad_image(tmp_path / "ad.jpg"))
    expect(page.locator("#source-preview")).to_be_visible()
    page.locator("#instructions").fill("First user's secret campaign")
    page.locator("#headline").fill("Secret headline")
    page.wait_for_timeout(500)  # the inputs reach the server

    page.locator("#profile-menu").click()
    page.locator("#sign-out").click()
    expect(page).to_have_url(re.compile(r"/login/?$"))
    # The same tab, so the same Reflex client token and server-side state.
    page.goto(f"{dev_app.base_url}/login?next=/new")
    sign_in_as_developer(page, "second@example.com")

    expect(page.locator("#user-name")).to_have_text("second")
    expect(page.locator("#generate")).to_be_visible()
    expect(page.locator("#source-preview")).to_have_count(0)
    expect(page.locator("#instructions")).to_have_value("")
    expect(page.locator("#headline")).to_have_value("")
    assert "secret" not in page.content().lower()


# --- crafted websocket events -----------------------------------------------------------


def test_malformed_event_arguments_change_nothing_and_show_a_generic_error(
    page: Page, dev_app: RunningApp
) -> None:
    tap = tapped(page)
    page.goto(f"{dev_app.base_url}/login?next=/new")
    sign_in_as_developer(page, "crafter@example.com")
    page.locator("#instructions").fill("Kept as typed")
    page.wait_for_timeout(500)
    frame = tap.frame_for("set_instructions")

    for handler, payload in [
        ("set_instructions", {"value": {"nested": ["not", "a", "string"]}}),
        ("set_instructions", {"value": "x" * 200_000}),
        ("set_instructions", {}),
        ("set_instructions", {"value": "ok", "extra": 1}),
        ("set_variations", {"value": [1, 2]}),
        ("generate", {"request_key": {"$ne": ""}}),
        ("use_saved_template", {"template_id": None}),
    ]:
        tap.send(crafted(frame, handler, payload))
        expect(page.get_by_text(GENERIC_MESSAGE).first).to_be_visible()
        page.get_by_text(GENERIC_MESSAGE).first.evaluate("e => e.remove()")

    page.wait_for_timeout(500)
    expect(page.locator("#instructions")).to_have_value("Kept as typed")
    expect(page.locator(".job-card")).to_have_count(0)


def test_a_tab_nobody_is_signed_in_to_cannot_fill_user_state(
    browser: Browser, page: Page, dev_app: RunningApp
) -> None:
    tap = tapped(page)
    page.goto(f"{dev_app.base_url}/login?next=/new")
    sign_in_as_developer(page, "reference@example.com")
    page.locator("#instructions").fill("x")
    page.wait_for_timeout(500)
    frame = tap.frame_for("set_instructions")

    stranger = browser.new_context().new_page()
    stranger_tap = tapped(stranger)
    stranger.goto(f"{dev_app.base_url}/login")
    expect(stranger.locator("#dev-sign-in")).to_be_enabled()
    before = len(stranger_tap.received)
    for _ in range(20):
        stranger_tap.send(crafted(frame, "set_instructions", {"value": "y" * 4_000}))
    stranger.wait_for_timeout(1_500)
    answers = stranger_tap.received[before:]
    assert not [m for m in answers if "new_ad_state" in m], "the state took the value"
    stranger.context.close()


def test_too_many_order_attempts_get_a_toast_saying_when_to_retry(
    page: Page, dev_app: RunningApp
) -> None:
    tap = tapped(page)
    page.goto(f"{dev_app.base_url}/login?next=/credits")
    sign_in_as_developer(page, "hammer@example.com")
    page.locator("#buy-starter").click()
    page.get_by_role("button", name="Cancel").click()
    frame = tap.frame_for("buy")
    for _ in range(12):
        tap.send(frame)
    refused = page.get_by_text(re.compile(r"Too many attempts\. Please try again in \d+"))
    expect(refused).to_have_count(3)  # 13 presses in a minute, 10 allowed


# --- smaller things -----------------------------------------------------------------------


def test_a_credits_link_opens_that_generation_in_history(
    page: Page, dev_app: RunningApp, tmp_path: Path
) -> None:
    page.goto(f"{dev_app.base_url}/login?next=/new")
    sign_in_as_developer(page, "linker@example.com")
    upload(page, ad_image(tmp_path / "ad.jpg"))
    page.locator("#instructions").fill("Linked from credits")
    page.locator("#generate").click()
    expect(page.locator(".job-card")).to_contain_text("Done", timeout=60_000)

    page.goto(f"{dev_app.base_url}/credits")
    page.get_by_role("link", name="Generation").first.click()

    expect(page).to_have_url(re.compile(r"/history/?\?id=\d+"))
    expect(page.locator("#generation-detail")).to_be_visible()
    expect(page.locator("#generation-detail")).to_contain_text("Linked from credits")


def overlaps(a: dict | None, b: dict | None) -> bool:
    assert a is not None and b is not None
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_toasts_cover_neither_generate_nor_the_top_bar_on_a_phone(
    page: Page, dev_app: RunningApp, tmp_path: Path
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{dev_app.base_url}/login?next=/new")
    sign_in_as_developer(page, "phone-toast@example.com")
    upload(page, ad_image(tmp_path / "ad.jpg"))
    page.locator("#instructions").fill("Phone toast")
    page.locator("#generate").click()
    toast = page.locator("[data-sonner-toast]").first
    expect(toast).to_be_visible(timeout=60_000)
    page.wait_for_timeout(600)  # the toast slides in
    assert not overlaps(toast.bounding_box(), page.locator("#generate").bounding_box())
    assert not overlaps(toast.bounding_box(), page.locator("#profile-menu").bounding_box())
    assert not overlaps(
        toast.bounding_box(), page.get_by_role("button", name="Open navigation").bounding_box()
    )


def test_the_balance_refreshes_in_the_users_other_tabs(
    page: Page, dev_app: RunningApp, tmp_path: Path
) -> None:
    page.goto(f"{dev_app.base_url}/login?next=/new")
    sign_in_as_developer(page, "two-tabs@example.com")
    other = page.context.new_page()  # same browser, same cookie, its own tab state
    other.goto(f"{dev_app.base_url}/history")
    expect(other.locator("#credit-balance")).to_have_text("3")

    page.bring_to_front()
    upload(page, ad_image(tmp_path / "ad.jpg"))
    page.locator("#instructions").fill("Spend one")
    page.locator("#generate").click()
    expect(page.locator("#credit-balance")).to_have_text("2", timeout=60_000)

    expect(other.locator("#credit-balance")).to_have_text("2")
