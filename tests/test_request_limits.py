"""Request bodies are capped before they are read: the webhook, and Reflex's upload route
behind its guard (the size, the uploader's own session cookie, the tab's user)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import ASGIApp

from adremix.api import build_api_app
from adremix.api.body_limits import WEBHOOK_MAX_BYTES
from adremix.api.upload_guard import FORM_OVERHEAD_BYTES, guard_uploads
from adremix.db import session_scope
from adremix.models import User
from adremix.services.accounts import SESSION_COOKIE, start_session
from adremix.settings import get_settings

CHUNK = 64 * 1024
MAX_FILE = 256 * 1024


async def post_in_chunks(
    app: ASGIApp, path: str, *, chunks: int, headers: dict[str, str], first: bytes = b""
) -> tuple[int, int]:
    """Send `first`, then `chunks` pieces of 64 KB as an ASGI server would, one
    `receive()` each. Returns (status, pieces the app asked for)."""
    asked = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal asked
        asked += 1
        if asked > chunks:
            return {"type": "http.disconnect"}
        body = (first if asked == 1 else b"") + b"x" * CHUNK
        return {"type": "http.request", "body": body, "more_body": asked < chunks}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    await app(scope, receive, send)
    return status, asked


# --- the webhook ----------------------------------------------------------------------


def test_a_webhook_body_announced_over_one_megabyte_is_refused_unread(database_url: str) -> None:
    app = build_api_app(get_settings())
    status, asked = asyncio.run(
        post_in_chunks(
            app,
            "/api/razorpay/webhook",
            chunks=4800,  # 300 MB
            headers={"content-length": str(4800 * CHUNK), "x-razorpay-signature": "0" * 64},
        )
    )
    assert (status, asked) == (413, 0)


def test_a_streamed_webhook_body_is_cut_off_at_one_megabyte(database_url: str) -> None:
    app = build_api_app(get_settings())
    status, asked = asyncio.run(
        post_in_chunks(
            app,
            "/api/razorpay/webhook",
            chunks=4800,
            headers={"transfer-encoding": "chunked", "x-razorpay-signature": "0" * 64},
        )
    )
    assert status == 413
    assert asked == WEBHOOK_MAX_BYTES // CHUNK + 1  # not one piece more than it took to know


def test_a_webhook_body_up_to_one_megabyte_is_still_checked_normally(database_url: str) -> None:
    client = TestClient(build_api_app(get_settings()))
    response = client.post(
        "/api/razorpay/webhook",
        content=b" " * WEBHOOK_MAX_BYTES,
        headers={"X-Razorpay-Signature": "0" * 64},
    )
    assert response.status_code == 400  # read whole, then refused for its signature


# --- the upload guard -----------------------------------------------------------------


class Tabs:
    """The tabs the server knows, by client token, and who each is signed in as."""

    def __init__(self) -> None:
        self.users: dict[str, int] = {}

    async def user_of(self, client_token: str) -> int | None:
        return self.users.get(client_token)


def upload_route_like_reflex() -> tuple[Starlette, list[int]]:
    """What Reflex's buffered upload route does with a body: parse the whole form, and
    answer an empty 200 if the client goes away meanwhile. Records the sizes it got."""
    received: list[int] = []

    async def upload(request: Request) -> Response:
        try:
            form = await request.form()
        except ClientDisconnect:
            return Response()
        upload = form["files"]
        received.append(len(await upload.read()))  # type: ignore[union-attr]
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route("/_upload", upload, methods=["POST"])]), received


def session_cookie(email: str) -> tuple[int, str]:
    with session_scope() as session:
        user = User(email=email, name=email)
        session.add(user)
        session.flush()
        assert user.id is not None
        return user.id, f"{SESSION_COOKIE}={start_session(session=session, user=user, days=1)}"


@pytest.fixture
def guarded(database_url: str) -> tuple[ASGIApp, Tabs, list[int]]:
    tabs = Tabs()
    inner, received = upload_route_like_reflex()
    return guard_uploads(max_file_bytes=MAX_FILE, tab_user_id=tabs.user_of)(inner), tabs, received


def test_an_upload_from_the_tabs_own_user_goes_through(guarded: Any) -> None:
    app, tabs, received = guarded
    user_id, cookie = session_cookie("maker@example.com")
    tabs.users["tab-1"] = user_id
    response = TestClient(app).post(
        "/_upload",
        files={"files": ("ad.png", b"p" * MAX_FILE, "image/png")},
        headers={"reflex-client-token": "tab-1", "Cookie": cookie},
    )
    assert response.status_code == 200 and received == [MAX_FILE]


def test_an_upload_without_a_signed_in_cookie_is_refused_unread(guarded: Any) -> None:
    app, tabs, received = guarded
    user_id, _ = session_cookie("maker@example.com")
    tabs.users["tab-1"] = user_id  # the client token alone is not enough
    for cookie in ("", f"{SESSION_COOKIE}=made-up"):
        response = TestClient(app).post(
            "/_upload",
            files={"files": ("ad.png", b"p" * 10, "image/png")},
            headers={"reflex-client-token": "tab-1", "Cookie": cookie},
        )
        assert response.status_code == 403
    assert received == []


def test_an_upload_into_someone_elses_tab_is_refused(guarded: Any) -> None:
    app, tabs, received = guarded
    owner_id, _ = session_cookie("owner@example.com")
    _, intruder_cookie = session_cookie("intruder@example.com")
    tabs.users["owners-tab"] = owner_id
    for token in ("owners-tab", "unknown-tab", ""):
        response = TestClient(app).post(
            "/_upload",
            files={"files": ("ad.png", b"p" * 10, "image/png")},
            headers={"reflex-client-token": token, "Cookie": intruder_cookie},
        )
        assert response.status_code == 403, token
    assert received == []


def test_an_upload_announced_over_the_limit_is_refused_unread(guarded: Any) -> None:
    app, tabs, received = guarded
    user_id, cookie = session_cookie("maker@example.com")
    tabs.users["tab-1"] = user_id
    length = MAX_FILE + FORM_OVERHEAD_BYTES + 1
    status, asked = asyncio.run(
        post_in_chunks(
            app,
            "/_upload",
            chunks=length // CHUNK + 1,
            headers={
                "content-length": str(length),
                "content-type": "multipart/form-data; boundary=x",
                "reflex-client-token": "tab-1",
                "cookie": cookie,
            },
        )
    )
    assert (status, asked, received) == (413, 0, [])


def test_an_upload_streaming_past_the_limit_is_cut_off_there(guarded: Any) -> None:
    app, tabs, received = guarded
    user_id, cookie = session_cookie("maker@example.com")
    tabs.users["tab-1"] = user_id
    status, asked = asyncio.run(
        post_in_chunks(
            app,
            "/_upload",
            chunks=4800,  # 300 MB, with no length announced
            headers={
                "content-type": "multipart/form-data; boundary=b",
                "reflex-client-token": "tab-1",
                "cookie": cookie,
            },
            first=(
                b'--b\r\nContent-Disposition: form-data; name="files"; filename="ad.png"\r\n'
                b"Content-Type: image/png\r\n\r\n"
            ),
        )
    )
    assert status == 413 and received == []
    assert asked <= (MAX_FILE + FORM_OVERHEAD_BYTES) // CHUNK + 2
