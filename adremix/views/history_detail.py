"""One generation in full: source, results, options, save as template, delete."""

from __future__ import annotations

import reflex as rx

from adremix.components.result_tile import result_tile
from adremix.components.status_badge import status_badge
from adremix.enums import ImageKind
from adremix.state.history import HistoryState
from adremix.urls import file_url


def detail_dialog() -> rx.Component:
    card = HistoryState.detail
    return rx.dialog.root(
        rx.dialog.content(
            rx.vstack(
                rx.hstack(
                    rx.dialog.title("Generation #", card.id, margin="0"),
                    status_badge(card.status),
                    align="center",
                ),
                rx.text(card.instructions, size="2"),
                rx.cond(card.error != "", rx.callout(card.error, color_scheme="red", size="1")),
                rx.grid(
                    rx.vstack(
                        rx.text("Source", size="1", weight="bold"),
                        rx.image(
                            src=file_url(card.source, ImageKind.SOURCE),
                            width="100%",
                            border_radius="8px",
                            alt="Source ad",
                        ),
                    ),
                    rx.foreach(card.images, result_tile),
                    columns=rx.breakpoints(initial="2", md="3"),
                    spacing="3",
                    width="100%",
                ),
                rx.data_list.root(
                    rx.data_list.item(rx.data_list.label("Date"), rx.data_list.value(card.date)),
                    rx.data_list.item(
                        rx.data_list.label("Style"), rx.data_list.value(card.template)
                    ),
                    rx.data_list.item(
                        rx.data_list.label("Placement"), rx.data_list.value(card.placement)
                    ),
                    rx.data_list.item(
                        rx.data_list.label("Quality"), rx.data_list.value(card.quality)
                    ),
                    rx.data_list.item(
                        rx.data_list.label("Cost"), rx.data_list.value(card.credits, " credit(s)")
                    ),
                    rx.data_list.item(rx.data_list.label("Time"), rx.data_list.value(card.latency)),
                    size="1",
                ),
                rx.el.form(
                    rx.hstack(
                        rx.input(
                            placeholder="Template name",
                            value=HistoryState.template_name,
                            on_change=HistoryState.set_template_name,
                            max_length=80,
                            id="template-name",
                        ),
                        rx.button(
                            "Save as template", type="submit", variant="soft", id="save-template"
                        ),
                        width="100%",
                    ),
                    on_submit=HistoryState.save_as_template,
                    width="100%",
                ),
                rx.hstack(
                    rx.button(
                        "Delete",
                        color_scheme="red",
                        variant="soft",
                        on_click=HistoryState.delete_ids([card.id]),
                    ),
                    rx.spacer(),
                    rx.button(
                        "Close",
                        variant="soft",
                        color_scheme="gray",
                        on_click=HistoryState.close_detail,
                    ),
                    width="100%",
                ),
                spacing="3",
            ),
            max_width="min(94vw, 60rem)",
            id="generation-detail",
        ),
        open=HistoryState.detail_id != 0,
        on_open_change=lambda open_: rx.cond(open_, rx.noop(), HistoryState.close_detail()),
    )
