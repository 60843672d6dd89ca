"""Issue 10's attacks, replayed against the app's HTTP routes and services in-process:
headers, rate limits, sessions (hash in state, idle timeout, purge), the sign-up bonus of
a deleted identity, and the placements export cache."""

from __future__ import annotations

import asyncio
import hashlib
import io
import zipfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from adremix.api import build_api_app
from adremix.api.headers import (
    IMMUTABLE,
    content_security_policy,
    inline_script_hashes,
    is_hashed_asset,
    security_headers,
)
from adremix.api.socket_session import hash_session_on_socket
from adremix.db import session_scope
from adremix.enums import ImageKind
from adremix.models import AuthSession, DeletedIdentity, User, utcnow
from adremix.services import accounts, generation
from adremix.services.accounts import (
    SESSION_COOKIE,
    SIGN_IN,
    SIGN_IN_CSRF_COOKIE,
    VerifiedIdentity,
    csrf_token,
    hash_session_cookie,
    hash_token,
    purge_ended_sessions,
    session_hash_from_cookie_header,
    signed_in_user,
    start_session,
    user_for_token,
)
from adremix.services.storage import LocalStorage
from adremix.settings import get_settings
from tests.conftest import BASE_URL, configure_app
from tests.factories import balance, jpeg, make_user
from tests.fakes.oidc_provider import CLIENT_ID, CLIENT_SECRET, FakeOidcProvider

# --- headers ----------------------------------------------------------------------------


def headers_client(tmp_path: Path) -> TestClient:
    """The app's routes inside the same header wrapper production uses, with a fake build
    directory holding one page with an inline script."""
    static = tmp_path / "build"
    static.mkdir()
    (static / "index.html").write_bytes(b"<html><script>window.x = 1;</script></html>")
    app = security_headers(get_settings(), static_dir=static)(build_api_app(get_settings()))
    return TestClient(app, base_url=BASE_URL, follow_redirects=False)


def test_every_response_carries_the_security_headers(database_url: str, tmp_path: Path) -> None:
    response = headers_client(tmp_path).get("/receipts/AR-NOPE")
    assert response.status_code == 404
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in response.headers["permissions-policy"]
    assert "payment=()" in response.headers["permissions-policy"]
    csp = response.headers["content-security-policy"]
    for directive in ("frame-ancestors 'none'", "object-src 'none'", "base-uri 'self'"):
        assert directive in csp
    # The build's inline script is allowed by its hash, and nothing inline beyond it.
    assert inline_script_hashes([tmp_path / "build" / "index.html"])[0] in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "strict-transport-security" not in response.headers  # not over plain dev HTTP


def test_personal_pages_and_exports_are_never_cached(database_url: str, tmp_path: Path) -> None:
    client = headers_client(tmp_path)
    for path in ("/receipts/AR-1", "/api/credits/export.csv", "/api/account/export.zip"):
        assert client.get(path).headers["cache-control"] == "no-store"


def test_production_adds_hsts_and_allows_razorpay_checkout(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = configure_app(
        monkeypatch,
        ADREMIX_ENV="prod",
        ADREMIX_PUBLIC_URL="https://ads.example.com",
        ADREMIX_SECRET_KEY="a-production-secret-key",
        RAZORPAY_KEY_ID="rzp_live_x",
        RAZORPAY_KEY_SECRET="s",
    )
    client = TestClient(security_headers(settings)(build_api_app(settings)), base_url=BASE_URL)
    response = client.get("/receipts/AR-1")
    assert response.headers["strict-transport-security"].startswith("max-age=")
    csp = response.headers["content-security-policy"]
    assert "https://checkout.razorpay.com" in csp.split("script-src")[1].split(";")[0]
    assert "https://api.razorpay.com" in csp.split("frame-src")[1].split(";")[0]
    assert "wss://ads.example.com" in csp.split("connect-src")[1].split(";")[0]


def test_without_razorpay_no_third_party_script_or_frame_is_allowed(database_url: str) -> None:
    csp = content_security_policy(get_settings())
    assert "razorpay" not in csp
    assert "frame-src 'none'" in csp


@pytest.mark.parametrize(
    ("path", "hashed"),
    [
        ("/assets/root-BLZ_AqfH.js", True),
        ("/assets/__reflex_global_styles-NccINl-w.css", True),
        ("/assets/manifest-ae19eaac.js", True),
        ("/assets/entry.client-DAbZKoE_.js.gz", True),
        ("/favicon.ico", False),
        ("/assets/logo.svg", False),
        ("/google.svg", False),
        ("/assets/nested/dir-ABCDEFGH.js", False),
        ("/login", False),
    ],
)
def test_only_content_hashed_assets_are_immutable(path: str, hashed: bool) -> None:
    assert is_hashed_asset(path) is hashed


def test_a_hashed_asset_is_served_immutable(database_url: str, tmp_path: Path) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "root-BLZ_AqfH.js").write_text("export {}")
    (tmp_path / "assets" / "plain.js").write_text("export {}")
    site = Starlette(routes=[Mount("/", StaticFiles(directory=tmp_path))])
    client = TestClient(security_headers(get_settings())(site))
    assert client.get("/assets/root-BLZ_AqfH.js").headers["cache-control"] == IMMUTABLE
    assert "cache-control" not in client.get("/assets/plain.js").headers


def test_the_csp_goes_on_what_can_be_a_document_not_on_hashed_scripts(
    database_url: str, tmp_path: Path
) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "root-BLZ_AqfH.js").write_text("export {}")
    (tmp_path / "login").mkdir()
    (tmp_path / "login" / "index.html").write_text("<!doctype html><title>x</title>")
    site = Starlette(routes=[Mount("/", StaticFiles(directory=tmp_path, html=True))])
    client = TestClient(security_headers(get_settings())(site))
    asset = client.get("/assets/root-BLZ_AqfH.js").headers
    assert "content-security-policy" not in asset and asset["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in client.get("/login/").headers["content-security-policy"]


# --- rate limits --------------------------------------------------------------------------


def dev_sign_in(client: TestClient, email: str, *, token: str | None = None) -> int:
    client.cookies.set(SIGN_IN_CSRF_COOKIE, "nonce")
    token = token if token is not None else csrf_token(purpose=SIGN_IN, binding="nonce")
    return client.post("/auth/dev/login", data={"email": email, "csrf_token": token}).status_code


def test_sign_in_attempts_are_limited_and_refused_attempts_count(client: TestClient) -> None:
    # Five attempts with a bad CSRF token for one e-mail address ...
    for _ in range(5):
        assert dev_sign_in(client, "target@example.com", token="forged") == 303
    # ... and the sixth, even a good one, is refused with 429 and when to retry.
    client.cookies.set(SIGN_IN_CSRF_COOKIE, "nonce")
    response = client.post(
        "/auth/dev/login",
        data={
            "email": "target@example.com",
            "csrf_token": csrf_token(purpose=SIGN_IN, binding="nonce"),
        },
    )
    assert response.status_code == 429
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert "try again in" in response.text
    assert SESSION_COOKIE not in response.cookies
    # Another address from the same IP still gets in (the per-IP limit is looser).
    assert dev_sign_in(client, "someone-else@example.com") == 303


def test_sign_ins_from_one_ip_are_limited_across_addresses(client: TestClient) -> None:
    statuses = [dev_sign_in(client, f"user{n}@example.com") for n in range(21)]
    assert statuses[:20] == [303] * 20
    assert statuses[20] == 429


def test_exports_are_limited_per_user(client: TestClient) -> None:
    user_id = make_user()
    with session_scope() as session:
        token = start_session(session=session, user=session.get(User, user_id), days=1)
    client.cookies.set(SESSION_COOKIE, token)
    statuses = [client.get("/api/credits/export.csv").status_code for _ in range(31)]
    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429


# --- sessions -----------------------------------------------------------------------------


def test_the_websocket_handshake_carries_the_hash_never_the_token() -> None:
    seen: list[dict] = []

    async def reflex(scope, receive, send):  # type: ignore[no-untyped-def]
        seen.append(scope)

    app = hash_session_on_socket(reflex)
    cookie = f"theme=dark; {SESSION_COOKIE}=raw-token-value; other=1"
    for scope_type in ("websocket", "http"):
        scope = {"type": scope_type, "headers": [(b"cookie", cookie.encode())]}
        asyncio.run(app(scope, None, None))  # type: ignore[arg-type]
    socket_cookie = dict(seen[0]["headers"])[b"cookie"].decode()
    assert "raw-token-value" not in socket_cookie
    assert session_hash_from_cookie_header(socket_cookie) == hash_token("raw-token-value")
    assert "theme=dark" in socket_cookie and "other=1" in socket_cookie
    assert dict(seen[1]["headers"])[b"cookie"].decode() == cookie  # HTTP routes unchanged


def test_a_hash_sent_by_the_client_is_not_a_credential() -> None:
    leaked = hash_token("someone-elses-token")
    rewritten = hash_session_cookie(f"adremix_session_hash={leaked}")
    assert leaked not in rewritten


def test_the_state_finds_the_user_by_the_hash(database_url: str) -> None:
    user_id = make_user()
    with session_scope() as session:
        token = start_session(session=session, user=session.get(User, user_id), days=1)
    found = signed_in_user(token_hash=hash_token(token))
    assert found is not None and found.id == user_id
    assert signed_in_user(token_hash=token) is None  # the raw token is not a hash


def test_a_session_unused_for_the_idle_timeout_ends(database_url: str) -> None:
    user_id = make_user()
    start = utcnow() - timedelta(hours=80)
    with session_scope() as session:
        token = start_session(session=session, user=session.get(User, user_id), days=30, now=start)
    assert get_settings().session_idle_hours == 72
    assert signed_in_user(token=token) is None
    idle = timedelta(hours=72)
    with session_scope() as session:
        assert user_for_token(session=session, token=token, idle=idle) is None
        # Well within its 30 days: only the idle timeout ended it.
        assert user_for_token(session=session, token=token) is not None


def test_use_moves_the_idle_deadline(database_url: str) -> None:
    user_id = make_user()
    start = utcnow() - timedelta(hours=70)
    with session_scope() as session:
        token = start_session(session=session, user=session.get(User, user_id), days=30, now=start)
    assert signed_in_user(token=token) is not None  # used now: seen again
    with session_scope() as session:
        (row,) = session.exec(select(AuthSession)).all()
        assert row.last_seen_at.replace(tzinfo=None) > (utcnow() - timedelta(minutes=1)).replace(
            tzinfo=None
        )


def test_ended_sessions_are_purged(database_url: str) -> None:
    user_id = make_user()
    long_ago = utcnow() - timedelta(days=40)
    with session_scope() as session:
        user = session.get(User, user_id)
        expired = start_session(session=session, user=user, days=30, now=long_ago)
        idle = start_session(session=session, user=user, days=60, now=long_ago)
        revoked = start_session(session=session, user=user, days=30)
        live = start_session(session=session, user=user, days=30)
        accounts.revoke_session(session=session, token=revoked)
    assert purge_ended_sessions() == 3
    with session_scope() as session:
        remaining = session.exec(select(AuthSession.token_hash)).all()
    assert remaining == [hash_token(live)]
    assert all(hash_token(t) not in remaining for t in (expired, idle, revoked))


# --- one sign-up bonus per identity, ever -------------------------------------------------


def test_deleting_the_account_and_signing_in_again_grants_no_second_bonus(
    database_url: str,
) -> None:
    bonus = get_settings().signup_bonus
    identity = VerifiedIdentity(email="maya@example.com", name="Maya", subject="google-sub-1")
    first = accounts.signed_in_user(token=accounts.sign_in(identity=identity))
    assert first is not None and balance(first.id) == bonus
    accounts.delete_account(user_id=first.id, confirm_email="maya@example.com")

    again = accounts.signed_in_user(token=accounts.sign_in(identity=identity))
    assert again is not None and again.id != first.id
    assert balance(again.id) == 0

    # Only salted hashes of the identity are kept, never the address or the subject.
    with session_scope() as session:
        stored = session.exec(select(DeletedIdentity.identity_hash)).all()
    assert len(stored) == 2
    assert all("maya" not in value and "google-sub-1" not in value for value in stored)


@pytest.mark.parametrize(
    "returning",
    [
        VerifiedIdentity(email="new-address@example.com", subject="google-sub-1"),
        VerifiedIdentity(email="maya@example.com", subject="another-google-account"),
        VerifiedIdentity(email="Maya@Example.com"),
    ],
    ids=["same-google-account", "same-email", "developer-sign-in"],
)
def test_either_half_of_a_deleted_identity_is_recognised(
    database_url: str, returning: VerifiedIdentity
) -> None:
    identity = VerifiedIdentity(email="maya@example.com", subject="google-sub-1")
    first = accounts.signed_in_user(token=accounts.sign_in(identity=identity))
    assert first is not None
    accounts.delete_account(user_id=first.id, confirm_email="maya@example.com")
    returning = VerifiedIdentity(
        email=returning.email.lower(), subject=returning.subject, name=returning.name
    )
    again = accounts.signed_in_user(token=accounts.sign_in(identity=returning))
    assert again is not None and balance(again.id) == 0


def test_a_new_identity_still_gets_the_bonus(database_url: str) -> None:
    user = accounts.signed_in_user(
        token=accounts.sign_in(identity=VerifiedIdentity(email="fresh@example.com"))
    )
    assert user is not None and balance(user.id) == get_settings().signup_bonus


# --- the placements export is built once --------------------------------------------------


def test_the_placements_zip_is_built_once(storage: LocalStorage) -> None:
    data = jpeg()
    result = hashlib.sha256(data).hexdigest()
    storage.put(ImageKind.RESULT, result, data)
    first = generation.placements_zip(result, storage)
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert len(archive.namelist()) == len(generation.PLACEMENT_EXPORTS)
    cached = storage.path(ImageKind.RESULT, result, "placementszip")
    assert cached.read_bytes() == first
    # A second request reads the file instead of encoding every placement again.
    cached.write_bytes(b"served from the cache")
    assert generation.placements_zip(result, storage) == b"served from the cache"


def test_google_is_sent_back_to_the_public_url(
    oidc_provider: FakeOidcProvider, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Behind a proxy the request's own host may be internal: the registered redirect URI
    # is on the public URL.
    settings = configure_app(
        monkeypatch,
        ADREMIX_PUBLIC_URL="https://ads.example.com",
        GOOGLE_CLIENT_ID=CLIENT_ID,
        GOOGLE_CLIENT_SECRET=CLIENT_SECRET,
        OIDC_ISSUER=oidc_provider.issuer,
    )
    client = TestClient(build_api_app(settings), base_url=BASE_URL, follow_redirects=False)
    location = client.get("/auth/google/login").headers["location"]
    (redirect_uri,) = parse_qs(urlsplit(location).query)["redirect_uri"]
    assert redirect_uri == "https://ads.example.com/auth/google/callback"
