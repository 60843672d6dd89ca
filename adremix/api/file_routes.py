"""Stored images, served only to their owner; downloads and placement exports."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from adremix.api.current_user import user_from_request
from adremix.api.limits import over_limit
from adremix.blocking import call
from adremix.enums import ImageKind, LimitedAction
from adremix.services.generation import (
    DOWNLOAD_MEDIA_TYPES,
    ConversionTooLarge,
    owned_image_file,
    owned_placement,
    owned_placements_zip,
    owned_thumbnail,
)
from adremix.services.storage import storage_for
from adremix.settings import Settings
from adremix.urls import DOWNLOAD_FORMATS, FILES_PREFIX

assert set(DOWNLOAD_MEDIA_TYPES) == set(DOWNLOAD_FORMATS), "every offered download is served"
# Same answer for "not yours" and "does not exist", so ids cannot be probed.
NOT_FOUND = Response("Not found", status_code=404, media_type="text/plain")
PRIVATE = {"Cache-Control": "private, max-age=31536000, immutable"}


def file_routes(settings: Settings) -> list[Route]:
    storage = storage_for(settings)

    async def _user_id(request: Request) -> int | None:
        user = await user_from_request(request)
        return user.id if user else None

    async def image(request: Request) -> Response:
        kind = request.path_params["kind"]
        user_id = await _user_id(request)
        if kind not in (ImageKind.SOURCE, ImageKind.RESULT, ImageKind.LOGO) or user_id is None:
            return NOT_FOUND
        sha = request.path_params["sha"]
        fmt = request.query_params.get("format", "").lower()
        try:
            found = await call(
                lambda: owned_image_file(
                    user_id=user_id, kind=ImageKind(kind), sha256=sha, fmt=fmt, storage=storage
                )
            )
        except ConversionTooLarge as refused:
            return PlainTextResponse(refused.message, status_code=422)
        if found is None:
            return NOT_FOUND
        headers = dict(PRIVATE)
        if request.query_params.get("download") == "1":
            name = f"adremix-{sha[:12]}.{found.extension}"
            headers["Content-Disposition"] = f'attachment; filename="{name}"'
        # Sent a piece at a time (read in worker threads): never held in memory whole.
        return StreamingResponse(found.chunks, media_type=found.media_type, headers=headers)

    async def thumbnail(request: Request) -> Response:
        user_id = await _user_id(request)
        sha = request.path_params["sha"]
        data = None
        if user_id is not None:
            data = await call(lambda: owned_thumbnail(user_id=user_id, sha256=sha, storage=storage))
        if data is None:
            return NOT_FOUND
        return Response(data, media_type="image/webp", headers=PRIVATE)

    async def placement(request: Request) -> Response:
        # Exports cost real work: counted per IP and per user before anything else.
        user_id = await _user_id(request)
        if limited := await over_limit(request, LimitedAction.EXPORT, user_id):
            return limited
        sha, name = request.path_params["sha"], request.path_params["name"]
        data = None
        if user_id is not None:
            data = await call(
                lambda: owned_placement(user_id=user_id, sha256=sha, name=name, storage=storage)
            )
        if data is None:
            return NOT_FOUND
        return Response(
            data,
            media_type="image/jpeg",
            headers={
                "Content-Disposition": f'attachment; filename="adremix-{sha[:12]}-{name}.jpg"'
            },
        )

    async def placements_archive(request: Request) -> Response:
        user_id = await _user_id(request)
        if limited := await over_limit(request, LimitedAction.EXPORT, user_id):
            return limited
        sha = request.path_params["sha"]
        data = None
        if user_id is not None:
            data = await call(
                lambda: owned_placements_zip(user_id=user_id, sha256=sha, storage=storage)
            )
        if data is None:
            return NOT_FOUND
        return Response(
            data,
            media_type="application/zip",
            headers={
                "Content-Disposition": f'attachment; filename="adremix-{sha[:12]}-placements.zip"'
            },
        )

    # The paths adremix/urls.py builds. Most specific first: "/files/{kind}/{sha}" would
    # also match a thumbnail path.
    return [
        Route(FILES_PREFIX + "/thumb/{sha}.webp", thumbnail, methods=["GET"]),
        Route(FILES_PREFIX + "/result/{sha}/placements.zip", placements_archive, methods=["GET"]),
        Route(FILES_PREFIX + "/result/{sha}/placement/{name}.jpg", placement, methods=["GET"]),
        Route(FILES_PREFIX + "/{kind}/{sha}", image, methods=["GET"]),
    ]
