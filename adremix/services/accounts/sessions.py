"""Server-side sign-in sessions: random tokens in the cookie, only their hashes at rest."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.cookies import SimpleCookie

from sqlalchemy import update
from sqlmodel import Session, select

from adremix.db import session_scope
from adremix.models import AuthSession, User, utcnow
from adremix.services.library import read_preferences

SESSION_COOKIE = "adremix_session"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    *, session: Session, user: User, days: int, user_agent: str = "", now: datetime | None = None
) -> str:
    """Create a session for `user` and return the raw token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = now or utcnow()
    session.add(
        AuthSession(
            token_hash=hash_token(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(days=days),
            user_agent=user_agent[:500],
        )
    )
    user.last_login_at = now
    session.add(user)
    return token


def user_for_token(
    *, session: Session, token: str | None, now: datetime | None = None
) -> User | None:
    """The signed-in user for a cookie token, or None if unknown, expired or revoked."""
    if not token:
        return None
    now = now or utcnow()
    row = session.exec(
        select(User)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(
            AuthSession.token_hash == hash_token(token),
            AuthSession.revoked_at.is_(None),  # type: ignore[union-attr]
            AuthSession.expires_at > now,
            User.deleted_at.is_(None),  # type: ignore[union-attr]
        )
    ).first()
    return row


def revoke_session(*, session: Session, token: str | None) -> bool:
    """Revoke one session by its cookie token. True if a live session was revoked."""
    if not token:
        return False
    result = session.execute(
        update(AuthSession)
        .where(AuthSession.token_hash == hash_token(token), AuthSession.revoked_at.is_(None))  # type: ignore[union-attr]
        .values(revoked_at=utcnow())
    )
    return result.rowcount > 0


def revoke_all_sessions(*, session: Session, user_id: int) -> int:
    """Sign a user out everywhere; returns how many sessions were live."""
    result = session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))  # type: ignore[union-attr]
        .values(revoked_at=utcnow())
    )
    return result.rowcount


def token_from_cookie_header(cookie_header: str) -> str | None:
    """Pick our session token out of a raw `Cookie:` header."""
    jar = SimpleCookie()
    try:
        jar.load(cookie_header or "")
    except Exception:
        return None
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel else None


@dataclass(frozen=True)
class SignedInUser:
    """Who a session token belongs to, as the pages and routes need it."""

    id: int
    name: str
    email: str
    avatar_url: str
    credit_balance: int
    is_admin: bool
    low_credit_threshold: int


def signed_in_user(*, token: str | None) -> SignedInUser | None:
    """The signed-in user for a cookie token (checked against the session store), or None."""
    if not token:
        return None
    with session_scope() as session:
        user = user_for_token(session=session, token=token)
        if user is None or user.id is None:
            return None
        preferences = read_preferences(session, user_id=user.id)
        return SignedInUser(
            id=user.id,
            name=user.name,
            email=user.email,
            avatar_url=user.avatar_url,
            credit_balance=user.credit_balance,
            is_admin=user.is_admin,
            low_credit_threshold=int(preferences["low_credit_threshold"]),
        )


def sign_out(*, token: str | None) -> None:
    """Revoke this browser's session (the cookie's token)."""
    with session_scope() as session:
        revoke_session(session=session, token=token)


def sign_out_everywhere(*, user_id: int) -> int:
    """Revoke every live session of the user; returns how many there were."""
    with session_scope() as session:
        return revoke_all_sessions(session=session, user_id=user_id)
