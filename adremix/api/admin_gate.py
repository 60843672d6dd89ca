"""The admin console is not there for anyone but staff.

For everyone else (signed out, or signed in without a role), every `/admin...` address
answers exactly as a missing page does: the request is passed on as one for a path no
page or file has, so the status, body and headers are the app's own 404 (or, for a POST,
its own 405). The compiled app's route table (React Router's manifest, one static file
every page loads) is also served to them without the console's routes, so their browser
renders its normal not-found page at those addresses too and is never told the
console's pages or scripts exist. Staff get everything as built.

The role is read from the database on each such request (the session cookie's user), so
a role revoked a moment ago no longer opens anything. The websocket guard and the
services check again for every admin event (state/guard.py, services/admin/access.py).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adremix.blocking import call
from adremix.services.accounts import signed_in_user, token_from_cookie_header
from adremix.urls import is_admin_path

log = logging.getLogger(__name__)

# No page or file has this path: the frontend's static server answers it as any miss.
MISSING_PATH = "/__adremix_missing__"
# React Router's manifest, e.g. /assets/manifest-88c107dc.js.
MANIFEST = re.compile(r"^/assets/manifest-[A-Za-z0-9_-]+\.js$")
MANIFEST_PREFIX = "window.__reactRouterManifest="
# Request headers that would get a compressed file or a "304 Not Modified" for the
# staff version a browser may have cached: a non-staff manifest is always sent whole.
DROPPED_FOR_REWRITE = {b"accept-encoding", b"if-none-match", b"if-modified-since", b"range"}


def is_manifest(path: str) -> bool:
    return bool(MANIFEST.match(path))


def _cookie_header(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            return value.decode("latin-1")
    return ""


async def is_staff(scope: Scope) -> bool:
    """Whether the request's session belongs to staff, as the database says now."""
    token = token_from_cookie_header(_cookie_header(scope))
    if not token:
        return False
    user = await call(signed_in_user, token=token)
    return bool(user and user.role)


def without_admin_routes(source: bytes) -> bytes:
    """The manifest without the console's routes (paths "admin" and "admin/...")."""
    text = source.decode("utf-8")
    start, end = text.index("{"), text.rindex("}") + 1
    manifest = json.loads(text[start:end])
    routes = manifest.get("routes", {})
    manifest["routes"] = {
        route_id: route
        for route_id, route in routes.items()
        if not is_admin_path("/" + str(route.get("path") or "").lstrip("/"))
    }
    return (text[:start] + json.dumps(manifest, separators=(",", ":")) + text[end:]).encode()


async def _send_without_admin_routes(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send
) -> None:
    headers = [(k, v) for k, v in scope.get("headers", []) if k not in DROPPED_FOR_REWRITE]
    # Without the server's "send a file by its path" extension (granian offers it) the
    # static file's bytes come through `collect`, where they can be rewritten.
    extensions = {
        name: value
        for name, value in scope.get("extensions", {}).items()
        if name != "http.response.pathsend"
    }
    start: Message | None = None
    body = bytearray()

    async def collect(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    await app({**scope, "headers": headers, "extensions": extensions}, receive, collect)
    assert start is not None
    content = bytes(body)
    if start["status"] == 200 and content.startswith(MANIFEST_PREFIX.encode()):
        try:
            content = without_admin_routes(content)
        except (ValueError, KeyError, AttributeError):
            log.error("Could not read the route manifest; serving it as built")
    response_headers = MutableHeaders(scope=start)
    for name in ("etag", "last-modified", "content-encoding"):
        if name in response_headers:
            del response_headers[name]
    response_headers["content-length"] = str(len(content))
    await send(start)
    await send({"type": "http.response.body", "body": content})


def admin_gate() -> Callable[[ASGIApp], ASGIApp]:
    """An `api_transformer` hiding the console from everyone but staff."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def gate(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            path = scope.get("path", "")
            if is_admin_path(path):
                if not await is_staff(scope):
                    missing = {**scope, "path": MISSING_PATH, "raw_path": MISSING_PATH.encode()}
                    await app(missing, receive, send)
                    return
            elif is_manifest(path) and not await is_staff(scope):
                await _send_without_admin_routes(app, scope, receive, send)
                return
            await app(scope, receive, send)

        return gate

    return wrap
