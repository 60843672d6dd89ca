"""Razorpay webhook, receipts, the ledger CSV and the account data export."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from adremix.api.body_limits import (
    WEBHOOK_MAX_BYTES,
    BodyTooLarge,
    read_capped_body,
    too_large,
)
from adremix.api.current_user import user_from_request
from adremix.api.limits import over_limit
from adremix.api.receipt_page import render_receipt
from adremix.blocking import call
from adremix.enums import LimitedAction
from adremix.services import payments
from adremix.services.accounts import export_archive
from adremix.services.credits import ledger_csv
from adremix.settings import Settings

NOT_FOUND = HTMLResponse("Not found", status_code=404)
log = logging.getLogger(__name__)


def account_routes(settings: Settings) -> list[Route]:
    async def razorpay_webhook(request: Request) -> Response:
        # The raw bytes, exactly as received: Razorpay signs those, not re-serialised JSON.
        try:
            body = await read_capped_body(request, WEBHOOK_MAX_BYTES)
        except BodyTooLarge:
            return too_large(WEBHOOK_MAX_BYTES)
        try:
            outcome = await call(
                lambda: payments.handle_webhook(
                    body=body,
                    signature=request.headers.get("x-razorpay-signature"),
                    event_id=request.headers.get("x-razorpay-event-id"),
                    secret=settings.razorpay_webhook_secret,
                    gateway=payments.gateway_for(settings),
                )
            )
        except payments.WebhookRejected as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except payments.WebhookRetryLater:
            # Razorpay redelivers on a non-2xx answer; the redelivery retries the work.
            return JSONResponse({"error": "retry later"}, status_code=503)
        except Exception:
            # Never a 500: whatever went wrong, nothing was recorded, so ask for a retry.
            log.exception("Webhook failed unexpectedly; asking Razorpay to deliver it again")
            return JSONResponse({"error": "retry later"}, status_code=503)
        return JSONResponse({"status": outcome})

    async def receipt(request: Request) -> Response:
        user = await user_from_request(request)
        if user is None:
            return NOT_FOUND
        found = await call(
            lambda: payments.receipt_for(
                settings=settings,
                user_id=user.id,
                receipt_number=request.path_params["receipt_number"],
            )
        )
        if found is None:
            return NOT_FOUND
        response = HTMLResponse(render_receipt(found))
        if request.query_params.get("download") == "1":
            response.headers["Content-Disposition"] = (
                f'attachment; filename="adremix-receipt-{found.receipt_number}.html"'
            )
        return response

    def download(
        export: Callable[[int], bytes | str], media_type: str, filename: str
    ) -> Callable[[Request], Awaitable[Response]]:
        """A route that sends the signed-in user's own export as an attachment."""

        async def route(request: Request) -> Response:
            user = await user_from_request(request)
            if limited := await over_limit(
                request, LimitedAction.EXPORT, user.id if user else None
            ):
                return limited
            if user is None:
                return NOT_FOUND
            body = await call(export, user.id)
            return Response(
                body,
                media_type=media_type,
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )

        return route

    ledger_export = download(
        lambda user_id: ledger_csv(user_id=user_id),
        "text/csv; charset=utf-8",
        "adremix-credits.csv",
    )
    account_export = download(
        lambda user_id: export_archive(user_id=user_id), "application/zip", "adremix-export.zip"
    )

    return [
        Route("/api/account/export.zip", account_export, methods=["GET"]),
        Route("/api/razorpay/webhook", razorpay_webhook, methods=["POST"]),
        Route("/receipts/{receipt_number}", receipt, methods=["GET"]),
        Route("/api/credits/export.csv", ledger_export, methods=["GET"]),
    ]
