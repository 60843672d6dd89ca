"""What a missing page says (the app's 404 page, and an admin page to someone who is no
longer staff: the same words, so neither tells anything)."""

import reflex as rx

from adremix.components.brand import logo


def not_found_body() -> rx.Component:
    return rx.el.main(
        rx.center(
            rx.vstack(
                logo(),
                rx.heading("Page not found", size="7", as_="h1"),
                rx.text(
                    "There is nothing at this address. Check the link, or go back to your "
                    "dashboard.",
                    color_scheme="gray",
                    align="center",
                ),
                rx.button(rx.el.a("Go to the dashboard", href="/"), as_child=True, size="3"),
                align="center",
                spacing="4",
                max_width="28rem",
                padding="2rem",
            ),
            min_height="100vh",
            width="100%",
        ),
        id="not-found",
        background=rx.color("gray", 2),
    )
