"""CSRF tokens for the forms that post to our HTTP routes: sign-out, the developer sign-in
and the admin console's exports. A token is an HMAC, under the app's secret, of what it
protects and of something only the user's own browser sends: the session (its token's
hash) for sign-out and exports, a random SameSite=Strict cookie for sign-in. A cross-site
post carries neither the right cookie nor a token that matches it."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from adremix.settings import get_settings

SIGN_IN_CSRF_COOKIE = "adremix_csrf"
SIGN_OUT = "sign-out"
SIGN_IN = "sign-in"
ADMIN_EXPORT = "admin-export"  # the admin console's CSV export forms, bound to the session


def new_csrf_nonce() -> str:
    """The random value of a signed-out browser's CSRF cookie."""
    return secrets.token_urlsafe(24)


def csrf_token(*, purpose: str, binding: str | None) -> str:
    """The token a form of `purpose` must carry for `binding`; empty without a binding."""
    if not binding:
        return ""
    key = get_settings().signing_key.encode()
    return hmac.new(key, f"{purpose}|{binding}".encode(), hashlib.sha256).hexdigest()


def csrf_token_is_valid(*, token: str | None, purpose: str, binding: str | None) -> bool:
    expected = csrf_token(purpose=purpose, binding=binding)
    return bool(expected and token) and hmac.compare_digest(expected, str(token))
