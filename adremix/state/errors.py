"""The one place errors become words for the user.

Services raise `UserFacingError`s whose messages are written for people; this module
decides how each is shown (a few need the numbers spelled out, a duplicate payment is a
warning rather than an error). Anything else is a bug: it is logged with the Reflex
client token and session id of the request, so the log line can be found from a user's
report, and the user sees one generic message.
"""

from __future__ import annotations

import logging

import reflex as rx
from reflex.event import EventSpec  # by this name: Reflex evaluates the annotation itself

from adremix.services.credits import InsufficientCredits
from adremix.services.errors import UserFacingError
from adremix.services.payments import CheckoutDeclined, DuplicatePayment, PaymentPending

log = logging.getLogger(__name__)

GENERIC_MESSAGE = "Something went wrong on our side. Nothing was charged; please try again."


def user_message(exc: BaseException, *, request_id: str = "") -> str:
    """What the user reads for `exc`. Unexpected errors are logged here, once."""
    if isinstance(exc, InsufficientCredits):
        return (
            f"You need {exc.needed} credit{'s' if exc.needed != 1 else ''} "
            f"but have {exc.available}. Buy more on the Credits page."
        )
    if isinstance(exc, CheckoutDeclined):
        return f"Payment failed: {exc.reason} Nothing was charged."
    if isinstance(exc, UserFacingError):
        return exc.message
    log.error("Unexpected error (request %s)", request_id or "-", exc_info=exc)
    return GENERIC_MESSAGE


def request_id(state: rx.State) -> str:
    """Identifies the browser tab and connection an event came from, for the log."""
    session = state.router.session
    return f"client={session.client_token or '-'} session={session.session_id or '-'}"


def error_toast(state: rx.State, exc: BaseException) -> rx.event.EventSpec:
    """The toast for an error that reached one of `state`'s event handlers."""
    return toast_for(exc, request_id=request_id(state))


def toast_for(exc: BaseException, *, request_id: str = "") -> rx.event.EventSpec:
    message = user_message(exc, request_id=request_id)
    if isinstance(exc, DuplicatePayment):
        # Not the buyer's mistake: the order was paid already and this payment is undone.
        return rx.toast.warning(message, duration=12_000)
    if isinstance(exc, PaymentPending):
        return rx.toast.info(message)
    return rx.toast.error(message)


def backend_error_toast(exception: Exception) -> EventSpec:
    """Reflex's handler for an exception no event handler caught: logged, then the one
    generic message (never the exception's text)."""
    return toast_for(exception)
