"""The Reflex app: pages, theme and the HTTP routes that are not pages."""

import reflex as rx

from adremix import pages  # noqa: F401  (importing registers every page)
from adremix.api import build_api_app
from adremix.components.shell import PAGES
from adremix.settings import get_settings

settings = get_settings()
settings.ensure_startable()

app = rx.App(
    api_transformer=build_api_app(settings),
    head_components=[rx.el.meta(name="theme-color", content="#6e56cf")],
)
for component, route, title, on_load in PAGES:
    app.add_page(component, route=route, title=title, on_load=on_load)
