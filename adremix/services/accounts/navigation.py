"""Where a signed-in user may be sent back to."""

from __future__ import annotations

from urllib.parse import urlsplit

from adremix.urls import DASHBOARD, canonical_path

DEFAULT_AFTER_SIGN_IN = DASHBOARD


def safe_next_path(candidate: str | None) -> str:
    """Accept only same-site absolute paths, so `next` cannot become an open redirect.

    A page comes back at its canonical address, so the browser lands without a redirect.
    """
    if not candidate or not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
        return DEFAULT_AFTER_SIGN_IN
    if any(ch in candidate for ch in "\\\r\n\t") or any(ord(ch) < 32 for ch in candidate):
        return DEFAULT_AFTER_SIGN_IN
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return DEFAULT_AFTER_SIGN_IN
    if parts.path.startswith(("/login", "/auth/")):
        return DEFAULT_AFTER_SIGN_IN
    return canonical_path(candidate)
