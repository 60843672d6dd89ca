"""One press, one job, one charge: however Generate and Buy are clicked, or events replayed."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect
from sqlalchemy import func
from sqlmodel import select

from adremix.db import engine_for, session_scope
from adremix.models import CreditTransaction, Generation, User
from tests.app_server import RunningApp
from tests.browser.conftest import sign_in_as_developer
from tests.browser.test_generation import SIGNUP_BONUS, ad_image, upload

# Long enough for a second job, had one been started, to show up on the page.
SETTLE_MS = 1_500


def counts(app: RunningApp, email: str) -> tuple[int, int]:
    """(generations, generation charges) of the user in the app's database."""
    with session_scope(engine_for(app.database_url)) as session:
        user_id = session.exec(select(User.id).where(User.email == email)).one()
        generations = session.exec(
            select(func.count()).select_from(Generation).where(Generation.user_id == user_id)
        ).one()
        charges = session.exec(
            select(func.count())
            .select_from(CreditTransaction)
            .where(CreditTransaction.user_id == user_id, CreditTransaction.kind == "generation")
        ).one()
        return generations, charges


def ready_to_generate(page: Page, app: RunningApp, email: str, tmp_path: Path) -> None:
    page.goto(f"{app.base_url}/login?next=/new")
    sign_in_as_developer(page, email)
    upload(page, ad_image(tmp_path / "ad.jpg"))
    expect(page.locator("#source-preview")).to_be_visible()
    page.locator("#instructions").fill("Brighter, with a summer feel")
    expect(page.locator("#generate")).to_be_enabled()


def generate_center(page: Page) -> tuple[float, float]:
    box = page.locator("#generate").bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def assert_one_job_and_one_charge(page: Page, app: RunningApp, email: str) -> None:
    expect(page.locator(".job-card")).to_have_count(1)
    expect(page.locator(".job-card")).to_contain_text("Done", timeout=60_000)
    page.wait_for_timeout(SETTLE_MS)
    expect(page.locator(".job-card")).to_have_count(1)
    expect(page.locator("#credit-balance")).to_have_text(str(SIGNUP_BONUS - 1))
    assert counts(app, email) == (1, 1)


class EventTap:
    """Sits between the page and the backend's websocket, keeping what the page sent.

    Frames the page sends that `hold` matches wait in `held` until `release()`.
    """

    def __init__(self, hold: Callable[[str | bytes], bool] | None = None) -> None:
        self.servers: list[WebSocketRoute] = []
        self.sent: list[str | bytes] = []
        self.held: list[str | bytes] = []
        self._hold = hold

    def route(self, page_side: WebSocketRoute) -> None:
        server = page_side.connect_to_server()

        def from_page(message: str | bytes) -> None:
            self.sent.append(message)
            if self._hold and self._hold(message):
                self.held.append(message)
            else:
                server.send(message)

        page_side.on_message(from_page)
        server.on_message(page_side.send)
        self.servers.append(server)

    def release(self) -> None:
        for message in self.held:
            self.servers[-1].send(message)
        self.held.clear()

    def generate_frames(self) -> list[str | bytes]:
        return [m for m in self.sent if "generate" in str(m) and "request_key" in str(m)]


def press_twice_150ms_apart(page: Page) -> None:
    x, y = generate_center(page)
    page.mouse.click(x, y)
    page.wait_for_timeout(150)
    page.mouse.click(x, y)


def double_click(page: Page) -> None:
    page.mouse.dblclick(*generate_center(page))


def ten_clicks_in_a_burst(page: Page) -> None:
    x, y = generate_center(page)
    for _ in range(10):
        page.mouse.click(x, y)


def ten_script_clicks_in_one_tick(page: Page) -> None:
    page.evaluate(
        "() => { const b = document.getElementById('generate');"
        " for (let i = 0; i < 10; i++) b.click(); }"
    )


@pytest.mark.parametrize(
    "press",
    [press_twice_150ms_apart, double_click, ten_clicks_in_a_burst, ten_script_clicks_in_one_tick],
    ids=["two-clicks-150ms", "double-click", "ten-click-burst", "ten-script-clicks-one-tick"],
)
def test_rapid_presses_of_generate_make_one_job_and_one_charge(
    page: Page, dev_app: RunningApp, tmp_path: Path, press: Callable[[Page], None]
) -> None:
    email = f"presser-{press.__name__.replace('_', '-')}@example.com"
    ready_to_generate(page, dev_app, email, tmp_path)

    press(page)

    assert_one_job_and_one_charge(page, dev_app, email)


def test_the_button_is_busy_before_any_round_trip(
    page: Page, dev_app: RunningApp, tmp_path: Path
) -> None:
    email = "impatient@example.com"
    tap = EventTap(hold=lambda message: "generate" in str(message))
    page.route_web_socket(re.compile(r"/_event"), tap.route)
    ready_to_generate(page, dev_app, email, tmp_path)

    page.locator("#generate").click()

    # The press has not reached the server, yet the button is busy and ignores presses.
    button = page.locator("#generate")
    expect(button).to_have_attribute("aria-busy", "true")
    expect(button).to_contain_text("Starting…")
    # ... and says so to screen readers, which are not told when a button's text changes.
    expect(page.locator("#generate + [role=status]")).to_have_text("Starting…")
    page.mouse.click(*generate_center(page))
    assert len(tap.held) == 1
    assert counts(dev_app, email) == (0, 0)

    tap.release()
    assert_one_job_and_one_charge(page, dev_app, email)
    expect(button).to_have_text("Generate again")


def test_generate_again_with_unchanged_options_is_a_new_job_charged_once_more(
    page: Page, dev_app: RunningApp, tmp_path: Path
) -> None:
    email = "again@example.com"
    ready_to_generate(page, dev_app, email, tmp_path)
    page.locator("#generate").click()
    expect(page.locator(".job-card")).to_have_count(1)
    expect(page.locator("#generate")).to_have_text("Generate again")
    expect(page.locator(".job-card").first).to_contain_text("Done", timeout=60_000)

    # A new intent: with "fresh" unticked an identical request is served from the cache
    # for free, so tick it to ask for (and pay for) new images.
    page.get_by_text("Always make a fresh result").click()
    expect(page.locator("#generate")).to_have_text("Generate")
    page.locator("#generate").click()
    expect(page.locator("#generate")).to_have_text("Generate again")
    page.locator("#generate").click()

    expect(page.locator(".job-card")).to_have_count(3)
    for index in range(3):
        expect(page.locator(".job-card").nth(index)).to_contain_text("Done", timeout=60_000)
    expect(page.locator("#credit-balance")).to_have_text(str(SIGNUP_BONUS - 3))
    assert counts(dev_app, email) == (3, 3)


def test_a_replayed_generate_event_returns_the_existing_job(
    page: Page, dev_app: RunningApp, tmp_path: Path
) -> None:
    email = "replayer@example.com"
    tap = EventTap()
    page.route_web_socket(re.compile(r"/_event"), tap.route)
    ready_to_generate(page, dev_app, email, tmp_path)
    page.locator("#generate").click()
    expect(page.locator(".job-card")).to_contain_text("Done", timeout=60_000)
    (frame,) = tap.generate_frames()

    # The same websocket frame again, twice, on the same connection ...
    connection = tap.servers[-1]
    connection.send(frame)
    connection.send(frame)
    page.wait_for_timeout(SETTLE_MS)
    # ... and once more after a reconnect, as a client re-sending its queue would.
    page.reload()
    expect(page.locator("#generate")).to_be_visible()
    assert tap.servers[-1] is not connection
    tap.servers[-1].send(frame)
    page.wait_for_timeout(SETTLE_MS)

    assert counts(dev_app, email) == (1, 1)
    expect(page.locator("#credit-balance")).to_have_text(str(SIGNUP_BONUS - 1))
