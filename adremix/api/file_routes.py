"""Stored images, served only to their owner; downloads and placement exports."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adremix.api.current_user import user_from_request
from adremix.api.limits import over_limit
from adremix.blocking import call
from adremix.enums import ImageKind, LimitedAction
from adremix.services.generation import (
    PLACEMENT_EXPORTS,
    encode,
    export_placement,
    media_type_of,
    open_untrusted,
    owns_image,
    placements_zip,
    thumbnail_bytes,
)
from adremix.services.storage import storage_for
from adremix.settings import Settings
from adremix.urls import DOWNLOAD_FORMATS, FILES_PREFIX

MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
assert set(MEDIA_TYPES) == set(DOWNLOAD_FORMATS), "every offered download is served"
# Same answer for "not yours" and "does not exist", so ids cannot be probed.
NOT_FOUND = Response("Not found", status_code=404, media_type="text/plain")
PRIVATE = {"Cache-Control": "private, max-age=31536000, immutable"}


def file_routes(settings: Settings) -> list[Route]:
    storage = storage_for(settings)

    async def _owned(request: Request, kind: ImageKind | None) -> str | None:
        sha = request.path_params["sha"]
        if len(sha) != 64:
            return None
        user = await user_from_request(request)
        if user is None:
            return None
        allowed = await call(lambda: owns_image(user_id=user.id, sha256=sha, kind=kind))
        if not allowed:
            return None
        # A thumbnail is made on first request: its original must exist.
        return sha if kind is None or await call(storage.exists, kind, sha) else None

    async def image(request: Request) -> Response:
        kind = request.path_params["kind"]
        if kind not in (ImageKind.SOURCE, ImageKind.RESULT):
            return NOT_FOUND
        kind = ImageKind(kind)
        sha = await _owned(request, kind)
        if sha is None:
            return NOT_FOUND
        fmt = request.query_params.get("format", "").lower()
        if fmt and fmt not in MEDIA_TYPES:
            return NOT_FOUND
        data = await call(storage.read, kind, sha)
        media_type = media_type_of(data)
        if fmt and MEDIA_TYPES[fmt] != media_type:
            data = await call(lambda: encode(open_untrusted(data).image, fmt))
            media_type = MEDIA_TYPES[fmt]
        fmt = fmt or next(k for k, v in MEDIA_TYPES.items() if v == media_type)
        headers = dict(PRIVATE)
        if request.query_params.get("download") == "1":
            headers["Content-Disposition"] = f'attachment; filename="adremix-{sha[:12]}.{fmt}"'
        return Response(data, media_type=media_type, headers=headers)

    async def thumbnail(request: Request) -> Response:
        sha = await _owned(request, None)
        if sha is None:
            return NOT_FOUND
        try:
            data = await call(thumbnail_bytes, storage, sha)
        except FileNotFoundError:
            return NOT_FOUND
        return Response(data, media_type="image/webp", headers=PRIVATE)

    async def export_limited(request: Request) -> Response | None:
        """Exports cost real work: counted per IP and per user before anything else."""
        user = await user_from_request(request)
        return await over_limit(request, LimitedAction.EXPORT, user.id if user else None)

    async def placement(request: Request) -> Response:
        if limited := await export_limited(request):
            return limited
        sha = await _owned(request, ImageKind.RESULT)
        name = request.path_params["name"]
        if sha is None or name not in PLACEMENT_EXPORTS:
            return NOT_FOUND
        source = await call(storage.read, ImageKind.RESULT, sha)
        data = await call(export_placement, source, name)
        return Response(
            data,
            media_type="image/jpeg",
            headers={
                "Content-Disposition": f'attachment; filename="adremix-{sha[:12]}-{name}.jpg"'
            },
        )

    async def placements_archive(request: Request) -> Response:
        if limited := await export_limited(request):
            return limited
        sha = await _owned(request, ImageKind.RESULT)
        if sha is None:
            return NOT_FOUND
        data = await call(placements_zip, sha, storage)
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
