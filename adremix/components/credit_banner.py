"""The low-credit and out-of-credit banner shown above every signed-in page."""

import reflex as rx

from adremix.enums import CreditStatus
from adremix.state.session import SessionState
from adremix.urls import CREDITS


def credit_banner() -> rx.Component:
    return rx.match(
        SessionState.credit_status,
        (
            CreditStatus.EMPTY,
            rx.callout(
                rx.hstack(
                    rx.text("You're out of credits. Each generated image uses one."),
                    rx.link("Buy credits →", href=CREDITS, weight="bold", high_contrast=True),
                    wrap="wrap",
                    spacing="2",
                ),
                icon="circle-alert",
                color_scheme="red",
                high_contrast=True,  # red and amber text reach 4.5:1 only in high contrast
                id="credit-banner",
                margin_bottom="1rem",
            ),
        ),
        (
            CreditStatus.LOW,
            rx.callout(
                rx.hstack(
                    rx.text(f"Running low: {SessionState.credit_balance} credit(s) left."),
                    rx.link("Top up →", href=CREDITS, weight="bold", high_contrast=True),
                    wrap="wrap",
                    spacing="2",
                ),
                icon="triangle-alert",
                color_scheme="amber",
                high_contrast=True,
                id="credit-banner",
                margin_bottom="1rem",
            ),
        ),
        rx.fragment(),
    )
