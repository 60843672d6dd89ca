"""Webhooks: every delivery from Razorpay, with its signature check, processing and errors."""

import reflex as rx

from adremix.components.admin_shell import (
    admin_page,
    export_form,
    field,
    loading_note,
    pager,
    select_field,
)
from adremix.components.data_table import data_table
from adremix.components.empty_state import empty_state
from adremix.services.admin import WEBHOOK_SHOW
from adremix.state.admin.lists import ANY
from adremix.state.admin.lists import AdminWebhooksState as S


def webhook_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["received"]),
        rx.table.cell(rx.code(row["type"])),
        rx.table.cell(rx.text(row["event_id"], size="1")),
        rx.table.cell(
            rx.badge(
                row["signature"],
                color_scheme=rx.cond(row["signature"] == "ok", "grass", "red"),
                high_contrast=True,
            )
        ),
        rx.table.cell(row["processed"]),
        rx.table.cell(row["outcome"]),
        rx.table.cell(rx.text(row["error"], size="1", color_scheme="red", high_contrast=True)),
    )


@admin_page(route="/admin/webhooks", title="Webhooks", on_load=[S.load])
def webhooks() -> rx.Component:
    return rx.vstack(
        rx.form(
            rx.hstack(
                field(
                    "Event type starts with",
                    rx.input(
                        name="type",
                        id="webhook-type",
                        default_value=S.event_type,
                        placeholder="refund.",
                    ),
                    "webhook-type",
                ),
                select_field(
                    "Show",
                    "show",
                    [(ANY, "Every delivery"), *WEBHOOK_SHOW.items()],
                    S.show,
                    "webhook-show",
                ),
                rx.button("Apply", type="submit", id="webhooks-apply"),
                rx.spacer(),
                align="end",
                spacing="3",
                wrap="wrap",
            ),
            on_submit=S.apply,
            key=S.form_key,
        ),
        rx.hstack(
            loading_note(S.loading),
            rx.spacer(),
            export_form("webhooks", S.export_query),
            width="100%",
        ),
        rx.cond(
            S.rows.length() > 0,
            data_table(
                ["Received", "Event", "Event id", "Signature", "Processed", "Outcome", "Error"],
                S.rows,
                webhook_row,
                id="webhooks-table",
            ),
            rx.cond(
                ~S.loading,
                empty_state(
                    "webhook", "No deliveries", "Nothing from Razorpay matches these filters yet."
                ),
            ),
        ),
        pager(S.prev_href, S.next_href),
        spacing="4",
        width="100%",
    )
