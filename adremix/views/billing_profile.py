"""Account page: the billing profile form (legal name, address, State, optional GSTIN)."""

from __future__ import annotations

import reflex as rx

from adremix.components.field import caption, labelled_by
from adremix.services.billing import STATES
from adremix.state.billing import BillingProfileState

STATE_CHOICES = sorted(STATES.items(), key=lambda item: item[1])


def _field(label: str, name: str, value: rx.Var, *, hint: str = "", **props) -> rx.Component:  # type: ignore[no-untyped-def]
    problem = BillingProfileState.problems.get(name, "")
    return rx.vstack(
        caption(label, "billing-" + name),
        rx.input(
            name=name,
            id="billing-" + name,
            default_value=value,
            key=value,
            aria_invalid=rx.cond(problem != "", "true", "false"),
            aria_describedby="billing-" + name + "-note",
            width="100%",
            **props,
        ),
        rx.text(
            rx.cond(problem != "", problem, hint),
            size="1",
            color=rx.cond(problem != "", rx.color("red", 11), rx.color("gray", 11)),
            id="billing-" + name + "-note",
        ),
        spacing="1",
        width="100%",
    )


def billing_profile() -> rx.Component:
    state_problem = BillingProfileState.problems.get("state_code", "")
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Billing details", as_="h2", size="4"),
                rx.cond(
                    BillingProfileState.saved,
                    rx.badge("On your invoices", color_scheme="grass", high_contrast=True),
                    rx.badge("Not set yet", color_scheme="gray", high_contrast=True),
                ),
                align="center",
                spacing="3",
            ),
            rx.text(
                "Printed on your GST tax invoices. Add your GSTIN to claim input tax credit; "
                "documents already issued keep the details they were issued with.",
                size="2",
                color_scheme="gray",
            ),
            rx.form(
                rx.vstack(
                    rx.grid(
                        _field(
                            "Legal name",
                            "legal_name",
                            BillingProfileState.legal_name,
                            max_length=200,
                            auto_complete="organization",
                        ),
                        _field(
                            "GSTIN (optional)",
                            "gstin",
                            BillingProfileState.gstin,
                            hint="15 characters, e.g. 29ABCDE1234F1Z5",
                            max_length=15,
                        ),
                        _field(
                            "Address",
                            "address_line1",
                            BillingProfileState.address_line1,
                            max_length=200,
                            auto_complete="address-line1",
                        ),
                        _field(
                            "Address line 2 (optional)",
                            "address_line2",
                            BillingProfileState.address_line2,
                            max_length=200,
                            auto_complete="address-line2",
                        ),
                        _field(
                            "City",
                            "city",
                            BillingProfileState.city,
                            max_length=100,
                            auto_complete="address-level2",
                        ),
                        _field(
                            "PIN code",
                            "pin_code",
                            BillingProfileState.pin_code,
                            max_length=6,
                            input_mode="numeric",
                            auto_complete="postal-code",
                        ),
                        rx.vstack(
                            caption("State", "billing-state_code"),
                            rx.select.root(
                                rx.select.trigger(
                                    placeholder="Choose the State",
                                    id="billing-state_code",
                                    width="100%",
                                    custom_attrs={
                                        **labelled_by("billing-state_code"),
                                        "aria-describedby": "billing-state_code-note",
                                    },
                                ),
                                rx.select.content(
                                    *[
                                        rx.select.item(f"{name} ({code})", value=code)
                                        for code, name in STATE_CHOICES
                                    ]
                                ),
                                value=BillingProfileState.state_code,
                                on_change=BillingProfileState.set_state_code,
                            ),
                            rx.text(
                                rx.cond(
                                    state_problem != "",
                                    state_problem,
                                    "Decides CGST + SGST or IGST.",
                                ),
                                size="1",
                                color=rx.cond(
                                    state_problem != "", rx.color("red", 11), rx.color("gray", 11)
                                ),
                                id="billing-state_code-note",
                            ),
                            spacing="1",
                            width="100%",
                        ),
                        columns=rx.breakpoints(initial="1", md="2"),
                        spacing="3",
                        width="100%",
                    ),
                    rx.button(
                        "Save billing details",
                        type="submit",
                        loading=BillingProfileState.saving,
                        id="save-billing",
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=BillingProfileState.save,
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="billing-profile",
    )
