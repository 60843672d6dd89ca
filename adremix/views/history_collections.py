"""History's collection tools: create one, rename or delete the one being viewed."""

from __future__ import annotations

import reflex as rx

from adremix.state.history import ALL, HistoryState


def collections_panel() -> rx.Component:
    return rx.popover.root(
        rx.popover.trigger(
            rx.button(
                rx.icon("folder-plus", size=14),
                "New collection",
                size="1",
                variant="soft",
                id="new-collection",
            )
        ),
        rx.popover.content(
            rx.el.form(
                rx.hstack(
                    rx.input(
                        placeholder="Collection name",
                        aria_label="Collection name",
                        value=HistoryState.new_collection_name,
                        on_change=HistoryState.set_new_collection_name,
                        max_length=80,
                        id="new-collection-name",
                    ),
                    rx.popover.close(rx.button("Create", type="submit", id="create-collection")),
                ),
                on_submit=HistoryState.create_collection,
            ),
        ),
    )


def collection_actions() -> rx.Component:
    """Rename or delete the collection being viewed."""
    return rx.cond(
        HistoryState.collection != ALL,
        rx.hstack(
            rx.popover.root(
                rx.popover.trigger(rx.button("Rename collection", size="1", variant="soft")),
                rx.popover.content(
                    rx.form(
                        rx.hstack(
                            rx.input(
                                name="name",
                                placeholder="New name",
                                aria_label="New collection name",
                                max_length=80,
                            ),
                            rx.popover.close(rx.button("Save", type="submit")),
                        ),
                        on_submit=HistoryState.rename_collection,
                    ),
                ),
            ),
            rx.button(
                "Delete collection",
                size="1",
                variant="soft",
                color_scheme="red",
                high_contrast=True,
                on_click=HistoryState.delete_collection,
            ),
        ),
    )
