"""The signed-in app shell: sidebar (drawer on phones), top bar, balance and profile menu."""

from __future__ import annotations

import functools
from collections.abc import Callable

import reflex as rx
from reflex.vars import FunctionStringVar

from adremix import styles, urls
from adremix.components.balance_sync import balance_sync
from adremix.components.brand import logo
from adremix.components.credit_banner import credit_banner
from adremix.components.link_button import link_button
from adremix.components.native_form import native_post_form
from adremix.components.overlay import client_popover, client_while_open
from adremix.state.session import SessionState

NAV_ITEMS: list[tuple[str, str, str]] = [
    ("Dashboard", urls.DASHBOARD, "layout-dashboard"),
    ("New Ad", urls.NEW_AD, "wand-sparkles"),
    ("History", urls.HISTORY, "images"),
    ("Brand", urls.BRAND, "palette"),
    ("Credits", urls.CREDITS, "coins"),
    ("Account", urls.ACCOUNT, "user-round"),
]
MAIN_ID = "main-content"


def nav_link(label: str, href: str, icon: str, current_route: str) -> rx.Component:
    # Each page compiles its own shell, so the page's link is marked when it is compiled:
    # a link bound to the router state re-rendered on every state update at load.
    active = urls.route_of(href) == current_route
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
            background=rx.color(styles.ACCENT, 3) if active else "transparent",
            color=rx.color(styles.ACCENT, 11) if active else rx.color("gray", 11),
            _hover={"background": rx.color("gray", 3), "color": rx.color("gray", 12)},
        ),
        href=href,
        underline="none",
        width="100%",
        aria_current="page" if active else "false",
    )


def nav_links(label: str, current_route: str) -> rx.Component:
    return rx.el.nav(
        rx.vstack(
            *[nav_link(*item, current_route) for item in NAV_ITEMS], spacing="1", width="100%"
        ),
        aria_label=label,
        width="100%",
    )


def until_signed_in(child: rx.Component) -> rx.Component:
    """Holds the place of what shows the user's own data until it has arrived, so the
    prerendered page has the final layout and nothing moves when it fills in."""
    return rx.skeleton(child, loading=~SessionState.signed_in)


def balance_badge() -> rx.Component:
    # Named by its visible text ("2 credits"): an aria-label would hide the balance.
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
        href=urls.CREDITS,
        underline="none",
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
    # Radix Themes' avatar markup and classes, without its script: Radix's AvatarImage sets
    # its loading status in a layout effect, a synchronous update in the middle of the
    # page's first hydration commit, and React then runs every passive effect of the whole
    # page and a second render in that same task (/new/'s one long task on a slow phone).
    # The image shows when the account has one; otherwise the initials.
    return rx.el.span(
        rx.cond(
            SessionState.avatar_url != "",
            rx.el.img(src=SessionState.avatar_url, alt="", class_name="rt-AvatarImage"),
            rx.el.span(
                SessionState.initials,
                class_name=rx.cond(
                    SessionState.initials.length() == 1,
                    "rt-AvatarFallback rt-one-letter",
                    "rt-AvatarFallback rt-two-letters",
                ),
            ),
        ),
        class_name="rt-reset rt-AvatarRoot rt-r-size-2 rt-variant-soft",
        custom_attrs={"data-accent-color": styles.ACCENT, "data-radius": "full"},
    )


def _profile_button(**props: object) -> rx.Component:
    # Named by what it shows, the user's name, plus what it is; no aria-label over it.
    return rx.button(
        rx.el.span(avatar(), aria_hidden="true", display="contents"),
        rx.text(SessionState.user_name, id="user-name", display=["none", "none", "block"]),
        rx.el.span(" account menu", class_name="sr-only"),
        rx.icon("chevron-down", size=14),
        variant="ghost",
        color_scheme="gray",
        id="profile-menu",
        # Nothing to show in it before the session has arrived.
        disabled=~SessionState.signed_in,
        **props,
    )


def profile_menu() -> rx.Component:
    return client_popover(
        _profile_button,
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
                rx.link("Account settings", href=urls.ACCOUNT, size="2"),
                rx.link("Buy credits", href=urls.CREDITS, size="2"),
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


def sidebar(current_route: str) -> rx.Component:
    return rx.vstack(
        rx.box(logo(), padding_x="0.75rem", padding_y="0.5rem"),
        nav_links("Main", current_route),
        rx.spacer(),
        rx.card(
            rx.vstack(
                rx.text("Balance", size="1", color_scheme="gray"),
                until_signed_in(rx.text(SessionState.credit_balance, size="6", weight="bold")),
                link_button("Buy credits", href=urls.CREDITS, size="1", width="100%"),
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


def mobile_menu(current_route: str) -> rx.Component:
    # A Radix dialog drawn as a sheet from the left. It was vaul's drawer: 29 KB of
    # script on every signed-in page for a menu that is closed at load, while the dialog
    # is in the Radix bundle every page loads anyway.
    return rx.box(
        client_while_open(
            rx.dialog.root,
            rx.dialog.trigger(
                rx.icon_button(rx.icon("menu"), variant="ghost", aria_label="Open navigation")
            ),
            rx.dialog.content(
                rx.dialog.title("Navigation", class_name="sr-only"),
                rx.vstack(
                    rx.hstack(
                        logo(),
                        rx.spacer(),
                        rx.dialog.close(
                            rx.icon_button(rx.icon("x"), variant="ghost", aria_label="Close")
                        ),
                        width="100%",
                    ),
                    nav_links("Main (menu)", current_route),
                    spacing="4",
                ),
                class_name="nav-sheet",
            ),
        ),
        display=["block", "block", "none"],
    )


def top_bar(title: str, current_route: str) -> rx.Component:
    return rx.el.header(
        rx.hstack(
            mobile_menu(current_route),
            rx.heading(title, size="5", weight="medium"),
            rx.spacer(),
            until_signed_in(balance_badge()),
            until_signed_in(profile_menu()),
            align="center",
            spacing="3",
            width="100%",
            padding_x=["1rem", "1rem", "2rem"],
            padding_y="0.75rem",
            border_bottom=f"1px solid {rx.color('gray', 4)}",
            background=rx.color("gray", 1),
        ),
        position="sticky",
        top="0",
        z_index="4",
        width="100%",
    )


def app_shell(title: str, content: rx.Component, current_route: str) -> rx.Component:
    # The shell and the page are prerendered as they will look, so the first paint is the
    # page itself rather than a spinner. Their controls stay disabled (the fieldset) until
    # the signed-in state has arrived: input made before then would be lost.
    return rx.hstack(
        rx.el.a(
            "Skip to content",
            href=f"#{MAIN_ID}",
            class_name="skip-link",
            # Following the link only scrolls; focus must move too, or Tab goes on
            # through the navigation.
            on_click=FunctionStringVar.create(
                f"() => document.getElementById('{MAIN_ID}').focus()"
            ),
        ),
        # Mounted with the user's balance, so that its arrival is not taken for a change.
        rx.cond(
            SessionState.signed_in,
            balance_sync(
                balance=SessionState.credit_balance,
                on_balance_changed=SessionState.refresh_balance,
            ),
        ),
        sidebar(current_route),
        rx.vstack(
            top_bar(title, current_route),
            rx.el.main(
                credit_banner(),
                rx.el.fieldset(
                    content,
                    disabled=~SessionState.signed_in,
                    id="page-controls",
                    border="none",
                    margin="0",
                    padding="0",
                    min_width="0",
                ),
                id=MAIN_ID,
                tab_index=-1,
                width="100%",
                max_width=styles.PAGE_MAX_WIDTH,
                padding=["1rem", "1.5rem", "2rem"],
                # A narrow screen never scrolls sideways: wide content scrolls inside.
                min_width="0",
            ),
            width="100%",
            spacing="0",
            min_height="100vh",
        ),
        spacing="0",
        width="100%",
        background=rx.color("gray", 2),
    )


def protected_page(
    *, route: str, title: str, on_load: list | None = None
) -> Callable[[Callable[[], rx.Component]], Callable[[], rx.Component]]:
    """Register a page behind sign-in, wrapped in the shell (the reflex templates' pattern)."""

    def decorator(page_body: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
        # wraps() gives the page its body's module: Reflex compiles each page's components
        # into a file named after that module, so every route gets its own chunk (left as
        # this module, all pages shared one, with the dashboard's charts in it).
        @functools.wraps(page_body)
        def page() -> rx.Component:
            return app_shell(title, page_body(), route)

        PAGES.append(
            (page, route, f"{title} · AdRemix", [SessionState.require_user, *(on_load or [])])
        )
        return page

    return decorator


PAGES: list[tuple[Callable[[], rx.Component], str, str, list]] = []
