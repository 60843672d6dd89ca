"""The one place service errors become words for the user."""

from __future__ import annotations

from adremix.services.account import AccountError
from adremix.services.images import InvalidImage
from adremix.services.ledger import InsufficientCredits
from adremix.services.library import LibraryError
from adremix.services.payments import PaymentError
from adremix.services.templates import InvalidRequest

# Services write these messages for people; they pass through as they are.
PLAIN_MESSAGES = (PaymentError, InvalidRequest, InvalidImage, LibraryError, AccountError)


def user_message(exc: Exception) -> str:
    if isinstance(exc, InsufficientCredits):
        return (
            f"You need {exc.needed} credit{'s' if exc.needed != 1 else ''} "
            f"but have {exc.available}. Buy more on the Credits page."
        )
    if isinstance(exc, PLAIN_MESSAGES):
        return str(exc)
    return "Something went wrong on our side. Nothing was charged; please try again."
