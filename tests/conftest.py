"""The test-support layer every test uses: a migrated database per test wired in through
the real settings, the fake external services (real HTTP servers on 127.0.0.1), and the
app's HTTP routes in-process. Factories for rows live in tests/factories.py.

Everything is real: Alembic migrates the database, the providers are HTTP servers, and
the app is the Starlette app Reflex mounts, built from the environment.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from adremix.api import build_api_app
from adremix.db import engine_for
from adremix.services.storage import LocalStorage
from adremix.settings import Settings, get_settings
from tests.app_server import free_port, migrate, stop_kept_apps
from tests.fakes.oidc_provider import CLIENT_ID, CLIENT_SECRET, FakeOidcProvider
from tests.fakes.openai_images import FakeOpenAIImages
from tests.fakes.razorpay_api import KEY_ID as RAZORPAY_KEY_ID
from tests.fakes.razorpay_api import KEY_SECRET as RAZORPAY_KEY_SECRET
from tests.fakes.razorpay_api import FakeRazorpay
from tests.local_postgres import LocalPostgres
from tests.local_redis import LocalRedis
from tests.local_s3 import LocalS3

# Unset ADREMIX_ENV means production; tests run development unless a test says otherwise
# (before any test module imports the app, which checks its settings at import).
os.environ["ADREMIX_ENV"] = "dev"

TEST_SECRET_KEY = "adremix-test-secret-key-0123456789"
WEBHOOK_SECRET = "whsec_test_0123456789"
BASE_URL = "http://testserver"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last (the cluster's very last): fast feedback first, and Playwright's
    sync API keeps an event loop running in the main thread for as long as the browser is
    open, which would break every later test that calls asyncio.run()."""
    # The modules on the app `make run` starts share one (`dev_app`): they run one after
    # another, so no other app takes its port in between.
    on_dev_app = {str(item.fspath) for item in items if "dev_app" in item.fixturenames}
    items.sort(
        key=lambda item: (
            "tests/browser/" in str(item.fspath),
            # The cluster shares the browser tests' port: it starts after their apps ended.
            item.get_closest_marker("cluster") is not None,
            str(item.fspath) in on_dev_app,
        )
    )


@pytest.fixture(scope="session", autouse=True)
def _stop_kept_apps() -> Iterator[None]:
    yield
    stop_kept_apps()


def configure_app(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    """Set the environment the app reads, forget cached settings and return fresh ones.

    The sign-in related variables are set explicitly (empty unless given) so that neither
    the shell running the tests nor a local `.env` can change what a test sees.
    """
    defaults = {
        "ADREMIX_ENV": "dev",
        "ADREMIX_SMTP_HOST": "",
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
def app_port() -> int:
    # One port for every production app the tests start (browser and hostile-load tests):
    # the frontend build bakes the backend's port in, so reusing it skips rebuilding.
    return free_port()


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated SQLite database (and a storage folder) the app's services use for this
    test, through DATABASE_URL and ADREMIX_STORAGE_DIR as in production."""
    url = f"sqlite:///{tmp_path / 'adremix.db'}"
    migrate(url)
    configure_app(
        monkeypatch,
        DATABASE_URL=url,
        ADREMIX_STORAGE_DIR=str(tmp_path / "files"),
        ADREMIX_OUTBOX_DIR=str(tmp_path / "outbox"),
    )
    yield url
    get_settings.cache_clear()
    engine_for(url).dispose()


@pytest.fixture
def storage(database_url: str) -> LocalStorage:
    """The storage the services use by default in this test."""
    return LocalStorage(get_settings().storage_dir)


@pytest.fixture
def client(database_url: str) -> TestClient:
    """The app's HTTP routes with this test's settings."""
    return app_client(get_settings())


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[LocalPostgres]:
    server = LocalPostgres()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(
    postgres_server: LocalPostgres,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database the app's services use for this test."""
    name = "t_" + "".join(ch for ch in request.node.name.lower() if ch.isalnum())[:40]
    url = postgres_server.create_database(name)
    migrate(url)
    configure_app(
        monkeypatch,
        DATABASE_URL=url,
        ADREMIX_STORAGE_DIR=str(tmp_path / "files"),
        ADREMIX_OUTBOX_DIR=str(tmp_path / "outbox"),
    )
    yield url
    get_settings.cache_clear()
    engine_for(url).dispose()


# --- Razorpay ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def razorpay_server() -> Iterator[FakeRazorpay]:
    server = FakeRazorpay().start()
    yield server
    server.stop()


@pytest.fixture
def razorpay(
    razorpay_server: FakeRazorpay, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> FakeRazorpay:
    """The fake Razorpay, with the app's settings pointing the real SDK at it."""
    razorpay_server.reset()
    for name, value in {
        "RAZORPAY_KEY_ID": RAZORPAY_KEY_ID,
        "RAZORPAY_KEY_SECRET": RAZORPAY_KEY_SECRET,
        "RAZORPAY_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "RAZORPAY_BASE_URL": razorpay_server.base_url,
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return razorpay_server


# --- OpenAI -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def openai_server() -> Iterator[FakeOpenAIImages]:
    server = FakeOpenAIImages().start()
    yield server
    server.stop()


@pytest.fixture
def openai_images(openai_server: FakeOpenAIImages) -> FakeOpenAIImages:
    openai_server.reset()
    return openai_server


# --- Google sign-in (OIDC) --------------------------------------------------------------


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
def auth_client(
    oidc_provider: FakeOidcProvider, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> TestClient:
    """The app in dev with Google sign-in pointed at the fake provider."""
    settings = configure_app(
        monkeypatch,
        GOOGLE_CLIENT_ID=CLIENT_ID,
        GOOGLE_CLIENT_SECRET=CLIENT_SECRET,
        OIDC_ISSUER=oidc_provider.issuer,
        ADREMIX_SECRET_KEY=TEST_SECRET_KEY,
    )
    assert settings.google_configured and not settings.dev_sign_in_enabled
    return app_client(settings)


@pytest.fixture
def dev_auth_client(database_url: str) -> TestClient:
    """The app in dev without Google, so the e-mail-only developer sign-in is on."""
    settings = get_settings()
    assert settings.dev_sign_in_enabled
    return app_client(settings)


@pytest.fixture
def prod_auth_client(
    oidc_provider: FakeOidcProvider, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> TestClient:
    """The app in production, with the secret key and Google client production requires."""
    settings = configure_app(
        monkeypatch,
        ADREMIX_ENV="prod",
        ADREMIX_SECRET_KEY=TEST_SECRET_KEY,
        GOOGLE_CLIENT_ID=CLIENT_ID,
        GOOGLE_CLIENT_SECRET=CLIENT_SECRET,
        OIDC_ISSUER=oidc_provider.issuer,
    )
    assert settings.is_production and not settings.dev_sign_in_enabled
    return app_client(settings)


# --- Redis (the job queue) and S3-compatible storage -------------------------------------


@pytest.fixture(scope="session")
def redis_server() -> Iterator[LocalRedis]:
    server = LocalRedis()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_queue(redis_server: LocalRedis, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty Redis, with the app's jobs going through it (ADREMIX_JOB_QUEUE=redis)."""
    import redis

    with redis.Redis.from_url(redis_server.url) as client:
        client.flushall()
    monkeypatch.setenv("ADREMIX_REDIS_URL", redis_server.url)
    monkeypatch.setenv("ADREMIX_JOB_QUEUE", "redis")
    get_settings.cache_clear()
    return redis_server.url


@pytest.fixture(scope="session")
def s3_server() -> Iterator[LocalS3]:
    server = LocalS3().start()
    yield server
    server.stop()


@pytest.fixture
def s3_bucket(
    s3_server: LocalS3, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> str:
    """A new, empty bucket on the local S3 server that the app's storage uses."""
    bucket = "t-" + "".join(ch for ch in request.node.name.lower() if ch.isalnum())[:50]
    for name, value in s3_server.environment(bucket).items():
        monkeypatch.setenv(name, value)
    s3_server.create_bucket(bucket)
    get_settings.cache_clear()
    return bucket
