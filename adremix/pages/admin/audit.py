"""Audit log: every admin action, newest first, filterable; each entry's hash links it to
the one before (`python -m adremix audit verify` walks the chain)."""

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
from adremix.state.admin.lists import ANY
from adremix.state.admin.lists import AdminAuditState as S
from adremix.state.admin.user import ACTION_WORDS


def audit_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["seq"]),
        rx.table.cell(row["date"]),
        rx.table.cell(row["actor"]),
        rx.table.cell(row["action"]),
        rx.table.cell(
            rx.cond(
                row["target_href"] != "",
                rx.link(row["target"], href=row["target_href"]),
                rx.text(row["target"]),
            )
        ),
        rx.table.cell(row["reason"]),
        rx.table.cell(rx.text(row["summary"], size="1")),
        rx.table.cell(rx.code(row["hash"], size="1")),
    )


@admin_page(route="/admin/audit", title="Audit log", on_load=[S.load])
def audit() -> rx.Component:
    return rx.vstack(
        rx.form(
            rx.hstack(
                select_field(
                    "Action",
                    "action",
                    [(ANY, "Any"), *ACTION_WORDS.items()],
                    S.action,
                    "audit-action",
                ),
                field(
                    "By (e-mail)",
                    rx.input(name="actor", id="audit-actor", default_value=S.actor, type="email"),
                    "audit-actor",
                ),
                field(
                    "About user id",
                    rx.input(
                        name="user",
                        id="audit-user",
                        default_value=S.subject,
                        input_mode="numeric",
                        width="8rem",
                    ),
                    "audit-user",
                ),
                field(
                    "From",
                    rx.input(type="date", name="from", id="audit-from", default_value=S.date_from),
                    "audit-from",
                ),
                field(
                    "To",
                    rx.input(type="date", name="to", id="audit-to", default_value=S.date_to),
                    "audit-to",
                ),
                rx.button("Apply", type="submit", id="audit-apply"),
                align="end",
                spacing="3",
                wrap="wrap",
            ),
            on_submit=S.apply,
            key=S.form_key,
        ),
        rx.hstack(
            rx.text(
                "Append-only and hash-chained: run python -m adremix audit verify to check it.",
                size="2",
                color_scheme="gray",
            ),
            loading_note(S.loading),
            rx.spacer(),
            export_form("audit", S.export_query),
            width="100%",
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            S.rows.length() > 0,
            data_table(
                ["#", "When", "Who", "Action", "About", "Reason", "Change", "Hash"],
                S.rows,
                audit_row,
                id="audit-table",
            ),
            rx.cond(
                ~S.loading,
                empty_state("scroll-text", "No entries", "No admin action matches these filters."),
            ),
        ),
        pager(S.prev_href, S.next_href),
        spacing="4",
        width="100%",
    )
