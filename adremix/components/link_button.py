"""Links that look like buttons or menu items: one element and one tab stop.

`rx.link(rx.button(...))` renders a button inside a link: two tab stops for one action
and a control nested in a control. Radix's `as_child` gives the button's (or the menu
item's) role and looks to the link itself instead.
"""

from __future__ import annotations

import reflex as rx
from reflex_components_core.react_router.dom import ReactRouterLink


def _anchor(
    *children: rx.Component | str, href: str | rx.Var, reload_document: bool
) -> rx.Component:
    # Reflex turns every internal <a> into a client-side route change; downloads and
    # server routes (sign-in, exports, files) need the browser to follow them itself.
    return ReactRouterLink.create(*children, to=href, reload_document=reload_document)


def link_button(
    *children: rx.Component | str, href: str | rx.Var, reload_document: bool = False, **props
) -> rx.Component:
    """`reload_document` for downloads and server routes; otherwise client-side routing."""
    return rx.button(
        _anchor(*children, href=href, reload_document=reload_document), as_child=True, **props
    )


def link_menu_item(label: str, href: str | rx.Var) -> rx.Component:
    """A menu item that is a download link (the menu's arrow keys reach it, Enter follows)."""
    return rx.menu.item(_anchor(label, href=href, reload_document=True), as_child=True)
