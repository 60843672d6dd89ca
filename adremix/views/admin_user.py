"""The sections of a user's page in the console, and the dialogs of its actions."""

from __future__ import annotations

import reflex as rx

from adremix.components.admin_shell import export_form
from adremix.components.data_table import data_table
from adremix.components.dialog_focus import returns_focus
from adremix.components.one_press import one_press_button
from adremix.state.admin.user import NO_ROLE
from adremix.state.admin.user import AdminUserState as S


def _label(text: str, field_id: str) -> rx.Component:
    return rx.el.label(
        text, html_for=field_id, style={"font_size": "0.85rem", "font_weight": "500"}
    )


def _reason(field_id: str, value: rx.Var, on_change: rx.EventHandler) -> rx.Component:
    return rx.vstack(
        _label("Reason (kept in the audit log)", field_id),
        rx.text_area(
            value=value, on_change=on_change, id=field_id, rows="3", width="100%", required=True
        ),
        spacing="1",
        width="100%",
    )


def profile_card() -> rx.Component:
    p = S.profile
    return rx.card(
        rx.hstack(
            rx.avatar(src=p["avatar"], fallback=p["initial"], size="5", radius="full"),
            rx.vstack(
                rx.hstack(
                    rx.heading(p["email"], size="5", id="user-email"),
                    rx.badge(
                        p["status"],
                        color_scheme=rx.match(
                            p["status"], ("Suspended", "red"), ("Deleted", "gray"), "grass"
                        ),
                        id="user-status",
                        high_contrast=True,
                    ),
                    align="center",
                    wrap="wrap",
                ),
                rx.text(p["name"], color_scheme="gray"),
                rx.text(
                    "User ",
                    p["id"],
                    " · signed up ",
                    p["joined"],
                    " · last sign-in ",
                    p["seen"],
                    " · ",
                    p["sign_in"],
                    size="2",
                    color_scheme="gray",
                ),
                rx.text(
                    "Role: ",
                    rx.text.strong(p["role"], id="user-role"),
                    " ",
                    p["role_note"],
                    size="2",
                ),
                rx.text(p["failed"], size="2", color_scheme="gray"),
                spacing="1",
                min_width="0",
            ),
            rx.spacer(),
            rx.vstack(
                rx.text("Balance", size="2", color_scheme="gray"),
                rx.heading(p["balance"], size="8", id="user-balance"),
                rx.text("credits", size="1", color_scheme="gray"),
                align="end",
                spacing="0",
            ),
            align="start",
            spacing="4",
            wrap="wrap",
            width="100%",
        ),
        width="100%",
    )


def actions() -> rx.Component:
    live = S.profile["deleted"] == ""
    return rx.hstack(
        rx.button(
            rx.icon("coins", size=14),
            "Adjust credits",
            on_click=S.open_adjust,
            id="adjust-open",
            disabled=~live,
        ),
        rx.cond(
            S.is_admin,
            rx.fragment(
                rx.button(
                    rx.icon(rx.cond(S.suspended, "user-check", "user-x"), size=14),
                    rx.cond(S.suspended, "Restore account", "Suspend account"),
                    on_click=S.open_suspend,
                    color_scheme=rx.cond(S.suspended, "grass", "red"),
                    high_contrast=True,  # white or soft red alone is under 4.5:1
                    variant="soft",
                    id="suspend-open",
                    disabled=~live,
                ),
                rx.button(
                    rx.icon("shield", size=14),
                    "Change role",
                    on_click=S.open_role,
                    variant="soft",
                    id="role-open",
                    disabled=~live,
                ),
            ),
            rx.text(
                "Support can adjust credits within a daily limit; refunds, suspensions and roles "
                "are for admins.",
                size="2",
                color_scheme="gray",
            ),
        ),
        rx.link("This user's audit entries", href=S.audit_href, size="2"),
        spacing="3",
        wrap="wrap",
        align="center",
    )


def adjust_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Adjust credits"),
            rx.dialog.description(
                "Grant or deduct credits. A balance never goes below zero.", size="2"
            ),
            rx.vstack(
                rx.radio_group.root(
                    rx.hstack(
                        rx.el.label(
                            rx.radio_group.item(value="grant", id="adjust-grant"),
                            " Grant",
                            style={"display": "flex", "gap": "0.4rem", "align_items": "center"},
                        ),
                        rx.el.label(
                            rx.radio_group.item(value="deduct", id="adjust-deduct"),
                            " Deduct",
                            style={"display": "flex", "gap": "0.4rem", "align_items": "center"},
                        ),
                        spacing="4",
                    ),
                    value=S.adjust_direction,
                    on_change=S.set_adjust_direction,
                    aria_label="Grant or deduct",
                ),
                rx.vstack(
                    _label("Credits", "adjust-amount"),
                    rx.input(
                        value=S.adjust_amount,
                        on_change=S.set_adjust_amount,
                        id="adjust-amount",
                        type="number",
                        min=1,
                        input_mode="numeric",
                        width="10rem",
                    ),
                    spacing="1",
                ),
                _reason("adjust-reason", S.adjust_reason, S.set_adjust_reason),
                rx.hstack(
                    rx.dialog.close(
                        rx.button(
                            "Cancel", variant="soft", color_scheme="gray", on_click=S.close_adjust
                        )
                    ),
                    one_press_button(
                        "Apply",
                        on_press=S.submit_adjustment(S.adjust_key),
                        ack=S.adjust_ack,
                        busy=S.adjust_busy,
                        busy_label="Applying…",
                        id="adjust-submit",
                    ),
                    justify="end",
                    width="100%",
                ),
                spacing="4",
                width="100%",
                padding_top="0.75rem",
            ),
            max_width="30rem",
            **returns_focus(),
        ),
        open=S.adjust_open,
        on_open_change=lambda _: S.close_adjust(),
    )


def refund_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(S.refund_title),
            rx.dialog.description(
                "The refund is made through Razorpay; the unspent credits of this purchase are "
                "taken back.",
                size="2",
            ),
            rx.vstack(
                rx.foreach(S.refund_facts, lambda fact: rx.text(fact, size="2")),
                rx.vstack(
                    _label("Amount to refund (₹)", "refund-amount"),
                    rx.input(
                        value=S.refund_amount,
                        on_change=S.set_refund_amount,
                        id="refund-amount",
                        input_mode="decimal",
                        width="12rem",
                    ),
                    spacing="1",
                ),
                rx.callout(
                    S.refund_preview, icon="info", id="refund-preview", size="1", high_contrast=True
                ),
                _reason("refund-reason", S.refund_reason, S.set_refund_reason),
                rx.hstack(
                    rx.dialog.close(
                        rx.button(
                            "Cancel", variant="soft", color_scheme="gray", on_click=S.close_refund
                        )
                    ),
                    one_press_button(
                        "Refund",
                        on_press=S.submit_refund(S.refund_key),
                        ack=S.refund_ack,
                        busy=S.refund_busy,
                        busy_label="Refunding…",
                        id="refund-submit",
                    ),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                width="100%",
                padding_top="0.75rem",
            ),
            max_width="34rem",
            **returns_focus(),
        ),
        open=S.refund_open,
        on_open_change=lambda _: S.close_refund(),
    )


def suspend_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.suspended, "Restore this account", "Suspend this account")),
            rx.dialog.description(
                rx.cond(
                    S.suspended,
                    "The user can sign in again.",
                    "Every session of the user ends now and sign-in is refused with a message. "
                    "Nothing is deleted.",
                ),
                size="2",
            ),
            rx.vstack(
                _reason("suspend-reason", S.suspend_reason, S.set_suspend_reason),
                rx.hstack(
                    rx.dialog.close(
                        rx.button(
                            "Cancel", variant="soft", color_scheme="gray", on_click=S.close_suspend
                        )
                    ),
                    rx.button(
                        rx.cond(S.suspended, "Restore", "Suspend"),
                        on_click=S.submit_suspension,
                        color_scheme=rx.cond(S.suspended, "grass", "red"),
                        high_contrast=True,  # white or soft red alone is under 4.5:1
                        id="suspend-submit",
                    ),
                    justify="end",
                    width="100%",
                ),
                spacing="4",
                width="100%",
                padding_top="0.75rem",
            ),
            max_width="30rem",
            **returns_focus(),
        ),
        open=S.suspend_open,
        on_open_change=lambda _: S.close_suspend(),
    )


def role_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Change role"),
            rx.dialog.description(
                "Support can see everything and adjust credits within a limit; admins can also "
                "refund, suspend and change roles. "
                "A role given by ADREMIX_ADMIN_EMAILS or ADREMIX_SUPPORT_EMAILS stays while the "
                "setting lists the address.",
                size="2",
            ),
            rx.vstack(
                rx.vstack(
                    _label("Role granted here", "role-choice"),
                    rx.el.select(
                        rx.el.option("None", value=NO_ROLE),
                        rx.el.option("Support", value="support"),
                        rx.el.option("Admin", value="admin"),
                        id="role-choice",
                        value=S.role_choice,
                        on_change=S.set_role_choice,
                        style={
                            "height": "2rem",
                            "border_radius": "6px",
                            "padding": "0 0.5rem",
                            "border": "1px solid var(--gray-7)",
                            "background": "var(--color-surface)",
                            "color": "var(--gray-12)",
                        },
                    ),
                    spacing="1",
                ),
                _reason("role-reason", S.role_reason, S.set_role_reason),
                rx.hstack(
                    rx.dialog.close(
                        rx.button(
                            "Cancel", variant="soft", color_scheme="gray", on_click=S.close_role
                        )
                    ),
                    rx.button("Save role", on_click=S.submit_role, id="role-submit"),
                    justify="end",
                    width="100%",
                ),
                spacing="4",
                width="100%",
                padding_top="0.75rem",
            ),
            max_width="32rem",
            **returns_focus(),
        ),
        open=S.role_open,
        on_open_change=lambda _: S.close_role(),
    )


def section(
    title: str, *children: rx.Component, trailing: rx.Component | None = None
) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading(title, size="4", as_="h2"),
            rx.spacer(),
            *([trailing] if trailing else []),
            width="100%",
            align="center",
        ),
        *children,
        spacing="2",
        width="100%",
    )


def _ledger_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["date"]),
        rx.table.cell(row["kind"]),
        rx.table.cell(
            rx.text(
                row["amount"],
                color_scheme=rx.cond(row["positive"] == "yes", "grass", "red"),
                high_contrast=True,
            ),
            text_align="right",
        ),
        rx.table.cell(row["balance"], text_align="right"),
        rx.table.cell(row["reference"]),
        rx.table.cell(row["reason"]),
    )


def ledger_section() -> rx.Component:
    return section(
        "Credit ledger",
        rx.cond(S.ledger_more != "", rx.text(S.ledger_more, size="2", color_scheme="gray")),
        data_table(
            ["When", "What", "Credits", "Balance", "Reference", "Reason"],
            S.ledger,
            _ledger_row,
            id="user-ledger",
        ),
        trailing=export_form("ledger", S.ledger_export, "Export ledger"),
    )


def _payment_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(row["receipt"], weight="medium"),
                rx.text(row["kind"], " · ", row["provider"], size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(
            rx.text(row["payment"], size="2"),
            rx.cond(
                row["error"] != "",
                rx.text(row["error"], size="1", color_scheme="red", high_contrast=True),
            ),
        ),
        rx.table.cell(row["amount"], text_align="right"),
        rx.table.cell(rx.badge(row["status"], variant="soft")),
        rx.table.cell(rx.text(row["credits"], size="2")),
        rx.table.cell(rx.text(row["refunds"], size="2")),
        rx.table.cell(row["date"]),
        rx.table.cell(
            rx.cond(
                row["in_flight"] == "yes",
                rx.button(
                    "Retry refund",
                    size="1",
                    variant="soft",
                    color_scheme="amber",
                    on_click=S.retry_refund(row["id"]),
                ),
                rx.cond(
                    row["can_refund"] == "yes",
                    rx.button(
                        "Refund…",
                        size="1",
                        variant="soft",
                        on_click=S.open_refund(row["id"]),
                        id="refund-" + row["payment"].to(str),
                    ),
                ),
            )
        ),
    )


def payments_section() -> rx.Component:
    return section(
        "Orders and payments",
        rx.cond(
            S.orders.length() > 0,
            data_table(
                ["Order", "Payment", "Amount", "Status", "Credits", "Refunds", "When", ""],
                S.orders,
                _payment_row,
                id="user-payments",
            ),
            rx.text("No orders.", color_scheme="gray", size="2"),
        ),
    )


def _generation_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["id"]),
        rx.table.cell(row["date"]),
        rx.table.cell(
            rx.badge(
                row["status"],
                color_scheme=rx.match(
                    row["status"],
                    ("failed", "red"),
                    ("partial", "amber"),
                    ("succeeded", "grass"),
                    "blue",
                ),
                high_contrast=True,
            )
        ),
        rx.table.cell(row["provider"]),
        rx.table.cell(row["images"], text_align="right"),
        rx.table.cell(row["spent"], text_align="right"),
        rx.table.cell(row["refunded"], text_align="right"),
        rx.table.cell(rx.text(row["error"], size="1", color_scheme="red", high_contrast=True)),
        rx.table.cell(row["latency"]),
    )


def generations_section() -> rx.Component:
    return section(
        "Generations",
        rx.cond(
            S.generations.length() > 0,
            data_table(
                [
                    "Id",
                    "When",
                    "Status",
                    "Provider",
                    "Images",
                    "Spent",
                    "Refunded",
                    "Error",
                    "Time",
                ],
                S.generations,
                _generation_row,
                id="user-generations",
            ),
            rx.text("No generations.", color_scheme="gray", size="2"),
        ),
    )


def sessions_section() -> rx.Component:
    return section(
        "Signed-in sessions",
        rx.cond(
            S.sessions.length() > 0,
            data_table(
                ["Started", "Last seen", "Ends", "Browser"],
                S.sessions,
                lambda row: rx.table.row(
                    rx.table.cell(row["started"]),
                    rx.table.cell(row["seen"]),
                    rx.table.cell(row["expires"]),
                    rx.table.cell(rx.text(row["agent"], size="1")),
                ),
                id="user-sessions",
            ),
            rx.text("No live sessions.", color_scheme="gray", size="2", id="no-sessions"),
        ),
    )


def audit_section() -> rx.Component:
    return section(
        "What staff did",
        rx.cond(
            S.audit.length() > 0,
            data_table(
                ["#", "When", "Who", "Action", "Reason", "Change"],
                S.audit,
                lambda row: rx.table.row(
                    rx.table.cell(row["seq"]),
                    rx.table.cell(row["date"]),
                    rx.table.cell(row["actor"]),
                    rx.table.cell(row["action"]),
                    rx.table.cell(row["reason"]),
                    rx.table.cell(rx.text(row["summary"], size="1")),
                ),
                id="user-audit",
            ),
            rx.text("Nothing yet.", color_scheme="gray", size="2"),
        ),
    )
