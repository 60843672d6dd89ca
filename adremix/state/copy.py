"""'Suggest copy' on New Ad: variants per placement, and "Use" to put one in the form."""

from __future__ import annotations

import dataclasses

import reflex as rx

from adremix.blocking import call
from adremix.enums import LimitedAction
from adremix.services import copywriting
from adremix.services.copywriting import PLATFORMS, CopyRequest
from adremix.state.errors import error_toast
from adremix.state.limits import count_attempt
from adremix.state.new_ad import NewAdState
from adremix.state.session import current_user_id


@dataclasses.dataclass
class PlacementView:
    platform: str
    name: str
    limits: str
    headlines: list[str]
    primary_texts: list[str]
    ctas: list[str]


class CopyState(rx.State):
    open: bool = False
    product: str = ""
    platforms: list[str] = ["meta", "google_display"]
    working: bool = False
    engine: str = ""
    results: list[PlacementView] = []

    @rx.event
    def set_open(self, value: bool) -> None:
        self.open = value

    @rx.event
    def set_product(self, value: str) -> None:
        self.product = value

    @rx.event
    def toggle_platform(self, code: str, on: bool) -> None:
        if code in PLATFORMS:
            rest = [p for p in self.platforms if p != code]
            self.platforms = [*rest, code] if on else rest

    @rx.event
    async def suggest(self):  # type: ignore[no-untyped-def]
        user_id = await current_user_id(self)
        if user_id is None:
            return
        new_ad = await self.get_state(NewAdState)
        request = CopyRequest(
            product=self.product,
            platforms=tuple(p for p in PLATFORMS if p in self.platforms),
            language=new_ad.language,
            brief=new_ad.instructions,
            brand_kit_id=new_ad.brand_kit_id,
        )
        self.working = True
        yield
        try:
            await count_attempt(self, LimitedAction.COPY, user_id)
            suggestions = await call(copywriting.suggest_copy, user_id=user_id, request=request)
        except Exception as exc:
            self.working = False
            yield error_toast(self, exc)
            return
        self.working = False
        self.engine = "OpenAI" if suggestions.engine == "openai" else "Offline phrase bank"
        self.results = [
            PlacementView(
                platform=p.platform,
                name=p.platform_name,
                limits=(
                    f"Headline ≤ {p.limits['headline']} · text ≤ {p.limits['primary_text']} "
                    f"· CTA ≤ {p.limits['cta']} characters"
                ),
                headlines=p.headlines,
                primary_texts=p.primary_texts,
                ctas=p.ctas,
            )
            for p in suggestions.placements
        ]

    @rx.event
    def use_headline(self, text: str) -> rx.event.EventSpec:
        return NewAdState.take_copy("headline", text)

    @rx.event
    def use_cta(self, text: str) -> rx.event.EventSpec:
        return NewAdState.take_copy("call_to_action", text)
