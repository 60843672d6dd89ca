"""The Users table: search, filters, sort and pages, all in the URL."""

from __future__ import annotations

from dataclasses import replace

import reflex as rx

from adremix import urls
from adremix.blocking import call
from adremix.services import admin
from adremix.state.admin.base import PagedState, with_query
from adremix.state.admin.words import inr, when

ANY = "any"  # what a select shows for "no filter" (Radix selects cannot hold "")


def user_row(row: admin.UserRow) -> dict[str, str]:
    status = "Deleted" if row.deleted else ("Suspended" if row.suspended else "Active")
    return {
        "id": str(row.id),
        "href": urls.admin_user_url(str(row.id)),
        "email": row.email,
        "name": row.name,
        "role": row.role,
        "balance": f"{row.balance:,}",
        "paid": inr(row.paid_paise) if row.paid_paise else "–",
        "joined": when(row.joined_at),
        "seen": when(row.last_seen_at) or "never",
        "status": status,
    }


class AdminUsersState(PagedState):
    q: str = ""
    joined_from: str = ""
    joined_to: str = ""
    paid: str = ANY
    suspended: str = ANY
    balance_min: str = ""
    balance_max: str = ""
    role_filter: str = ANY
    sort: str = "joined_desc"
    page: int = 1
    rows: list[dict[str, str]] = []

    def _filters(self) -> admin.UserFilters:
        return admin.UserFilters.from_query(self.router.url.query_parameters)

    def _show(self, filters: admin.UserFilters) -> None:
        self.q = filters.q
        self.joined_from = filters.joined_from.isoformat() if filters.joined_from else ""
        self.joined_to = filters.joined_to.isoformat() if filters.joined_to else ""
        self.paid = filters.paid or ANY
        self.suspended = filters.suspended or ANY
        self.balance_min = "" if filters.balance_min is None else str(filters.balance_min)
        self.balance_max = "" if filters.balance_max is None else str(filters.balance_max)
        self.role_filter = filters.role or ANY
        self.sort = filters.sort
        self.page = filters.page

    @rx.event
    async def load(self) -> rx.event.EventSpec | None:
        actor = await self._actor()
        if actor is None:
            return None
        filters = self._filters()
        self._show(filters)
        self.loading = True
        try:
            found = await call(admin.find_users, actor_id=actor, filters=filters)
        except Exception as exc:
            self.loading = False
            return self._failed(exc)
        self.rows = [user_row(row) for row in found.rows]
        self._pages(urls.ADMIN_USERS, filters, found.has_next)
        self.loading = False
        return None

    def _go(self, filters: admin.UserFilters) -> rx.event.EventSpec:
        return rx.redirect(with_query(urls.ADMIN_USERS, filters.to_query()))

    @rx.event
    def apply(self, form: dict[str, str]) -> rx.event.EventSpec:
        """The filter form: every field into the URL, back to page 1."""
        params = {k: str(v) for k, v in form.items() if str(v) not in ("", ANY)}
        params["sort"] = self.sort
        return self._go(admin.UserFilters.from_query(params))

    @rx.event
    def set_sort(self, sort: str) -> rx.event.EventSpec:
        return self._go(replace(self._filters(), sort=sort, page=1))

    @rx.event
    def clear(self) -> rx.event.EventSpec:
        return rx.redirect(urls.ADMIN_USERS)
