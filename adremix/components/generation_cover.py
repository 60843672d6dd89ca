"""A generation's cover picture, or a placeholder when it has no image (failed, deleted)."""

from __future__ import annotations

import reflex as rx


def generation_cover(cover: rx.Var, *, alt: rx.Var | str) -> rx.Component:
    return rx.cond(
        cover != "",
        rx.image(
            src=cover,
            alt=alt,
            width="100%",
            aspect_ratio="1",
            object_fit="cover",
            border_radius="8px",
            loading="lazy",
        ),
        rx.center(
            rx.icon("image-off", color=rx.color("gray", 8)),
            width="100%",
            aspect_ratio="1",
            background=rx.color("gray", 3),
            border_radius="8px",
        ),
    )
