"""Suspending an account: its sessions end at once and sign-in is refused with a clear
message (services/accounts/users.py); nothing of its data is touched."""

from __future__ import annotations

from sqlmodel import Session

from adremix.models import User, utcnow
from adremix.services.accounts.sessions import revoke_all_sessions


def set_suspended(*, session: Session, user: User, suspended: bool) -> int:
    """Suspend or restore `user` in the caller's transaction; returns how many live
    sessions a suspension ended (0 when restoring, or when nothing changed)."""
    assert user.id is not None
    if suspended == (user.suspended_at is not None):
        return 0
    user.suspended_at = utcnow() if suspended else None
    session.add(user)
    session.flush()
    return revoke_all_sessions(session=session, user_id=user.id) if suspended else 0
