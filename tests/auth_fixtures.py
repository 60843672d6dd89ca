"""Fixtures for the sign-in tests: a migrated SQLite file, the fake OIDC provider and the app.

Test modules load these with `pytest_plugins = ["tests.auth_fixtures"]`: importing the
fixtures by name would trip ruff (F401/F811) and skip pytest's assertion rewriting here.

Everything is real: Alembic migrates the database, the provider is an HTTP server on
127.0.0.1 and the app is the Starlette app Reflex mounts, built from the environment.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from starlette.testclient import TestClient

from adremix.api import build_api_app
from adremix.db import engine_for
from adremix.settings import Settings, get_settings
from tests.fakes.oidc_provider import CLIENT_ID, CLIENT_SECRET, FakeOidcProvider

ROOT = Path(__file__).resolve().parents[1]
TEST_SECRET_KEY = "adremix-test-secret-key-0123456789"
BASE_URL = "http://testserver"


def migrated_sqlite_url(tmp_path: Path) -> str:
    """Create `t.db` under `tmp_path`, bring it to Alembic head and return its URL."""
    url = f"sqlite:///{tmp_path}/t.db"
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")
    return url


def configure_app(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    """Set the environment the app reads, forget cached settings and return fresh ones.

    Every sign-in related variable is set explicitly (empty when not given) so that
    neither the caller's shell nor a local `.env` can change what a test sees.
    """
    defaults = {
        "ADREMIX_ENV": "dev",
        "ADREMIX_SECRET_KEY": "",
        "GOOGLE_CLIENT_ID": "",
        "GOOGLE_CLIENT_SECRET": "",
        "ADREMIX_ADMIN_EMAILS": "",
    }
    for name, value in {**defaults, **env}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return get_settings()


def app_client(settings: Settings) -> TestClient:
    """The app's HTTP routes in-process; redirects are returned, never followed."""
    return TestClient(build_api_app(settings), base_url=BASE_URL, follow_redirects=False)


@pytest.fixture(scope="session")
def oidc_provider_server() -> Iterator[FakeOidcProvider]:
    provider = FakeOidcProvider().start()
    yield provider
    provider.stop()


@pytest.fixture
def oidc_provider(oidc_provider_server: FakeOidcProvider) -> FakeOidcProvider:
    """The shared provider with its default identity and honest ID tokens."""
    oidc_provider_server.reset()
    return oidc_provider_server


@pytest.fixture
def auth_database_url(tmp_path: Path) -> Iterator[str]:
    url = migrated_sqlite_url(tmp_path)
    yield url
    engine_for(url).dispose()


@pytest.fixture
def restore_settings() -> Iterator[None]:
    """Clear cached settings before and after, so no test sees another's environment."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def auth_client(
    oidc_provider: FakeOidcProvider,
    auth_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    restore_settings: None,
) -> TestClient:
    """The app in dev with Google sign-in pointed at the fake provider."""
    settings = configure_app(
        monkeypatch,
        DATABASE_URL=auth_database_url,
        ADREMIX_ENV="dev",
        GOOGLE_CLIENT_ID=CLIENT_ID,
        GOOGLE_CLIENT_SECRET=CLIENT_SECRET,
        OIDC_ISSUER=oidc_provider.issuer,
        ADREMIX_SECRET_KEY=TEST_SECRET_KEY,
    )
    assert settings.google_configured and not settings.dev_sign_in_enabled
    return app_client(settings)


@pytest.fixture
def dev_auth_client(
    auth_database_url: str, monkeypatch: pytest.MonkeyPatch, restore_settings: None
) -> TestClient:
    """The app in dev without Google, so the e-mail-only developer sign-in is on."""
    settings = configure_app(monkeypatch, DATABASE_URL=auth_database_url, ADREMIX_ENV="dev")
    assert settings.dev_sign_in_enabled
    return app_client(settings)


@pytest.fixture
def prod_auth_client(
    oidc_provider: FakeOidcProvider,
    auth_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    restore_settings: None,
) -> TestClient:
    """The app in production, with the secret key and Google client production requires."""
    settings = configure_app(
        monkeypatch,
        DATABASE_URL=auth_database_url,
        ADREMIX_ENV="prod",
        ADREMIX_SECRET_KEY=TEST_SECRET_KEY,
        GOOGLE_CLIENT_ID=CLIENT_ID,
        GOOGLE_CLIENT_SECRET=CLIENT_SECRET,
        OIDC_ISSUER=oidc_provider.issuer,
    )
    assert settings.is_production and not settings.dev_sign_in_enabled
    return app_client(settings)
