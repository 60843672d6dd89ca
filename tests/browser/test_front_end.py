"""The front end as a user's browser meets it: keyboard-only and phone-width walkthroughs,
canonical URLs without redirects, the Dashboard's axe check, each route's weight, no
layout shift, and what the sign-in page tells crawlers and link previews.

The other browser tests run axe on the pages and states they visit (tests/browser/a11y.py);
these drive the main flows without a mouse and at 375 px wide.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from PIL import Image
from playwright.sync_api import Page, Response, expect

from adremix.api.headers import IMMUTABLE, PER_VIEWER
from tests.app_server import RunningApp
from tests.browser.a11y import assert_accessible, focused, tab_to
from tests.browser.conftest import sign_in_as_developer
from tests.browser.test_generation import SIGNUP_BONUS, ad_image, upload

PHONE = {"width": 375, "height": 812}


def keyboard_sign_in(page: Page, app: RunningApp, email: str, next_path: str) -> None:
    page.goto(f"{app.base_url}/login/?next={next_path}")
    expect(page.locator("#dev-email")).to_be_visible()
    tab_to(page, "#dev-email")
    page.keyboard.type(email)
    page.keyboard.press("Enter")
    expect(page.locator("#user-name")).to_have_text(email.split("@")[0])


def test_upload_generate_and_download_with_the_keyboard_only(
    page: Page, dev_app: RunningApp, tmp_path: Path
) -> None:
    # Intercept file choosers from the start: turned on only by the waiter below, the
    # interception can arrive after the key press has already opened (and lost) one.
    page.on("filechooser", lambda _: None)
    keyboard_sign_in(page, dev_app, "keys-only@example.com", "/new/")
    expect(page).to_have_url(f"{dev_app.base_url}/new/")
    # Nothing takes a place in the tab order out of the layout's turn.
    assert page.locator("[tabindex]:not([tabindex='0']):not([tabindex^='-'])").count() == 0

    # The first stop skips the navigation: the next ones are in the page's content.
    page.keyboard.press("Tab")
    assert focused(page)["name"] == "Skip to content"
    page.keyboard.press("Enter")
    assert all(stop["inMain"] for stop in tab_to(page, "#source-upload"))
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Enter")
    chooser.value.set_files(str(ad_image(tmp_path / "ad.jpg")))
    expect(page.locator("#source-preview")).to_be_visible()

    tab_to(page, "#instructions")
    page.keyboard.type("Make it a festive Diwali offer")
    expect(page.locator("#generate")).to_be_enabled()  # the server has the instructions
    # The style is a radio group: one tab stop, arrows move between styles, Space picks.
    tab_to(page, "#template-minimal")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#template-bold_sale")).to_be_focused()
    page.keyboard.press("Space")
    expect(page.locator("#template-bold_sale")).to_be_checked()
    tab_to(page, "#generate")
    page.keyboard.press("Enter")
    expect(page.locator(".job-card .result-thumb")).to_have_count(1, timeout=60_000)
    expect(page.locator("#credit-balance")).to_have_text(str(SIGNUP_BONUS - 1))
    # Arrow right from Minimal is the second style, Bold sale; the default placement.
    expect(page.locator(".result-thumb")).to_have_attribute(
        "alt", "Generated ad, Bold sale style, square"
    )

    # The full-size view opens and closes from the keyboard, focus going back.
    tab_to(page, ".result-open")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(page.locator(".result-open")).to_be_focused()

    tab_to(page, ".job-card .download-menu")
    page.keyboard.press("Enter")
    expect(page.get_by_role("menuitem", name="PNG")).to_be_focused()
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename.endswith(".png")


def test_buying_credits_with_the_keyboard_only(page: Page, dev_app: RunningApp) -> None:
    keyboard_sign_in(page, dev_app, "keys-buyer@example.com", "/credits/")

    # Escape closes the checkout without paying and gives focus back to Buy.
    tab_to(page, "#buy-starter")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Test checkout")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(page.get_by_text("Checkout closed. Nothing was charged.")).to_be_visible()
    expect(page.locator("#buy-starter")).to_be_focused()
    # (Buy ignores presses for a moment after it was answered: the double-press guard.)
    expect(page.locator("#buy-starter")).not_to_have_attribute("aria-busy", "true")

    page.keyboard.press("Enter")
    expect(dialog).to_contain_text("Test checkout")
    # Focus is trapped in the dialog: tabbing round never leaves it.
    for _ in range(8):
        page.keyboard.press("Tab")
        stop = focused(page)
        assert stop is not None and stop["inDialog"] and stop["ring"], stop
    tab_to(page, "#test-checkout-pay")
    page.keyboard.press("Enter")

    expect(page.locator("#purchase-confirmation")).to_be_visible()
    expect(page.locator("#credit-balance")).to_have_text(str(SIGNUP_BONUS + 10))
    expect(page.locator("#buy-starter")).to_be_focused()
    # The toast is announced: it appears inside a polite live region.
    toasts = page.get_by_role("region", name=re.compile("Notifications"))
    expect(toasts).to_have_attribute("aria-live", "polite")
    expect(toasts).to_contain_text("Payment received: 10 credits added.")


def assert_no_sideways_scroll(page: Page, where: str) -> None:
    page.wait_for_timeout(300)  # images and late content settle
    width = page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
    )
    assert width <= PHONE["width"], f"{where} is {width}px wide at {PHONE['width']}px"


def test_nothing_overflows_at_375px_on_any_page(
    page: Page, dev_app: RunningApp, tmp_path: Path
) -> None:
    page.set_viewport_size(PHONE)
    page.goto(f"{dev_app.base_url}/login/?next=/new/")
    expect(page.locator("#dev-email")).to_be_visible()
    assert_no_sideways_scroll(page, "login")

    sign_in_as_developer(page, "narrow@example.com")
    expect(page.locator("#generate")).to_be_visible()
    assert_no_sideways_scroll(page, "New Ad")
    upload(page, ad_image(tmp_path / "ad.jpg"))
    page.locator("#instructions").fill("Monsoon sale")
    page.locator("#generate").click()
    expect(page.locator(".job-card .result-thumb")).to_have_count(1, timeout=60_000)
    assert_no_sideways_scroll(page, "New Ad with a result")
    page.locator(".job-card .download-menu").click()
    png = page.get_by_role("menuitem", name="PNG")
    expect(png).to_be_in_viewport()
    assert_no_sideways_scroll(page, "the download menu")
    with page.expect_download() as download:
        png.click()
    assert download.value.suggested_filename.endswith(".png")

    for path, ready in [
        ("/", "#usage-chart"),
        ("/history/", ".history-card"),
        ("/credits/", "#ledger-table"),
        ("/account/", "#sessions-table"),
    ]:
        page.goto(dev_app.base_url + path)
        expect(page.locator(ready).first).to_be_visible()
        assert_no_sideways_scroll(page, path)

    page.goto(f"{dev_app.base_url}/history/")
    page.locator(".history-card").get_by_role("button", name="Open").click()
    expect(page.locator("#generation-detail")).to_be_visible()
    assert_no_sideways_scroll(page, "History detail")

    page.goto(f"{dev_app.base_url}/credits/")
    page.locator("#buy-starter").click()
    expect(page.locator("#test-checkout-pay")).to_be_in_viewport()
    assert_no_sideways_scroll(page, "checkout")
    page.locator("#test-checkout-pay").click()
    expect(page.locator("#purchase-confirmation")).to_be_visible()
    assert_no_sideways_scroll(page, "Credits after a purchase")


def test_dashboard_with_usage_passes_axe(page: Page, dev_app: RunningApp, tmp_path: Path) -> None:
    page.goto(f"{dev_app.base_url}/login/?next=/new/")
    sign_in_as_developer(page, "charted@example.com")
    upload(page, ad_image(tmp_path / "ad.jpg"))
    page.locator("#instructions").fill("Sharper colours")
    page.locator("#generate").click()
    expect(page.locator(".job-card .result-thumb")).to_have_count(1, timeout=60_000)

    page.get_by_role("link", name="Dashboard").first.click()
    expect(page).to_have_url(f"{dev_app.base_url}/")
    expect(page.locator("#stat-images")).to_have_text("1")
    expect(page.locator("#usage-chart .recharts-bar-rectangle").first).to_be_visible()
    assert_accessible(page, "Dashboard")


def test_signing_in_and_moving_around_never_redirects(page: Page, dev_app: RunningApp) -> None:
    documents: list[Response] = []
    assets: list[Response] = []

    def seen(response: Response) -> None:
        if response.request.resource_type == "document":
            documents.append(response)
        elif "/assets/" in response.url:
            assets.append(response)

    page.on("response", seen)
    page.goto(f"{dev_app.base_url}/login/?next=/new")
    sign_in_as_developer(page, "direct@example.com")
    expect(page).to_have_url(f"{dev_app.base_url}/new/")
    for name, path in [
        ("History", "/history/"),
        ("Credits", "/credits/"),
        ("Account", "/account/"),
    ]:
        page.get_by_role("link", name=name, exact=True).first.click()
        expect(page).to_have_url(dev_app.base_url + path)

    # The sign-in POST answers 303 to the page's canonical address, which answers 200.
    statuses = [(r.status, r.url.removeprefix(dev_app.base_url)) for r in documents]
    assert statuses == [(200, "/login/?next=/new"), (303, "/auth/dev/login"), (200, "/new/")]
    # Every script and stylesheet the pages loaded is content-hashed and cached for good
    # (the headers middleware, api/headers.py), the Brotli-encoded ones included; but the
    # route manifest, which differs for staff (the admin console's routes), is asked for
    # again each time.
    assert assets
    for asset in assets:
        manifest = urlsplit(asset.url).path.startswith("/assets/manifest-")
        expected = PER_VIEWER if manifest else IMMUTABLE
        assert asset.headers["cache-control"] == expected, asset.url
    assert any(a.headers.get("content-encoding") == "br" for a in assets)

    cookie = next(c for c in page.context.cookies() if c["name"] == "adremix_session")
    for path in ["/login/", "/new/", "/history/", "/credits/", "/account/", "/"]:
        response = httpx.get(
            dev_app.base_url + path,
            cookies={"adremix_session": cookie["value"]},
            follow_redirects=False,
        )
        assert response.status_code == 200, (path, response.status_code)


def test_only_the_dashboard_loads_the_charts(page: Page, dev_app: RunningApp) -> None:
    page.goto(f"{dev_app.base_url}/login/?next=/new/")
    scripts: list[str] = []
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    sign_in_as_developer(page, "light@example.com")
    expect(page.locator("#engine-label")).to_have_text("Offline engine")
    page.wait_for_load_state("networkidle")

    def with_charts() -> list[str]:
        return [url for url in set(scripts) if "recharts-surface" in httpx.get(url).text]

    assert scripts and with_charts() == []
    page.get_by_role("link", name="Dashboard").first.click()
    expect(page.locator("#usage-chart .recharts-surface")).to_be_visible()
    assert with_charts()


def test_new_ad_loads_its_icons_in_one_file_not_one_file_each(
    page: Page, dev_app: RunningApp
) -> None:
    """Each script file is a request the first paint waits for on a slow phone link
    (adremix/bundling.py): /new/ loaded 37, 17 of them a single Lucide icon each."""
    page.goto(f"{dev_app.base_url}/login/?next=/new/")
    sign_in_as_developer(page, "icons@example.com")
    expect(page.locator("#engine-label")).to_have_text("Offline engine")
    cold = page.context.browser.new_context()  # type: ignore[union-attr]
    cold.add_cookies(page.context.cookies())
    fresh = cold.new_page()
    scripts: list[str] = []
    fresh.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    fresh.goto(f"{dev_app.base_url}/new/", wait_until="networkidle")
    expect(fresh.locator("#engine-label")).to_have_text("Offline engine")
    # An icon module is one createLucideIcon("name", iconNode) call (minified: a
    # one-letter function, the name in quotes or backticks).
    icon_call = re.compile(r"""\([`"'][a-z0-9-]+[`"'],[\w$]+\)""")
    icons_per_file = [len(icon_call.findall(httpx.get(url).text)) for url in set(scripts)]
    cold.close()
    assert sum(icons_per_file) >= 15, icons_per_file  # the header's, the sidebar's, the form's
    assert icons_per_file.count(1) <= 2, icons_per_file
    assert len(set(scripts)) <= 20, sorted(set(scripts))


def meta_tags(html: str) -> dict[str, str]:
    """The page's <meta name|property=... content=...> pairs, as a crawler reads them."""
    tags: dict[str, str] = {}

    class Metas(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found = dict(attrs)
            key = found.get("name") or found.get("property")
            if tag == "meta" and key and found.get("content") is not None:
                tags[key] = found["content"] or ""

    Metas().feed(html)
    return tags


def test_the_login_page_describes_itself_to_search_engines_and_link_previews(
    page: Page, dev_app: RunningApp
) -> None:
    # In the HTML the server sends: crawlers and link previews do not run the app's JS.
    tags = meta_tags(httpx.get(f"{dev_app.base_url}/login/").text)
    assert tags["description"].startswith("Upload an ad, say what to change")
    assert tags["og:title"] == "AdRemix: remix your best ads in seconds"
    assert tags["og:description"] == tags["description"]
    assert tags["og:type"] == "website"
    assert tags["og:url"] == f"{dev_app.base_url}/login/"
    assert tags["twitter:card"] == "summary_large_image"
    # Open Graph wants an absolute image URL; the image is there, at the size it says.
    assert tags["og:image"] == f"{dev_app.base_url}/og-image.png"
    image = httpx.get(tags["og:image"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).size == (1200, 630)
    assert tags["og:image:alt"]

    # A sign-in error, in the page's words, is as accessible as the rest of it.
    page.goto(f"{dev_app.base_url}/login/?error=account_deleted")
    expect(page.locator("#sign-in-error")).to_be_visible()
    assert_accessible(page, "the login page with an error")


# Every layout shift the page makes without user input (what CLS adds up), from the start.
_RECORD_SHIFTS = """
window.adremixShifts = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.hadRecentInput) continue;
    window.adremixShifts.push({
      value: entry.value,
      moved: entry.sources.map((s) => s.node ? (s.node.id || s.node.nodeName) : "?"),
    });
  }
}).observe({type: "layout-shift", buffered: true});
"""


def layout_shifts(page: Page) -> tuple[float, list[dict]]:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1000)  # late arrivals (the session, the balance) have landed
    shifts = page.evaluate("() => window.adremixShifts")
    return sum(shift["value"] for shift in shifts), shifts


def test_nothing_moves_once_the_page_has_painted(page: Page, dev_app: RunningApp) -> None:
    # On a phone, where Lighthouse measured the sign-in card jump (CLS 0.165) as the
    # server's part of it arrived after hydration; then a signed-in page filling in.
    page.set_viewport_size(PHONE)
    page.add_init_script(_RECORD_SHIFTS)
    page.goto(f"{dev_app.base_url}/login/?next=/new/")
    expect(page.locator("#dev-sign-in")).to_be_enabled()
    total, shifts = layout_shifts(page)
    assert total < 0.01, shifts

    sign_in_as_developer(page, "steady@example.com")
    expect(page.locator("#engine-label")).to_have_text("Offline engine")
    expect(page.locator("#page-controls:enabled")).to_have_count(1)
    total, shifts = layout_shifts(page)
    assert total < 0.01, shifts
