"""Google sign-in through authlib against a local OIDC provider, failures included.

The app's Starlette routes run in-process (TestClient); authlib talks real HTTP to the
fake provider for discovery, JWKS and the token exchange.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from adremix.api import build_api_app
from adremix.db import session_scope
from adremix.models import AuthSession, User
from adremix.services.auth_sessions import SESSION_COOKIE, user_for_token
from adremix.services.oidc import SIGN_IN_ERRORS
from adremix.settings import get_settings
from tests.conftest import use_database
from tests.fakes.oidc_provider import CLIENT_ID, CLIENT_SECRET, FakeOidcProvider


@pytest.fixture(scope="module")
def provider_server() -> Iterator[FakeOidcProvider]:
    provider = FakeOidcProvider().start()
    yield provider
    provider.stop()


@pytest.fixture
def provider(provider_server: FakeOidcProvider) -> FakeOidcProvider:
    provider_server.reset()
    return provider_server


@pytest.fixture
def client(
    provider: FakeOidcProvider, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> TestClient:
    use_database(
        monkeypatch,
        database_url,
        GOOGLE_CLIENT_ID=CLIENT_ID,
        GOOGLE_CLIENT_SECRET=CLIENT_SECRET,
        OIDC_ISSUER=provider.issuer,
        ADREMIX_SECRET_KEY="test-secret-key",
    )
    return TestClient(build_api_app(get_settings()), follow_redirects=False)


def start_login(client: TestClient, next_path: str = "/history") -> dict[str, str]:
    """Begin sign-in; returns the callback query the provider sends the browser back with."""
    response = client.get("/auth/google/login", params={"next": next_path})
    assert response.status_code == 302
    authorize = response.headers["location"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()}
    assert query["code_challenge_method"] == "S256" and query["code_challenge"]
    assert query["state"] and query["nonce"] and query["scope"] == "openid email profile"
    consent = httpx.get(authorize, follow_redirects=False)  # real HTTP to the provider
    assert consent.status_code == 302
    return {k: v[0] for k, v in parse_qs(urlsplit(consent.headers["location"]).query).items()}


def finish(client: TestClient, callback: dict[str, str]) -> httpx.Response:
    return client.get("/auth/google/callback", params=callback)


def session_rows() -> int:
    with session_scope() as session:
        return len(session.exec(select(AuthSession)).all())


def assert_refused(response: httpx.Response, code: str) -> None:
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["error"] == [code]
    assert code in SIGN_IN_ERRORS
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert session_rows() == 0


def test_sign_in_creates_user_and_session_and_returns_to_next(client: TestClient) -> None:
    response = finish(client, start_login(client, "/history"))

    assert response.status_code == 303 and response.headers["location"] == "/history"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=2592000" in cookie
    assert "Secure" not in cookie  # dev; production cookies are Secure (browser test)
    token = response.cookies[SESSION_COOKIE]
    with session_scope() as session:
        user = user_for_token(session=session, token=token)
        assert user is not None
        assert (user.email, user.name, user.oidc_subject) == (
            "maya@example.com",
            "Maya Rao",
            "108000000000000000001",
        )
        assert user.credit_balance == 3  # the signup bonus
        stored = session.exec(select(AuthSession)).one()
        assert stored.token_hash != token and len(stored.token_hash) == 64


def test_next_to_another_site_lands_on_the_dashboard(client: TestClient) -> None:
    response = finish(client, start_login(client, "//evil.example/phish"))
    assert response.headers["location"] == "/"


def test_forged_state_is_refused(client: TestClient) -> None:
    callback = start_login(client)
    assert_refused(finish(client, {**callback, "state": "forged"}), "mismatching_state")


def test_replayed_code_is_refused(client: TestClient, provider: FakeOidcProvider) -> None:
    first = start_login(client)
    assert finish(client, first).status_code == 303
    with session_scope() as session:
        for row in session.exec(select(AuthSession)):
            session.delete(row)
    second = start_login(client)
    # A fresh state of our own, but the code that was already exchanged.
    assert_refused(finish(client, {**second, "code": first["code"]}), "invalid_grant")


def test_wrong_nonce_is_refused(client: TestClient, provider: FakeOidcProvider) -> None:
    provider.id_token_overrides = {"nonce": "not-the-one-we-sent"}
    assert_refused(finish(client, start_login(client)), "invalid_nonce")


def test_wrong_audience_is_refused(client: TestClient, provider: FakeOidcProvider) -> None:
    provider.id_token_overrides = {"aud": "some-other-app.apps.example"}
    assert_refused(finish(client, start_login(client)), "invalid_audience")


def test_foreign_audience_with_our_azp_is_refused(
    client: TestClient, provider: FakeOidcProvider
) -> None:
    provider.id_token_overrides = {"aud": "some-other-app.apps.example", "azp": CLIENT_ID}
    assert_refused(finish(client, start_login(client)), "invalid_audience")


def test_expired_token_is_refused(client: TestClient, provider: FakeOidcProvider) -> None:
    now = int(time.time())
    provider.id_token_overrides = {"exp": now - 3600, "iat": now - 7200}
    assert_refused(finish(client, start_login(client)), "expired_token")


def test_wrong_issuer_is_refused(client: TestClient, provider: FakeOidcProvider) -> None:
    provider.id_token_overrides = {"iss": "https://impostor.example"}
    assert_refused(finish(client, start_login(client)), "invalid_token")


def test_unverified_email_is_refused(client: TestClient, provider: FakeOidcProvider) -> None:
    provider.identity["email_verified"] = False
    assert_refused(finish(client, start_login(client)), "unverified_email")
    with session_scope() as session:
        assert session.exec(select(User)).all() == []


def test_sign_out_revokes_the_session(client: TestClient) -> None:
    response = finish(client, start_login(client))
    token = response.cookies[SESSION_COOKIE]
    out = client.post("/auth/logout", cookies={SESSION_COOKIE: token})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert f'{SESSION_COOKIE}=""' in out.headers["set-cookie"]
    with session_scope() as session:
        assert user_for_token(session=session, token=token) is None
        assert session.exec(select(AuthSession)).one().revoked_at is not None


def test_developer_sign_in_exists_only_without_google_outside_production(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_database(monkeypatch, database_url, ADREMIX_ENV="dev", GOOGLE_CLIENT_ID="")
    dev = TestClient(build_api_app(get_settings()), follow_redirects=False)
    signed_in = dev.post("/auth/dev/login", data={"email": "Dev@Example.com", "next": "/credits"})
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/credits"
    assert SESSION_COOKIE in signed_in.cookies
    bad = dev.post("/auth/dev/login", data={"email": "not-an-email"})
    assert parse_qs(urlsplit(bad.headers["location"]).query)["error"] == ["invalid_email"]

    use_database(
        monkeypatch,
        database_url,
        ADREMIX_ENV="prod",
        ADREMIX_SECRET_KEY="prod-secret",
        GOOGLE_CLIENT_ID=CLIENT_ID,
        GOOGLE_CLIENT_SECRET=CLIENT_SECRET,
    )
    prod = TestClient(build_api_app(get_settings()), follow_redirects=False)
    refused = prod.post("/auth/dev/login", data={"email": "intruder@example.com"})
    assert refused.status_code in (404, 405)
    assert SESSION_COOKIE not in refused.cookies
