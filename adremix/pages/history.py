"""The History page."""

import reflex as rx

from adremix.components.empty_state import empty_state
from adremix.components.shell import protected_page


@protected_page(route="/history", title="History")
def history() -> rx.Component:
    return empty_state(
        "images",
        "Your generations",
        "Everything you generate will be listed here, with filters and search.",
    )
