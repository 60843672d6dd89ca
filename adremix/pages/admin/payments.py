"""Payments: every order with its Razorpay payments, reconcile, and quotes by link."""

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
from adremix.components.dialog_focus import returns_focus
from adremix.components.empty_state import empty_state
from adremix.enums import OrderStatus
from adremix.state.admin.lists import ANY
from adremix.state.admin.lists import AdminPaymentsState as S


def filters() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.box(
                field(
                    "Receipt, Razorpay order or payment id, or e-mail",
                    rx.input(
                        name="q",
                        id="payment-search",
                        default_value=S.q,
                        type="search",
                        width="100%",
                    ),
                    "payment-search",
                ),
                flex="1",
                min_width="16rem",
            ),
            select_field(
                "Status",
                "status",
                [(ANY, "Any"), *[(s.value, s.value.replace("_", " ")) for s in OrderStatus]],
                S.status,
                "payment-status",
            ),
            field(
                "From",
                rx.input(type="date", name="from", id="payments-from", default_value=S.date_from),
                "payments-from",
            ),
            field(
                "To",
                rx.input(type="date", name="to", id="payments-to", default_value=S.date_to),
                "payments-to",
            ),
            rx.button("Apply", type="submit", id="payments-apply"),
            align="end",
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
        on_submit=S.apply,
        key=S.form_key,
        width="100%",
    )


def order_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.vstack(
                rx.text(row["receipt"], weight="medium"),
                rx.text(row["date"], size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(rx.link(row["email"], href=row["user_href"])),
        rx.table.cell(row["what"]),
        rx.table.cell(row["amount"], text_align="right"),
        rx.table.cell(rx.badge(row["status"], variant="soft")),
        rx.table.cell(rx.text(row["payments"], size="1")),
        rx.table.cell(
            rx.cond(
                row["can_reconcile"] == "yes",
                rx.button(
                    "Reconcile",
                    size="1",
                    variant="soft",
                    on_click=S.reconcile(row["id"]),
                    id="reconcile-" + row["receipt"].to(str),
                ),
            )
        ),
    )


def quote_dialog() -> rx.Component:
    def text_field(
        label: str, field_id: str, value: rx.Var, on_change: rx.EventHandler, **props
    ) -> rx.Component:
        return field(
            label,
            rx.input(value=value, on_change=on_change, id=field_id, width="100%", **props),
            field_id,
        )

    # The state opens the dialog (no Radix trigger: one around a button with its own
    # on_click becomes a div carrying the trigger's ARIA), and focus goes back to the button.
    opener = rx.button(
        rx.icon("file-plus", size=14),
        "New quote",
        variant="soft",
        on_click=S.open_quote,
        id="quote-open",
    )
    dialog = rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Quote by payment link"),
            rx.dialog.description(
                "Creates a Razorpay Payment Link for the buyer's account (they must have signed "
                "in once). Paying it grants the credits once and issues the tax invoice.",
                size="2",
            ),
            rx.vstack(
                text_field(
                    "Buyer's e-mail", "quote-email", S.quote_email, S.set_quote_email, type="email"
                ),
                text_field(
                    "Credits",
                    "quote-credits",
                    S.quote_credits,
                    S.set_quote_credits,
                    input_mode="numeric",
                ),
                text_field(
                    "Amount in rupees, GST included",
                    "quote-amount",
                    S.quote_amount,
                    S.set_quote_amount,
                    input_mode="decimal",
                ),
                text_field(
                    "Buyer's GSTIN (optional)", "quote-gstin", S.quote_gstin, S.set_quote_gstin
                ),
                rx.cond(
                    S.quote_link != "",
                    rx.callout(
                        rx.text("Payment link: ", rx.text.strong(S.quote_link)),
                        icon="link",
                        id="quote-link",
                        high_contrast=True,
                    ),
                ),
                rx.hstack(
                    rx.dialog.close(
                        rx.button(
                            "Close", variant="soft", color_scheme="gray", on_click=S.close_quote
                        )
                    ),
                    rx.button("Create quote", on_click=S.create_quote, id="quote-submit"),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                width="100%",
                padding_top="0.75rem",
            ),
            max_width="32rem",
            **returns_focus(),
        ),
        open=S.quote_open,
        on_open_change=lambda _: S.close_quote(),
    )
    return rx.fragment(opener, dialog)


@admin_page(route="/admin/payments", title="Payments", on_load=[S.load])
def payments() -> rx.Component:
    return rx.vstack(
        filters(),
        rx.hstack(
            loading_note(S.loading),
            rx.spacer(),
            rx.cond(S.is_admin, quote_dialog()),
            export_form("payments", S.export_query),
            width="100%",
            align="center",
            spacing="3",
        ),
        rx.text(
            "Reconcile asks Razorpay about an order's payments and refunds and applies what a "
            "missed webhook would have.",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            S.rows.length() > 0,
            data_table(
                ["Order", "Buyer", "What", "Amount", "Status", "Razorpay payments", ""],
                S.rows,
                order_row,
                id="payments-table",
            ),
            rx.cond(
                ~S.loading,
                empty_state(
                    "indian-rupee",
                    "No orders match",
                    "Search by receipt number, a Razorpay id or the buyer's e-mail address.",
                ),
            ),
        ),
        pager(S.prev_href, S.next_href),
        spacing="4",
        width="100%",
    )
