"""The Overview page: revenue, credits, generations and sign-ups over a date range."""

from __future__ import annotations

from datetime import timedelta

import reflex as rx

from adremix import urls
from adremix.blocking import call
from adremix.services import admin
from adremix.state.admin.base import AdminState, with_query
from adremix.state.admin.words import inr

RANGES = (("7 days", 7), ("30 days", 30), ("90 days", 90), ("12 months", 365))


class AdminOverviewState(AdminState):
    start: str = ""
    end: str = ""
    cards: dict[str, str] = {}
    days: list[dict[str, str | int | float]] = []
    presets: list[dict[str, str]] = []
    export_query: list[list[str]] = []

    @rx.event
    async def load(self) -> rx.event.EventSpec | None:
        actor = await self._actor()
        if actor is None:
            return None
        start, end = admin.overview_range(self.router.url.query_parameters)
        self.start, self.end = start.isoformat(), end.isoformat()
        self.export_query = [["from", self.start], ["to", self.end]]
        self.loading = True
        try:
            figures = await call(admin.overview, actor_id=actor, start=start, end=end)
        except Exception as exc:
            self.loading = False
            return self._failed(exc)
        today = admin.today()
        self.presets = [
            {
                "label": label,
                "href": with_query(
                    urls.ADMIN,
                    {"from": (today - timedelta(days=n - 1)).isoformat(), "to": today.isoformat()},
                ),
            }
            for label, n in RANGES
        ]
        self.cards = {
            "gross": inr(figures.gross_paise),
            "refunds": inr(figures.refunds_paise),
            "net": inr(figures.net_paise),
            "gst": inr(figures.gst_paise),
            "sold": f"{figures.credits_sold:,}",
            "clawed": f"{figures.credits_clawed:,}",
            "consumed": f"{figures.credits_consumed:,}",
            "bonus": f"{figures.credits_bonus:,}",
            "adjusted": f"{figures.credits_adjusted:+,}",
            "outstanding": f"{figures.credits_outstanding:,}",
            "generations": f"{figures.generations:,}",
            "success_rate": f"{figures.success_rate:.1%}" if figures.generations else "–",
            "partial": f"{figures.partial:,}",
            "failed": f"{figures.failed:,}",
            "average_latency": f"{figures.average_latency_ms / 1000:.1f} s"
            if figures.generations
            else "–",
            "p95_latency": f"≤ {figures.p95_latency_ms / 1000:g} s" if figures.generations else "–",
            "signups": f"{figures.signups:,}",
        }
        self.days = [
            {
                "day": day.day.strftime("%d %b"),
                "gross": day.gross_paise / 100,
                "refunds": day.refunds_paise / 100,
                "signups": day.signups,
                "sold": day.credits_sold,
                "consumed": day.credits_consumed,
                "succeeded": day.succeeded,
                "failed": day.failed,
            }
            for day in figures.days
        ]
        self.loading = False
        return None

    @rx.event
    def choose_range(self, form: dict[str, str]) -> rx.event.EventSpec:
        query = {"from": str(form.get("from", "")), "to": str(form.get("to", ""))}
        return rx.redirect(with_query(urls.ADMIN, {k: v for k, v in query.items() if v}))
