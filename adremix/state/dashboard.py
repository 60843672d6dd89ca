"""Dashboard: the landing page's figures."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date

import reflex as rx

from adremix.db import session_scope
from adremix.services.dashboard import dashboard_stats
from adremix.services.history import HistoryFilter, query_history
from adremix.state.session import SessionState


@dataclasses.dataclass
class RecentItem:
    id: int
    status: str
    instructions: str
    cover: str


class DashboardState(rx.State):
    usage: list[dict[str, str | int]] = []
    generations_this_month: int = 0
    images_this_month: int = 0
    success_rate: str = "–"
    recent: list[RecentItem] = []
    loaded: bool = False

    @rx.event
    async def load(self) -> None:
        user_id = (await self.get_state(SessionState)).current_user_id()
        if user_id is None:
            return

        def fetch() -> tuple:
            with session_scope() as session:
                stats = dashboard_stats(session=session, user_id=user_id)
                page = query_history(
                    session=session, user_id=user_id, filters=HistoryFilter(), page_size=6
                )
                return stats, page.items

        stats, rows = await asyncio.to_thread(fetch)
        self.usage = [
            {"day": date.fromisoformat(day).strftime("%d %b"), "credits": credits}
            for day, credits in stats.credits_per_day
        ]
        self.generations_this_month = stats.generations_this_month
        self.images_this_month = stats.images_this_month
        self.success_rate = (
            f"{stats.success_rate_percent}%" if stats.success_rate_percent is not None else "–"
        )
        self.recent = [
            RecentItem(
                id=row.id or 0,
                status=row.status,
                instructions=row.instructions[:80],
                cover=f"/files/thumb/{row.output_hashes[0]}.webp" if row.output_hashes else "",
            )
            for row in rows
        ]
        self.loaded = True
