"""Reflex configuration: the app module, its port and the plugins it needs."""

import reflex as rx

from adremix.bundling import FrontendEdits
from adremix.settings import get_settings
from adremix.styles import ACCENT, GRAY, RadixThemesColors

config = rx.Config(
    app_name="adremix",
    # Only our own pages may call the backend: Reflex applies this to its CORS middleware
    # and to the websocket handshake (Socket.IO refuses any other Origin). Never "*", and
    # never empty (an empty list turns Socket.IO's check off): production without
    # ADREMIX_PUBLIC_URL does not start anyway.
    cors_allowed_origins=get_settings().allowed_origins or ["null-origin.invalid"],
    show_built_with_reflex=False,
    # Weight per route (bench/frontend.py): Radix Themes' whole namespace is imported on
    # every page only for dynamically evaluated components, which the app has none of; and
    # Brotli sidecars next to gzip (browsers ask for br first).
    frontend_lazy_bundled_libraries=True,
    frontend_compression_formats=["brotli", "gzip"],
    telemetry_enabled=False,
    # One Redis for the app (ADREMIX_REDIS_URL): with it Reflex keeps page state in Redis,
    # so several web workers can serve one user (REFLEX_REDIS_URL still overrides it).
    redis_url=get_settings().redis_url or None,
    # The database belongs to our own engine (adremix/db.py) and Alembic, not rx.Model.
    plugins=[
        RadixThemesColors(theme=rx.theme(accent_color=ACCENT, gray_color=GRAY, radius="large")),
        FrontendEdits(),
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
