"""History: the user's generations, newest first."""

from __future__ import annotations

import asyncio
import dataclasses

import reflex as rx

from adremix.services import generation as generations
from adremix.services.templates import PLACEMENTS, TEMPLATES
from adremix.state.session import SessionState

PAGE_SIZE = 24


@dataclasses.dataclass
class GenerationCard:
    id: int
    status: str
    date: str
    instructions: str
    template: str
    placement: str
    credits: int
    images: list[str]
    source: str
    error: str
    cached: bool


class HistoryState(rx.State):
    cards: list[GenerationCard] = []
    page: int = 0
    has_more: bool = False
    loading: bool = False

    @rx.event
    async def load(self) -> None:
        self.page = 0
        await self._fetch()

    async def _fetch(self) -> None:
        user_id = (await self.get_state(SessionState)).current_user_id()
        if user_id is None:
            return
        self.loading = True
        rows = await asyncio.to_thread(
            generations.recent_generations,
            user_id=user_id,
            limit=PAGE_SIZE + 1,
            offset=self.page * PAGE_SIZE,
        )
        self.has_more = len(rows) > PAGE_SIZE
        self.cards = [_card(row) for row in rows[:PAGE_SIZE]]
        self.loading = False

    @rx.event
    async def next_page(self) -> None:
        if self.has_more:
            self.page += 1
            await self._fetch()

    @rx.event
    async def previous_page(self) -> None:
        if self.page > 0:
            self.page -= 1
            await self._fetch()


def _card(row: generations.GenerationSummary) -> GenerationCard:
    template = TEMPLATES.get(row.template)
    return GenerationCard(
        id=row.id,
        status=row.status,
        date=row.created_at.strftime("%d %b %Y, %H:%M"),
        instructions=row.instructions,
        template=template.name if template else row.template,
        placement=PLACEMENTS.get(row.placement, (row.placement,))[0],
        credits=row.credits_spent,
        images=row.output_hashes,
        source=row.source_hash,
        error=row.error_message or "",
        cached=row.cached,
    )
