"""The sign-in page: Google, plus a developer sign-in when running offline."""

import reflex as rx

from adremix import styles
from adremix.components.brand import logo
from adremix.components.field import field
from adremix.components.link_button import link_button
from adremix.components.native_form import native_post_form
from adremix.state.session import LoginState


def google_button() -> rx.Component:
    # A document navigation, not client-side routing: sign-in is a real HTTP redirect chain.
    return link_button(
        rx.image(src="/google.svg", width="18px", height="18px", alt=""),
        "Continue with Google",
        href=LoginState.google_href,
        reload_document=True,
        size="3",
        variant="outline",
        color_scheme="gray",
        width="100%",
        high_contrast=True,
        id="google-sign-in",
    )


def dev_sign_in() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.separator(size="4"),
            rx.text("or", size="1", color_scheme="gray"),
            rx.separator(size="4"),
            align="center",
            width="100%",
        ),
        rx.callout(
            "Developer sign-in: Google is not configured, so any e-mail signs in. "
            "Never available in production.",
            icon="flask-conical",
            color_scheme="amber",
            high_contrast=True,
            size="1",
            width="100%",
        ),
        native_post_form(
            rx.vstack(
                field(
                    "E-mail",
                    "dev-email",
                    rx.input(
                        name="email",
                        type="email",
                        placeholder="you@example.com",
                        required=True,
                        size="3",
                        width="100%",
                        id="dev-email",
                        auto_complete="email",
                    ),
                ),
                rx.el.input(type="hidden", name="next", value=LoginState.next_path, read_only=True),
                rx.el.input(
                    type="hidden", name="csrf_token", value=LoginState.sign_in_token, read_only=True
                ),
                rx.button(
                    "Sign in as developer",
                    type="submit",
                    size="3",
                    width="100%",
                    id="dev-sign-in",
                    # Until the form's CSRF token has arrived, a press would only be refused.
                    disabled=LoginState.sign_in_token == "",
                ),
                spacing="2",
                width="100%",
            ),
            action="/auth/dev/login",
            form_id="dev-sign-in-form",
            width="100%",
        ),
        spacing="3",
        width="100%",
        id="dev-sign-in-section",
    )


def login() -> rx.Component:
    # The card hangs from the top and everything that depends on the server (an error,
    # which sign-ins exist) comes last in it: when that arrives after hydration the card
    # only grows downwards, and nothing already on screen moves (no layout shift).
    return rx.flex(
        rx.card(
            rx.vstack(
                logo("6"),
                rx.heading("Remix your best ads in seconds", size="7", align="center"),
                rx.text(
                    "Upload an ad, say what to change, and get fresh on-brand creatives "
                    "for every placement.",
                    color_scheme="gray",
                    align="center",
                ),
                rx.text(
                    "By continuing you agree to AdRemix's terms of service.",
                    size="1",
                    color_scheme="gray",
                    align="center",
                ),
                rx.cond(
                    LoginState.error_message != "",
                    rx.callout(
                        LoginState.error_message,
                        icon="triangle-alert",
                        color_scheme="red",
                        high_contrast=True,
                        width="100%",
                        id="sign-in-error",
                        role="alert",
                    ),
                ),
                rx.cond(
                    LoginState.google_enabled | ~LoginState.dev_sign_in_enabled,
                    google_button(),
                ),
                rx.cond(LoginState.dev_sign_in_enabled, dev_sign_in()),
                spacing="5",
                align="center",
                width="100%",
            ),
            size="4",
            width="100%",
            max_width="26rem",
            box_shadow=styles.CARD_SHADOW,
        ),
        justify="center",
        align="start",
        min_height="100vh",
        padding="1rem",
        padding_top="clamp(1rem, 8vh, 5rem)",
        background=f"radial-gradient(circle at 20% 10%, {rx.color('violet', 4)}, transparent 45%), "
        f"radial-gradient(circle at 80% 90%, {rx.color('crimson', 3)}, transparent 40%), "
        f"{rx.color('gray', 2)}",
    )
