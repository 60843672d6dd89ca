"""Rate limits on our HTTP routes: who is asking, and the 429 answer."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from adremix.services.rate_limits import RateLimited


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
