"""Users: search, filters, sort and pages (all in the URL), and the CSV export."""

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
from adremix.services.admin import ROLE_FILTERS, SORTS
from adremix.state.admin.users import ANY
from adremix.state.admin.users import AdminUsersState as S

YES_NO = [(ANY, "Any"), ("yes", "Yes"), ("no", "No")]


def filters() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.hstack(
                rx.box(
                    field(
                        "Search by e-mail, name or id",
                        rx.input(
                            name="q",
                            id="user-search",
                            default_value=S.q,
                            placeholder="e.g. maya@, Rao, 1042",
                            type="search",
                            width="100%",
                        ),
                        "user-search",
                    ),
                    flex="1",
                    min_width="14rem",
                ),
                rx.button(
                    rx.icon("search", size=14), "Search", type="submit", id="user-search-submit"
                ),
                align="end",
                spacing="3",
                width="100%",
            ),
            rx.hstack(
                field(
                    "Signed up from",
                    rx.input(
                        type="date", name="from", id="joined-from", default_value=S.joined_from
                    ),
                    "joined-from",
                ),
                field(
                    "to",
                    rx.input(type="date", name="to", id="joined-to", default_value=S.joined_to),
                    "joined-to",
                ),
                select_field("Has paid", "paid", YES_NO, S.paid, "filter-paid"),
                select_field("Suspended", "suspended", YES_NO, S.suspended, "filter-suspended"),
                field(
                    "Balance from",
                    rx.input(
                        type="number",
                        name="min",
                        id="balance-min",
                        default_value=S.balance_min,
                        min=0,
                        width="7rem",
                    ),
                    "balance-min",
                ),
                field(
                    "to",
                    rx.input(
                        type="number",
                        name="max",
                        id="balance-max",
                        default_value=S.balance_max,
                        min=0,
                        width="7rem",
                    ),
                    "balance-max",
                ),
                select_field(
                    "Role",
                    "role",
                    [(ANY, "Any"), *ROLE_FILTERS.items()],
                    S.role_filter,
                    "filter-role",
                ),
                rx.button("Apply filters", type="submit", variant="soft", id="filters-apply"),
                rx.button(
                    "Clear", type="button", variant="ghost", on_click=S.clear, id="filters-clear"
                ),
                align="end",
                spacing="3",
                wrap="wrap",
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=S.apply,
        key=S.form_key,
        width="100%",
    )


def role_badge(role: rx.Var) -> rx.Component:
    return rx.cond(
        role != "",
        rx.badge(role, color_scheme=rx.cond(role == "admin", "violet", "blue"), high_contrast=True),
        rx.text(""),
    )


def status_badge(status: rx.Var) -> rx.Component:
    return rx.badge(
        status,
        color_scheme=rx.match(status, ("Suspended", "red"), ("Deleted", "gray"), "grass"),
        high_contrast=True,
    )


def user_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["id"]),
        rx.table.row_header_cell(
            rx.vstack(
                rx.link(row["email"], href=row["href"], weight="medium", class_name="user-link"),
                rx.text(row["name"], size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(role_badge(row["role"])),
        rx.table.cell(row["balance"], text_align="right"),
        rx.table.cell(row["paid"], text_align="right"),
        rx.table.cell(row["joined"]),
        rx.table.cell(row["seen"]),
        rx.table.cell(status_badge(row["status"])),
    )


@admin_page(route="/admin/users", title="Users", on_load=[S.load])
def users() -> rx.Component:
    return rx.vstack(
        filters(),
        rx.hstack(
            rx.hstack(
                rx.el.label("Sort", html_for="user-sort", style={"font_size": "0.85rem"}),
                rx.el.select(
                    *[rx.el.option(text, value=key) for key, text in SORTS.items()],
                    id="user-sort",
                    value=S.sort,
                    on_change=S.set_sort,
                    style={
                        "height": "2rem",
                        "border_radius": "6px",
                        "padding": "0 0.5rem",
                        "border": "1px solid var(--gray-7)",
                        "background": "var(--color-surface)",
                        "color": "var(--gray-12)",
                    },
                ),
                align="center",
                spacing="2",
            ),
            loading_note(S.loading),
            rx.spacer(),
            export_form("users", S.export_query),
            width="100%",
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            S.rows.length() > 0,
            data_table(
                ["Id", "User", "Role", "Balance", "Paid", "Signed up", "Last sign-in", "Status"],
                S.rows,
                user_row,
                id="users-table",
            ),
            rx.cond(
                ~S.loading,
                empty_state(
                    "users",
                    "No users match",
                    "Try fewer filters, or search for part of an e-mail address or name.",
                ),
            ),
        ),
        pager(S.prev_href, S.next_href, S.page),
        spacing="4",
        width="100%",
    )
