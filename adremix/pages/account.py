"""Account: profile, preferences, templates, sessions, data export and deletion."""

from collections.abc import Callable

import reflex as rx

from adremix.components.field import field, labelled_by
from adremix.components.link_button import link_button
from adremix.components.shell import protected_page
from adremix.services.generation import MAX_VARIATIONS, PLACEMENTS, QUALITIES, STYLES
from adremix.services.library import MAX_LOW_CREDIT_THRESHOLD
from adremix.state.account import AccountState, SessionRow, TemplateRow
from adremix.state.billing import BillingProfileState
from adremix.state.session import SessionState
from adremix.urls import ACCOUNT, route_of
from adremix.views.billing_profile import billing_profile


def card_section(title: str, *children: rx.Component, **props) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.card(
        rx.vstack(rx.heading(title, as_="h2", size="4"), *children, spacing="3", width="100%"),
        width="100%",
        **props,
    )


def profile() -> rx.Component:
    return card_section(
        "Profile",
        rx.hstack(
            rx.avatar(
                src=SessionState.avatar_url, fallback=SessionState.initials, size="5", radius="full"
            ),
            rx.vstack(
                rx.text(SessionState.user_name, weight="bold", size="4"),
                rx.text(SessionState.user_email, color_scheme="gray", id="account-email"),
                rx.text(
                    "Name and picture come from your Google account.", size="1", color_scheme="gray"
                ),
                spacing="1",
            ),
            align="center",
            spacing="4",
        ),
    )


def preference_choice(
    label: str, name: str, options: list[str], value: rx.Var, on_change: Callable
) -> rx.Component:
    """One of the New Ad defaults; `name` is its form field (and, short, its id)."""
    control_id = "pref-" + name.removeprefix("default_")
    return field(
        label,
        control_id,
        rx.select(
            options,
            value=value,
            on_change=on_change,
            name=name,
            id=control_id,
            custom_attrs=labelled_by(control_id),
        ),
    )


def preferences() -> rx.Component:
    return card_section(
        "Preferences",
        rx.text("Applied to every new ad.", size="2", color_scheme="gray"),
        rx.form(
            rx.vstack(
                rx.grid(
                    preference_choice(
                        "Default style",
                        "default_template",
                        list(STYLES),
                        AccountState.default_template,
                        AccountState.set_default_template,
                    ),
                    preference_choice(
                        "Default placement",
                        "default_placement",
                        list(PLACEMENTS),
                        AccountState.default_placement,
                        AccountState.set_default_placement,
                    ),
                    preference_choice(
                        "Default quality",
                        "default_quality",
                        list(QUALITIES),
                        AccountState.default_quality,
                        AccountState.set_default_quality,
                    ),
                    preference_choice(
                        "Default variations",
                        "default_variations",
                        [str(n) for n in range(1, MAX_VARIATIONS + 1)],
                        AccountState.default_variations,
                        AccountState.set_default_variations,
                    ),
                    field(
                        "Warn when credits are at or below",
                        "pref-threshold",
                        rx.input(
                            type="number",
                            min=0,
                            max=MAX_LOW_CREDIT_THRESHOLD,
                            name="low_credit_threshold",
                            default_value=AccountState.low_credit_threshold,
                            key=AccountState.low_credit_threshold,
                            id="pref-threshold",
                        ),
                    ),
                    columns=rx.breakpoints(initial="1", md="3"),
                    spacing="3",
                    width="100%",
                ),
                rx.button("Save preferences", type="submit", id="save-preferences"),
                spacing="3",
                width="100%",
            ),
            on_submit=AccountState.save_preferences,
            width="100%",
        ),
    )


def template_row(template: TemplateRow) -> rx.Component:
    return rx.hstack(
        rx.icon("bookmark", size=16),
        rx.text(template.name, weight="medium"),
        rx.spacer(),
        rx.popover.root(
            rx.popover.trigger(rx.button("Rename", size="1", variant="soft")),
            rx.popover.content(
                rx.form(
                    rx.hstack(
                        rx.input(
                            name="name",
                            default_value=template.name,
                            max_length=80,
                            aria_label="Template name",
                        ),
                        rx.popover.close(rx.button("Save", type="submit")),
                    ),
                    on_submit=lambda form: AccountState.rename_template(template.id, form),
                ),
            ),
        ),
        rx.button(
            "Delete",
            size="1",
            variant="soft",
            color_scheme="red",
            high_contrast=True,
            on_click=AccountState.delete_template(template.id),
        ),
        width="100%",
        align="center",
        class_name="template-row",
    )


def templates() -> rx.Component:
    return card_section(
        "Saved templates",
        rx.cond(
            AccountState.templates.length() > 0,
            rx.vstack(rx.foreach(AccountState.templates, template_row), width="100%"),
            rx.text(
                "Save a generation as a template from History to reuse its instructions "
                "and options.",
                size="2",
                color_scheme="gray",
            ),
        ),
    )


def session_row(row: SessionRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.device),
        rx.table.cell(row.started),
        rx.table.cell(
            rx.cond(
                row.current, rx.badge("This browser", color_scheme="grass", high_contrast=True), ""
            )
        ),
    )


def sessions() -> rx.Component:
    return card_section(
        "Signed-in sessions",
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Device"),
                    rx.table.column_header_cell("Signed in"),
                    rx.table.column_header_cell(""),
                )
            ),
            rx.table.body(rx.foreach(AccountState.sessions, session_row)),
            width="100%",
            id="sessions-table",
        ),
        rx.button(
            "Sign out everywhere",
            color_scheme="red",
            high_contrast=True,
            variant="soft",
            on_click=AccountState.sign_out_everywhere,
            id="sign-out-everywhere",
        ),
    )


def data() -> rx.Component:
    return card_section(
        "Your data",
        rx.text(
            "Download a zip of your images with a JSON of your generations, credit "
            "ledger and payments.",
            size="2",
        ),
        link_button(
            rx.icon("download", size=14),
            "Export my data",
            href="/api/account/export.zip",
            reload_document=True,
            variant="soft",
            id="export-data",
        ),
        rx.divider(),
        rx.text("Delete account", weight="bold", color_scheme="red"),
        rx.text(
            "Deletes your images, templates, collections and personal details. Credit "
            "and payment records are kept, anonymised, for accounting. This cannot be "
            "undone.",
            size="2",
        ),
        rx.hstack(
            rx.input(
                placeholder="Type your e-mail to confirm",
                aria_label="Type your e-mail to confirm",
                value=AccountState.delete_confirmation,
                on_change=AccountState.set_delete_confirmation,
                id="delete-confirmation",
                width="18rem",
            ),
            rx.button(
                "Delete my account",
                color_scheme="red",
                high_contrast=True,  # white on solid red is 3.9:1
                disabled=AccountState.delete_confirmation.lower() != SessionState.user_email,
                on_click=AccountState.delete_account,
                id="delete-account",
            ),
            wrap="wrap",
        ),
    )


@protected_page(
    route=route_of(ACCOUNT),
    title="Account",
    on_load=[AccountState.load, BillingProfileState.load],
)
def account() -> rx.Component:
    return rx.vstack(
        profile(),
        billing_profile(),
        preferences(),
        templates(),
        sessions(),
        data(),
        spacing="4",
        width="100%",
    )
