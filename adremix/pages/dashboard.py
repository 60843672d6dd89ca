"""The landing page after sign-in: balance, usage, recent work."""

import reflex as rx

from adremix.components.accent_icon import accent_icon
from adremix.components.empty_state import empty_state
from adremix.components.generation_cover import generation_cover
from adremix.components.link_button import link_button
from adremix.components.shell import protected_page
from adremix.state.dashboard import DashboardState, RecentItem
from adremix.state.session import SessionState
from adremix.urls import DASHBOARD, HISTORY, NEW_AD, route_of


def stat_card(label: str, value: rx.Var | str, icon: str, id_: str) -> rx.Component:
    return rx.card(
        rx.hstack(
            accent_icon(icon, size=20, box="2.5rem", radius="10px"),
            rx.vstack(
                rx.text(label, size="2", color_scheme="gray"),
                rx.text(value, size="6", weight="bold", id=id_),
                spacing="0",
            ),
            align="center",
            spacing="3",
        ),
        width="100%",
    )


def usage_chart() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Credits used per day (last 30 days)", weight="bold", size="2"),
            rx.recharts.bar_chart(
                rx.recharts.bar(data_key="credits", fill=rx.color("accent", 9), radius=4),
                rx.recharts.x_axis(data_key="day", interval="preserveStartEnd", font_size=11),
                rx.recharts.y_axis(allow_decimals=False, width=30, font_size=11),
                rx.recharts.graphing_tooltip(),
                data=DashboardState.usage,
                height=220,
                width="100%",
            ),
            width="100%",
            id="usage-chart",
        ),
        width="100%",
    )


def recent_tile(item: RecentItem) -> rx.Component:
    return rx.link(
        rx.card(
            rx.vstack(
                generation_cover(item.cover, alt=item.cover_alt),
                rx.text(item.instructions, size="1", trim="both"),
                spacing="2",
            ),
        ),
        href=HISTORY,
        underline="none",
    )


@protected_page(route=route_of(DASHBOARD), title="Dashboard", on_load=[DashboardState.load])
def dashboard() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.vstack(
                rx.heading(
                    f"Welcome back, {SessionState.user_name}", as_="h2", size="7", id="welcome"
                ),
                rx.text("Turn one good ad into many.", color_scheme="gray"),
                spacing="1",
            ),
            rx.spacer(),
            link_button(rx.icon("wand-sparkles"), "New ad", href=NEW_AD, size="3"),
            width="100%",
            align="center",
            wrap="wrap",
        ),
        rx.grid(
            stat_card("Credits available", SessionState.credit_balance, "coins", "stat-balance"),
            stat_card(
                "Generations this month",
                DashboardState.generations_this_month,
                "images",
                "stat-generations",
            ),
            stat_card(
                "Images this month", DashboardState.images_this_month, "image", "stat-images"
            ),
            stat_card("Success rate", DashboardState.success_rate, "circle-check", "stat-success"),
            columns=rx.breakpoints(initial="1", sm="2", lg="4"),
            spacing="4",
            width="100%",
        ),
        usage_chart(),
        rx.heading("Recent generations", as_="h2", size="4"),
        rx.cond(
            DashboardState.recent.length() > 0,
            rx.grid(
                rx.foreach(DashboardState.recent, recent_tile),
                columns=rx.breakpoints(initial="2", sm="3", lg="6"),
                spacing="3",
                width="100%",
            ),
            empty_state(
                "sparkles",
                "No generations yet",
                "Upload an ad and describe a remix to create your first creatives.",
                link_button("Create a new ad", href=NEW_AD),
            ),
        ),
        spacing="5",
        width="100%",
    )
