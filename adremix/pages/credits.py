"""Credits: balance, packages, checkout and the credit ledger."""

import reflex as rx

from adremix.components.data_table import data_table
from adremix.components.dialog_focus import returns_focus
from adremix.components.empty_state import empty_state
from adremix.components.link_button import link_button
from adremix.components.one_press import one_press_button
from adremix.components.shell import protected_page
from adremix.state.credits import CreditsState
from adremix.state.session import SessionState
from adremix.urls import CREDITS, HISTORY, receipt_url, route_of
from adremix.views.billing_documents import documents_table
from adremix.views.subscription_panel import payment_update_banner, subscription_section


def receipt_link(receipt: rx.Var) -> rx.Component:
    return rx.link("Receipt", href=receipt_url(receipt), is_external=True)


def balance_card() -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.vstack(
                rx.text("Available credits", size="2", color_scheme="gray"),
                rx.text(
                    SessionState.credit_balance, size="8", weight="bold", id="credits-page-balance"
                ),
                rx.text("1 credit = 1 generated image", size="1", color_scheme="gray"),
                spacing="1",
            ),
            rx.spacer(),
            rx.cond(
                CreditsState.test_mode,
                rx.badge(
                    "Test mode: no real payments",
                    color_scheme="amber",
                    high_contrast=True,
                    size="2",
                ),
            ),
            align="center",
            width="100%",
        ),
        width="100%",
    )


def package_card(package: rx.Var) -> rx.Component:
    best = package["best_value"] == "yes"
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(package["name"], as_="h3", size="4"),
                rx.spacer(),
                rx.cond(
                    best,
                    rx.badge(
                        "Best value", color_scheme="grass", variant="solid", high_contrast=True
                    ),
                ),
                width="100%",
            ),
            rx.hstack(
                rx.text(package["price"], size="7", weight="bold"),
                align="baseline",
                spacing="2",
            ),
            rx.text(package["credits"], " credits · ", package["per_credit"], " per credit"),
            one_press_button(
                "Buy ",
                package["credits"],
                " credits",
                on_press=CreditsState.buy(package["code"]),
                ack=CreditsState.buy_ack,
                busy=CreditsState.buying_code == package["code"],
                busy_label="Opening checkout…",
                disabled=CreditsState.paying,
                width="100%",
                size="3",
                variant=rx.cond(best, "solid", "soft"),
                id="buy-" + package["code"].to(str),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        border=rx.cond(best, f"2px solid {rx.color('grass', 8)}", "none"),
    )


def confirmation() -> rx.Component:
    return rx.cond(
        CreditsState.confirmed_receipt != "",
        rx.callout(
            rx.hstack(
                rx.text("Payment received and credits added."),
                rx.link(
                    "View receipt " + CreditsState.confirmed_receipt,
                    href=receipt_url(CreditsState.confirmed_receipt),
                    is_external=True,
                    weight="bold",
                    high_contrast=True,
                    id="receipt-link",
                ),
                wrap="wrap",
                spacing="2",
            ),
            icon="circle-check",
            color_scheme="grass",
            high_contrast=True,
            width="100%",
            id="purchase-confirmation",
        ),
    )


def pending_row(order: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.icon("clock", size=16),
        rx.text("Payment ", order["receipt"], " (", order["summary"], ") is being confirmed."),
        rx.spacer(),
        rx.button(
            "Check again",
            size="1",
            variant="soft",
            loading=CreditsState.checking == order["receipt"],
            on_click=CreditsState.check_pending(order["receipt"]),
        ),
        width="100%",
        align="center",
    )


def pending_payments() -> rx.Component:
    return rx.cond(
        CreditsState.pending.length() > 0,
        rx.callout(
            rx.vstack(
                rx.foreach(CreditsState.pending, pending_row),
                rx.text(
                    "Credits are added automatically once Razorpay confirms; nothing is "
                    "charged twice.",
                    size="1",
                ),
                width="100%",
            ),
            color_scheme="blue",
            high_contrast=True,
            width="100%",
            id="pending-payments",
        ),
    )


def test_checkout_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.vstack(
                rx.hstack(
                    rx.dialog.title("Test checkout", margin="0"),
                    rx.badge("Test mode", color_scheme="amber", high_contrast=True),
                    align="center",
                ),
                rx.dialog.description(
                    "Razorpay isn't configured, so this stands in for it. Payments are signed "
                    "and verified exactly like real ones; no money moves.",
                    size="2",
                ),
                rx.card(rx.text(CreditsState.checkout_summary, weight="medium"), width="100%"),
                rx.text("Order ", CreditsState.checkout_receipt, size="1", color_scheme="gray"),
                rx.hstack(
                    rx.button(
                        "Cancel",
                        variant="soft",
                        color_scheme="gray",
                        on_click=CreditsState.close_test_checkout,
                        disabled=CreditsState.paying,
                    ),
                    rx.spacer(),
                    one_press_button(
                        "Fail payment",
                        variant="outline",
                        on_press=CreditsState.test_checkout_pay(False),
                        ack=CreditsState.pay_ack,
                        busy_label="Failing…",
                        disabled=CreditsState.paying,
                        id="test-checkout-fail",
                    ),
                    one_press_button(
                        "Pay",
                        on_press=CreditsState.test_checkout_pay(True),
                        ack=CreditsState.pay_ack,
                        busy=CreditsState.paying,
                        busy_label="Paying…",
                        id="test-checkout-pay",
                    ),
                    width="100%",
                ),
                spacing="4",
            ),
            max_width="26rem",
            **returns_focus(),
        ),
        open=CreditsState.checkout_open,
        # Escape and a click outside close it like Cancel does (not while a payment runs).
        on_open_change=lambda open_: rx.cond(
            open_ | CreditsState.paying, rx.noop(), CreditsState.close_test_checkout()
        ),
    )


def payment_row(line: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(line["date"]),
        rx.table.cell(line["amount"]),
        rx.table.cell(
            rx.badge(
                line["status"],
                color_scheme=rx.cond(line["refund"] == "yes", "amber", "grass"),
                variant="soft",
                high_contrast=True,
            )
        ),
        rx.table.cell(rx.text(line["note"], size="2")),
        rx.table.cell(
            rx.cond(
                line["receipt"] != "",
                receipt_link(line["receipt"]),
            )
        ),
    )


def payments_table() -> rx.Component:
    """Payments that moved money, with refunds and duplicate payments spelled out."""
    return rx.cond(
        CreditsState.payment_lines.length() > 0,
        rx.vstack(
            rx.heading("Payments", as_="h2", size="5"),
            data_table(
                ["Date (UTC)", "Amount", "Status", "Details", ""],
                CreditsState.payment_lines,
                payment_row,
                id="payments-table",
            ),
            width="100%",
            spacing="3",
        ),
    )


def ledger_row(entry: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(entry["date"]),
        rx.table.cell(entry["kind"]),
        rx.table.cell(
            rx.text(
                entry["amount"],
                color=rx.cond(
                    entry["positive"] == "yes", rx.color("grass", 11), rx.color("red", 11)
                ),
                weight="bold",
            )
        ),
        rx.table.cell(entry["balance_after"]),
        rx.table.cell(
            rx.cond(
                entry["receipt"] != "",
                receipt_link(entry["receipt"]),
                rx.cond(
                    entry["generation"] != "",
                    rx.link("Generation", href=HISTORY + "?id=" + entry["generation"]),
                    rx.text(entry["reason"], color_scheme="gray", size="1"),
                ),
            )
        ),
    )


def ledger_table() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Credit history", as_="h2", size="5"),
            rx.spacer(),
            link_button(
                rx.icon("download", size=14),
                "Export CSV",
                href="/api/credits/export.csv",
                reload_document=True,
                variant="soft",
                size="2",
            ),
            width="100%",
            align="center",
        ),
        rx.cond(
            CreditsState.total_entries == 0,
            empty_state(
                "receipt", "No credit movements yet", "Purchases and generations show up here."
            ),
            rx.vstack(
                data_table(
                    ["Date (UTC)", "Kind", "Amount", "Balance", ""],
                    CreditsState.entries,
                    ledger_row,
                    id="ledger-table",
                ),
                rx.hstack(
                    rx.button(
                        "Previous",
                        on_click=CreditsState.previous_page,
                        disabled=CreditsState.page == 0,
                        variant="soft",
                        size="1",
                    ),
                    rx.text(
                        "Page ", CreditsState.page + 1, " of ", CreditsState.page_count, size="2"
                    ),
                    rx.button(
                        "Next",
                        on_click=CreditsState.next_page,
                        disabled=CreditsState.page + 1 >= CreditsState.page_count,
                        variant="soft",
                        size="1",
                    ),
                    align="center",
                    justify="end",
                    width="100%",
                ),
                width="100%",
            ),
        ),
        width="100%",
        spacing="3",
    )


@protected_page(route=route_of(CREDITS), title="Credits", on_load=[CreditsState.load])
def credits() -> rx.Component:
    return rx.vstack(
        balance_card(),
        payment_update_banner(),
        confirmation(),
        pending_payments(),
        subscription_section(),
        rx.heading("Buy credits once", as_="h2", size="5"),
        rx.grid(
            rx.foreach(CreditsState.packages, package_card),
            columns=rx.breakpoints(initial="1", sm="2", md="3"),
            spacing="4",
            width="100%",
        ),
        rx.text(
            CreditsState.gst_note,
            " Payments are processed securely by Razorpay.",
            size="1",
            color_scheme="gray",
        ),
        payments_table(),
        documents_table(),
        ledger_table(),
        test_checkout_dialog(),
        spacing="5",
        width="100%",
    )
