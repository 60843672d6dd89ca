"""History's filter bar: search, sort, status, style, placement, collection, dates and
favourites. Every filter lives in the URL, so a view can be bookmarked."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from adremix.components.field import caption, captioned_switch
from adremix.enums import GenerationStatus
from adremix.services.generation import PLACEMENTS, STYLES
from adremix.state.history import ALL, CollectionOption, HistoryState

STATUS_FILTER_LABELS = {
    GenerationStatus.SUCCEEDED: "Succeeded",
    GenerationStatus.PARTIAL: "Partly done",
    GenerationStatus.FAILED: "Failed",
    GenerationStatus.RUNNING: "Running",
}


def choice(
    value: rx.Var, on_change: Callable, items: list[tuple[str, str]], label: str, id_: str
) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label=label, id=id_),
        rx.select.content(*[rx.select.item(text, value=key) for key, text in items]),
        value=value,
        on_change=on_change,
        size="2",
    )


def collection_item(option: CollectionOption) -> rx.Component:
    return rx.select.item(option.name, value=option.id)


def filters_bar() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.el.form(
                rx.input(
                    rx.input.slot(rx.icon("search", size=16)),
                    placeholder="Search instructions",
                    aria_label="Search instructions",
                    value=HistoryState.search,
                    on_change=HistoryState.set_search,
                    width="100%",
                    id="history-search",
                ),
                on_submit=HistoryState.submit_search,
                flex="1",
                min_width="12rem",
            ),
            choice(
                HistoryState.sort,
                HistoryState.set_sort,
                [("newest", "Newest first"), ("oldest", "Oldest first")],
                "Sort",
                "filter-sort",
            ),
            width="100%",
            wrap="wrap",
        ),
        rx.hstack(
            choice(
                HistoryState.status,
                HistoryState.set_status,
                [(ALL, "Any status"), *STATUS_FILTER_LABELS.items()],
                "Status",
                "filter-status",
            ),
            choice(
                HistoryState.template,
                HistoryState.set_template_filter,
                [(ALL, "Any style"), *[(code, style.name) for code, style in STYLES.items()]],
                "Template",
                "filter-template",
            ),
            choice(
                HistoryState.placement,
                HistoryState.set_placement_filter,
                [(ALL, "Any placement"), *[(k, v[0]) for k, v in PLACEMENTS.items()]],
                "Placement",
                "filter-placement",
            ),
            rx.select.root(
                rx.select.trigger(aria_label="Collection", id="filter-collection"),
                rx.select.content(
                    rx.select.item("Any collection", value=ALL),
                    rx.foreach(HistoryState.collections, collection_item),
                ),
                value=HistoryState.collection,
                on_change=HistoryState.set_collection_filter,
            ),
            rx.hstack(
                caption("From", "filter-from", weight="regular"),
                rx.input(
                    type="date",
                    value=HistoryState.date_from,
                    on_change=HistoryState.set_date_from,
                    size="1",
                    id="filter-from",
                ),
                caption("to", "filter-to", weight="regular"),
                rx.input(
                    type="date",
                    value=HistoryState.date_to,
                    on_change=HistoryState.set_date_to,
                    size="1",
                    id="filter-to",
                ),
                align="center",
                spacing="1",
            ),
            captioned_switch(
                "Favourites",
                "filter-favourites",
                checked=HistoryState.favourites,
                on_change=HistoryState.set_favourites,
            ),
            rx.button("Clear", variant="ghost", size="1", on_click=HistoryState.clear_filters),
            wrap="wrap",
            spacing="3",
            align="center",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )
