"""History: every generation, with its results."""

import reflex as rx

from adremix.components.empty_state import empty_state
from adremix.components.result_tile import result_tile
from adremix.components.shell import protected_page
from adremix.state.history import GenerationCard, HistoryState


def status_badge(status: rx.Var) -> rx.Component:
    return rx.match(
        status,
        ("running", rx.badge("Running", color_scheme="blue")),
        ("succeeded", rx.badge("Succeeded", color_scheme="grass")),
        ("partial", rx.badge("Partly done", color_scheme="amber")),
        rx.badge("Failed", color_scheme="red"),
    )


def generation_card(card: GenerationCard) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                status_badge(card.status),
                rx.text(card.date, size="1", color_scheme="gray"),
                rx.spacer(),
                rx.badge(card.template, variant="soft"),
                rx.badge(card.placement, variant="outline"),
                rx.text(card.credits, " credit(s)", size="1", color_scheme="gray"),
                width="100%",
                align="center",
                wrap="wrap",
            ),
            rx.text(card.instructions, size="2", class_name="generation-instructions"),
            rx.cond(card.cached, rx.text("Served from cache, free", size="1", color_scheme="gray")),
            rx.cond(card.error != "", rx.text(card.error, size="1", color_scheme="red")),
            rx.grid(
                rx.foreach(card.images, result_tile),
                columns=rx.breakpoints(initial="2", md="4"),
                spacing="3",
                width="100%",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="history-card",
    )


@protected_page(route="/history", title="History", on_load=[HistoryState.load])
def history() -> rx.Component:
    return rx.cond(
        HistoryState.cards.length() == 0,
        rx.cond(
            HistoryState.loading,
            rx.center(rx.spinner(size="3"), padding="3rem"),
            empty_state(
                "images",
                "No generations yet",
                "Your remixed ads will be listed here.",
                rx.link(rx.button("Create your first ad"), href="/new"),
            ),
        ),
        rx.vstack(
            rx.foreach(HistoryState.cards, generation_card),
            rx.hstack(
                rx.button(
                    "Newer",
                    on_click=HistoryState.previous_page,
                    disabled=HistoryState.page == 0,
                    variant="soft",
                ),
                rx.button(
                    "Older",
                    on_click=HistoryState.next_page,
                    disabled=~HistoryState.has_more,
                    variant="soft",
                ),
                justify="end",
                width="100%",
            ),
            spacing="3",
            width="100%",
            id="history-list",
        ),
    )
