"""The websocket handshake carries the session token's hash, never the token.

Reflex keeps the handshake's headers in the tab's state, which is persisted (to disk or
Redis). So before Reflex sees the handshake, the session cookie is replaced by the hash
of its token: enough to find the session server-side, useless as a cookie.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from adremix.services.accounts import hash_session_cookie


def hash_session_on_socket(app: ASGIApp) -> ASGIApp:
    """An `api_transformer`: rewrites the Cookie header of every websocket handshake."""

    async def rewritten(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            headers = [
                (name, hash_session_cookie(value.decode("latin-1")).encode("latin-1"))
                if name == b"cookie"
                else (name, value)
                for name, value in scope.get("headers", [])
            ]
            scope = {**scope, "headers": headers}
        await app(scope, receive, send)

    return rewritten
