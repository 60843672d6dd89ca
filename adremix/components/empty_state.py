"""A friendly empty state: icon, title, one line of help and an optional action."""

import reflex as rx

from adremix.components.accent_icon import accent_icon


def empty_state(
    icon: str, title: str, body: str, action: rx.Component | None = None
) -> rx.Component:
    return rx.center(
        rx.vstack(
            accent_icon(icon, size=28, box="3.5rem", radius="999px"),
            rx.heading(title, as_="h2", size="4"),
            rx.text(body, color_scheme="gray", align="center", max_width="28rem"),
            *([action] if action is not None else []),
            align="center",
            spacing="3",
        ),
        padding="3rem 1rem",
        width="100%",
        border=f"1px dashed {rx.color('gray', 6)}",
        border_radius="12px",
        background=rx.color("gray", 1),
    )
