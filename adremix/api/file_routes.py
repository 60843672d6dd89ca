"""Stored images, served only to their owner; downloads and placement exports."""

from __future__ import annotations

import io
import zipfile

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adremix.api.current_user import user_from_request
from adremix.services.generation import owns_image
from adremix.services.images import encode, media_type_of, open_untrusted
from adremix.services.placements import PLACEMENT_EXPORTS, export_placement
from adremix.services.storage import LocalStorage
from adremix.settings import Settings

MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
# Same answer for "not yours" and "does not exist", so ids cannot be probed.
NOT_FOUND = Response("Not found", status_code=404, media_type="text/plain")
PRIVATE = {"Cache-Control": "private, max-age=31536000, immutable"}


def file_routes(settings: Settings) -> list[Route]:
    storage = LocalStorage(settings.storage_dir)

    async def _owned(request: Request, kind: str | None) -> str | None:
        sha = request.path_params["sha"]
        if len(sha) != 64:
            return None
        user = await run_in_threadpool(user_from_request, request)
        if user is None or user.id is None:
            return None
        allowed = await run_in_threadpool(
            lambda: owns_image(user_id=user.id, sha256=sha, kind=kind)
        )
        return sha if allowed and storage.exists(kind or "thumb", sha) else None

    async def image(request: Request) -> Response:
        kind = request.path_params["kind"]
        if kind not in ("source", "result"):
            return NOT_FOUND
        sha = await _owned(request, kind)
        if sha is None:
            return NOT_FOUND
        fmt = request.query_params.get("format", "").lower()
        if fmt and fmt not in MEDIA_TYPES:
            return NOT_FOUND
        data = await run_in_threadpool(storage.read, kind, sha)
        media_type = media_type_of(data)
        if fmt and MEDIA_TYPES[fmt] != media_type:
            data = await run_in_threadpool(lambda: encode(open_untrusted(data).image, fmt))
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
        data = await run_in_threadpool(storage.read, "thumb", sha)
        return Response(data, media_type="image/webp", headers=PRIVATE)

    async def placement(request: Request) -> Response:
        sha = await _owned(request, "result")
        name = request.path_params["name"]
        if sha is None or name not in PLACEMENT_EXPORTS:
            return NOT_FOUND
        source = await run_in_threadpool(storage.read, "result", sha)
        data = await run_in_threadpool(export_placement, source, name)
        return Response(
            data,
            media_type="image/jpeg",
            headers={
                "Content-Disposition": f'attachment; filename="adremix-{sha[:12]}-{name}.jpg"'
            },
        )

    async def placements_zip(request: Request) -> Response:
        sha = await _owned(request, "result")
        if sha is None:
            return NOT_FOUND
        source = await run_in_threadpool(storage.read, "result", sha)

        def build() -> bytes:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
                for name in PLACEMENT_EXPORTS:
                    archive.writestr(
                        f"adremix-{sha[:12]}-{name}.jpg", export_placement(source, name)
                    )
            return buffer.getvalue()

        data = await run_in_threadpool(build)
        return Response(
            data,
            media_type="application/zip",
            headers={
                "Content-Disposition": f'attachment; filename="adremix-{sha[:12]}-placements.zip"'
            },
        )

    # Most specific first: "/files/{kind}/{sha}" would also match a thumbnail path.
    return [
        Route("/files/thumb/{sha}.webp", thumbnail, methods=["GET"]),
        Route("/files/result/{sha}/placements.zip", placements_zip, methods=["GET"]),
        Route("/files/result/{sha}/placement/{name}.jpg", placement, methods=["GET"]),
        Route("/files/{kind}/{sha}", image, methods=["GET"]),
    ]
