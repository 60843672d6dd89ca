"""What every admin page's state shares: who the staff member is, and the error toast."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import reflex as rx

from adremix.enums import Role
from adremix.services.accounts import ADMIN_EXPORT, csrf_token
from adremix.services.admin import NotStaff
from adremix.state.errors import error_toast
from adremix.state.session import SessionState, session_hash

log = logging.getLogger(__name__)


async def staff_id(state: rx.State) -> int | None:
    """The tab's user id if they are staff now (checked against the database), else None."""
    session = await state.get_state(SessionState)
    user = await session._load_user()
    if user is None or not user.role:
        return None
    return user.id


def with_query(path: str, query: dict[str, str]) -> str:
    return path + (f"?{urlencode(query)}" if query else "")


class AdminState(rx.State):
    """The base of the console's page states; `role` is the staff member's role."""

    role: str = ""
    checked: bool = False  # the role was read from the server at least once
    loading: bool = False
    # The CSV export forms' CSRF token, bound to this session.
    export_token: str = ""

    @rx.var
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    async def _actor(self) -> int | None:
        """The staff member's id, checked now; records their role for the page."""
        session = await self.get_state(SessionState)
        user = await session._load_user()
        self.role = user.role if user else ""
        self.checked = True
        self.export_token = (
            csrf_token(purpose=ADMIN_EXPORT, binding=session_hash(self)) if self.role else ""
        )
        if user is None or not user.role:
            log.warning("Admin event %s refused: not staff", type(self).__name__)
            return None
        return user.id

    def _failed(self, exc: Exception) -> rx.event.EventSpec | None:
        """The toast for a failed admin call; nothing at all for a non-staff caller."""
        if isinstance(exc, NotStaff):
            self.role = ""
            return None
        return error_toast(self, exc)


class PagedState(AdminState):
    """A table whose filters and page live in the URL."""

    has_next: bool = False
    prev_href: str = ""
    next_href: str = ""
    export_query: list[list[str]] = []
    form_key: str = ""  # remounts the filter form when the URL changes

    def _pages(self, path: str, filters: Any, has_next: bool) -> None:
        self.has_next = has_next
        self.prev_href = (
            with_query(path, replace(filters, page=filters.page - 1).to_query())
            if filters.page > 1
            else ""
        )
        self.next_href = (
            with_query(path, replace(filters, page=filters.page + 1).to_query()) if has_next else ""
        )
        query = replace(filters, page=1).to_query()
        self.export_query = [[k, v] for k, v in query.items()]
        self.form_key = with_query(path, query)
