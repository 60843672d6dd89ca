"""The Account page."""

import reflex as rx

from adremix.components.empty_state import empty_state
from adremix.components.shell import protected_page


@protected_page(route="/account", title="Account")
def account() -> rx.Component:
    return empty_state(
        "user-round", "Your account", "Profile, sessions and data export will live here."
    )
