"""`/health` for load balancers and orchestrators, `/metrics` for Prometheus."""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adremix.blocking import call
from adremix.services import monitoring
from adremix.settings import Settings

NO_STORE = {"Cache-Control": "no-store"}


def health_routes(settings: Settings) -> list[Route]:
    async def live(_: Request) -> Response:
        """Liveness: this process answers (restart it if not)."""
        return JSONResponse({"status": "ok"}, headers=NO_STORE)

    async def ready(_: Request) -> Response:
        """Readiness: the database, Redis (when configured) and storage answer."""
        answer = await monitoring.readiness(settings)
        return JSONResponse(
            {"status": "ok" if answer.ready else "unavailable", "checks": answer.checks},
            status_code=200 if answer.ready else 503,
            headers=NO_STORE,
        )

    async def metrics(request: Request) -> Response:
        if not settings.metrics_token:
            return Response("Not found", status_code=404, media_type="text/plain")
        given = request.headers.get("authorization", "")
        expected = f"Bearer {settings.metrics_token}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return Response(
                "Unauthorized",
                status_code=401,
                media_type="text/plain",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        body, content_type = await call(monitoring.metrics_page)
        return Response(body, media_type=content_type, headers=NO_STORE)

    return [
        Route("/health", ready, methods=["GET"]),
        Route("/health/ready", ready, methods=["GET"]),
        Route("/health/live", live, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
