"""The app's not-found page (Reflex's route "404"): every address no page has."""

import reflex as rx

from adremix.components.not_found import not_found_body


def not_found() -> rx.Component:
    return not_found_body()
