"""Tax documents as PDF downloads, and the page Razorpay sends a paid link's buyer back to."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from adremix.api.current_user import user_from_request
from adremix.api.limits import over_limit
from adremix.blocking import call
from adremix.enums import LimitedAction
from adremix.services import billing, payments
from adremix.services.errors import UserFacingError
from adremix.settings import Settings
from adremix.urls import CREDITS, DOCUMENTS_PREFIX

log = logging.getLogger(__name__)
NOT_FOUND = HTMLResponse("Not found", status_code=404)


def billing_routes(settings: Settings) -> list[Route]:
    async def document(request: Request) -> Response:
        user = await user_from_request(request)
        if limited := await over_limit(request, LimitedAction.EXPORT, user.id if user else None):
            return limited
        raw = str(request.path_params["document_id"])
        if user is None or not raw.isdigit():
            return NOT_FOUND  # someone else's document looks exactly like no document
        found = await call(billing.document_pdf, user_id=user.id, document_id=int(raw))
        if found is None:
            return NOT_FOUND
        disposition = "inline" if request.query_params.get("inline") == "1" else "attachment"
        return Response(
            found.content,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'{disposition}; filename="{found.filename}"',
                "Cache-Control": "private, no-store",
            },
        )

    async def payment_link_callback(request: Request) -> Response:
        # Razorpay appends these to the callback URL once the link is paid (GET).
        query = request.query_params
        try:
            result = await call(
                payments.confirm_payment_link,
                payment_link_id=query.get("razorpay_payment_link_id", ""),
                reference_id=query.get("razorpay_payment_link_reference_id", ""),
                status=query.get("razorpay_payment_link_status", ""),
                payment_id=query.get("razorpay_payment_id", ""),
                signature=query.get("razorpay_signature", ""),
            )
        except UserFacingError as exc:
            log.warning("Payment link callback refused: %s", exc)
            return RedirectResponse(CREDITS + "?quote=unverified", status_code=303)
        state = "paid" if result.paid else "pending"
        return RedirectResponse(f"{CREDITS}?quote={state}", status_code=303)

    return [
        Route(DOCUMENTS_PREFIX + "/{document_id}.pdf", document, methods=["GET"]),
        Route(payments.PAYMENT_LINK_CALLBACK_PATH, payment_link_callback, methods=["GET"]),
    ]
