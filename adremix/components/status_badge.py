"""A generation's status as a coloured badge: History's cards and dialog, New Ad's jobs."""

from __future__ import annotations

import reflex as rx

from adremix.enums import GenerationStatus


def status_badge(
    status: rx.Var, *, done_label: str = "Succeeded", running: rx.Component | None = None
) -> rx.Component:
    """`running` replaces the plain "Running" badge (New Ad shows its progress stage)."""
    return rx.match(
        status,
        (
            GenerationStatus.RUNNING,
            running or rx.badge("Running", color_scheme="blue", high_contrast=True),
        ),
        (
            GenerationStatus.SUCCEEDED,
            rx.badge(done_label, color_scheme="grass", high_contrast=True),
        ),
        (
            GenerationStatus.PARTIAL,
            rx.badge("Partly done", color_scheme="amber", high_contrast=True),
        ),
        rx.badge("Failed", color_scheme="red", high_contrast=True),
    )
