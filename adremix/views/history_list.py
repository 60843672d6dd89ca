"""History's results: the bulk-action bar, the grid of generation cards and the pager."""

from __future__ import annotations

import reflex as rx

from adremix.components.generation_cover import generation_cover
from adremix.components.status_badge import status_badge
from adremix.state.history import ALL, GenerationCard, HistoryState
from adremix.views.history_filters import collection_item


def bulk_bar() -> rx.Component:
    return rx.cond(
        HistoryState.selected.length() > 0,
        rx.card(
            rx.hstack(
                rx.text(HistoryState.selected.length(), " selected", weight="bold", size="2"),
                rx.button(
                    "Favourite",
                    size="1",
                    variant="soft",
                    on_click=HistoryState.favourite_selected(True),
                ),
                rx.select.root(
                    rx.select.trigger(
                        placeholder="Add to collection…",
                        id="bulk-collection",
                        aria_label="Add to collection",
                    ),
                    rx.select.content(rx.foreach(HistoryState.collections, collection_item)),
                    on_change=HistoryState.add_selected_to_collection,
                    size="1",
                ),
                rx.cond(
                    HistoryState.collection != ALL,
                    rx.button(
                        "Remove from this collection",
                        size="1",
                        variant="soft",
                        on_click=HistoryState.remove_selected_from_collection,
                    ),
                ),
                rx.alert_dialog.root(
                    rx.alert_dialog.trigger(
                        rx.button(
                            "Delete",
                            size="1",
                            color_scheme="red",
                            high_contrast=True,
                            variant="soft",
                            id="bulk-delete",
                        )
                    ),
                    rx.alert_dialog.content(
                        rx.alert_dialog.title("Delete the selected generations?"),
                        rx.alert_dialog.description(
                            "Their images are removed for good. Your credit history is kept."
                        ),
                        rx.hstack(
                            rx.alert_dialog.cancel(rx.button("Cancel", variant="soft")),
                            rx.alert_dialog.action(
                                rx.button(
                                    "Delete",
                                    color_scheme="red",
                                    high_contrast=True,  # white on solid red is 3.9:1
                                    on_click=HistoryState.delete_selected,
                                    id="confirm-delete",
                                )
                            ),
                            justify="end",
                            margin_top="1rem",
                        ),
                    ),
                ),
                rx.spacer(),
                rx.button(
                    "Select page", size="1", variant="ghost", on_click=HistoryState.select_all
                ),
                rx.button(
                    "Clear", size="1", variant="ghost", on_click=HistoryState.clear_selection
                ),
                wrap="wrap",
                align="center",
                width="100%",
            ),
            width="100%",
            id="bulk-bar",
        ),
    )


def generation_card(card: GenerationCard) -> rx.Component:
    selected = HistoryState.selected.contains(card.id)
    return rx.card(
        rx.vstack(
            rx.box(
                generation_cover(card.cover, alt=card.image_alt),
                rx.checkbox(
                    checked=selected,
                    on_change=lambda _: HistoryState.toggle_selected(card.id),
                    position="absolute",
                    top="0.5rem",
                    left="0.5rem",
                    size="3",
                    aria_label="Select generation #" + card.id.to(str),
                    class_name="select-generation",
                ),
                rx.icon_button(
                    rx.icon("star", size=16, fill=rx.cond(card.favourite, "currentColor", "none")),
                    on_click=HistoryState.toggle_favourite(card.id),
                    position="absolute",
                    top="0.4rem",
                    right="0.4rem",
                    size="1",
                    variant=rx.cond(card.favourite, "solid", "soft"),
                    color_scheme="amber",
                    aria_label="Favourite",
                    aria_pressed=card.favourite,
                    class_name="favourite-toggle",
                ),
                position="relative",
                width="100%",
            ),
            rx.hstack(
                status_badge(card.status),
                rx.spacer(),
                rx.text(card.credits, " cr", size="1", color_scheme="gray"),
                width="100%",
            ),
            rx.text(
                card.instructions,
                size="2",
                trim="both",
                class_name="generation-instructions",
                style={
                    "display": "-webkit-box",
                    "-webkit-line-clamp": "2",
                    "-webkit-box-orient": "vertical",
                    "overflow": "hidden",
                },
            ),
            rx.hstack(
                rx.badge(card.template, variant="soft", size="1"),
                rx.badge(card.placement, variant="outline", size="1"),
                rx.cond(
                    card.parent_id != 0,
                    rx.badge(
                        rx.icon("brush", size=12),
                        "Edit of #",
                        card.parent_id,
                        color_scheme="iris",
                        size="1",
                        class_name="edit-of",
                    ),
                ),
                wrap="wrap",
            ),
            rx.hstack(
                rx.text(card.date, size="1", color_scheme="gray"),
                rx.spacer(),
                rx.button(
                    "Open",
                    rx.el.span(" generation #", card.id, class_name="sr-only"),
                    size="1",
                    variant="soft",
                    on_click=HistoryState.open_detail(card.id),
                ),
                width="100%",
                align="center",
            ),
            spacing="2",
            width="100%",
        ),
        class_name="history-card",
        border=rx.cond(selected, f"2px solid {rx.color('accent', 9)}", "none"),
    )


def pager() -> rx.Component:
    return rx.hstack(
        rx.text(
            HistoryState.total, " generation(s)", size="2", color_scheme="gray", id="history-total"
        ),
        rx.spacer(),
        rx.button(
            "Previous",
            size="1",
            variant="soft",
            disabled=HistoryState.page <= 1,
            on_click=HistoryState.go_to_page(HistoryState.page - 1),
        ),
        rx.text("Page ", HistoryState.page, " of ", HistoryState.page_count, size="2"),
        rx.button(
            "Next",
            size="1",
            variant="soft",
            disabled=HistoryState.page >= HistoryState.page_count,
            on_click=HistoryState.go_to_page(HistoryState.page + 1),
            id="next-page",
        ),
        width="100%",
        align="center",
    )
