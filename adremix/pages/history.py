"""History: filters (kept in the URL), bulk actions, favourites, collections, details."""

import reflex as rx

from adremix.components.empty_state import empty_state
from adremix.components.result_tile import result_tile
from adremix.components.shell import protected_page
from adremix.services.templates import PLACEMENTS, TEMPLATES
from adremix.state.history import ALL, CollectionOption, GenerationCard, HistoryState


def status_badge(status: rx.Var) -> rx.Component:
    return rx.match(
        status,
        ("running", rx.badge("Running", color_scheme="blue")),
        ("succeeded", rx.badge("Succeeded", color_scheme="grass")),
        ("partial", rx.badge("Partly done", color_scheme="amber")),
        rx.badge("Failed", color_scheme="red"),
    )


def choice(
    value: rx.Var, on_change, items: list[tuple[str, str]], label: str, id_: str
) -> rx.Component:  # type: ignore[no-untyped-def]
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
                [
                    (ALL, "Any status"),
                    ("succeeded", "Succeeded"),
                    ("partial", "Partly done"),
                    ("failed", "Failed"),
                    ("running", "Running"),
                ],
                "Status",
                "filter-status",
            ),
            choice(
                HistoryState.template,
                HistoryState.set_template_filter,
                [(ALL, "Any style"), *[(code, t.name) for code, t in TEMPLATES.items()]],
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
                rx.text("From", size="1"),
                rx.input(
                    type="date",
                    value=HistoryState.date_from,
                    on_change=HistoryState.set_date_from,
                    size="1",
                    id="filter-from",
                ),
                rx.text("to", size="1"),
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
            rx.hstack(
                rx.switch(
                    checked=HistoryState.favourites,
                    on_change=HistoryState.set_favourites,
                    id="filter-favourites",
                ),
                rx.text("Favourites", size="2"),
                align="center",
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
                    rx.select.trigger(placeholder="Add to collection…", id="bulk-collection"),
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
                            "Delete", size="1", color_scheme="red", variant="soft", id="bulk-delete"
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
                            rx.input(name="name", placeholder="New name", max_length=80),
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
                on_click=HistoryState.delete_collection,
            ),
        ),
    )


def generation_card(card: GenerationCard) -> rx.Component:
    selected = HistoryState.selected.contains(card.id)
    return rx.card(
        rx.vstack(
            rx.box(
                rx.cond(
                    card.cover != "",
                    rx.image(
                        src=card.cover,
                        alt="Result",
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
                ),
                rx.checkbox(
                    checked=selected,
                    on_change=lambda _: HistoryState.toggle_selected(card.id),
                    position="absolute",
                    top="0.5rem",
                    left="0.5rem",
                    size="3",
                    aria_label="Select",
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
                wrap="wrap",
            ),
            rx.hstack(
                rx.text(card.date, size="1", color_scheme="gray"),
                rx.spacer(),
                rx.button(
                    "Open", size="1", variant="soft", on_click=HistoryState.open_detail(card.id)
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
                            src="/files/source/" + card.source,
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


@protected_page(route="/history", title="History", on_load=[HistoryState.load])
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
                    rx.link(rx.button("Create a new ad"), href="/new"),
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
