"""Dashboard: the landing page's figures."""

from __future__ import annotations

import dataclasses
from datetime import date

import reflex as rx

from adremix.blocking import call
from adremix.services import library
from adremix.services.generation import describe_result
from adremix.state.session import current_user_id
from adremix.urls import cover_url


@dataclasses.dataclass
class RecentItem:
    id: int
    status: str
    instructions: str
    cover: str
    cover_alt: str


class DashboardState(rx.State):
    usage: list[dict[str, str | int]] = []
    generations_this_month: int = 0
    images_this_month: int = 0
    success_rate: str = "–"
    recent: list[RecentItem] = []

    @rx.event
    async def load(self) -> None:
        user_id = await current_user_id(self)
        if user_id is None:
            return
        view = await call(library.dashboard, user_id=user_id)
        stats = view.stats
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
                id=item.id,
                status=item.status,
                instructions=item.instructions[:80],
                cover=cover_url(item.output_hashes),
                cover_alt=describe_result(item.template, item.placement),
            )
            for item in view.recent
        ]
