"""Account: profile, preferences, saved templates, sessions, export and deletion."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from adremix.blocking import call
from adremix.services import accounts, library
from adremix.services.generation import DEFAULT_OPTIONS
from adremix.state.errors import error_toast
from adremix.state.session import SessionState, current_user_id, session_hash
from adremix.urls import LOGIN


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
    default_template: str = DEFAULT_OPTIONS.template
    default_placement: str = DEFAULT_OPTIONS.placement
    default_quality: str = DEFAULT_OPTIONS.quality
    default_variations: str = str(DEFAULT_OPTIONS.variations)
    low_credit_threshold: str = ""  # the user's preference, set on load
    delete_confirmation: str = ""

    @rx.event
    async def load(self) -> None:
        user_id = await current_user_id(self)
        if user_id is None:
            return
        overview = await call(
            accounts.account_overview, user_id=user_id, current_token_hash=session_hash(self)
        )
        self.sessions = [
            SessionRow(
                id=s.id,
                started=s.created_at.strftime("%d %b %Y, %H:%M UTC"),
                device=_device(s.user_agent),
                current=s.current,
            )
            for s in overview.sessions
        ]
        self.templates = [TemplateRow(id=t.id, name=t.name) for t in overview.saved_templates]
        self._show_preferences(overview.preferences)

    def _show_preferences(self, prefs: dict[str, Any]) -> None:
        self.default_template = prefs["default_template"]
        self.default_placement = prefs["default_placement"]
        self.default_quality = prefs["default_quality"]
        self.default_variations = str(prefs["default_variations"])
        self.low_credit_threshold = str(prefs["low_credit_threshold"])

    @rx.event
    async def save_preferences(self, form: dict):  # type: ignore[no-untyped-def]
        user_id = await current_user_id(self)
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
        try:
            prefs = await call(library.save_preferences, user_id=user_id, values=values)
        except Exception as exc:
            return error_toast(self, exc)
        self._show_preferences(prefs)
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
        user_id = await current_user_id(self)
        if user_id is None:
            return None
        try:
            await call(library.rename_template, user_id=user_id, template_id=template_id, name=name)
        except Exception as exc:
            return error_toast(self, exc)
        return [AccountState.load, rx.toast.success("Template renamed.")]

    @rx.event
    async def delete_template(self, template_id: int):  # type: ignore[no-untyped-def]
        user_id = await current_user_id(self)
        if user_id is None:
            return None
        try:
            await call(library.delete_template, user_id=user_id, template_id=template_id)
        except Exception as exc:
            return error_toast(self, exc)
        return [AccountState.load, rx.toast.success("Template deleted.")]

    @rx.event
    async def sign_out_everywhere(self):  # type: ignore[no-untyped-def]
        user_id = await current_user_id(self)
        if user_id is None:
            return None
        await call(accounts.sign_out_everywhere, user_id=user_id)
        return rx.redirect(LOGIN, replace=True)

    @rx.event
    def set_delete_confirmation(self, value: str) -> None:
        self.delete_confirmation = value

    @rx.event
    async def delete_account(self):  # type: ignore[no-untyped-def]
        user_id = await current_user_id(self)
        if user_id is None:
            return None
        try:
            await call(
                accounts.delete_account, user_id=user_id, confirm_email=self.delete_confirmation
            )
        except Exception as exc:
            return error_toast(self, exc)
        self.delete_confirmation = ""
        return rx.redirect(LOGIN + "?error=account_deleted", replace=True)


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
