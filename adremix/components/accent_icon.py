"""An icon on a soft accent-coloured tile: the empty states' and the dashboard's figures."""

from __future__ import annotations

import reflex as rx


def accent_icon(icon: str, *, size: int, box: str, radius: str) -> rx.Component:
    return rx.center(
        rx.icon(icon, size=size),
        width=box,
        height=box,
        border_radius=radius,
        background=rx.color("accent", 3),
        color=rx.color("accent", 11),
    )
