"""/admin answers exactly like a missing page to anyone but staff, the route manifest
hides the console's routes from them, and the CSV exports are staff's alone."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest
from sqlmodel import select
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.testclient import TestClient

from adremix.api.admin_gate import admin_gate, without_admin_routes
from adremix.api.admin_routes import admin_routes
from adremix.api.headers import security_headers
from adremix.db import session_scope
from adremix.models import AuditEntry
from adremix.services import accounts
from adremix.services.accounts import ADMIN_EXPORT, SESSION_COOKIE, VerifiedIdentity, hash_token
from tests.conftest import configure_app

MANIFEST_NAME = "manifest-88c107dc.js"
ROUTES = {
    "root": {"id": "root", "path": "", "module": "/assets/root-1.js"},
    "routes/[credits]._index": {
        "id": "routes/[credits]._index",
        "path": "credits",
        "module": "/assets/c.js",
    },
    "routes/[admin]._index": {
        "id": "routes/[admin]._index",
        "path": "admin",
        "module": "/assets/a.js",
    },
    "routes/[admin].[users]._index": {
        "id": "routes/[admin].[users]._index",
        "path": "admin/users",
        "module": "/assets/u.js",
    },
    "routes/[administrators]._index": {
        "id": "routes/[administrators]._index",
        "path": "administrators",
        "module": "/assets/x.js",
    },
    "routes/[404]._index": {"id": "routes/[404]._index", "path": "*", "module": "/assets/404.js"},
}
MANIFEST = (
    "window.__reactRouterManifest="
    + json.dumps({"entry": {}, "routes": ROUTES, "version": "88c107dc"})
    + ";"
).encode()


@pytest.fixture
def site(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    """The gate and the header policy around our routes and a built frontend's files."""
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "admin" / "users").mkdir(parents=True)
    (static / "404.html").write_text("<html>the app's not-found page</html>")
    (static / "admin.html").write_text("<html>the console, prerendered</html>")
    (static / "admin" / "users" / "index.html").write_text("<html>users, prerendered</html>")
    (static / "credits.html").write_text("<html>credits</html>")
    (static / "assets" / MANIFEST_NAME).write_bytes(MANIFEST)
    settings = configure_app(
        monkeypatch, DATABASE_URL=database_url, ADREMIX_ADMIN_EMAILS="boss@example.com"
    )
    inner = Starlette(
        routes=[*admin_routes(settings), Mount("/", StaticFiles(directory=static, html=True))]
    )
    app = security_headers(settings)(admin_gate()(inner))
    return TestClient(app, base_url="http://localhost:8000")


def sign_in(email: str) -> str:
    return accounts.sign_in(identity=VerifiedIdentity(email=email, subject=email))


def answer(client: TestClient, method: str, path: str, token: str | None = None) -> tuple:
    cookies = {SESSION_COOKIE: token} if token else {}
    response = client.request(method, path, cookies=cookies)
    headers = {k: v for k, v in response.headers.items() if k not in ("date",)}
    return response.status_code, response.content, headers


@pytest.mark.parametrize("who", ["signed-out", "normal-user"])
def test_every_admin_address_answers_as_a_missing_page(site: TestClient, who: str) -> None:
    token = sign_in("someone@example.com") if who == "normal-user" else None
    missing = answer(site, "GET", "/no-such-page", token)
    assert missing[0] == 404 and b"not-found page" in missing[1]
    for path in (
        "/admin",
        "/admin/",
        "/admin/users/",
        "/admin/users/42/",
        "/admin/users/index.html",
        "/admin.html",
        "/admin/export/users.csv",
        "/admin/anything/at/all?x=1",
    ):
        assert answer(site, "GET", path, token) == missing, path
    assert answer(site, "POST", "/admin/export/users.csv", token) == answer(
        site, "POST", "/no-such-page", token
    )


def test_staff_get_the_console(site: TestClient) -> None:
    token = sign_in("boss@example.com")
    status, body, _ = answer(site, "GET", "/admin/users/", token)
    assert (status, body) == (200, b"<html>users, prerendered</html>")
    assert answer(site, "GET", "/admin.html", token)[1] == b"<html>the console, prerendered</html>"


def test_the_route_manifest_lists_the_console_for_staff_only(site: TestClient) -> None:
    path = f"/assets/{MANIFEST_NAME}"
    for token in (None, sign_in("someone@example.com")):
        status, body, headers = answer(site, "GET", path, token)
        assert status == 200
        routes = json.loads(body.decode().split("=", 1)[1].rstrip(";"))["routes"]
        assert sorted(r["path"] for r in routes.values()) == ["", "*", "administrators", "credits"]
        assert b"admin/" not in body and b"/assets/a.js" not in body
        assert "etag" not in headers and "last-modified" not in headers
        assert (headers["cache-control"], headers["vary"]) == ("private, no-cache", "Cookie")
    status, body, headers = answer(site, "GET", path, sign_in("boss@example.com"))
    assert body == MANIFEST and headers["cache-control"] == "private, no-cache"


def test_the_manifest_is_rewritten_when_the_server_sends_files_by_path(
    site: TestClient, tmp_path: Path
) -> None:
    """Granian (what `reflex run --env prod` serves with) offers ASGI's pathsend: a static
    file answered by path alone would reach the browser empty after the rewrite."""
    static = tmp_path / "static"
    gate = admin_gate()(StaticFiles(directory=static, html=True))
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "method": "GET",
        "path": f"/assets/{MANIFEST_NAME}",
        "raw_path": f"/assets/{MANIFEST_NAME}".encode(),
        "query_string": b"",
        "headers": [(b"accept-encoding", b"gzip")],
        "extensions": {"http.response.pathsend": {}},
    }
    asyncio.run(gate(scope, receive, send))

    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert body.startswith(b"window.__reactRouterManifest=") and b"admin/users" not in body
    assert (b"content-length", str(len(body)).encode()) in sent[0]["headers"]


def test_an_unreadable_manifest_raises_so_the_gate_serves_it_as_built() -> None:
    assert without_admin_routes(MANIFEST).count(b"admin/users") == 0
    with pytest.raises(ValueError):
        without_admin_routes(b"window.__reactRouterManifest=not json;")


def export(site: TestClient, table: str, token: str, **fields: str) -> tuple:
    cookies = {SESSION_COOKIE: token}
    response = site.post(f"/admin/export/{table}.csv", data=fields, cookies=cookies)
    return response.status_code, response.headers, response.text


def test_staff_export_a_table_with_the_forms_token_and_it_is_audited(site: TestClient) -> None:
    token = sign_in("boss@example.com")
    sign_in("=cmd@example.com")  # a cell a spreadsheet would run as a formula
    csrf = accounts.csrf_token(purpose=ADMIN_EXPORT, binding=hash_token(token))

    status, headers, body = export(site, "users", token, csrf_token=csrf, sort="email_asc")

    assert status == 200
    assert headers["content-type"].startswith("text/csv")
    assert headers["content-disposition"].startswith('attachment; filename="adremix-users-')
    assert headers["cache-control"] == "no-store"
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:3] == ["id", "email", "name"]
    assert sorted(row[1] for row in rows[1:]) == ["'=cmd@example.com", "boss@example.com"]
    with session_scope() as session:
        entry = session.exec(select(AuditEntry)).one()
    assert (entry.action, entry.target_id, entry.after) == (
        "export",
        "users",
        '{"filters":{"sort":"email_asc"}}',
    )


def test_an_export_without_the_forms_token_is_refused(site: TestClient) -> None:
    token = sign_in("boss@example.com")
    other = accounts.csrf_token(
        purpose=ADMIN_EXPORT, binding=hash_token(sign_in("boss@example.com"))
    )
    assert export(site, "users", token)[0] == 403
    assert export(site, "users", token, csrf_token=other)[0] == 403  # another session's
    assert (
        export(
            site,
            "nothing",
            token,
            csrf_token=accounts.csrf_token(purpose=ADMIN_EXPORT, binding=hash_token(token)),
        )[0]
        == 404
    )
    with session_scope() as session:
        assert session.exec(select(AuditEntry)).all() == []
