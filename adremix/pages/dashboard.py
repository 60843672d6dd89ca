"""The landing page after sign-in."""

import reflex as rx

from adremix.components.shell import protected_page
from adremix.state.session import SessionState


def stat_card(label: str, value: rx.Var | str, icon: str) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.icon(icon, size=20, color=rx.color("accent", 11)),
            rx.vstack(
                rx.text(label, size="2", color_scheme="gray"),
                rx.heading(value, size="6"),
                spacing="1",
            ),
            align="center",
            spacing="3",
        ),
        width="100%",
    )


@protected_page(route="/", title="Dashboard")
def dashboard() -> rx.Component:
    return rx.vstack(
        rx.heading(f"Welcome back, {SessionState.user_name}", size="7", id="welcome"),
        rx.text("Turn one good ad into many.", color_scheme="gray"),
        rx.grid(
            stat_card("Credits available", SessionState.credit_balance, "coins"),
            columns=rx.breakpoints(initial="1", sm="2", md="3"),
            spacing="4",
            width="100%",
        ),
        rx.link(
            rx.button(rx.icon("wand-sparkles"), "Create a new ad", size="3"),
            href="/new",
        ),
        spacing="5",
        width="100%",
    )
