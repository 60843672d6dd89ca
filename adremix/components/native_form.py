"""A form that really POSTs to a server route (sign-in, sign-out).

Reflex's form always calls `preventDefault` to route the data through the websocket;
these routes must set or clear an HttpOnly cookie, which only a real HTTP response can.
`HTMLFormElement.submit()` skips submit handlers and performs the native submission.
"""

import reflex as rx


def native_post_form(*children: rx.Component, action: str, form_id: str, **props) -> rx.Component:
    return rx.el.form(
        *children,
        action=action,
        method="post",
        id=form_id,
        on_submit=rx.call_script(f"document.getElementById('{form_id}').submit()"),
        **props,
    )
