"""One generation in full: source, results, options, save as template, delete."""

from __future__ import annotations

import reflex as rx

from adremix.components.dialog_focus import returns_focus
from adremix.components.result_tile import result_tile
from adremix.components.status_badge import status_badge
from adremix.enums import ImageKind
from adremix.state.history import HistoryState, VersionView
from adremix.state.region_edit import RegionEditState
from adremix.urls import file_url
from adremix.views.region_edit_dialog import region_edit_dialog


def version_tile(version: VersionView) -> rx.Component:
    return rx.button(
        rx.cond(
            version.cover != "",
            rx.image(
                src=version.cover, alt="", width="2.5rem", height="2.5rem", object_fit="cover"
            ),
        ),
        rx.text(version.label, size="1"),
        variant=rx.cond(version.current, "solid", "soft"),
        size="1",
        on_click=HistoryState.show_version(version.id),
        aria_current=rx.cond(version.current, "true", "false"),
        title=version.instructions,
        height="auto",
        padding="0.25rem 0.5rem",
        class_name="version-tile",
    )


def versions_strip() -> rx.Component:
    """The lineage: the original and its region edits, with previous / next."""
    return rx.cond(
        HistoryState.versions.length() > 1,
        rx.vstack(
            rx.hstack(
                rx.button(
                    rx.icon("chevron-left", size=14),
                    "Previous",
                    size="1",
                    variant="soft",
                    on_click=HistoryState.step_version(-1),
                    id="version-previous",
                ),
                rx.text(HistoryState.version_position, size="2", id="version-position"),
                rx.button(
                    "Next",
                    rx.icon("chevron-right", size=14),
                    size="1",
                    variant="soft",
                    on_click=HistoryState.step_version(1),
                    id="version-next",
                ),
                align="center",
                spacing="3",
            ),
            rx.hstack(
                rx.foreach(HistoryState.versions, version_tile),
                spacing="2",
                wrap="wrap",
                id="versions",
            ),
            spacing="2",
            width="100%",
        ),
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
                rx.cond(
                    card.error != "",
                    rx.callout(card.error, color_scheme="red", high_contrast=True, size="1"),
                ),
                versions_strip(),
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
                    rx.foreach(
                        card.images,
                        lambda sha: rx.vstack(
                            result_tile(sha, card.image_alt),
                            rx.button(
                                rx.icon("brush", size=14),
                                "Edit a region",
                                size="1",
                                variant="soft",
                                on_click=RegionEditState.open_editor(
                                    card.id, sha, card.canvas_height
                                ),
                                class_name="edit-region",
                            ),
                            spacing="1",
                        ),
                    ),
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
                            aria_label="Template name",
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
                        high_contrast=True,
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
            region_edit_dialog(),
            max_width="min(94vw, 60rem)",
            id="generation-detail",
            **returns_focus(),
        ),
        open=HistoryState.detail_id != 0,
        on_open_change=lambda open_: rx.cond(open_, rx.noop(), HistoryState.close_detail()),
    )
