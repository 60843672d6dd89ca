"""The Reflex app: pages, theme and the HTTP routes that are not pages."""

import logging
from datetime import UTC, datetime

import reflex as rx

from adremix import pages  # noqa: F401  (importing registers every page)
from adremix.api import build_api_app
from adremix.blocking import call
from adremix.components.shell import PAGES
from adremix.pages.login import login
from adremix.services.generation import recover_interrupted
from adremix.settings import get_settings
from adremix.state.session import LoginState

settings = get_settings()
settings.ensure_startable()

app = rx.App(
    api_transformer=build_api_app(settings),
    head_components=[rx.el.meta(name="theme-color", content="#6e56cf")],
)
app.add_page(login, route="/login", title="Sign in · AdRemix", on_load=LoginState.load)
for component, route, title, on_load in PAGES:
    app.add_page(component, route=route, title=title, on_load=on_load)


@app.register_lifespan_task
async def fail_interrupted_generations() -> None:
    """Generations a crashed process left running are failed and refunded at start-up."""
    count = await call(recover_interrupted, started_before=datetime.now(UTC))
    if count:
        logging.getLogger(__name__).warning("Refunded %s interrupted generation(s)", count)
