"""Rate limits on our HTTP routes: who is asking, and the 429 answer."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from adremix.enums import LimitedAction
from adremix.services.rate_limits import RateLimited, hit_rate_limit


def client_ip(request: Request) -> str:
    """The client's address as the server saw it (a proxy in front must pass it on)."""
    return request.client.host if request.client else "unknown"


def too_many_requests(limited: RateLimited) -> Response:
    """HTTP 429 saying when to retry, in the header and in words."""
    return PlainTextResponse(
        limited.message,
        status_code=429,
        headers={"Retry-After": str(limited.retry_after)},
    )


async def over_limit(
    request: Request, action: LimitedAction, user: str | int | None
) -> Response | None:
    """Count this request against `action`'s limits: the 429 to answer when over, else None."""
    try:
        await hit_rate_limit(action, ip=client_ip(request), user=user)
    except RateLimited as limited:
        return too_many_requests(limited)
    return None
