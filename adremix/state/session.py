"""Who is signed in. Every protected page loads through `SessionState.require_user`."""

from __future__ import annotations

from urllib.parse import quote

import reflex as rx

from adremix.db import session_scope
from adremix.models import User
from adremix.services.auth_sessions import token_from_cookie_header, user_for_token
from adremix.services.navigation import safe_next_path
from adremix.services.oidc import SIGN_IN_ERRORS
from adremix.settings import get_settings


class SessionState(rx.State):
    """The signed-in user's public profile; the session token itself never reaches the browser."""

    signed_in: bool = False
    user_name: str = ""
    user_email: str = ""
    avatar_url: str = ""
    credit_balance: int = 0
    is_admin: bool = False
    low_credit_threshold: int = 2

    def _session_token(self) -> str | None:
        # The session cookie is HttpOnly: the browser's JS cannot read it, but the
        # websocket handshake carries it, and Reflex keeps it server-side only.
        return token_from_cookie_header(self.router.headers.cookie)

    def _load_user(self) -> User | None:
        with session_scope() as db:
            return user_for_token(session=db, token=self._session_token())

    def _show(self, user: User | None) -> None:
        self.signed_in = user is not None
        self.user_name = user.name if user else ""
        self.user_email = user.email if user else ""
        self.avatar_url = user.avatar_url if user else ""
        self.credit_balance = user.credit_balance if user else 0
        self.is_admin = user.is_admin if user else False
        default_threshold = get_settings().low_credit_threshold
        prefs = user.preferences if user else {}
        self.low_credit_threshold = int(prefs.get("low_credit_threshold", default_threshold))

    def current_user_id(self) -> int | None:
        """The signed-in user's id, checked against the session store on every call."""
        user = self._load_user()
        self._show(user)
        return user.id if user else None

    @rx.event
    def require_user(self) -> rx.event.EventSpec | None:
        """on_load of every page but login: send signed-out visitors to sign in."""
        user = self._load_user()
        self._show(user)
        if user is None:
            return rx.redirect("/login?next=" + quote(self._current_path(), safe="/"), replace=True)
        return None

    @rx.event
    def refresh_balance(self) -> None:
        self._show(self._load_user())

    def _current_path(self) -> str:
        url = self.router.url
        path = url.path or "/"
        return path + ("?" + url.query if url.query else "")

    @rx.var
    def credit_status(self) -> str:
        """ "empty", "low" (at or below the user's threshold) or "ok"."""
        if self.credit_balance <= 0:
            return "empty"
        return "low" if self.credit_balance <= self.low_credit_threshold else "ok"

    @rx.var
    def initials(self) -> str:
        parts = (self.user_name or self.user_email).replace("@", " ").split()
        return "".join(part[0] for part in parts[:2]).upper() or "?"


class LoginState(rx.State):
    """What the login page needs: which sign-ins exist, where to return, and any error."""

    dev_sign_in_enabled: bool = False
    google_enabled: bool = False
    error_message: str = ""
    next_path: str = "/"
    dev_email: str = ""

    @rx.event
    def load(self) -> rx.event.EventSpec | None:
        settings = get_settings()
        self.dev_sign_in_enabled = settings.dev_sign_in_enabled
        self.google_enabled = settings.google_configured
        params = self.router.url.query_parameters
        self.error_message = SIGN_IN_ERRORS.get(params.get("error", ""), "")
        self.next_path = safe_next_path(params.get("next"))
        with session_scope() as db:
            if user_for_token(
                session=db,
                token=token_from_cookie_header(self.router.headers.cookie),
            ):
                return rx.redirect(self.next_path, replace=True)
        return None

    @rx.var
    def google_href(self) -> str:
        return "/auth/google/login?next=" + quote(self.next_path, safe="/")
