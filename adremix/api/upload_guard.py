"""A guard in front of Reflex's upload endpoint (`POST /_upload`).

Reflex reads an upload's whole body before its handler sees it, and takes the tab's
client token (`reflex-client-token`) as the only credential. Before a byte of the body
is read, this guard requires:

- a `Content-Length` no larger than one image plus the form around it (413 otherwise);
- the uploader's own session cookie, signed in (403 otherwise);
- that the tab the upload is addressed to belongs to that same user (403 otherwise), so
  a leaked or guessed client token is worth nothing without its owner's cookie.

While Reflex reads the body, the guard counts it: past the cap, Reflex is told the
client went away and the client gets 413, so a chunked or lying upload stops there too.
A refused upload's body (within the cap) is read and dropped, never kept, so the
client gets the answer rather than a reset connection.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from adremix.api.body_limits import declared_length, too_large
from adremix.api.current_user import user_from_request

UPLOAD_PATH = "/_upload"  # reflex_base.constants.Endpoint.UPLOAD
CLIENT_TOKEN_HEADER = "reflex-client-token"  # what Reflex's upload route reads
# Boundaries, part headers and Reflex's own form field around the one file.
FORM_OVERHEAD_BYTES = 64 * 1024

TabUser = Callable[[str], Awaitable[int | None]]


def guard_uploads(*, max_file_bytes: int, tab_user_id: TabUser) -> Callable[[ASGIApp], ASGIApp]:
    """An `api_transformer` for `rx.App`: wraps the app's ASGI app with the guard.

    `tab_user_id(client_token)` says which user the tab's state is signed in as.
    """
    limit = max_file_bytes + FORM_OVERHEAD_BYTES

    def wrap(app: ASGIApp) -> ASGIApp:
        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["path"] != UPLOAD_PATH or scope["method"] != "POST":
                await app(scope, receive, send)
                return
            request = Request(scope)  # headers and cookies only: the body stays unread
            declared = declared_length(request.headers)
            if declared is not None and declared > limit:
                await too_large(limit)(scope, receive, send)
                return
            refusal = await _refusal(request, tab_user_id)
            if refusal is not None:
                await _discard_body(receive, limit)
                await refusal(scope, receive, send)
                return
            await _capped(app, limit)(scope, receive, send)

        return guarded

    return wrap


async def _refusal(request: Request, tab_user_id: TabUser) -> JSONResponse | None:
    user = await user_from_request(request)
    if user is None:
        return JSONResponse({"error": "Please sign in again."}, status_code=403)
    token = request.headers.get(CLIENT_TOKEN_HEADER, "")
    if not token or await tab_user_id(token) != user.id:
        return JSONResponse({"error": "This upload is not from your page."}, status_code=403)
    return None


async def _discard_body(receive: Receive, limit: int) -> None:
    """Drop what the client is still sending (never more than `limit`, never kept), so it
    reads our answer instead of a connection reset by unread data."""
    taken = 0
    while taken <= limit:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return
        taken += len(message.get("body", b""))


def _capped(app: ASGIApp, limit: int) -> ASGIApp:
    """`app`, told the client disconnected once the body passes `limit` bytes; the
    client then gets 413 instead of whatever `app` answers to the disconnect."""

    async def capped(scope: Scope, receive: Receive, send: Send) -> None:
        received = 0
        over = False
        started = False

        async def counted_receive() -> MutableMapping[str, Any]:
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: MutableMapping[str, Any]) -> None:
            nonlocal started
            if over and not started:
                return  # the app's answer to a "disconnect" nobody will read
            started = True
            await send(message)

        await app(scope, counted_receive, guarded_send)
        if over and not started:
            await too_large(limit)(scope, receive, send)

    return capped
