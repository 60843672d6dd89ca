"""The signed-in app shell: sidebar (drawer on phones), top bar, balance and profile menu."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from adremix import styles
from adremix.components.balance_sync import balance_sync
from adremix.components.brand import logo
from adremix.components.credit_banner import credit_banner
from adremix.components.native_form import native_post_form
from adremix.state.session import SessionState

NAV_ITEMS: list[tuple[str, str, str]] = [
    ("Dashboard", "/", "layout-dashboard"),
    ("New Ad", "/new", "wand-sparkles"),
    ("History", "/history", "images"),
    ("Brand", "/brand", "palette"),
    ("Credits", "/credits", "coins"),
    ("Account", "/account", "user-round"),
]


def nav_link(label: str, href: str, icon: str) -> rx.Component:
    active = rx.State.router.page.path == href  # type: ignore[attr-defined]
    return rx.link(
        rx.hstack(
            rx.icon(icon, size=18),
            rx.text(label, size="3", weight="medium"),
            align="center",
            spacing="3",
            padding_x="0.75rem",
            padding_y="0.55rem",
            border_radius="8px",
            width="100%",
            background=rx.cond(active, rx.color(styles.ACCENT, 3), "transparent"),
            color=rx.cond(active, rx.color(styles.ACCENT, 11), rx.color("gray", 11)),
            _hover={"background": rx.color("gray", 3), "color": rx.color("gray", 12)},
        ),
        href=href,
        underline="none",
        width="100%",
        aria_current=rx.cond(active, "page", "false"),
    )


def nav_links() -> rx.Component:
    return rx.vstack(*[nav_link(*item) for item in NAV_ITEMS], spacing="1", width="100%")


def balance_badge() -> rx.Component:
    return rx.link(
        rx.badge(
            rx.icon("coins", size=14),
            rx.text(SessionState.credit_balance, id="credit-balance", weight="bold"),
            rx.text(rx.cond(SessionState.credit_balance == 1, "credit", "credits")),
            size="2",
            radius="full",
            variant="soft",
            color_scheme=rx.cond(SessionState.credit_balance > 0, "grass", "amber"),
            padding_x="0.7rem",
            padding_y="0.3rem",
        ),
        href="/credits",
        underline="none",
        aria_label="Credit balance",
    )


def sign_out_form(label: str = "Sign out") -> rx.Component:
    # A real POST, so the server revokes the session and clears the HttpOnly cookie; the
    # token proves the post comes from our own page (CSRF).
    return native_post_form(
        rx.el.input(
            type="hidden", name="csrf_token", value=SessionState.sign_out_token, read_only=True
        ),
        rx.el.button(
            rx.hstack(rx.icon("log-out", size=16), rx.text(label), spacing="2", align="center"),
            type="submit",
            id="sign-out",
            style={
                "width": "100%",
                "background": "transparent",
                "border": "none",
                "cursor": "pointer",
                "padding": "0.35rem 0.5rem",
                "color": "var(--red-11)",
                "text_align": "left",
            },
        ),
        action="/auth/logout",
        form_id="sign-out-form",
        width="100%",
    )


def avatar() -> rx.Component:
    return rx.avatar(
        src=SessionState.avatar_url,
        fallback=SessionState.initials,
        size="2",
        radius="full",
        color_scheme=styles.ACCENT,
    )


def profile_menu() -> rx.Component:
    return rx.popover.root(
        rx.popover.trigger(
            rx.button(
                avatar(),
                rx.text(SessionState.user_name, id="user-name", display=["none", "none", "block"]),
                rx.icon("chevron-down", size=14),
                variant="ghost",
                color_scheme="gray",
                aria_label="Profile menu",
                id="profile-menu",
            )
        ),
        rx.popover.content(
            rx.vstack(
                rx.hstack(
                    avatar(),
                    rx.vstack(
                        rx.text(SessionState.user_name, weight="bold", size="2"),
                        rx.text(SessionState.user_email, size="1", color_scheme="gray"),
                        spacing="0",
                    ),
                    align="center",
                ),
                rx.divider(),
                rx.hstack(
                    rx.text("Credits", size="2", color_scheme="gray"),
                    rx.spacer(),
                    rx.text(SessionState.credit_balance, size="2", weight="bold"),
                    width="100%",
                ),
                rx.link("Account settings", href="/account", size="2"),
                rx.link("Buy credits", href="/credits", size="2"),
                # Staff only; its address and words come from the server (SessionState).
                rx.cond(
                    SessionState.console_href != "",
                    rx.link(SessionState.console_label, href=SessionState.console_href, size="2"),
                ),
                rx.divider(),
                sign_out_form(),
                spacing="3",
                min_width="14rem",
            ),
            align="end",
        ),
    )


def sidebar() -> rx.Component:
    return rx.vstack(
        rx.box(logo(), padding_x="0.75rem", padding_y="0.5rem"),
        nav_links(),
        rx.spacer(),
        rx.card(
            rx.vstack(
                rx.text("Balance", size="1", color_scheme="gray"),
                rx.heading(SessionState.credit_balance, size="6"),
                rx.link(
                    rx.button("Buy credits", size="1", width="100%"), href="/credits", width="100%"
                ),
                spacing="2",
            ),
            width="100%",
        ),
        width=styles.SIDEBAR_WIDTH,
        min_width=styles.SIDEBAR_WIDTH,
        height="100vh",
        position="sticky",
        top="0",
        padding="1rem",
        border_right=f"1px solid {rx.color('gray', 4)}",
        background=rx.color("gray", 1),
        display=["none", "none", "flex"],
    )


def mobile_menu() -> rx.Component:
    return rx.box(
        rx.drawer.root(
            rx.drawer.trigger(
                rx.icon_button(rx.icon("menu"), variant="ghost", aria_label="Open navigation")
            ),
            rx.drawer.overlay(z_index="5"),
            rx.drawer.portal(
                rx.drawer.content(
                    rx.vstack(
                        rx.hstack(
                            logo(),
                            rx.spacer(),
                            rx.drawer.close(
                                rx.icon_button(rx.icon("x"), variant="ghost", aria_label="Close")
                            ),
                            width="100%",
                        ),
                        nav_links(),
                        spacing="4",
                        padding="1rem",
                    ),
                    width="16rem",
                    height="100%",
                    background=rx.color("gray", 1),
                )
            ),
            direction="left",
        ),
        display=["block", "block", "none"],
    )


def top_bar(title: str) -> rx.Component:
    return rx.hstack(
        mobile_menu(),
        rx.heading(title, size="5", weight="medium"),
        rx.spacer(),
        balance_badge(),
        profile_menu(),
        align="center",
        spacing="3",
        width="100%",
        padding_x=["1rem", "1rem", "2rem"],
        padding_y="0.75rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        background=rx.color("gray", 1),
        position="sticky",
        top="0",
        z_index="4",
    )


def loading_screen() -> rx.Component:
    return rx.center(rx.spinner(size="3"), height="100vh", width="100%")


def app_shell(title: str, content: rx.Component) -> rx.Component:
    return rx.cond(
        SessionState.signed_in,
        rx.hstack(
            balance_sync(
                balance=SessionState.credit_balance,
                on_balance_changed=SessionState.refresh_balance,
            ),
            sidebar(),
            rx.vstack(
                top_bar(title),
                rx.box(
                    credit_banner(),
                    content,
                    width="100%",
                    max_width=styles.PAGE_MAX_WIDTH,
                    padding=["1rem", "1.5rem", "2rem"],
                ),
                width="100%",
                spacing="0",
                min_height="100vh",
            ),
            spacing="0",
            width="100%",
            background=rx.color("gray", 2),
        ),
        loading_screen(),
    )


def protected_page(
    *, route: str, title: str, on_load: list | None = None
) -> Callable[[Callable[[], rx.Component]], Callable[[], rx.Component]]:
    """Register a page behind sign-in, wrapped in the shell (the reflex templates' pattern)."""

    def decorator(page_body: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
        def page() -> rx.Component:
            return app_shell(title, page_body())

        page.__name__ = page_body.__name__
        PAGES.append(
            (page, route, f"{title} · AdRemix", [SessionState.require_user, *(on_load or [])])
        )
        return page

    return decorator


PAGES: list[tuple[Callable[[], rx.Component], str, str, list]] = []
