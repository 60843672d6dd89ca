"""HTTP endpoints that are not pages, mounted in front of Reflex via `api_transformer`."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Mount

from adremix.api.account_routes import account_routes
from adremix.api.admin_routes import admin_routes
from adremix.api.auth_routes import MOUNT, build_auth_app
from adremix.api.billing_routes import billing_routes
from adremix.api.file_routes import file_routes
from adremix.api.health_routes import health_routes
from adremix.settings import Settings


def build_api_app(settings: Settings) -> Starlette:
    """The Starlette app Reflex mounts its own routes under."""
    return Starlette(
        routes=[
            Mount(MOUNT, app=build_auth_app(settings)),
            *account_routes(settings),
            *file_routes(settings),
            *billing_routes(settings),
            *health_routes(settings),
            *admin_routes(settings),
        ]
    )
