"""Server-side sessions and users from verified identities, against a migrated SQLite file."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from adremix.db import engine_for, session_scope
from adremix.models import AuthSession, User
from adremix.services import accounts
from adremix.services.accounts import (
    SESSION_COOKIE,
    SignInRefused,
    VerifiedIdentity,
    effective_role,
    identity_from_claims,
    revoke_all_sessions,
    revoke_session,
    start_session,
    token_from_cookie_header,
    upsert_user,
    user_for_token,
)
from tests.conftest import configure_app

CLAIMS = {
    "sub": "108000000000000000001",
    "email": "Maya@Example.com",
    "email_verified": True,
    "name": "Maya Rao",
    "picture": "https://example.com/maya.png",
}


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    yield engine_for(database_url)


def add_user(engine: Engine, email: str) -> User:
    with session_scope(engine) as db:
        user = User(email=email, name=email.split("@")[0])
        db.add(user)
        db.flush()
        return user


def sign_in(engine: Engine, user: User, *, days: int = 30, now: datetime | None = None) -> str:
    with session_scope(engine) as db:
        return start_session(session=db, user=db.get(User, user.id), days=days, now=now)


def signed_in_user(engine: Engine, token: str | None, now: datetime | None = None) -> User | None:
    with session_scope(engine) as db:
        return user_for_token(session=db, token=token, now=now)


# --- sessions ---------------------------------------------------------------------------


def test_start_session_stores_the_tokens_sha256_and_never_the_token(engine: Engine) -> None:
    user = add_user(engine, "maya@example.com")
    token = sign_in(engine, user, days=30)

    assert len(token) >= 32
    with session_scope(engine) as db:
        stored = db.exec(select(AuthSession)).one()
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert stored.user_id == user.id
        assert stored.revoked_at is None
        row = db.connection().exec_driver_sql("SELECT * FROM auth_session").one()
        assert all(token not in str(value) for value in row)


def test_a_new_session_records_the_sign_in_time_and_lasts_the_configured_days(
    engine: Engine,
) -> None:
    user = add_user(engine, "maya@example.com")
    now = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)
    sign_in(engine, user, days=30, now=now)
    with session_scope(engine) as db:
        stored = db.exec(select(AuthSession)).one()
        assert stored.expires_at.replace(tzinfo=UTC) == now + timedelta(days=30)
        refreshed = db.get(User, user.id)
        assert refreshed is not None and refreshed.last_login_at is not None
        assert refreshed.last_login_at.replace(tzinfo=UTC) == now


def test_user_for_token_finds_the_signed_in_user(engine: Engine) -> None:
    user = add_user(engine, "maya@example.com")
    add_user(engine, "other@example.com")
    token = sign_in(engine, user)

    found = signed_in_user(engine, token)
    assert found is not None and found.id == user.id and found.email == "maya@example.com"


@pytest.mark.parametrize("token", ["made-up-token", "", None])
def test_unknown_or_missing_tokens_find_nobody(engine: Engine, token: str | None) -> None:
    sign_in(engine, add_user(engine, "maya@example.com"))
    assert signed_in_user(engine, token) is None


def test_an_expired_session_finds_nobody(engine: Engine) -> None:
    user = add_user(engine, "maya@example.com")
    start = datetime.now(UTC)
    token = sign_in(engine, user, days=30, now=start)

    assert signed_in_user(engine, token, now=start + timedelta(days=30, seconds=-1)) is not None
    assert signed_in_user(engine, token, now=start + timedelta(days=30)) is None
    assert signed_in_user(engine, token, now=start + timedelta(days=31)) is None


def test_a_deleted_users_session_finds_nobody(engine: Engine) -> None:
    user = add_user(engine, "maya@example.com")
    token = sign_in(engine, user)
    with session_scope(engine) as db:
        stored = db.get(User, user.id)
        assert stored is not None
        stored.deleted_at = datetime.now(UTC)
        db.add(stored)
    assert signed_in_user(engine, token) is None


def test_a_revoked_session_finds_nobody(engine: Engine) -> None:
    user = add_user(engine, "maya@example.com")
    token = sign_in(engine, user)
    other = sign_in(engine, user)

    with session_scope(engine) as db:
        assert revoke_session(session=db, token=token) is True
    with session_scope(engine) as db:
        assert revoke_session(session=db, token=token) is False  # already revoked
        assert revoke_session(session=db, token=None) is False
        revoked = db.exec(
            select(AuthSession).where(AuthSession.revoked_at.is_not(None))  # type: ignore[union-attr]
        ).one()
        assert revoked.token_hash == hashlib.sha256(token.encode()).hexdigest()

    assert signed_in_user(engine, token) is None
    assert signed_in_user(engine, other) is not None  # the user's other browser stays in


def test_revoke_all_sessions_signs_out_every_browser_of_that_user_only(engine: Engine) -> None:
    maya = add_user(engine, "maya@example.com")
    ravi = add_user(engine, "ravi@example.com")
    maya_tokens = [sign_in(engine, maya) for _ in range(3)]
    ravi_token = sign_in(engine, ravi)
    assert maya.id is not None

    with session_scope(engine) as db:
        assert revoke_all_sessions(session=db, user_id=maya.id) == 3
    with session_scope(engine) as db:
        assert revoke_all_sessions(session=db, user_id=maya.id) == 0

    assert all(signed_in_user(engine, token) is None for token in maya_tokens)
    still_in = signed_in_user(engine, ravi_token)
    assert still_in is not None and still_in.id == ravi.id


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("a=1; adremix_session=TOKEN; b=2", "TOKEN"),
        (f"{SESSION_COOKIE}=tok-EN_1", "tok-EN_1"),
        ("adremix_oauth=abc; adremix_session=x_y-z", "x_y-z"),
        ("a=1; b=2", None),
        ("", None),
    ],
)
def test_token_from_cookie_header_picks_out_the_session_cookie(
    header: str, expected: str | None
) -> None:
    assert token_from_cookie_header(header) == expected


# --- users ------------------------------------------------------------------------------


def test_identity_from_claims_keeps_a_verified_account() -> None:
    identity = identity_from_claims(CLAIMS)
    assert identity == VerifiedIdentity(
        email="maya@example.com",
        name="Maya Rao",
        avatar_url="https://example.com/maya.png",
        subject="108000000000000000001",
    )


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({**CLAIMS, "email_verified": False}, id="email-unverified"),
        pytest.param({k: v for k, v in CLAIMS.items() if k != "email_verified"}, id="no-flag"),
        pytest.param({**CLAIMS, "email_verified": "true"}, id="flag-as-string"),
        pytest.param({k: v for k, v in CLAIMS.items() if k != "sub"}, id="no-subject"),
        pytest.param({**CLAIMS, "sub": ""}, id="empty-subject"),
        pytest.param({**CLAIMS, "email": ""}, id="no-email"),
    ],
)
def test_identity_from_claims_refuses_unverified_or_anonymous_accounts(claims: dict) -> None:
    with pytest.raises(SignInRefused):
        identity_from_claims(claims)


def test_upsert_user_creates_then_updates_the_same_user_by_subject(engine: Engine) -> None:
    first = VerifiedIdentity(email="maya@example.com", name="Maya", subject="sub-1")
    with session_scope(engine) as db:
        user, created = upsert_user(session=db, identity=first)
        assert created and user.id is not None
        assert (user.email, user.name, user.oidc_subject) == ("maya@example.com", "Maya", "sub-1")

    renamed = VerifiedIdentity(
        email="maya.rao@example.com", name="Maya Rao", avatar_url="https://x/p.png", subject="sub-1"
    )
    with session_scope(engine) as db:
        same, created = upsert_user(session=db, identity=renamed)
        assert not created and same.id == user.id

    with session_scope(engine) as db:
        (only,) = db.exec(select(User)).all()
        assert (only.email, only.name, only.avatar_url, only.oidc_subject) == (
            "maya.rao@example.com",
            "Maya Rao",
            "https://x/p.png",
            "sub-1",
        )


def test_a_developer_account_is_linked_to_google_on_first_google_sign_in(engine: Engine) -> None:
    dev = add_user(engine, "maya@example.com")
    google = VerifiedIdentity(email="maya@example.com", name="Maya", subject="sub-1")
    with session_scope(engine) as db:
        user, created = upsert_user(session=db, identity=google)
        assert not created and user.id == dev.id and user.oidc_subject == "sub-1"


def test_an_email_linked_to_a_different_subject_is_refused(engine: Engine) -> None:
    original = VerifiedIdentity(email="maya@example.com", name="Maya", subject="sub-1")
    with session_scope(engine) as db:
        upsert_user(session=db, identity=original)

    recycled = VerifiedIdentity(email="maya@example.com", name="Not Maya", subject="sub-2")
    with pytest.raises(SignInRefused), session_scope(engine) as db:
        upsert_user(session=db, identity=recycled)

    with session_scope(engine) as db:
        (only,) = db.exec(select(User)).all()
        assert (only.name, only.oidc_subject) == ("Maya", "sub-1")


def test_a_deleted_account_cannot_sign_in_again(engine: Engine) -> None:
    identity = VerifiedIdentity(email="maya@example.com", subject="sub-1")
    with session_scope(engine) as db:
        user, _ = upsert_user(session=db, identity=identity)
        user.deleted_at = datetime.now(UTC)
        db.add(user)
    with pytest.raises(SignInRefused), session_scope(engine) as db:
        upsert_user(session=db, identity=identity)


def test_admin_and_support_emails_give_roles_while_they_list_the_address(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_app(
        monkeypatch,
        DATABASE_URL=str(engine.url),
        ADREMIX_ADMIN_EMAILS="boss@example.com",
        ADREMIX_SUPPORT_EMAILS="Helper@Example.com, boss@example.com",
    )
    boss = VerifiedIdentity(email="boss@example.com", subject="sub-boss")
    helper = VerifiedIdentity(email="helper@example.com", subject="sub-helper")
    staff = VerifiedIdentity(email="staff@example.com", subject="sub-staff")
    with session_scope(engine) as db:
        roles = {
            identity.email: effective_role(email=user.email, stored=user.role)
            for identity in (boss, helper, staff)
            for user, _ in [upsert_user(session=db, identity=identity)]
        }
    # Listed in both: the higher role counts.
    assert roles == {
        "boss@example.com": "admin",
        "helper@example.com": "support",
        "staff@example.com": None,
    }
    tokens = {}
    for identity in (boss, staff):
        with session_scope(engine) as db:
            (user,) = db.exec(select(User).where(User.email == identity.email)).all()
            tokens[identity.email] = start_session(session=db, user=user, days=1)
    assert accounts.signed_in_user(token=tokens["boss@example.com"]).role == "admin"  # type: ignore[union-attr]
    assert accounts.signed_in_user(token=tokens["staff@example.com"]).role == ""  # type: ignore[union-attr]

    # Read on every check, never copied onto the user: removing the address removes the role.
    configure_app(monkeypatch, DATABASE_URL=str(engine.url), ADREMIX_ADMIN_EMAILS="")
    assert accounts.signed_in_user(token=tokens["boss@example.com"]).role == "support"  # type: ignore[union-attr]
    with session_scope(engine) as db:
        assert {u.role for u in db.exec(select(User)).all()} == {None}
