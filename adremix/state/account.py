"""Account: profile, preferences, saved templates, sessions, export and deletion."""

from __future__ import annotations

import asyncio
import dataclasses

import reflex as rx

from adremix.db import session_scope
from adremix.services import account, library
from adremix.services.auth_sessions import revoke_all_sessions, token_from_cookie_header
from adremix.services.storage import LocalStorage
from adremix.settings import get_settings
from adremix.state.session import SessionState


@dataclasses.dataclass
class SessionRow:
    id: int
    started: str
    device: str
    current: bool


@dataclasses.dataclass
class TemplateRow:
    id: int
    name: str


class AccountState(rx.State):
    sessions: list[SessionRow] = []
    templates: list[TemplateRow] = []
    default_template: str = "minimal"
    default_placement: str = "square"
    default_quality: str = "medium"
    default_variations: str = "1"
    low_credit_threshold: str = "2"
    saving: bool = False
    delete_confirmation: str = ""
    deleting: bool = False

    async def _user_id(self) -> int | None:
        return (await self.get_state(SessionState)).current_user_id()

    @rx.event
    async def load(self) -> None:
        user_id = await self._user_id()
        if user_id is None:
            return
        token = token_from_cookie_header(self.router.headers.cookie)

        def fetch() -> tuple:
            with session_scope() as session:
                return (
                    account.live_sessions(session=session, user_id=user_id, current_token=token),
                    library.list_templates(session=session, user_id=user_id),
                    library.get_preferences(session=session, user_id=user_id),
                )

        sessions, templates, prefs = await asyncio.to_thread(fetch)
        self.sessions = [
            SessionRow(
                id=s.id,
                started=s.created_at.strftime("%d %b %Y, %H:%M UTC"),
                device=_device(s.user_agent),
                current=s.current,
            )
            for s in sessions
        ]
        self.templates = [TemplateRow(id=t.id or 0, name=t.name) for t in templates]
        self.default_template = prefs["default_template"]
        self.default_placement = prefs["default_placement"]
        self.default_quality = prefs["default_quality"]
        self.default_variations = str(prefs["default_variations"])
        self.low_credit_threshold = str(prefs["low_credit_threshold"])

    @rx.event
    async def save_preferences(self, form: dict):  # type: ignore[no-untyped-def]
        user_id = await self._user_id()
        if user_id is None:
            return None
        try:
            values = {
                "default_template": form.get("default_template", self.default_template),
                "default_placement": form.get("default_placement", self.default_placement),
                "default_quality": form.get("default_quality", self.default_quality),
                "default_variations": int(form.get("default_variations") or 1),
                "low_credit_threshold": int(form.get("low_credit_threshold") or 0),
            }
        except ValueError:
            return rx.toast.error("Use whole numbers for variations and the warning threshold.")

        def save() -> dict:
            with session_scope() as session:
                return library.save_preferences(session=session, user_id=user_id, values=values)

        try:
            prefs = await asyncio.to_thread(save)
        except library.LibraryError as exc:
            return rx.toast.error(str(exc))
        self.default_template = prefs["default_template"]
        self.default_placement = prefs["default_placement"]
        self.default_quality = prefs["default_quality"]
        self.default_variations = str(prefs["default_variations"])
        self.low_credit_threshold = str(prefs["low_credit_threshold"])
        return [SessionState.refresh_balance, rx.toast.success("Preferences saved.")]

    @rx.event
    def set_default_template(self, value: str) -> None:
        self.default_template = value

    @rx.event
    def set_default_placement(self, value: str) -> None:
        self.default_placement = value

    @rx.event
    def set_default_quality(self, value: str) -> None:
        self.default_quality = value

    @rx.event
    def set_default_variations(self, value: str) -> None:
        self.default_variations = value

    @rx.event
    async def rename_template(self, template_id: int, form: dict):  # type: ignore[no-untyped-def]
        name = str(form.get("name") or "")
        user_id = await self._user_id()
        if user_id is None:
            return None
        try:
            with session_scope() as session:
                library.rename_template(
                    session=session, user_id=user_id, template_id=template_id, name=name
                )
        except library.LibraryError as exc:
            return rx.toast.error(str(exc))
        await self.load()
        return rx.toast.success("Template renamed.")

    @rx.event
    async def delete_template(self, template_id: int):  # type: ignore[no-untyped-def]
        user_id = await self._user_id()
        if user_id is None:
            return None
        try:
            with session_scope() as session:
                library.delete_template(session=session, user_id=user_id, template_id=template_id)
        except library.LibraryError as exc:
            return rx.toast.error(str(exc))
        await self.load()
        return rx.toast.success("Template deleted.")

    @rx.event
    async def sign_out_everywhere(self):  # type: ignore[no-untyped-def]
        user_id = await self._user_id()
        if user_id is None:
            return None
        with session_scope() as session:
            revoke_all_sessions(session=session, user_id=user_id)
        return rx.redirect("/login", replace=True)

    @rx.event
    def set_delete_confirmation(self, value: str) -> None:
        self.delete_confirmation = value

    @rx.event
    async def delete_account(self):  # type: ignore[no-untyped-def]
        user_id = await self._user_id()
        if user_id is None:
            return None
        storage = LocalStorage(get_settings().storage_dir)
        confirmation = self.delete_confirmation

        def remove() -> None:
            with session_scope() as session:
                account.delete_account(
                    session=session, user_id=user_id, confirm_email=confirmation, storage=storage
                )

        try:
            await asyncio.to_thread(remove)
        except account.AccountError as exc:
            return rx.toast.error(str(exc))
        self.delete_confirmation = ""
        return rx.redirect("/login?error=account_deleted", replace=True)


def _device(user_agent: str) -> str:
    agent = user_agent.lower()
    browser = next(
        (
            name
            for key, name in (
                ("edg/", "Edge"),
                ("chrome", "Chrome"),
                ("firefox", "Firefox"),
                ("safari", "Safari"),
            )
            if key in agent
        ),
        "Browser",
    )
    system = next(
        (
            name
            for key, name in (
                ("android", "Android"),
                ("iphone", "iPhone"),
                ("mac os", "macOS"),
                ("windows", "Windows"),
                ("linux", "Linux"),
            )
            if key in agent
        ),
        "",
    )
    return f"{browser} on {system}" if system else browser
