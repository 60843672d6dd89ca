"""Who is signed in. Every protected page loads through `SessionState.require_user`, and
every area state learns the user's id from `current_user_id` (one place, one check).

The tab's state identifies its session by the token's hash only (api/socket_session.py
puts it in the handshake in place of the cookie). When the signed-in user of a tab
changes (sign-out, then someone else signs in in the same tab), every user-bound state
is reset before anything of the new user is loaded, so nothing of the previous user shows.
"""

from __future__ import annotations

from urllib.parse import quote

import reflex as rx

from adremix import urls
from adremix.blocking import call
from adremix.enums import CreditStatus
from adremix.services.accounts import (
    SIGN_IN,
    SIGN_IN_CSRF_COOKIE,
    SIGN_IN_ERRORS,
    SIGN_OUT,
    SignedInUser,
    csrf_token,
    new_csrf_nonce,
    safe_next_path,
    session_hash_from_cookie_header,
    signed_in_user,
)
from adremix.settings import get_settings
from adremix.urls import LOGIN


class SessionState(rx.State):
    """The signed-in user's public profile; the session token itself never reaches the browser."""

    signed_in: bool = False
    user_name: str = ""
    user_email: str = ""
    avatar_url: str = ""
    credit_balance: int = 0
    # The admin console's address and the staff role, for staff only: set from the server,
    # so the app's compiled pages carry no trace of the console for anyone else.
    staff_role: str = ""
    console_href: str = ""
    console_label: str = ""
    low_credit_threshold: int = 0  # the user's preference, set on every load
    # The sign-out form's CSRF token, bound to this session.
    sign_out_token: str = ""
    # Whose data this tab's states hold (backend only): a change resets them all.
    _user_id: int = 0

    def _session_hash(self) -> str | None:
        return session_hash(self)

    async def _load_user(self) -> SignedInUser | None:
        token_hash = self._session_hash()
        user = await call(signed_in_user, token_hash=token_hash)
        if (user.id if user else 0) != self._user_id:
            await self._forget_previous_user()
            self._user_id = user.id if user else 0
        profile = {
            "sign_out_token": csrf_token(purpose=SIGN_OUT, binding=token_hash) if user else "",
            "signed_in": user is not None,
            "user_name": user.name if user else "",
            "user_email": user.email if user else "",
            "avatar_url": user.avatar_url if user else "",
            "credit_balance": user.credit_balance if user else 0,
            "low_credit_threshold": user.low_credit_threshold if user else 0,
        }
        # Every event of every page checks the user through here. Reflex sends whatever
        # is assigned, changed or not, and each copy re-renders everything on the page
        # that shows the session: only what changed is assigned.
        for name, value in profile.items():
            if getattr(self, name) != value:
                setattr(self, name, value)
        role = user.role if user else ""
        if self.staff_role != role:
            self.staff_role = role
            self.console_href = urls.ADMIN if role else ""
            self.console_label = "Admin console" if role else ""
        return user

    @rx.event
    async def require_user(self) -> rx.event.EventSpec | None:
        """on_load of every page but login: send signed-out visitors to sign in."""
        if await self._load_user() is None:
            return rx.redirect(
                LOGIN + "?next=" + quote(self._current_path(), safe="/"), replace=True
            )
        return None

    @rx.event
    async def refresh_balance(self) -> None:
        await self._load_user()

    async def _forget_previous_user(self) -> None:
        """Reset every state that holds a user's data to its defaults."""
        for state_class in _user_bound_states(rx.State):
            substate = await self.get_state(state_class)
            substate.reset()

    def _current_path(self) -> str:
        url = self.router.url
        path = url.path or "/"
        return path + ("?" + url.query if url.query else "")

    @rx.var
    def credit_status(self) -> str:
        """Empty, low (at or below the user's threshold) or ok: what the banner says."""
        if not self.signed_in:
            return CreditStatus.OK  # nothing to warn about before the balance is known
        if self.credit_balance <= 0:
            return CreditStatus.EMPTY
        if self.credit_balance <= self.low_credit_threshold:
            return CreditStatus.LOW
        return CreditStatus.OK

    @rx.var
    def initials(self) -> str:
        parts = (self.user_name or self.user_email).replace("@", " ").split()
        return "".join(part[0] for part in parts[:2]).upper() or "?"


def _user_bound_states(parent: type[rx.BaseState]) -> list[type[rx.BaseState]]:
    """Our area states (and their substates): all but who-is-signed-in and the login page."""
    found = []
    for state_class in parent.get_substates():
        if state_class.__module__.startswith("adremix.state.") and state_class not in (
            SessionState,
            LoginState,
        ):
            found.append(state_class)
        found.extend(_user_bound_states(state_class))
    return found


def session_hash(state: rx.State) -> str | None:
    """The hash of the tab's session token, from the websocket handshake's cookies."""
    return session_hash_from_cookie_header(state.router.headers.cookie)


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
    # Double-submit CSRF for the developer sign-in: a random SameSite=Strict cookie, and
    # the form carries its HMAC (services/accounts/csrf.py).
    csrf_nonce: str = rx.Cookie(
        "",
        name=SIGN_IN_CSRF_COOKIE,
        same_site="strict",
        max_age=12 * 3600,
        secure=get_settings().is_production,
    )
    sign_in_token: str = ""

    @rx.event
    async def load(self) -> rx.event.EventSpec | None:
        settings = get_settings()
        self.dev_sign_in_enabled = settings.dev_sign_in_enabled
        self.google_enabled = settings.google_configured
        params = self.router.url.query_parameters
        self.error_message = SIGN_IN_ERRORS.get(params.get("error", ""), "")
        self.next_path = safe_next_path(params.get("next"))
        if settings.dev_sign_in_enabled:
            self.csrf_nonce = self.csrf_nonce or new_csrf_nonce()
            self.sign_in_token = csrf_token(purpose=SIGN_IN, binding=self.csrf_nonce)
        if await call(signed_in_user, token_hash=session_hash(self)) is not None:
            return rx.redirect(self.next_path, replace=True)
        return None

    @rx.var
    def google_href(self) -> str:
        return "/auth/google/login?next=" + quote(self.next_path, safe="/")
