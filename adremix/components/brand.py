"""The AdRemix wordmark."""

import reflex as rx

from adremix import styles


def logo(size: str = "5") -> rx.Component:
    return rx.hstack(
        rx.center(
            rx.icon("sparkles", size=16, color="white"),
            width="1.9rem",
            height="1.9rem",
            border_radius="8px",
            background=styles.GRADIENT,
        ),
        # The wordmark, not a section heading: each page's own title is its heading.
        rx.text("AdRemix", as_="span", size=size, weight="bold"),
        align="center",
        spacing="2",
    )
