"""A small OpenID Connect provider: discovery, JWKS, authorize (auto-consent), token and
userinfo.

It behaves like Google where AdRemix relies on it: codes are single-use, PKCE (S256) and
the client secret are checked, ID tokens are RS256-signed JWTs. Tests steer it through
`identity` (who signs in) and `id_token_overrides` (to forge bad tokens).

With `claims_in_id_token = False` it behaves like panva's certified `oidc-provider` with
its default settings: when an access token is issued, the ID token carries only `sub`
(and the protocol claims) and the profile and e-mail claims are served from the userinfo
endpoint, to a Bearer access token (RFC 6750 errors otherwise).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.fakes.http_server import LoopbackServer

CLIENT_ID = "adremix-test-client.apps.example"
CLIENT_SECRET = "adremix-test-secret"
# The claims the `email` and `profile` scopes release (OIDC Core 5.4).
SCOPED_CLAIMS = ("email", "email_verified", "name", "picture")


def default_identity() -> dict[str, Any]:
    return {
        "sub": "108000000000000000001",
        "email": "maya@example.com",
        "email_verified": True,
        "name": "Maya Rao",
        "picture": "",
    }


@dataclass
class _PendingCode:
    client_id: str
    redirect_uri: str
    nonce: str
    code_challenge: str
    identity: dict[str, Any]


@dataclass
class FakeOidcProvider:
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    identity: dict[str, Any] = field(default_factory=default_identity)
    id_token_overrides: dict[str, Any] = field(default_factory=dict)
    claims_in_id_token: bool = True
    userinfo_overrides: dict[str, Any] = field(default_factory=dict)
    userinfo_status: int = 200
    token_requests: int = 0
    userinfo_requests: int = 0

    def __post_init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "use": "sig"})
        self._codes: dict[str, _PendingCode] = {}
        self._used_codes: set[str] = set()
        self._access_tokens: dict[str, dict[str, Any]] = {}
        self.issued_id_token_claims: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = LoopbackServer(_Handler)
        self._server._server.provider = self  # type: ignore[attr-defined]

    @property
    def issuer(self) -> str:
        return self._server.url

    def start(self) -> FakeOidcProvider:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def reset(self) -> None:
        self.identity = default_identity()
        self.id_token_overrides = {}
        self.claims_in_id_token = True
        self.userinfo_overrides = {}
        self.userinfo_status = 200
        self.userinfo_requests = 0
        self.issued_id_token_claims = []

    # --- endpoints -------------------------------------------------------------------
    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", *SCOPED_CLAIMS],
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            return 400, {}, b"unknown client or response type"
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return 400, {}, b"PKCE S256 required"
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _PendingCode(
                client_id=query["client_id"],
                redirect_uri=query.get("redirect_uri", ""),
                nonce=query.get("nonce", ""),
                code_challenge=query["code_challenge"],
                identity=dict(self.identity),
            )
        location = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})
        return 302, {"Location": location}, b""

    def token(self, form: dict[str, str], auth_header: str) -> tuple[int, dict[str, Any]]:
        self.token_requests += 1
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if auth_header.startswith("Basic "):
            decoded = base64.b64decode(auth_header[6:]).decode()
            client_id, _, client_secret = decoded.partition(":")
        if client_id != self.client_id or client_secret != self.client_secret:
            return 401, {"error": "invalid_client"}
        code = form.get("code", "")
        with self._lock:
            pending = self._codes.pop(code, None)
            replayed = code in self._used_codes
            self._used_codes.add(code)
        if pending is None or replayed:
            return 400, {"error": "invalid_grant", "error_description": "Code already used"}
        if form.get("redirect_uri") != pending.redirect_uri:
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri mismatch"}
        verifier = form.get("code_verifier", "")
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        if challenge != pending.code_challenge:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        access_token = secrets.token_urlsafe(24)
        now = int(time.time())
        released = dict(pending.identity)
        if not self.claims_in_id_token:
            released = {k: v for k, v in released.items() if k not in SCOPED_CLAIMS}
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 3600,
            "nonce": pending.nonce,
            "at_hash": _at_hash(access_token),
            **released,
            **self.id_token_overrides,
        }
        with self._lock:
            self._access_tokens[access_token] = dict(pending.identity)
            self.issued_id_token_claims.append(claims)
        id_token = jwt.encode({"alg": "RS256", "kid": "test-key-1"}, claims, self.key)
        return 200, {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": "openid email profile",
            "id_token": id_token,
        }

    def userinfo(self, authorization: str) -> tuple[int, dict[str, str], dict[str, Any]]:
        """OIDC Core 5.3: the claims of the access token's user, to a Bearer token."""
        self.userinfo_requests += 1
        token = authorization[7:] if authorization.startswith("Bearer ") else ""
        with self._lock:
            identity = self._access_tokens.get(token)
        if identity is None:
            challenge = 'Bearer error="invalid_token", error_description="invalid token"'
            return 401, {"WWW-Authenticate": challenge}, {"error": "invalid_token"}
        if self.userinfo_status != 200:
            return self.userinfo_status, {}, {"error": "server_error"}
        return 200, {}, {**identity, **self.userinfo_overrides}


def _at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    @property
    def provider(self) -> FakeOidcProvider:
        return self.server.provider  # type: ignore[attr-defined]

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        self._send(status, json.dumps(payload).encode(), {"Content-Type": "application/json"})

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/.well-known/openid-configuration":
            self._json(200, self.provider.discovery())
        elif parts.path == "/jwks":
            self._json(200, self.provider.jwks())
        elif parts.path == "/authorize":
            status, headers, body = self.provider.authorize(query)
            self._send(status, body, headers)
        elif parts.path == "/userinfo":
            self._userinfo()
        else:
            self._send(404, b"not found")

    def _userinfo(self) -> None:
        status, headers, payload = self.provider.userinfo(self.headers.get("Authorization", ""))
        body = json.dumps(payload).encode()
        self._send(status, body, {"Content-Type": "application/json", **headers})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if urlsplit(self.path).path == "/userinfo":  # OIDC allows POST too
            self._userinfo()
        elif urlsplit(self.path).path == "/token":
            status, payload = self.provider.token(form, self.headers.get("Authorization", ""))
            self._json(status, payload)
        else:
            self._send(404, b"not found")
