"""The admin console's frame: its own header and navigation, the staff member's role,
and the pieces its pages share (filters, pagers, export forms, figures).

Each admin page is registered through `admin_page`, which keeps the page's own module
(functools.wraps) so Reflex compiles it into a chunk of its own: the Overview's charts
load on the Overview only. While the role is being checked the page shows a spinner; a
tab whose user is no longer staff shows the app's not-found page, nothing else.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import reflex as rx

from adremix import styles, urls
from adremix.components.brand import logo
from adremix.components.native_form import native_post_form
from adremix.components.not_found import not_found_body
from adremix.state.admin import AdminState
from adremix.state.session import SessionState

ADMIN_NAV: list[tuple[str, str, str]] = [
    ("Overview", urls.ADMIN, "chart-column"),
    ("Users", urls.ADMIN_USERS, "users"),
    ("Payments", urls.ADMIN_PAYMENTS, "indian-rupee"),
    ("Webhooks", urls.ADMIN_WEBHOOKS, "webhook"),
    ("Failures", urls.ADMIN_FAILURES, "triangle-alert"),
    ("Audit log", urls.ADMIN_AUDIT, "scroll-text"),
]
MAIN_ID = "admin-main"


def _nav_link(label: str, href: str, icon: str) -> rx.Component:
    route = href.rstrip("/") or "/"
    path = rx.State.router.page.path  # type: ignore[attr-defined]
    active = (path == route) | (path.startswith(route + "/") & (route != "/admin"))  # type: ignore[operator]
    return rx.link(
        rx.hstack(
            rx.icon(icon, size=16),
            rx.text(label, size="2", weight="medium"),
            spacing="2",
            align="center",
        ),
        href=href,
        underline="none",
        padding_x="0.75rem",
        padding_y="0.45rem",
        border_radius="8px",
        white_space="nowrap",
        background=rx.cond(active, rx.color(styles.ACCENT, 3), "transparent"),
        color=rx.cond(active, rx.color(styles.ACCENT, 11), rx.color("gray", 11)),
        aria_current=rx.cond(active, "page", "false"),
    )


def admin_header(title: str) -> rx.Component:
    return rx.el.header(
        rx.hstack(
            rx.link(logo("4"), href=urls.ADMIN, underline="none"),
            rx.badge("Admin console", color_scheme="gray", variant="surface", high_contrast=True),
            rx.spacer(),
            rx.text(
                SessionState.user_email, size="2", color_scheme="gray", display=["none", "block"]
            ),
            rx.badge(
                AdminState.role,
                color_scheme=rx.cond(AdminState.is_admin, "violet", "blue"),
                id="staff-role",
                high_contrast=True,
            ),
            rx.link("Back to the app", href="/", size="2"),
            align="center",
            spacing="3",
            width="100%",
            padding_x=["1rem", "1.5rem", "2rem"],
            padding_y="0.75rem",
        ),
        rx.el.nav(
            rx.hstack(*[_nav_link(*item) for item in ADMIN_NAV], spacing="1"),
            aria_label="Admin console",
            overflow_x="auto",
            padding_x=["0.5rem", "1rem", "1.75rem"],
            padding_bottom="0.5rem",
        ),
        rx.el.h1(title, class_name="sr-only"),
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 1),
        position="sticky",
        top="0",
        z_index="4",
        width="100%",
    )


def admin_frame(title: str, content: rx.Component) -> rx.Component:
    return rx.cond(
        AdminState.role != "",
        rx.box(
            admin_header(title),
            rx.el.main(
                rx.vstack(
                    rx.heading(title, size="6"),
                    content,
                    spacing="5",
                    width="100%",
                ),
                id=MAIN_ID,
                tab_index=-1,
                width="100%",
                max_width=styles.PAGE_MAX_WIDTH,
                margin_x="auto",
                padding=["1rem", "1.5rem", "2rem"],
                min_width="0",
            ),
            min_height="100vh",
            background=rx.color("gray", 2),
        ),
        rx.cond(
            AdminState.checked,
            not_found_body(),
            rx.center(rx.spinner(size="3"), min_height="100vh", width="100%"),
        ),
    )


ADMIN_PAGES: list[tuple[Callable[[], rx.Component], str, str, list]] = []


def admin_page(
    *, route: str, title: str, on_load: list
) -> Callable[[Callable[[], rx.Component]], Callable[[], rx.Component]]:
    """Register a console page: sign-in first, then the page's own load (which checks
    the role on the server before it reads anything)."""

    def decorator(page_body: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
        @functools.wraps(page_body)
        def page() -> rx.Component:
            return admin_frame(title, page_body())

        ADMIN_PAGES.append(
            (page, route, f"{title} · AdRemix admin", [SessionState.require_user, *on_load])
        )
        return page

    return decorator


# --- shared pieces --------------------------------------------------------------------------


def field(label: str, control: rx.Component, field_id: str) -> rx.Component:
    """A control with its visible label (the label names it for screen readers)."""
    return rx.vstack(
        rx.el.label(
            label, html_for=field_id, style={"font_size": "0.8rem", "color": "var(--gray-11)"}
        ),
        control,
        spacing="1",
        min_width="9rem",
    )


def select_field(
    label: str, name: str, options: list[tuple[str, str]], value: rx.Var, field_id: str
) -> rx.Component:
    return field(
        label,
        rx.el.select(
            *[rx.el.option(text, value=key) for key, text in options],
            name=name,
            id=field_id,
            default_value=value,
            class_name="admin-select",
            style={
                "height": "2rem",
                "border_radius": "6px",
                "border": "1px solid var(--gray-7)",
                "background": "var(--color-surface)",
                "color": "var(--gray-12)",
                "padding": "0 0.5rem",
            },
        ),
        field_id,
    )


def pager(prev_href: rx.Var, next_href: rx.Var, page: rx.Var | None = None) -> rx.Component:
    return rx.el.nav(
        rx.hstack(
            rx.cond(
                prev_href != "",
                rx.link("← Previous", href=prev_href, id="page-prev"),
                rx.text("← Previous", color_scheme="gray"),
            ),
            *([rx.text("Page ", page, size="2", color_scheme="gray")] if page is not None else []),
            rx.cond(
                next_href != "",
                rx.link("Next →", href=next_href, id="page-next"),
                rx.text("Next →", color_scheme="gray"),
            ),
            spacing="4",
            align="center",
        ),
        aria_label="Pages",
    )


def export_form(table: str, query: rx.Var, label: str = "Export CSV") -> rx.Component:
    """Posts the filters on screen to the CSV export (a real download, with a CSRF token)."""
    form_id = f"export-{table}"
    return native_post_form(
        rx.el.input(
            type="hidden", name="csrf_token", value=AdminState.export_token, read_only=True
        ),
        rx.foreach(
            query,
            lambda pair: rx.el.input(type="hidden", name=pair[0], value=pair[1], read_only=True),
        ),
        rx.button(
            rx.icon("download", size=14),
            label,
            type="submit",
            variant="soft",
            size="2",
            id=f"{form_id}-submit",
        ),
        action=urls.admin_export_url(table),
        form_id=form_id,
    )


def figure(label: str, value: rx.Var, note: str = "", figure_id: str = "") -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="2", color_scheme="gray"),
            rx.heading(value, size="6", id=figure_id or None),
            *([rx.text(note, size="1", color_scheme="gray")] if note else []),
            spacing="1",
        ),
        width="100%",
    )


def loading_note(loading: rx.Var) -> rx.Component:
    return rx.cond(
        loading, rx.hstack(rx.spinner(size="2"), rx.text("Loading…", size="2"), align="center")
    )
