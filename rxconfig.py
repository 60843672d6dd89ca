"""Reflex configuration: the app module, its port and the plugins it needs."""

import reflex as rx

config = rx.Config(
    app_name="adremix",
    show_built_with_reflex=False,
    telemetry_enabled=False,
    # The database belongs to our own engine (adremix/db.py) and Alembic, not rx.Model.
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="violet", gray_color="slate", radius="large")
        )
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
