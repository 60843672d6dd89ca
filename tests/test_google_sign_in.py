"""Google sign-in through authlib against a local OIDC provider, failures included.

The app's Starlette routes run in-process (TestClient). authlib talks real HTTP to the
fake provider for discovery, JWKS and the code exchange, and the "browser" follows the
provider's consent redirect over real HTTP too (httpx), exactly as Google would be reached.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from adremix.db import engine_for, session_scope
from adremix.models import AuthSession, User
from adremix.services.accounts import (
    SESSION_COOKIE,
    SIGN_IN,
    SIGN_IN_CSRF_COOKIE,
    SIGN_IN_ERRORS,
    SIGN_OUT,
    csrf_token,
    hash_token,
    user_for_token,
)
from tests.fakes.oidc_provider import CLIENT_ID, CLIENT_SECRET, FakeOidcProvider

CALLBACK_URL = "http://testserver/auth/google/callback"  # the TestClient's base URL
THIRTY_DAYS_S = 30 * 24 * 3600


# --- the browser's side of the flow -----------------------------------------------------


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def begin_sign_in(client: TestClient, next_path: str = "/history") -> str:
    """GET /auth/google/login; returns the provider's authorize URL we are sent to."""
    response = client.get("/auth/google/login", params={"next": next_path})
    assert response.status_code == 302
    return response.headers["location"]


def consent(authorize_url: str) -> str:
    """The provider's auto-consent, over real HTTP; returns the callback URL it sends back."""
    response = httpx.get(authorize_url, follow_redirects=False)
    assert response.status_code == 302, response.text
    return response.headers["location"]


def other_browser(client: TestClient) -> TestClient:
    """A second browser on the same app: none of `client`'s cookies."""
    return TestClient(client.app, base_url=str(client.base_url), follow_redirects=False)


def callback(client: TestClient, code: str, state: str) -> httpx.Response:
    return client.get("/auth/google/callback", params={"code": code, "state": state})


def sign_in(client: TestClient, next_path: str = "/history") -> httpx.Response:
    """A complete sign-in; returns the app's response to the provider's callback."""
    back = query_of(consent(begin_sign_in(client, next_path)))
    return callback(client, back["code"], back["state"])


def session_cookie_header(response: httpx.Response) -> str | None:
    """The Set-Cookie header for our session cookie, if the response sets one."""
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{SESSION_COOKIE}="):
            return header
    return None


def cookie_attributes(header: str) -> dict[str, str]:
    attributes = {}
    for part in header.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        attributes[name.lower()] = value
    return attributes


# --- the database's side ----------------------------------------------------------------


def session_rows(database_url: str) -> list[AuthSession]:
    with session_scope(engine_for(database_url)) as db:
        return list(db.exec(select(AuthSession)).all())


def user_rows(database_url: str) -> list[User]:
    with session_scope(engine_for(database_url)) as db:
        return list(db.exec(select(User)).all())


def signed_in_user(database_url: str, token: str) -> User | None:
    with session_scope(engine_for(database_url)) as db:
        return user_for_token(session=db, token=token)


def assert_refused(response: httpx.Response, code: str, database_url: str) -> None:
    """Sent back to /login with `code`, which has a message, and nobody signed in."""
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/login/"
    assert parse_qs(location.query)["error"] == [code]
    assert SIGN_IN_ERRORS[code]
    assert session_cookie_header(response) is None
    assert session_rows(database_url) == []


# --- signing in -------------------------------------------------------------------------


def test_login_redirects_to_the_providers_authorize_endpoint_with_state_nonce_and_pkce(
    auth_client: TestClient, oidc_provider: FakeOidcProvider
) -> None:
    authorize = begin_sign_in(auth_client, "/history")

    parts = urlsplit(authorize)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{oidc_provider.issuer}/authorize"
    query = query_of(authorize)
    assert query["client_id"] == CLIENT_ID
    assert query["response_type"] == "code"
    assert query["redirect_uri"] == CALLBACK_URL
    assert set(query["scope"].split()) == {"openid", "email", "profile"}
    assert query["state"] and query["nonce"] and query["state"] != query["nonce"]
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43  # base64url SHA-256, unpadded
    assert CLIENT_SECRET not in authorize


def test_each_login_gets_its_own_state_and_nonce(auth_client: TestClient) -> None:
    first, second = (query_of(begin_sign_in(auth_client)) for _ in range(2))
    assert first["state"] != second["state"]
    assert first["nonce"] != second["nonce"]
    assert first["code_challenge"] != second["code_challenge"]


def test_sign_in_creates_the_user_and_a_session_and_returns_to_next(
    auth_client: TestClient, oidc_provider: FakeOidcProvider, database_url: str
) -> None:
    oidc_provider.identity = {
        "sub": "108000000000000000042",
        "email": "Ada@Example.org",
        "email_verified": True,
        "name": "Ada Lovelace",
        "picture": "https://example.org/ada.png",
    }
    back = consent(begin_sign_in(auth_client, "/history"))
    assert back.startswith(CALLBACK_URL + "?")
    returned = query_of(back)
    assert returned["code"] and returned["state"]

    response = callback(auth_client, returned["code"], returned["state"])

    assert response.status_code == 303
    assert response.headers["location"] == "/history/"
    header = session_cookie_header(response)
    assert header is not None
    attributes = cookie_attributes(header)
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "lax"
    assert attributes["max-age"] == str(THIRTY_DAYS_S) == "2592000"
    assert attributes["path"] == "/"
    assert "secure" not in attributes  # dev; production cookies are Secure

    token = response.cookies[SESSION_COOKIE]
    (stored,) = session_rows(database_url)
    assert stored.token_hash == hash_token(token) != token
    (user,) = user_rows(database_url)
    assert (user.email, user.name, user.oidc_subject, user.avatar_url) == (
        "ada@example.org",
        "Ada Lovelace",
        "108000000000000000042",
        "https://example.org/ada.png",
    )
    assert stored.user_id == user.id
    assert user.credit_balance == 3  # the signup bonus
    assert user.last_login_at is not None
    found = signed_in_user(database_url, token)
    assert found is not None and found.id == user.id


def test_signing_in_again_reuses_the_user_and_adds_a_session(
    auth_client: TestClient, database_url: str
) -> None:
    first = sign_in(auth_client)
    second = sign_in(auth_client)
    assert first.status_code == second.status_code == 303
    assert first.cookies[SESSION_COOKIE] != second.cookies[SESSION_COOKIE]
    (user,) = user_rows(database_url)
    assert user.credit_balance == 3  # the bonus is granted once
    assert len(session_rows(database_url)) == 2


@pytest.mark.parametrize(
    "next_path", ["//evil.example", "//evil.example/phish", "https://evil.example", "/login"]
)
def test_next_to_another_site_lands_on_the_dashboard(
    auth_client: TestClient, next_path: str
) -> None:
    response = sign_in(auth_client, next_path)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert session_cookie_header(response) is not None


# --- refusals ---------------------------------------------------------------------------


def test_forged_state_is_refused_before_the_code_is_exchanged(
    auth_client: TestClient, oidc_provider: FakeOidcProvider, database_url: str
) -> None:
    returned = query_of(consent(begin_sign_in(auth_client)))
    exchanges = oidc_provider.token_requests

    response = callback(auth_client, returned["code"], "forged")

    assert_refused(response, "mismatching_state", database_url)
    assert oidc_provider.token_requests == exchanges
    assert user_rows(database_url) == []


def test_a_callback_without_a_login_is_refused(
    auth_client: TestClient, oidc_provider: FakeOidcProvider, database_url: str
) -> None:
    returned = query_of(consent(begin_sign_in(auth_client)))
    stranger = other_browser(auth_client)
    assert_refused(
        callback(stranger, returned["code"], returned["state"]),
        "mismatching_state",
        database_url,
    )


def test_replayed_code_is_refused_without_a_session(
    auth_client: TestClient, oidc_provider: FakeOidcProvider, database_url: str
) -> None:
    first = query_of(consent(begin_sign_in(auth_client)))
    assert callback(auth_client, first["code"], first["state"]).status_code == 303
    (original,) = session_rows(database_url)

    second = query_of(consent(begin_sign_in(auth_client)))
    exchanges = oidc_provider.token_requests
    # Our own fresh state, but the code that was already exchanged.
    response = callback(auth_client, first["code"], second["state"])

    assert oidc_provider.token_requests == exchanges + 1  # the provider said no
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/login/"
    assert parse_qs(location.query)["error"] == ["invalid_grant"]
    assert SIGN_IN_ERRORS["invalid_grant"]
    assert session_cookie_header(response) is None
    assert [row.id for row in session_rows(database_url)] == [original.id]


def test_wrong_nonce_is_refused(
    auth_client: TestClient, oidc_provider: FakeOidcProvider, database_url: str
) -> None:
    oidc_provider.id_token_overrides = {"nonce": "not-the-one"}
    assert_refused(sign_in(auth_client), "invalid_nonce", database_url)
    assert user_rows(database_url) == []


def test_missing_nonce_is_refused(
    auth_client: TestClient, oidc_provider: FakeOidcProvider, database_url: str
) -> None:
    oidc_provider.id_token_overrides = {"nonce": ""}
    assert_refused(sign_in(auth_client), "invalid_nonce", database_url)


def test_wrong_audience_is_refused(
    auth_client: TestClient, oidc_provider: FakeOidcProvider, database_url: str
) -> None:
    oidc_provider.id_token_overrides = {"aud": "someone-else"}
    assert_refused(sign_in(auth_client), "invalid_audience", database_url)
    assert user_rows(database_url) == []


def test_foreign_audience_naming_us_as_azp_is_refused(
    auth_client: TestClient, oidc_provider: FakeOidcProvider, database_url: str
) -> None:
    oidc_provider.id_token_overrides = {"aud": "someone-else", "azp": CLIENT_ID}
    assert_refused(sign_in(auth_client), "invalid_audience", database_url)


def test_expired_token_is_refused(
    auth_client: TestClient, oidc_provider: FakeOidcProvider, database_url: str
) -> None:
    now = int(time.time())
    oidc_provider.id_token_overrides = {"exp": now - 3600, "iat": now - 7200}
    assert_refused(sign_in(auth_client), "expired_token", database_url)
    assert user_rows(database_url) == []


def test_token_from_another_issuer_is_refused(
    auth_client: TestClient, oidc_provider: FakeOidcProvider, database_url: str
) -> None:
    oidc_provider.id_token_overrides = {"iss": "https://impostor.example"}
    assert_refused(sign_in(auth_client), "invalid_token", database_url)


def test_unverified_email_is_refused(
    auth_client: TestClient, oidc_provider: FakeOidcProvider, database_url: str
) -> None:
    oidc_provider.identity["email_verified"] = False
    assert_refused(sign_in(auth_client), "unverified_email", database_url)
    assert user_rows(database_url) == []


def test_an_email_owned_by_another_google_account_is_refused(
    auth_client: TestClient, oidc_provider: FakeOidcProvider, database_url: str
) -> None:
    assert sign_in(auth_client).status_code == 303
    signed_out = other_browser(auth_client)
    oidc_provider.identity["sub"] = "108000000000000000999"  # same address, new account
    response = sign_in(signed_out)

    assert response.status_code == 303
    assert parse_qs(urlsplit(response.headers["location"]).query)["error"] == ["refused"]
    assert SIGN_IN_ERRORS["refused"]
    assert session_cookie_header(response) is None
    assert len(session_rows(database_url)) == 1
    (user,) = user_rows(database_url)
    assert user.oidc_subject == "108000000000000000001"


# --- a provider that keeps e-mail claims out of the ID token ---------------------------


def refusal_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("Sign-in refused")]


def test_email_served_only_by_userinfo_signs_in(
    auth_client: TestClient, oidc_provider: FakeOidcProvider, database_url: str
) -> None:
    oidc_provider.claims_in_id_token = False
    response = sign_in(auth_client)

    assert response.status_code == 303 and response.headers["location"] == "/history/"
    (id_token_claims,) = oidc_provider.issued_id_token_claims
    assert "email" not in id_token_claims and "email_verified" not in id_token_claims
    assert oidc_provider.userinfo_requests == 1
    (user,) = user_rows(database_url)
    assert (user.email, user.oidc_subject, user.name) == (
        "maya@example.com",
        "108000000000000000001",
        "Maya Rao",
    )


def test_an_id_token_with_the_email_needs_no_userinfo_call(
    auth_client: TestClient, oidc_provider: FakeOidcProvider
) -> None:
    assert sign_in(auth_client).status_code == 303
    assert oidc_provider.userinfo_requests == 0


@pytest.mark.parametrize(
    ("userinfo", "code", "reason"),
    [
        ({"email": None}, "no_email", "no_email"),
        ({"email_verified": False}, "unverified_email", "unverified_email"),
        ({"sub": "108000000000000000666"}, "refused", "userinfo_subject_mismatch"),
    ],
)
def test_userinfo_refusals_say_why_and_are_logged_without_personal_data(
    auth_client: TestClient,
    oidc_provider: FakeOidcProvider,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    userinfo: dict,
    code: str,
    reason: str,
) -> None:
    oidc_provider.claims_in_id_token = False
    oidc_provider.userinfo_overrides = userinfo
    with caplog.at_level("WARNING"):
        assert_refused(sign_in(auth_client), code, database_url)
    assert refusal_lines(caplog) == [f"Sign-in refused: reason={reason} sub=108000000000000000001"]
    assert "maya" not in caplog.text.lower()
    assert user_rows(database_url) == []


def test_no_email_and_unverified_email_have_their_own_messages() -> None:
    assert SIGN_IN_ERRORS["no_email"] != SIGN_IN_ERRORS["unverified_email"]
    assert "e-mail address" in SIGN_IN_ERRORS["no_email"]
    assert "not verified" in SIGN_IN_ERRORS["unverified_email"]


def test_userinfo_endpoint_failing_is_reported_as_unreachable(
    auth_client: TestClient,
    oidc_provider: FakeOidcProvider,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    oidc_provider.claims_in_id_token = False
    oidc_provider.userinfo_status = 500
    with caplog.at_level("WARNING"):
        assert_refused(sign_in(auth_client), "provider_unreachable", database_url)
    assert refusal_lines(caplog) == [
        "Sign-in refused: reason=userinfo_unavailable sub=108000000000000000001"
    ]


def test_userinfo_wants_the_access_token(oidc_provider: FakeOidcProvider) -> None:
    response = httpx.get(f"{oidc_provider.issuer}/userinfo", headers={"Authorization": "Bearer x"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    discovery = httpx.get(f"{oidc_provider.issuer}/.well-known/openid-configuration").json()
    assert discovery["userinfo_endpoint"] == f"{oidc_provider.issuer}/userinfo"


def test_every_refusal_is_logged_with_its_reason(
    auth_client: TestClient, oidc_provider: FakeOidcProvider, caplog: pytest.LogCaptureFixture
) -> None:
    oidc_provider.id_token_overrides = {"nonce": "not-the-one"}
    with caplog.at_level("WARNING"):
        sign_in(auth_client)
    assert refusal_lines(caplog) == ["Sign-in refused: reason=invalid_nonce sub=-"]


# --- signing out ------------------------------------------------------------------------


def sign_out_form(token: str) -> dict[str, str]:
    """What the page's sign-out form posts: the CSRF token bound to this session."""
    return {"csrf_token": csrf_token(purpose=SIGN_OUT, binding=hash_token(token))}


def dev_sign_in(client: TestClient, data: dict[str, str]) -> httpx.Response:
    """Post the developer sign-in form as the login page does: with its CSRF cookie and the
    token the page renders for it."""
    client.cookies.set(SIGN_IN_CSRF_COOKIE, "login-page-nonce")
    token = csrf_token(purpose=SIGN_IN, binding="login-page-nonce")
    return client.post("/auth/dev/login", data={**data, "csrf_token": token})


def test_logout_revokes_the_session_and_deletes_the_cookie(
    auth_client: TestClient, database_url: str
) -> None:
    token = sign_in(auth_client).cookies[SESSION_COOKIE]
    assert signed_in_user(database_url, token) is not None

    response = auth_client.post(
        "/auth/logout", cookies={SESSION_COOKIE: token}, data=sign_out_form(token)
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/login/"
    header = session_cookie_header(response)
    assert header is not None
    assert header.startswith(f'{SESSION_COOKIE}="";') or header.startswith(f"{SESSION_COOKIE}=;")
    assert cookie_attributes(header)["max-age"] == "0"
    assert cookie_attributes(header)["path"] == "/"
    (stored,) = session_rows(database_url)
    assert stored.revoked_at is not None
    assert signed_in_user(database_url, token) is None


def test_logout_is_post_only_so_a_link_cannot_sign_you_out(
    auth_client: TestClient, database_url: str
) -> None:
    token = sign_in(auth_client).cookies[SESSION_COOKIE]
    response = auth_client.get("/auth/logout", cookies={SESSION_COOKIE: token})
    assert response.status_code == 405
    assert signed_in_user(database_url, token) is not None


def test_a_cross_site_sign_out_post_is_refused_and_signs_nobody_out(
    auth_client: TestClient, database_url: str
) -> None:
    token = sign_in(auth_client).cookies[SESSION_COOKIE]

    # Another site's form: no token (it cannot read ours), or one for another session.
    forged = [
        {},
        {"csrf_token": "0" * 64},
        {"csrf_token": csrf_token(purpose=SIGN_OUT, binding=hash_token("another-session"))},
    ]
    for data in forged:
        response = auth_client.post("/auth/logout", cookies={SESSION_COOKIE: token}, data=data)
        assert response.status_code == 403
        assert session_cookie_header(response) is None  # the cookie is not even cleared
    # The right token, but posted by a page of another origin.
    response = auth_client.post(
        "/auth/logout",
        cookies={SESSION_COOKIE: token},
        data=sign_out_form(token),
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403

    assert signed_in_user(database_url, token) is not None
    (stored,) = session_rows(database_url)
    assert stored.revoked_at is None


def test_a_sign_out_post_without_a_session_changes_nothing(auth_client: TestClient) -> None:
    # SameSite=Lax keeps the session cookie off another site's POST: all it could do
    # before was clear the cookie.
    response = auth_client.post("/auth/logout", data={"csrf_token": "x"})
    assert response.status_code == 403
    assert session_cookie_header(response) is None


# --- the developer sign-in --------------------------------------------------------------


def test_dev_sign_in_without_google_signs_in_by_email_and_returns_to_next(
    dev_auth_client: TestClient, database_url: str
) -> None:
    response = dev_sign_in(dev_auth_client, {"email": "Dev@Example.com", "next": "/credits"})

    assert response.status_code == 303
    assert response.headers["location"] == "/credits/"
    assert session_cookie_header(response) is not None
    token = response.cookies[SESSION_COOKIE]
    user = signed_in_user(database_url, token)
    assert user is not None
    assert (user.email, user.oidc_subject) == ("dev@example.com", None)


def test_a_cross_site_dev_sign_in_post_is_refused(
    dev_auth_client: TestClient, database_url: str
) -> None:
    # Login CSRF: another site posts the form to sign the visitor in as the attacker.
    without_cookie = dev_auth_client.post(
        "/auth/dev/login",
        data={
            "email": "attacker@example.com",
            "csrf_token": csrf_token(purpose=SIGN_IN, binding="attackers-own-nonce"),
        },
    )
    assert_refused(without_cookie, "csrf", database_url)

    dev_auth_client.cookies.set(SIGN_IN_CSRF_COOKIE, "victims-nonce")
    wrong_token = dev_auth_client.post(
        "/auth/dev/login",
        data={
            "email": "attacker@example.com",
            "csrf_token": csrf_token(purpose=SIGN_IN, binding="attackers-own-nonce"),
        },
    )
    assert_refused(wrong_token, "csrf", database_url)

    other_origin = dev_auth_client.post(
        "/auth/dev/login",
        data={
            "email": "attacker@example.com",
            "csrf_token": csrf_token(purpose=SIGN_IN, binding="victims-nonce"),
        },
        headers={"Origin": "https://evil.example"},
    )
    assert_refused(other_origin, "csrf", database_url)
    assert user_rows(database_url) == []


def test_dev_sign_in_refuses_an_invalid_email(
    dev_auth_client: TestClient, database_url: str
) -> None:
    response = dev_sign_in(dev_auth_client, {"email": "not-an-email"})
    assert_refused(response, "invalid_email", database_url)
    assert user_rows(database_url) == []


def test_dev_sign_in_does_not_exist_when_google_is_configured(
    auth_client: TestClient, database_url: str
) -> None:
    response = dev_sign_in(auth_client, {"email": "dev@example.com"})
    assert response.status_code in (404, 405)
    assert session_cookie_header(response) is None
    assert user_rows(database_url) == []


def test_dev_sign_in_does_not_exist_in_production(
    prod_auth_client: TestClient, database_url: str
) -> None:
    response = dev_sign_in(prod_auth_client, {"email": "intruder@example.com"})

    assert response.status_code in (404, 405)
    assert session_cookie_header(response) is None
    assert user_rows(database_url) == []


def test_production_sign_in_cookies_are_secure(
    prod_auth_client: TestClient, database_url: str
) -> None:
    browser = TestClient(
        prod_auth_client.app, base_url="https://testserver", follow_redirects=False
    )
    login = browser.get("/auth/google/login", params={"next": "/history"})
    (state_cookie,) = login.headers.get_list("set-cookie")
    assert state_cookie.startswith("adremix_oauth=")
    assert "secure" in cookie_attributes(state_cookie)

    returned = query_of(consent(login.headers["location"]))
    response = callback(browser, returned["code"], returned["state"])

    assert response.status_code == 303 and response.headers["location"] == "/history/"
    header = session_cookie_header(response)
    assert header is not None
    assert {"secure", "httponly"} <= cookie_attributes(header).keys()
    assert len(session_rows(database_url)) == 1


def test_google_login_without_a_client_says_it_is_not_configured(
    dev_auth_client: TestClient,
) -> None:
    response = dev_auth_client.get("/auth/google/login", params={"next": "/history"})
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/login/"
    assert parse_qs(location.query) == {"error": ["not_configured"], "next": ["/history/"]}
    assert SIGN_IN_ERRORS["not_configured"]
