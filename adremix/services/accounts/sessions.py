"""Server-side sign-in sessions: random tokens in the cookie, only their hashes at rest.

A session ends at its absolute expiry, after `ADREMIX_SESSION_IDLE_HOURS` without use, or
when revoked; ended sessions are purged. The Reflex state never holds the token: the
websocket handshake's cookie is rewritten to the token's hash (api/socket_session.py), and
the state identifies its session by that hash alone.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlmodel import Session, select

from adremix.db import session_scope
from adremix.models import AuthSession, User, utcnow
from adremix.services.accounts.roles import effective_role
from adremix.services.library import read_preferences
from adremix.settings import get_settings

SESSION_COOKIE = "adremix_session"
# What the websocket handshake carries instead of SESSION_COOKIE: the token's SHA-256.
SESSION_HASH_COOKIE = "adremix_session_hash"
# last_seen_at is written at most this often per session, not on every event.
SEEN_RESOLUTION = timedelta(minutes=5)
_COOKIE_PAIR = re.compile(r"\s*([^=;\s]+)\s*=\s*([^;]*)")


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
            last_seen_at=now,
            expires_at=now + timedelta(days=days),
            user_agent=user_agent[:500],
        )
    )
    user.last_login_at = now
    session.add(user)
    return token


def user_for_token(
    *,
    session: Session,
    token: str | None,
    now: datetime | None = None,
    idle: timedelta | None = None,
) -> User | None:
    """The signed-in user for a cookie token, or None if unknown, expired or revoked."""
    if not token:
        return None
    return user_for_session_hash(session=session, token_hash=hash_token(token), now=now, idle=idle)


def user_for_session_hash(
    *,
    session: Session,
    token_hash: str | None,
    now: datetime | None = None,
    idle: timedelta | None = None,
) -> User | None:
    """The user of a live session found by its token's hash; None if unknown, expired,
    revoked or (with `idle`) unused for that long. Records the use, coarsely."""
    if not token_hash:
        return None
    now = now or utcnow()
    conditions = [
        AuthSession.token_hash == token_hash,
        AuthSession.revoked_at.is_(None),  # type: ignore[union-attr]
        AuthSession.expires_at > now,
        User.deleted_at.is_(None),  # type: ignore[union-attr]
        # Suspending revokes the user's sessions; this also stops one started meanwhile.
        User.suspended_at.is_(None),  # type: ignore[union-attr]
    ]
    if idle is not None:
        conditions.append(AuthSession.last_seen_at > now - idle)
    row = session.exec(
        select(User, AuthSession)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(*conditions)
    ).first()
    if row is None:
        return None
    user, auth_session = row
    if _as_utc(auth_session.last_seen_at) <= now - SEEN_RESOLUTION:
        auth_session.last_seen_at = now
        session.add(auth_session)
    return user


def _as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes (stored as UTC).
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def purge_ended_sessions(*, now: datetime | None = None) -> int:
    """Delete sessions that expired, went idle or were revoked; returns how many."""
    now = now or utcnow()
    idle = timedelta(hours=get_settings().session_idle_hours)
    with session_scope() as session:
        result = session.execute(
            delete(AuthSession).where(
                or_(
                    AuthSession.expires_at <= now,
                    AuthSession.last_seen_at <= now - idle,
                    AuthSession.revoked_at.is_not(None),  # type: ignore[union-attr]
                )
            )
        )
        return result.rowcount


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


def cookie_from_header(cookie_header: str, name: str) -> str | None:
    """One cookie's value out of a raw `Cookie:` header (the first, as browsers order)."""
    for pair in (cookie_header or "").split(";"):
        match = _COOKIE_PAIR.fullmatch(pair)
        if match and match.group(1) == name:
            return match.group(2).strip().strip('"') or None
    return None


def token_from_cookie_header(cookie_header: str) -> str | None:
    """Pick our session token out of a raw `Cookie:` header."""
    return cookie_from_header(cookie_header, SESSION_COOKIE)


def session_hash_from_cookie_header(cookie_header: str) -> str | None:
    """The session's token hash the websocket handshake carries (see SESSION_HASH_COOKIE)."""
    return cookie_from_header(cookie_header, SESSION_HASH_COOKIE)


def hash_session_cookie(cookie_header: str) -> str:
    """A `Cookie:` header with the session token replaced by its hash; a hash the client
    sent itself is dropped (a leaked hash must not work as a credential)."""
    kept = []
    for pair in (cookie_header or "").split(";"):
        match = _COOKIE_PAIR.fullmatch(pair)
        if not match or match.group(1) == SESSION_HASH_COOKIE:
            continue
        if match.group(1) == SESSION_COOKIE:
            token = match.group(2).strip().strip('"')
            if token:
                kept.append(f"{SESSION_HASH_COOKIE}={hash_token(token)}")
            continue
        kept.append(pair.strip())
    return "; ".join(kept)


@dataclass(frozen=True)
class SignedInUser:
    """Who a session token belongs to, as the pages and routes need it."""

    id: int
    name: str
    email: str
    avatar_url: str
    credit_balance: int
    role: str  # a Role in the admin console, or "" for none
    low_credit_threshold: int


def signed_in_user(
    *, token: str | None = None, token_hash: str | None = None
) -> SignedInUser | None:
    """The signed-in user for a cookie token, or for its hash (the websocket's state has
    only that), checked against the session store; None when signed out."""
    token_hash = hash_token(token) if token else token_hash
    if not token_hash:
        return None
    idle = timedelta(hours=get_settings().session_idle_hours)
    with session_scope() as session:
        user = user_for_session_hash(session=session, token_hash=token_hash, idle=idle)
        if user is None or user.id is None:
            return None
        preferences = read_preferences(session, user_id=user.id)
        return SignedInUser(
            id=user.id,
            name=user.name,
            email=user.email,
            avatar_url=user.avatar_url,
            credit_balance=user.credit_balance,
            role=effective_role(email=user.email, stored=user.role) or "",
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
