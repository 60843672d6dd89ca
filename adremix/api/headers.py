"""Security and caching headers on every HTTP response: pages, assets, API and files.

One ASGI wrapper around the whole app (Reflex's pages and compiled assets, its /_upload
and /ping, and our routes), installed last through `api_transformer`, so no response
leaves without them. Websocket traffic passes through untouched.

The Content-Security-Policy allows the compiled Reflex app as it is: its own scripts, the
inline scripts the build puts in each page by their SHA-256 (read from the build
directory), and `'unsafe-eval'`, which Reflex's `call_script`/`call_function` events and
server-sent toasts need (they are `eval`ed in the browser). Inline styles are allowed: the
theme's CSS-in-JS injects them.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adremix.settings import Settings

# Vite names every compiled asset `<name>-<8-character content hash>.<ext>` (and the
# precompressed sidecars add .gz/.br/.zst): a new build means a new name, so a browser may
# keep them for ever.
HASHED_ASSET = re.compile(r"^/assets/[^/]+-[A-Za-z0-9_-]{8}\.[a-z0-9]+(?:\.(?:gz|br|zst))?$")
IMMUTABLE = "public, max-age=31536000, immutable"
NO_STORE = "no-store"
# The route manifest differs by viewer (staff get the admin console's routes,
# api/admin_gate.py): never shared, always asked for again.
PER_VIEWER = "private, no-cache"
ROUTE_MANIFEST = re.compile(r"^/assets/manifest-[A-Za-z0-9_-]+\.js$")
# Receipts, exports and the Account page carry personal data: never kept by a cache.
NO_STORE_PREFIXES = (
    "/receipts/",
    "/api/account/",
    "/api/credits/",
    "/api/billing/",
    "/account",
)
HSTS = "max-age=63072000; includeSubDomains"
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), hid=(), magnetometer=(), microphone=(), midi=(), payment={payment}, "
    "publickey-credentials-get=(), serial=(), usb=(), xr-spatial-tracking=(), "
    "browsing-topics=()"
)
# What Razorpay Checkout loads (Razorpay's own CSP allowlist for its checkout.js).
RAZORPAY_SOURCES = {
    "script-src": ["https://checkout.razorpay.com", "https://cdn.razorpay.com"],
    "frame-src": ["https://api.razorpay.com", "https://checkout.razorpay.com"],
    "connect-src": [
        "https://api.razorpay.com",
        "https://lumberjack.razorpay.com",
        "https://lumberjack-metrics.razorpay.com",
    ],
    "img-src": ["https://cdn.razorpay.com"],
}
INLINE_SCRIPT = re.compile(
    rb"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE
)


def is_hashed_asset(path: str) -> bool:
    """A compiled asset whose file name carries its content hash (safe to cache for ever)."""
    return bool(HASHED_ASSET.match(path))


def cache_control_for(path: str, status: int) -> str | None:
    """The Cache-Control our policy sets for a path, or None to leave the app's own."""
    if path.startswith(NO_STORE_PREFIXES):
        return NO_STORE
    if ROUTE_MANIFEST.match(path):
        return PER_VIEWER
    if status == 200 and is_hashed_asset(path):
        return IMMUTABLE
    return None


def inline_script_hashes(html_files: Iterable[Path]) -> list[str]:
    """CSP hash sources for every inline <script> in the compiled pages."""
    hashes: set[str] = set()
    for path in html_files:
        for body in INLINE_SCRIPT.findall(path.read_bytes()):
            digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
            hashes.add(f"'sha256-{digest}'")
    return sorted(hashes)


def content_security_policy(settings: Settings, script_hashes: Iterable[str] = ()) -> str:
    """The policy for our pages; `script_hashes` are the build's inline scripts."""
    websocket = _websocket_origin(settings.effective_public_url)
    directives: dict[str, list[str]] = {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'unsafe-eval'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        # Google profile pictures on the avatar; image previews are data:/blob: URLs.
        "img-src": ["'self'", "data:", "blob:", "https://*.googleusercontent.com"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", *([websocket] if websocket else [])],
        "frame-src": ["'none'"],
        "worker-src": ["'self'", "blob:"],
        "manifest-src": ["'self'"],
        "media-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    if settings.razorpay_configured:
        directives["frame-src"] = []
        for name, sources in RAZORPAY_SOURCES.items():
            directives[name] = [*directives[name], *sources]
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def _websocket_origin(public_url: str) -> str:
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    return ("wss" if parts.scheme == "https" else "ws") + "://" + parts.netloc


@dataclass
class _BuildScripts:
    """The inline-script hashes of the compiled pages, re-read when the build changes."""

    directory: Path | None
    _stamp: float = -1.0
    _hashes: tuple[str, ...] = ()

    def hashes(self) -> tuple[str, ...]:
        if self.directory is None:
            return ()
        try:
            stamp = self.directory.stat().st_mtime
        except OSError:
            return ()
        if stamp != self._stamp:
            self._hashes = tuple(inline_script_hashes(self.directory.rglob("*.html")))
            self._stamp = stamp
        return self._hashes


def security_headers(
    settings: Settings, *, static_dir: Path | None = None
) -> Callable[[ASGIApp], ASGIApp]:
    """An `api_transformer` that wraps the whole app in the header policy."""
    build = _BuildScripts(static_dir)
    payment = (
        '(self "https://api.razorpay.com" "https://checkout.razorpay.com")'
        if settings.razorpay_configured
        else "()"
    )
    fixed = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin-allow-popups",
        "Permissions-Policy": PERMISSIONS_POLICY.format(payment=payment),
    }
    if settings.is_production:
        fixed["Strict-Transport-Security"] = HSTS
    policies: dict[tuple[str, ...], str] = {}

    def policy() -> str:
        hashes = build.hashes()
        if hashes not in policies:
            policies.clear()
            policies[hashes] = content_security_policy(settings, hashes)
        return policies[hashes]

    def wrap(app: ASGIApp) -> ASGIApp:
        async def with_headers(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            path = scope.get("path", "")

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = MutableHeaders(scope=message)
                    for name, value in fixed.items():
                        headers[name] = value
                    # A policy governs documents (and workers); on the ~25 scripts and
                    # styles a page loads it would only add ~2 KB of header to each.
                    if not is_hashed_asset(path):
                        headers["Content-Security-Policy"] = policy()
                    cache_control = cache_control_for(path, message["status"])
                    if cache_control:
                        headers["Cache-Control"] = cache_control
                    if cache_control == PER_VIEWER:
                        headers["Vary"] = "Cookie"
                await send(message)

            await app(scope, receive, send_with_headers)

        return with_headers

    return wrap
