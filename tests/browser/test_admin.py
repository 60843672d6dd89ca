"""The admin console in a real browser against the production build: an admin finds a
user, grants credits, refunds a test payment in part, suspends and restores them; the
console is a missing page to everyone else, and its events, injected over the websocket
from a normal user's tab, change nothing and answer nothing."""

from __future__ import annotations

import csv
import inspect
import io
import json
import os
import re
import subprocess
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func
from sqlmodel import select

import adremix.adremix  # noqa: F401  (registers every state, as the app does)
from adremix.db import engine_for, session_scope
from adremix.enums import CreditKind
from adremix.models import AuditEntry, CreditTransaction, User
from adremix.state.admin import AdminState
from tests.app_server import OFFLINE_APP_ENV, ROOT, RunningApp, run_app
from tests.browser.a11y import assert_accessible
from tests.browser.conftest import save_screenshot, sign_in_as_developer
from tests.browser.test_security import Tap, tapped

ADMIN = "boss@example.com"
SUPPORT = "helper@example.com"
SIGNUP_BONUS = 3
GROWTH_CREDITS = 50
SUSPENDED_MESSAGE = "This account is suspended"
ADMIN_URLS = [
    "/admin",
    "/admin/",
    "/admin/users/",
    "/admin/users/?q=buyer&paid=yes&sort=balance_desc",
    "/admin/users/1/",
    "/admin/payments/",
    "/admin/webhooks/",
    "/admin/failures/",
    "/admin/audit/",
]


@pytest.fixture(scope="module")
def admin_app(app_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """The app in test mode (offline checkout and refunds) with one admin and one support."""
    env = {**OFFLINE_APP_ENV, "ADREMIX_ADMIN_EMAILS": ADMIN, "ADREMIX_SUPPORT_EMAILS": SUPPORT}
    with run_app(port=app_port, workdir=tmp_path_factory.mktemp("admin-app"), env=env) as app:
        yield app


def signed_in(browser: Browser, app: RunningApp, email: str, path: str = "/") -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.context.set_default_timeout(30_000)
    page.goto(f"{app.base_url}/login?next={path}")
    sign_in_as_developer(page, email)
    page.wait_for_url(re.compile(re.escape(path.split("?")[0].rstrip("/")) + r"/?(\?|$)"))
    return page


def buy_growth(page: Page, app: RunningApp) -> None:
    page.goto(f"{app.base_url}/credits")
    page.locator("#buy-growth").click()
    page.locator("#test-checkout-pay").click()
    expect(page.locator("#purchase-confirmation")).to_be_visible()


def user_row(app: RunningApp, email: str) -> User:
    with session_scope(engine_for(app.database_url)) as session:
        user = session.exec(select(User).where(User.email == email)).one()
        session.expunge(user)
        return user


def audit_count(app: RunningApp) -> int:
    with session_scope(engine_for(app.database_url)) as session:
        return session.exec(select(func.count()).select_from(AuditEntry)).one()


def adjustments(app: RunningApp, user_id: int) -> list[int]:
    with session_scope(engine_for(app.database_url)) as session:
        return list(
            session.exec(
                select(CreditTransaction.amount).where(
                    CreditTransaction.user_id == user_id,
                    CreditTransaction.kind == CreditKind.ADMIN_ADJUSTMENT,
                )
            ).all()
        )


# --- the console is not there for anyone else -------------------------------------------


def missing_page(app: RunningApp, cookies: dict[str, str], path: str) -> tuple[int, str]:
    answer = httpx.get(app.base_url + path, cookies=cookies, follow_redirects=False)
    return answer.status_code, answer.text


def test_a_normal_user_gets_the_not_found_page_at_every_admin_url(
    browser: Browser, admin_app: RunningApp
) -> None:
    page = signed_in(browser, admin_app, "nosy@example.com", "/credits")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    expected = missing_page(admin_app, cookies, "/no-such-page/")
    assert expected[0] == 404

    for path in [*ADMIN_URLS, "/admin/export/users.csv"]:
        # Signed in or not, the same status and bytes as any address nothing lives at.
        assert missing_page(admin_app, cookies, path) == expected, path
        assert missing_page(admin_app, {}, path) == expected, path

    for path in ADMIN_URLS:
        page.goto(admin_app.base_url + path)
        expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
        expect(page.get_by_text("Admin console")).to_have_count(0)
    assert_accessible(page, "the not-found page")
    # Not even the app's own menu tells them the console exists.
    page.goto(f"{admin_app.base_url}/credits")
    expect(page.locator("#credit-balance")).to_be_visible()
    assert "/admin" not in page.content()
    page.context.close()


def admin_handlers() -> list[tuple[str, str, dict[str, object]]]:
    """Every event of every console state, as (state, handler, well-formed payload)."""

    def payload(name: str, annotation: object) -> object:
        if "dict" in str(annotation):
            return {"q": "x", "reason": "injected"}
        if name in ("key",):
            return "a" * 32  # a well-formed idempotency key
        if name.endswith("_id"):
            return "1"
        return "1"

    found = []
    classes = [AdminState]
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        for name, handler in cls.event_handlers.items():
            params = list(inspect.signature(handler.fn).parameters.values())[1:]
            if name == "setvar":
                args: dict[str, object] = {"var_name": "loading", "value": True}
            else:
                args = {p.name: payload(p.name, p.annotation) for p in params}
            found.append((cls.get_full_name(), name, args))
    return found


def event_frame(template: str, state: str, handler: str, payload: dict[str, object]) -> str:
    """A copy of a captured Socket.IO event frame, calling `state.handler(**payload)`."""
    prefix, _, rest = template.partition(",")
    message = json.loads(rest)
    as_text = isinstance(message[1], str)
    event = json.loads(message[1]) if as_text else message[1]
    event["name"] = f"{state}.{handler}"
    event["payload"] = payload
    message[1] = json.dumps(event) if as_text else event
    return prefix + "," + json.dumps(message)


def any_event(tap: Tap) -> str:
    """A Socket.IO frame calling an event (`42/_event,["event", {...}]`), made from the
    first one the page sent: Reflex sends its first event (hydrate) inside the connect
    frame (`40/_event,{"event": {...}}`)."""
    for frame in tap.sent:
        prefix, _, rest = frame.partition(",")
        if not prefix.startswith(("40", "42")):
            continue
        try:
            message = json.loads(rest)
        except ValueError:
            continue
        if isinstance(message, list) and message[:1] == ["event"]:
            return frame
        if isinstance(message, dict) and isinstance(message.get("event"), dict):
            return "42" + prefix[2:] + "," + json.dumps(["event", message["event"]])
    raise AssertionError(f"the page sent no event: {[f[:100] for f in tap.sent]}")


def test_admin_events_injected_from_a_normal_users_tab_are_refused(
    browser: Browser, admin_app: RunningApp
) -> None:
    victim = signed_in(browser, admin_app, "victim@example.com", "/credits")
    victim_before = user_row(admin_app, "victim@example.com")
    victim.context.close()
    entries_before = audit_count(admin_app)
    handlers = admin_handlers()
    assert len(handlers) > 40, "every console event is tried"

    page = browser.new_context().new_page()
    tap = tapped(page)
    page.goto(f"{admin_app.base_url}/login?next=/credits")
    sign_in_as_developer(page, "intruder@example.com")
    expect(page.locator("#credit-balance")).to_be_visible()
    page.wait_for_timeout(500)
    template = any_event(tap)
    before = len(tap.received)

    # Aim at the victim (their id where a handler takes one), then fire every event.
    for state, handler, args in handlers:
        aimed = {k: str(victim_before.id) if k.endswith("_id") else v for k, v in args.items()}
        tap.send(event_frame(template, state, handler, aimed))
    page.wait_for_timeout(3_000)

    answers = tap.received[before:]
    assert not [m for m in answers if "admin___" in m], "an admin state answered"
    assert not [m for m in answers if "Only admins" in m or "not allowed" in m.lower()]
    victim_after = user_row(admin_app, "victim@example.com")
    assert victim_after.credit_balance == victim_before.credit_balance
    assert victim_after.suspended_at is None
    assert user_row(admin_app, "intruder@example.com").role is None
    assert audit_count(admin_app) == entries_before
    assert adjustments(admin_app, victim_before.id) == []
    page.context.close()

    # The same frames from staff's own tab do reach the console (the test aims true).
    staff = browser.new_context().new_page()
    staff_tap = tapped(staff)
    staff.goto(f"{admin_app.base_url}/login?next=/credits")
    sign_in_as_developer(staff, SUPPORT)
    expect(staff.locator("#credit-balance")).to_be_visible()
    staff.wait_for_timeout(500)
    (state, handler, args) = next(h for h in handlers if h[0].endswith("admin_users_state"))
    before = len(staff_tap.received)
    staff_tap.send(event_frame(any_event(staff_tap), state, "load", {}))
    staff.wait_for_timeout(2_000)
    assert [m for m in staff_tap.received[before:] if "admin_users_state" in m]
    staff.context.close()


# --- an admin at work ----------------------------------------------------------------------


def open_user(page: Page, app: RunningApp, search: str, email: str) -> None:
    page.goto(f"{app.base_url}/admin/users/")
    page.locator("#user-search").fill(search)
    page.locator("#user-search-submit").click()
    page.wait_for_url(re.compile(r"q=" + re.escape(search.replace("@", "%40"))))
    expect(page.locator("#users-table .user-link")).to_have_count(1)
    page.locator("#users-table .user-link", has_text=email).click()
    expect(page.locator("#user-email")).to_have_text(email)


def test_an_admin_finds_a_user_grants_credits_refunds_in_part_and_suspends(
    browser: Browser, admin_app: RunningApp
) -> None:
    buyer = signed_in(browser, admin_app, "buyer@example.com", "/credits")
    buy_growth(buyer, admin_app)
    expect(buyer.locator("#credit-balance")).to_have_text(str(SIGNUP_BONUS + GROWTH_CREDITS))
    buyer_id = user_row(admin_app, "buyer@example.com").id
    assert buyer_id is not None

    admin = signed_in(browser, admin_app, ADMIN, "/admin/users/")
    expect(admin.locator("#staff-role")).to_have_text("admin")
    open_user(admin, admin_app, "buyer@", "buyer@example.com")
    expect(admin.locator("#user-balance")).to_have_text(str(SIGNUP_BONUS + GROWTH_CREDITS))
    assert_accessible(admin, "Admin, a user's page")

    # Grant 5 credits with a reason; a double press applies once.
    admin.locator("#adjust-open").click()
    admin.locator("#adjust-amount").fill("5")
    admin.locator("#adjust-reason").fill("Goodwill: the export broke for a day")
    assert_accessible(admin, "Admin, the credit adjustment form")
    admin.locator("#adjust-submit").dblclick()
    expect(admin.locator("#user-balance")).to_have_text(str(SIGNUP_BONUS + GROWTH_CREDITS + 5))
    admin.wait_for_timeout(1_000)
    assert adjustments(admin_app, buyer_id) == [5]
    save_screenshot(admin, "admin-user")

    # Refund ₹200 of the ₹799 purchase: the preview says what comes back first.
    admin.locator('[id^="refund-pay_"]').first.click()
    admin.locator("#refund-amount").fill("200")
    expect(admin.locator("#refund-preview")).to_contain_text("credit")
    admin.locator("#refund-reason").fill("Asked for a partial refund")
    assert_accessible(admin, "Admin, the refund form with its preview")
    admin.locator("#refund-submit").click()
    expect(admin.locator("#user-payments")).to_contain_text("₹200.00 processed")
    balance_after_refund = SIGNUP_BONUS + GROWTH_CREDITS + 5 - 12  # floor(50 * 200 / 799)
    expect(admin.locator("#user-balance")).to_have_text(str(balance_after_refund))
    buyer.reload()
    expect(buyer.locator("#credit-balance")).to_have_text(str(balance_after_refund))

    # Suspend: the buyer's session ends, and signing in again says why.
    admin.locator("#suspend-open").click()
    admin.locator("#suspend-reason").fill("Chargeback under review")
    assert_accessible(admin, "Admin, the suspend form")
    admin.locator("#suspend-submit").click()
    expect(admin.locator("#user-status")).to_have_text("Suspended")
    buyer.goto(f"{admin_app.base_url}/credits")
    buyer.wait_for_url(re.compile(r"/login"))
    sign_in_as_developer(buyer, "buyer@example.com")
    expect(buyer.get_by_text(SUSPENDED_MESSAGE)).to_be_visible()

    # Restore: they sign in again and everything is as it was.
    admin.locator("#suspend-open").click()
    admin.locator("#suspend-reason").fill("Chargeback withdrawn")
    admin.locator("#suspend-submit").click()
    expect(admin.locator("#user-status")).to_have_text("Active")
    buyer.goto(f"{admin_app.base_url}/login?next=/credits")
    sign_in_as_developer(buyer, "buyer@example.com")
    expect(buyer.locator("#credit-balance")).to_have_text(str(balance_after_refund))

    # Every action is on the Audit page, and the chain holds.
    admin.goto(f"{admin_app.base_url}/admin/audit/")
    for words in ("Credit adjustment", "Refund", "Suspended", "Restored"):
        expect(admin.locator("main")).to_contain_text(words)
    assert_accessible(admin, "Admin, the audit log")
    verified = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "-m", "adremix", "audit", "verify"],
        env={**os.environ, "DATABASE_URL": admin_app.database_url, "ADREMIX_ENV": "dev"},
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    buyer.context.close()
    admin.context.close()


def test_support_sees_the_console_but_cannot_refund(
    browser: Browser, admin_app: RunningApp
) -> None:
    page = signed_in(browser, admin_app, SUPPORT, "/admin/users/")
    expect(page.locator("#staff-role")).to_have_text("support")
    open_user(page, admin_app, "buyer@", "buyer@example.com")
    expect(page.locator("#adjust-open")).to_be_visible()
    expect(page.locator("#suspend-open")).to_have_count(0)
    expect(page.locator('[id^="refund-pay_"]')).to_have_count(0)
    page.context.close()


def test_the_overview_draws_its_charts_and_the_users_table_exports_as_csv(
    browser: Browser, admin_app: RunningApp
) -> None:
    page = signed_in(browser, admin_app, ADMIN, "/admin/")
    expect(page.locator("#figure-gross")).to_contain_text("₹")
    expect(page.locator(".recharts-surface").first).to_be_visible()
    save_screenshot(page, "admin-overview")
    assert_accessible(page, "Admin, the overview")
    for path in ["/admin/payments/", "/admin/webhooks/", "/admin/failures/"]:
        page.goto(admin_app.base_url + path)
        expect(page.locator("#staff-role")).to_have_text("admin")
        expect(page.get_by_text("Loading…")).to_have_count(0)
        assert_accessible(page, f"Admin, {path}")
    # The quote dialog (opened by the state) is named, traps focus and gives it back.
    page.goto(f"{admin_app.base_url}/admin/payments/")
    page.locator("#quote-open").click()
    expect(page.get_by_role("dialog", name="Quote by payment link")).to_be_visible()
    assert_accessible(page, "Admin, the quote dialog")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator("#quote-open")).to_be_focused()

    page.goto(f"{admin_app.base_url}/admin/users/?role=staff&sort=email_asc")
    expect(page.locator("#users-table")).to_be_visible()
    assert_accessible(page, "Admin, the users list filtered")
    with page.expect_download() as download:
        page.locator("#export-users-submit").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    emails = [row[1] for row in rows[1:]]
    # The filter applies (exports stream in id order, whatever the sort on screen).
    assert ADMIN in emails and set(emails) <= {ADMIN, SUPPORT}
    page.context.close()
