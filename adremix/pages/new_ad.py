"""The New Ad page."""

import reflex as rx

from adremix.components.empty_state import empty_state
from adremix.components.shell import protected_page


@protected_page(route="/new", title="New Ad")
def new_ad() -> rx.Component:
    return empty_state(
        "wand-sparkles",
        "Upload an ad and describe the remix",
        "Remixing arrives here next — upload, describe, generate.",
    )
