"""The signed-in user of a plain HTTP request (file, receipt and export routes)."""

from __future__ import annotations

from starlette.requests import Request

from adremix.blocking import call
from adremix.services.accounts import SESSION_COOKIE, SignedInUser, signed_in_user


async def user_from_request(request: Request) -> SignedInUser | None:
    """Who sent this request, from the session cookie; the lookup runs in a worker thread."""
    return await call(lambda: signed_in_user(token=request.cookies.get(SESSION_COOKIE)))
