"""Who is signed in. Every protected page loads through `SessionState.require_user`, and
every area state learns the user's id from `current_user_id` (one place, one check)."""

from __future__ import annotations

from urllib.parse import quote

import reflex as rx

from adremix.blocking import call
from adremix.enums import CreditStatus
from adremix.services.accounts import (
    SIGN_IN_ERRORS,
    SignedInUser,
    safe_next_path,
    signed_in_user,
    token_from_cookie_header,
)
from adremix.settings import get_settings


class SessionState(rx.State):
    """The signed-in user's public profile; the session token itself never reaches the browser."""

    signed_in: bool = False
    user_name: str = ""
    user_email: str = ""
    avatar_url: str = ""
    credit_balance: int = 0
    is_admin: bool = False
    low_credit_threshold: int = 0  # the user's preference, set on every load

    def _session_token(self) -> str | None:
        # The session cookie is HttpOnly: the browser's JS cannot read it, but the
        # websocket handshake carries it, and Reflex keeps it server-side only.
        return token_from_cookie_header(self.router.headers.cookie)

    async def _load_user(self) -> SignedInUser | None:
        user = await call(signed_in_user, token=self._session_token())
        self.signed_in = user is not None
        self.user_name = user.name if user else ""
        self.user_email = user.email if user else ""
        self.avatar_url = user.avatar_url if user else ""
        self.credit_balance = user.credit_balance if user else 0
        self.is_admin = user.is_admin if user else False
        self.low_credit_threshold = user.low_credit_threshold if user else 0
        return user

    @rx.event
    async def require_user(self) -> rx.event.EventSpec | None:
        """on_load of every page but login: send signed-out visitors to sign in."""
        if await self._load_user() is None:
            return rx.redirect("/login?next=" + quote(self._current_path(), safe="/"), replace=True)
        return None

    @rx.event
    async def refresh_balance(self) -> None:
        await self._load_user()

    def _current_path(self) -> str:
        url = self.router.url
        path = url.path or "/"
        return path + ("?" + url.query if url.query else "")

    @rx.var
    def credit_status(self) -> str:
        """Empty, low (at or below the user's threshold) or ok: what the banner says."""
        if self.credit_balance <= 0:
            return CreditStatus.EMPTY
        if self.credit_balance <= self.low_credit_threshold:
            return CreditStatus.LOW
        return CreditStatus.OK

    @rx.var
    def initials(self) -> str:
        parts = (self.user_name or self.user_email).replace("@", " ").split()
        return "".join(part[0] for part in parts[:2]).upper() or "?"


async def current_user_id(state: rx.State) -> int | None:
    """The signed-in user's id for any area's event, checked against the session store on
    every call (a revoked or expired session stops working at once). None when signed out.

    In a background event, call it inside `async with self`.
    """
    session = await state.get_state(SessionState)
    user = await session._load_user()
    return user.id if user else None


class LoginState(rx.State):
    """What the login page needs: which sign-ins exist, where to return, and any error."""

    dev_sign_in_enabled: bool = False
    google_enabled: bool = False
    error_message: str = ""
    next_path: str = "/"

    @rx.event
    async def load(self) -> rx.event.EventSpec | None:
        settings = get_settings()
        self.dev_sign_in_enabled = settings.dev_sign_in_enabled
        self.google_enabled = settings.google_configured
        params = self.router.url.query_parameters
        self.error_message = SIGN_IN_ERRORS.get(params.get("error", ""), "")
        self.next_path = safe_next_path(params.get("next"))
        token = token_from_cookie_header(self.router.headers.cookie)
        if await call(signed_in_user, token=token) is not None:
            return rx.redirect(self.next_path, replace=True)
        return None

    @rx.var
    def google_href(self) -> str:
        return "/auth/google/login?next=" + quote(self.next_path, safe="/")
