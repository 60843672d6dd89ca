"""The admin console's CSV exports: a POST form per table (the filters on screen and a
CSRF token bound to the session), answered with the CSV as a download, streamed.

The path is under /admin, so api/admin_gate.py answers anyone but staff as a missing
page before this runs; the route checks the role again, and the service once more.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from adremix.api.current_user import user_from_request
from adremix.api.limits import over_limit
from adremix.blocking import call
from adremix.enums import LimitedAction
from adremix.services import admin
from adremix.services.accounts import (
    ADMIN_EXPORT,
    SESSION_COOKIE,
    csrf_token_is_valid,
    hash_token,
)
from adremix.settings import Settings
from adremix.urls import ADMIN_EXPORT_PREFIX

NOT_FOUND = PlainTextResponse("Not Found", status_code=404)
MAX_FIELDS = 20


def admin_routes(settings: Settings) -> list[Route]:
    async def export(request: Request) -> Response:
        user = await user_from_request(request)
        if limited := await over_limit(request, LimitedAction.EXPORT, user.id if user else None):
            return limited
        if user is None or not user.role:
            return NOT_FOUND
        token = request.cookies.get(SESSION_COOKIE)
        async with request.form(max_files=0, max_fields=MAX_FIELDS) as form:
            fields = {key: str(value) for key, value in form.items()}
        origin = request.headers.get("origin")
        if (origin is not None and origin not in settings.allowed_origins) or not (
            csrf_token_is_valid(
                token=fields.get("csrf_token"),
                purpose=ADMIN_EXPORT,
                binding=hash_token(token) if token else None,
            )
        ):
            return PlainTextResponse(
                "This export form expired or did not come from the console. Reload the page.",
                status_code=403,
            )
        table = request.path_params["table"]
        try:
            made = await call(admin.export_csv, actor_id=user.id, table=table, params=fields)
        except admin.NotStaff:
            return NOT_FOUND
        except admin.UnknownExport:
            return NOT_FOUND
        # A sync iterator: Starlette pulls each batch in a worker thread.
        return StreamingResponse(
            made.chunks,
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{made.filename}"',
                "Cache-Control": "no-store",
            },
        )

    return [Route(ADMIN_EXPORT_PREFIX + "{table}.csv", export, methods=["POST"])]
