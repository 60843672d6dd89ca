"""Request bodies are read with a cap: a client may send gigabytes, we hold at most the cap.

A body whose `Content-Length` is over the cap is refused before a byte of it is read; a
body that grows past the cap while streaming (chunked, or lying about its length) is
refused there, and the rest is never read.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse

# Razorpay's webhook payloads are a few kilobytes; a megabyte is generous.
WEBHOOK_MAX_BYTES = 1024 * 1024


class BodyTooLarge(Exception):
    """The request body is (or says it is) larger than the route accepts."""


def declared_length(headers: Headers) -> int | None:
    """The body size the client announced, if it announced a sane one."""
    value = headers.get("content-length", "")
    return int(value) if value.isdigit() else None


async def read_capped_body(request: Request, limit: int) -> bytes:
    """The whole body, as received, or BodyTooLarge once it passes `limit` bytes."""
    declared = declared_length(request.headers)
    if declared is not None and declared > limit:
        raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge
    return bytes(body)


def too_large(limit: int) -> JSONResponse:
    """The 413 answer; the connection is closed so the unread rest is never taken in."""
    return JSONResponse(
        {"error": f"The request body is larger than {limit // 1024} KB."},
        status_code=413,
        headers={"Connection": "close"},
    )
