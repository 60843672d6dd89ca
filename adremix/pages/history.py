"""History: filters (kept in the URL), bulk actions, favourites, collections, details."""

import reflex as rx

from adremix.components.empty_state import empty_state
from adremix.components.link_button import link_button
from adremix.components.shell import protected_page
from adremix.state.history import HistoryState
from adremix.urls import HISTORY, NEW_AD, route_of
from adremix.views.history_collections import collection_actions, collections_panel
from adremix.views.history_detail import detail_dialog
from adremix.views.history_filters import filters_bar
from adremix.views.history_list import bulk_bar, generation_card, pager


@protected_page(route=route_of(HISTORY), title="History", on_load=[HistoryState.load])
def history() -> rx.Component:
    return rx.vstack(
        rx.hstack(collection_actions(), rx.spacer(), collections_panel(), width="100%"),
        filters_bar(),
        bulk_bar(),
        rx.cond(
            HistoryState.loading & (HistoryState.cards.length() == 0),
            rx.center(rx.spinner(size="3"), padding="3rem", width="100%"),
            rx.cond(
                HistoryState.cards.length() == 0,
                empty_state(
                    "images",
                    "Nothing here yet",
                    "Generations you make, or that match these filters, are listed here.",
                    link_button("Create a new ad", href=NEW_AD),
                ),
                rx.vstack(
                    rx.grid(
                        rx.foreach(HistoryState.cards, generation_card),
                        columns=rx.breakpoints(initial="1", xs="2", md="3", lg="4"),
                        spacing="3",
                        width="100%",
                        id="history-grid",
                    ),
                    pager(),
                    width="100%",
                ),
            ),
        ),
        detail_dialog(),
        spacing="4",
        width="100%",
    )
