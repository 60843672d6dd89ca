"""The signed-in user of a plain HTTP request (file, receipt and export routes)."""

from __future__ import annotations

from starlette.requests import Request

from adremix.db import session_scope
from adremix.models import User
from adremix.services.auth_sessions import SESSION_COOKIE, user_for_token


def user_from_request(request: Request) -> User | None:
    with session_scope() as session:
        return user_for_token(session=session, token=request.cookies.get(SESSION_COOKIE))
