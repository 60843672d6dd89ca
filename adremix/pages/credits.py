"""The Credits page."""

import reflex as rx

from adremix.components.empty_state import empty_state
from adremix.components.shell import protected_page


@protected_page(route="/credits", title="Credits")
def credits() -> rx.Component:
    return empty_state(
        "coins",
        "Credits and purchases",
        "Packages, purchases and your credit ledger will live here.",
    )
