"""Failures: recent generations that failed wholly or in part, the provider's error and
what was refunded, each with a link to the user."""

import reflex as rx

from adremix.components.admin_shell import admin_page, export_form, loading_note, pager
from adremix.components.data_table import data_table
from adremix.components.empty_state import empty_state
from adremix.state.admin.lists import ANY
from adremix.state.admin.lists import AdminFailuresState as S


def failure_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["date"]),
        rx.table.cell(
            rx.badge(
                row["status"],
                color_scheme=rx.cond(row["status"] == "failed", "red", "amber"),
                high_contrast=True,
            )
        ),
        rx.table.cell(rx.link(row["email"], href=row["user_href"])),
        rx.table.cell(row["provider"]),
        rx.table.cell(row["images"], text_align="right"),
        rx.table.cell(row["refunded"]),
        rx.table.cell(rx.text(row["error"], size="1")),
    )


@admin_page(route="/admin/failures", title="Generation failures", on_load=[S.load])
def failures() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.el.label("Show", html_for="failure-status", style={"font_size": "0.85rem"}),
            rx.el.select(
                rx.el.option("Failed and partly failed", value=ANY),
                rx.el.option("Failed", value="failed"),
                rx.el.option("Partly failed", value="partial"),
                id="failure-status",
                value=S.status,
                on_change=S.set_status_filter,
                style={
                    "height": "2rem",
                    "border_radius": "6px",
                    "padding": "0 0.5rem",
                    "border": "1px solid var(--gray-7)",
                    "background": "var(--color-surface)",
                    "color": "var(--gray-12)",
                },
            ),
            loading_note(S.loading),
            rx.spacer(),
            export_form("failures", S.export_query),
            align="center",
            spacing="3",
            width="100%",
        ),
        rx.cond(
            S.rows.length() > 0,
            data_table(
                ["When", "Status", "User", "Provider", "Images", "Refunded", "Provider's error"],
                S.rows,
                failure_row,
                id="failures-table",
            ),
            rx.cond(
                ~S.loading,
                empty_state("party-popper", "No failures", "Every recent generation succeeded."),
            ),
        ),
        pager(S.prev_href, S.next_href),
        spacing="4",
        width="100%",
    )
