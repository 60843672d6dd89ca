"""History and Account in a real browser: filters survive reload, favourites, collections,
templates, preferences across sign-ins, export and delete."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect
from sqlmodel import select

from adremix.db import engine_for, session_scope
from adremix.models import Generation, User
from tests.app_server import RunningApp
from tests.browser.a11y import assert_accessible
from tests.browser.conftest import sign_in_as_developer


def seed(app: RunningApp, email: str, rows: list[tuple[str, str]]) -> None:
    """Generations for an existing user, straight into the app's database."""
    engine = engine_for(app.database_url)
    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.email == email)).one()
        for n, (template, instructions) in enumerate(rows):
            session.add(
                Generation(
                    user_id=user.id or 0,
                    client_request_id=f"seed-{n}",
                    status="succeeded",
                    instructions=instructions,
                    template=template,
                    placement="square",
                    quality="medium",
                    variations=1,
                    source_image_hash="0" * 64,
                    provider="offline",
                    cache_key=f"seed{n}",
                    options={"instructions": instructions, "template": template},
                    created_at=datetime.now(UTC) - timedelta(minutes=n),
                )
            )


def choose(page: Page, trigger: str, option: str) -> None:
    page.locator(trigger).click()
    page.get_by_role("option", name=option, exact=True).click()


def signed_in_with_history(page: Page, app: RunningApp, email: str) -> None:
    page.goto(f"{app.base_url}/login?next=/account")
    sign_in_as_developer(page, email)
    expect(page.locator("#account-email")).to_have_text(email)
    seed(
        app,
        email,
        [
            ("festive", "Diwali lamps and sweets"),
            ("luxury", "Gold watch on black velvet"),
            ("festive", "Holi colours splash sale"),
            ("minimal", "Plain white sneaker"),
        ],
    )


def test_filters_live_in_the_url_and_survive_reload(page: Page, dev_app: RunningApp) -> None:
    signed_in_with_history(page, dev_app, "filters@example.com")
    page.goto(f"{dev_app.base_url}/history")
    expect(page.locator(".history-card")).to_have_count(4)

    choose(page, "#filter-template", "Festive")
    expect(page).to_have_url(re.compile(r"template=festive"))
    expect(page.locator(".history-card")).to_have_count(2)
    page.locator("#history-search").fill("holi")
    page.locator("#history-search").press("Enter")
    expect(page).to_have_url(re.compile(r"q=holi"))
    expect(page.locator(".history-card")).to_have_count(1)

    page.reload()
    expect(page.locator(".history-card")).to_have_count(1)
    expect(page.locator(".history-card")).to_contain_text("Holi colours splash sale")
    assert_accessible(page, "History, filtered")
    expect(page.locator("#history-search")).to_have_value("holi")


def test_favourite_collection_and_delete(page: Page, dev_app: RunningApp) -> None:
    signed_in_with_history(page, dev_app, "organiser@example.com")
    page.goto(f"{dev_app.base_url}/history")
    cards = page.locator(".history-card")
    expect(cards).to_have_count(4)

    watch = cards.filter(has_text="Gold watch")
    watch.locator(".favourite-toggle").click()
    expect(page.get_by_text("Added to favourites.")).to_be_visible()
    page.locator("#filter-favourites").click()
    expect(cards).to_have_count(1)
    expect(cards).to_contain_text("Gold watch")
    page.locator("#filter-favourites").click()
    expect(cards).to_have_count(4)

    page.locator("#new-collection").click()
    page.locator("#new-collection-name").fill("Festive launch")
    page.locator("#create-collection").click()
    expect(page.get_by_text("Created the collection")).to_be_visible()
    for text in ("Diwali lamps", "Holi colours"):
        cards.filter(has_text=text).locator(".select-generation").click()
    expect(page.locator("#bulk-bar")).to_be_visible()
    assert_accessible(page, "History with a selection and a collection")
    choose(page, "#bulk-collection", "Festive launch")
    expect(page.get_by_text("Added 2 generation(s) to the collection.")).to_be_visible()
    page.locator("#bulk-bar").get_by_role("button", name="Clear").click()
    choose(page, "#filter-collection", "Festive launch")
    expect(cards).to_have_count(2)

    cards.filter(has_text="Diwali lamps").locator(".select-generation").click()
    page.locator("#bulk-delete").click()
    expect(page.locator("#confirm-delete")).to_be_visible()
    assert_accessible(page, "History, confirming a deletion")
    page.locator("#confirm-delete").click()
    expect(cards).to_have_count(1)
    page.reload()
    expect(cards).to_have_count(1)
    expect(page.locator("#history-total")).to_contain_text("1 generation")


def test_saved_template_is_offered_on_new_ad(page: Page, dev_app: RunningApp) -> None:
    signed_in_with_history(page, dev_app, "templater@example.com")
    page.goto(f"{dev_app.base_url}/history")
    page.locator(".history-card").filter(has_text="Gold watch").get_by_role(
        "button", name="Open"
    ).click()
    expect(page.locator("#generation-detail")).to_contain_text("Gold watch on black velvet")
    assert_accessible(page, "History detail")
    page.locator("#template-name").fill("Velvet luxe")
    page.locator("#save-template").click()
    expect(page.get_by_text("Saved the template")).to_be_visible()

    page.goto(f"{dev_app.base_url}/new")
    page.locator("#saved-template").select_option(label="Velvet luxe")
    expect(page.locator("#instructions")).to_have_value("Gold watch on black velvet")
    expect(page.locator("#template-luxury")).to_be_checked()


def test_preferences_persist_across_sign_out_and_sign_in(page: Page, dev_app: RunningApp) -> None:
    email = "habits@example.com"
    page.goto(f"{dev_app.base_url}/login?next=/account")
    sign_in_as_developer(page, email)
    expect(page.locator("#sessions-table")).to_contain_text("This browser")
    assert_accessible(page, "Account")
    choose(page, "#pref-placement", "landscape")
    choose(page, "#pref-variations", "3")
    page.locator("#save-preferences").click()
    expect(page.get_by_text("Preferences saved.")).to_be_visible()

    page.locator("#profile-menu").click()
    page.locator("#sign-out").click()
    expect(page).to_have_url(re.compile(r"/login/?$"))
    page.goto(f"{dev_app.base_url}/login?next=/new")
    sign_in_as_developer(page, email)

    expect(page.locator("#placement").get_by_role("radio", name="Landscape")).to_be_checked()
    expect(page.locator("#variations")).to_have_value("3")
    expect(page.locator("#cost-summary")).to_contain_text("Cost: 3 credit(s)")


def test_export_and_delete_account(page: Page, dev_app: RunningApp) -> None:
    email = "leaver@example.com"
    signed_in_with_history(page, dev_app, email)
    with page.expect_download() as download:
        page.locator("#export-data").click()
    archive = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes()))
    document = json.loads(archive.read("adremix-data.json"))
    assert document["profile"]["email"] == email
    assert len(document["generations"]) == 4
    assert [entry["kind"] for entry in document["credit_ledger"]] == ["signup_bonus"]

    expect(page.locator("#delete-account")).to_be_disabled()
    page.locator("#delete-confirmation").fill(email)
    expect(page.locator("#delete-account")).to_be_enabled()
    assert_accessible(page, "Account, ready to delete it")
    page.locator("#delete-account").click()
    expect(page.locator("#sign-in-error")).to_contain_text("account and its images were deleted")
    page.goto(f"{dev_app.base_url}/history")
    expect(page).to_have_url(re.compile(r"/login"))
    with session_scope(engine_for(dev_app.database_url)) as session:
        assert session.exec(select(User).where(User.email == email)).first() is None
