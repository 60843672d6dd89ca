"""Shared fixtures: a migrated database per test, wired in through the real settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adremix.db import engine_for
from adremix.models import User
from adremix.settings import get_settings
from tests.app_server import migrate
from tests.fakes.openai_images import FakeOpenAIImages
from tests.fakes.razorpay_api import KEY_ID as RAZORPAY_KEY_ID
from tests.fakes.razorpay_api import KEY_SECRET as RAZORPAY_KEY_SECRET
from tests.fakes.razorpay_api import FakeRazorpay
from tests.local_postgres import LocalPostgres


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: fast feedback first, and Playwright's sync API keeps an event
    loop running in the main thread for as long as the browser is open, which would break
    every later test that calls asyncio.run()."""
    items.sort(key=lambda item: "tests/browser/" in str(item.fspath))


def use_database(monkeypatch: pytest.MonkeyPatch, url: str, **env: str) -> None:
    """Point the app's settings (and so its engine) at `url`, as DATABASE_URL would."""
    monkeypatch.setenv("DATABASE_URL", url)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated SQLite database that `session_scope()` uses for this test."""
    url = f"sqlite:///{tmp_path / 'adremix.db'}"
    migrate(url)
    use_database(monkeypatch, url)
    yield url
    get_settings.cache_clear()
    engine_for(url).dispose()


def make_user(url: str, email: str = "buyer@example.com", name: str = "Buyer") -> int:
    from adremix.db import session_scope

    with session_scope(engine_for(url)) as session:
        user = User(email=email, name=name)
        session.add(user)
        session.flush()
        assert user.id is not None
        return user.id


@pytest.fixture(scope="session")
def razorpay_server() -> Iterator[FakeRazorpay]:
    server = FakeRazorpay().start()
    yield server
    server.stop()


WEBHOOK_SECRET = "whsec_test_0123456789"


@pytest.fixture
def razorpay(
    razorpay_server: FakeRazorpay, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> FakeRazorpay:
    """The fake Razorpay, with the app's settings pointing the real SDK at it."""
    razorpay_server.reset()
    use_database(
        monkeypatch,
        database_url,
        RAZORPAY_KEY_ID=RAZORPAY_KEY_ID,
        RAZORPAY_KEY_SECRET=RAZORPAY_KEY_SECRET,
        RAZORPAY_WEBHOOK_SECRET=WEBHOOK_SECRET,
        RAZORPAY_BASE_URL=razorpay_server.base_url,
    )
    return razorpay_server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[LocalPostgres]:
    server = LocalPostgres()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(
    postgres_server: LocalPostgres, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database that `session_scope()` uses for this test."""
    name = "t_" + "".join(ch for ch in request.node.name.lower() if ch.isalnum())[:40]
    url = postgres_server.create_database(name)
    migrate(url)
    use_database(monkeypatch, url)
    yield url
    get_settings.cache_clear()
    engine_for(url).dispose()


@pytest.fixture(scope="session")
def openai_server() -> Iterator[FakeOpenAIImages]:
    server = FakeOpenAIImages().start()
    yield server
    server.stop()


@pytest.fixture
def openai_images(openai_server: FakeOpenAIImages) -> FakeOpenAIImages:
    openai_server.reset()
    return openai_server
