"""Sessions, users and the `next` rule, without HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from adremix.db import session_scope
from adremix.models import AuthSession, User, utcnow
from adremix.services.auth_sessions import (
    hash_token,
    revoke_all_sessions,
    revoke_session,
    start_session,
    token_from_cookie_header,
    user_for_token,
)
from adremix.services.navigation import safe_next_path
from adremix.services.users import (
    SignInRefused,
    VerifiedIdentity,
    identity_from_claims,
    upsert_user,
)
from tests.conftest import make_user


def test_only_the_tokens_hash_is_stored_and_it_expires(database_url: str) -> None:
    make_user(database_url)
    with session_scope() as session:
        user = session.exec(select(User)).one()
        token = start_session(session=session, user=user, days=30)
    with session_scope() as session:
        stored = session.exec(select(AuthSession)).one()
        assert stored.token_hash == hash_token(token) and token not in stored.token_hash
        assert user_for_token(session=session, token=token) is not None
        later = utcnow() + timedelta(days=31)
        assert user_for_token(session=session, token=token, now=later) is None
        assert user_for_token(session=session, token="made-up") is None


def test_revoking_one_or_all_sessions(database_url: str) -> None:
    make_user(database_url, email="a@example.com")
    make_user(database_url, email="b@example.com")
    with session_scope() as session:
        a, b = session.exec(select(User).order_by(User.id)).all()
        a1, a2 = (start_session(session=session, user=a, days=1) for _ in range(2))
        b1 = start_session(session=session, user=b, days=1)
    with session_scope() as session:
        assert revoke_session(session=session, token=a1)
        assert not revoke_session(session=session, token=a1)
        assert user_for_token(session=session, token=a2) is not None
        assert revoke_all_sessions(session=session, user_id=a.id or 0) == 1
        assert user_for_token(session=session, token=a2) is None
        assert user_for_token(session=session, token=b1) is not None


def test_cookie_header_parsing() -> None:
    assert token_from_cookie_header("a=1; adremix_session=tok-EN_1; b=2") == "tok-EN_1"
    assert token_from_cookie_header("") is None
    assert token_from_cookie_header("garbage;;;=") is None


def test_users_are_keyed_by_subject_and_never_merged_across_accounts(database_url: str) -> None:
    identity = VerifiedIdentity(email="maya@example.com", name="Maya", subject="sub-1")
    with session_scope() as session:
        user, created = upsert_user(session=session, identity=identity, admin_emails=frozenset())
        assert created and not user.is_admin
        renamed = VerifiedIdentity(email="maya.rao@example.com", name="Maya R", subject="sub-1")
        same, created = upsert_user(
            session=session, identity=renamed, admin_emails=frozenset({"maya.rao@example.com"})
        )
        assert not created and same.id == user.id and same.is_admin
        impostor = VerifiedIdentity(email="maya.rao@example.com", subject="sub-2")
        with pytest.raises(SignInRefused):
            upsert_user(session=session, identity=impostor, admin_emails=frozenset())


def test_claims_must_carry_a_verified_email_and_a_subject() -> None:
    good = {"sub": "1", "email": "X@Example.com", "email_verified": True, "name": "X"}
    assert identity_from_claims(good).email == "x@example.com"
    for bad in (
        {**good, "email_verified": False},
        {**good, "email_verified": "true"},
        {**good, "sub": ""},
        {**good, "email": ""},
    ):
        with pytest.raises(SignInRefused):
            identity_from_claims(bad)


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("/history", "/history"),
        ("/history?status=failed", "/history?status=failed"),
        ("//evil.example", "/"),
        ("https://evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/login?next=/x", "/"),
        ("/auth/logout", "/"),
        ("/credits\r\nSet-Cookie: x", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_next_accepts_only_same_site_paths(candidate: str | None, expected: str) -> None:
    assert safe_next_path(candidate) == expected
