"""'Suggest copy' on New Ad: choose placements, get variants that fit, use one."""

from __future__ import annotations

import reflex as rx

from adremix.components.overlay import while_open
from adremix.services.copywriting import PLATFORMS
from adremix.state.copy import CopyState, PlacementView


def _choice(text: rx.Var, on_use: rx.event.EventSpec | None) -> rx.Component:
    return rx.hstack(
        rx.text(text, size="2", flex="1"),
        *(
            [rx.button("Use", size="1", variant="soft", on_click=on_use, class_name="use-copy")]
            if on_use is not None
            else []
        ),
        align="center",
        width="100%",
    )


def _placement(item: PlacementView) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(item.name, size="3", as_="h3"),
            rx.text(item.limits, size="1", color_scheme="gray"),
            rx.text("Headlines", size="1", weight="bold"),
            rx.foreach(item.headlines, lambda t: _choice(t, CopyState.use_headline(t))),
            rx.text("Primary text", size="1", weight="bold"),
            rx.foreach(item.primary_texts, lambda t: _choice(t, None)),
            rx.text("Calls to action", size="1", weight="bold"),
            rx.foreach(item.ctas, lambda t: _choice(t, CopyState.use_cta(t))),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="copy-placement",
    )


def copy_dialog() -> rx.Component:
    return while_open(
        rx.dialog.root,
        rx.dialog.trigger(
            rx.button(
                rx.icon("languages", size=16), "Suggest copy", variant="soft", id="suggest-copy"
            )
        ),
        rx.dialog.content(
            rx.vstack(
                rx.dialog.title("Suggest copy", margin="0"),
                rx.dialog.description(
                    "Headlines, text and calls to action that fit each platform's limits, "
                    "in the text language chosen on the form, with your kit's tone.",
                    size="2",
                ),
                rx.el.label("Product or offer", html_for="copy-product", font_size="0.875rem"),
                rx.input(
                    value=CopyState.product,
                    on_change=CopyState.set_product,
                    placeholder="Masala Chai, 20% off",
                    max_length=80,
                    id="copy-product",
                ),
                rx.el.fieldset(
                    rx.el.legend("Placements", font_size="0.875rem"),
                    rx.flex(
                        *[
                            rx.checkbox(
                                p.name,
                                checked=CopyState.platforms.contains(code),
                                on_change=lambda on, code=code: CopyState.toggle_platform(code, on),
                                id=f"copy-{code}",
                            )
                            for code, p in PLATFORMS.items()
                        ],
                        wrap="wrap",
                        gap="3",
                    ),
                    border="none",
                    padding="0",
                ),
                rx.hstack(
                    rx.button(
                        rx.cond(
                            CopyState.working, rx.spinner(size="1"), rx.icon("sparkles", size=14)
                        ),
                        "Suggest",
                        on_click=CopyState.suggest,
                        disabled=CopyState.working,
                        id="run-suggest-copy",
                    ),
                    rx.cond(CopyState.engine != "", rx.badge(CopyState.engine, variant="soft")),
                    rx.spacer(),
                    rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                    width="100%",
                    align="center",
                ),
                rx.box(
                    rx.foreach(CopyState.results, _placement),
                    width="100%",
                    max_height="50vh",
                    overflow_y="auto",
                    aria_live="polite",
                    id="copy-results",
                ),
                spacing="3",
                width="100%",
            ),
            max_width="min(94vw, 44rem)",
        ),
        is_open=CopyState.open,
        on_open_change=CopyState.set_open,
    )
