"""The Reflex app: pages, theme and the HTTP routes that are not pages."""

import asyncio
import logging

import reflex as rx
from reflex.utils.prerequisites import get_web_dir
from reflex_base.constants import Dirs

from adremix import pages  # noqa: F401  (importing registers every page)
from adremix.api import build_api_app
from adremix.api.admin_gate import admin_gate
from adremix.api.headers import security_headers
from adremix.api.socket_session import hash_session_on_socket
from adremix.api.upload_guard import guard_uploads
from adremix.blocking import call
from adremix.components.admin_shell import ADMIN_PAGES
from adremix.components.shell import PAGES
from adremix.pages.login import login
from adremix.pages.not_found import not_found
from adremix.services import billing
from adremix.services.accounts import purge_ended_sessions
from adremix.services.admin import refresh_metrics
from adremix.services.generation import MAX_UPLOAD_BYTES, serve_in_process
from adremix.settings import ConfigurationError, get_settings
from adremix.state.errors import backend_error_toast
from adremix.state.guard import EventGuard
from adremix.state.session import LoginState, SessionState, current_user_id
from adremix.urls import LOGIN, route_of

settings = get_settings()
settings.ensure_startable()
# Invoices print the seller's GSTIN: production does not start with one that is wrong.
if settings.is_production and (
    gstin_problem := billing.supplier_gstin_problem(settings.seller_gstin, settings.seller_state)
):
    raise ConfigurationError(gstin_problem)
TOAST_OFFSET = "72px"  # clears the sticky top bar (components/shell.py)


async def tab_user_id(client_token: str) -> int | None:
    """Who a tab's state is signed in as (the session cookie of its websocket)."""
    token = rx.BaseStateToken(ident=client_token, cls=SessionState)
    async with app.modify_state(token) as state:
        return await current_user_id(state)


DESCRIPTION = (
    "Upload an ad, say what to change, and get fresh on-brand creatives for every "
    "placement, made by OpenAI's image model. Pay per image in INR."
)
# What a link to the sign-in page shows when it is shared (Open Graph, X cards). Open
# Graph wants absolute URLs: the public address is known when the pages are compiled.
SHARE_IMAGE = settings.effective_public_url + "/og-image.png"
SHARING = [
    {"property": "og:url", "content": settings.effective_public_url + LOGIN},
    {"property": "og:title", "content": "AdRemix: remix your best ads in seconds"},
    {"property": "og:description", "content": DESCRIPTION},
    {"property": "og:type", "content": "website"},
    {"property": "og:site_name", "content": "AdRemix"},
    {"property": "og:image:alt", "content": "AdRemix: remix your best ads in seconds"},
    {"name": "twitter:card", "content": "summary_large_image"},
]


app = rx.App(
    # Our routes in front of Reflex's, then wrappers around everything (pages and
    # compiled assets included, as `reflex run --single-port` mounts them inside): the
    # websocket handshake loses the raw session token, uploads are checked before Reflex
    # reads them, the admin console is a missing page to anyone but staff, and every
    # response gets headers.
    api_transformer=[
        build_api_app(settings),
        hash_session_on_socket,
        guard_uploads(max_file_bytes=MAX_UPLOAD_BYTES, tab_user_id=tab_user_id),
        admin_gate(),
        security_headers(settings, static_dir=get_web_dir() / Dirs.STATIC),
    ],
    head_components=[rx.el.meta(name="theme-color", content="#6e56cf")],
    # Top right, below the sticky top bar, on every screen: at the bottom, toasts covered
    # New Ad's sticky Generate button on phones (sonner's mobileOffset applies < 600 px).
    toaster=rx.toast.provider(
        position="top-right",
        offset=TOAST_OFFSET,
        close_button=True,
        custom_attrs={"mobileOffset": TOAST_OFFSET},
        # Without it Sonner reads the page's direction with getComputedStyle on every
        # render of the toaster, forcing a style recalculation of the whole page in the
        # middle of hydration (a quarter of a second on a throttled phone).
        dir="ltr",
    ),
    html_custom_attrs={"dir": "ltr"},
    # An exception no handler expected: logged with its request, one generic message.
    backend_exception_handler=backend_error_toast,
    # Focus rings, screen-reader text and toast contrast; bundled into the one stylesheet.
    stylesheets=["/adremix.css"],
)
# Crafted events (wrong arguments, huge strings, no session) stop here.
app.add_middleware(EventGuard())
app.add_page(
    login,
    route=route_of(LOGIN),
    title="Sign in · AdRemix",
    description=DESCRIPTION,
    image=SHARE_IMAGE,
    meta=SHARING,
    on_load=LoginState.load,
)
for component, route, title, on_load in PAGES + ADMIN_PAGES:
    app.add_page(component, route=route, title=title, description=DESCRIPTION, on_load=on_load)
app.add_page(not_found, route="404", title="Page not found · AdRemix")


@app.register_lifespan_task
async def run_generation_jobs() -> None:
    """With the default in-process queue this process runs the generation jobs: it first
    resumes what a previous run left unfinished, then keeps leases alive and sweeps.
    With the Redis queue, `python -m adremix worker` processes do that instead."""
    await serve_in_process()


SESSION_PURGE_INTERVAL_S = 3600


@app.register_lifespan_task
async def purge_sessions_hourly() -> None:
    """Ended sessions (expired, idle or revoked) are deleted at start-up and every hour."""
    while True:
        purged = await call(purge_ended_sessions)
        if purged:
            logging.getLogger(__name__).info("Purged %s ended session(s)", purged)
        await asyncio.sleep(SESSION_PURGE_INTERVAL_S)


METRICS_REFRESH_INTERVAL_S = 60


@app.register_lifespan_task
async def refresh_admin_metrics() -> None:
    """The Overview's daily figures are summed in the background, every minute (what a
    refresh has not reached is summed when the Overview is read, so nothing is missing)."""
    while True:
        try:
            await call(refresh_metrics)
        except Exception:
            logging.getLogger(__name__).exception("Refreshing the admin metrics failed")
        await asyncio.sleep(METRICS_REFRESH_INTERVAL_S)
