"""The Reflex app: pages, theme and the HTTP routes that are not pages."""

import asyncio
import logging

import reflex as rx

from adremix import pages  # noqa: F401  (importing registers every page)
from adremix.api import build_api_app
from adremix.components.shell import PAGES
from adremix.models import utcnow
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
    started = utcnow()
    count = await asyncio.to_thread(recover_interrupted, started_before=started)
    if count:
        logging.getLogger(__name__).warning("Refunded %s interrupted generation(s)", count)
