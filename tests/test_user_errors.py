"""Errors a user can meet: one base, stable codes, words from one place, and everything
unexpected logged with its request and shown as one generic message."""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil
import re

import pytest

import adremix.services
from adremix.services.credits import InsufficientCredits
from adremix.services.errors import UserFacingError
from adremix.services.generation import InvalidImage, InvalidRequest, ProviderRefused
from adremix.services.library import LibraryError
from adremix.services.payments import (
    CheckoutDeclined,
    DuplicatePayment,
    GatewayRefused,
    PaymentPending,
    PaymentVerificationFailed,
)
from adremix.state.errors import GENERIC_MESSAGE, toast_for, user_message

# Exceptions that never reach a person: answered as HTTP statuses to Razorpay, or printed
# by an operator command; NotStaff ends an admin event silently (no words, so nothing
# tells a non-staff tab the console exists); _SettledElsewhere rolls back a job worker's
# batch of outcomes, which are then written one by one (jobs._record_outcomes).
NOT_FOR_USERS = {
    "WebhookRejected",
    "WebhookRetryLater",
    "UnknownUser",
    "NotStaff",
    "_SettledElsewhere",
}


def service_exceptions() -> list[type[BaseException]]:
    found = {}
    for module_info in pkgutil.walk_packages(adremix.services.__path__, "adremix.services."):
        module = importlib.import_module(module_info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == module.__name__:
                found[value.__qualname__] = value
    return list(found.values())


def test_every_service_error_a_user_can_meet_is_a_user_facing_error() -> None:
    errors = service_exceptions()
    assert len(errors) > 20
    strays = [
        e.__name__
        for e in errors
        if not issubclass(e, UserFacingError) and e.__name__ not in NOT_FOR_USERS
    ]
    assert strays == []


def test_every_user_facing_error_has_its_own_stable_code() -> None:
    codes = [e.code for e in service_exceptions() if issubclass(e, UserFacingError)]
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", code) for code in codes), codes
    assert len(codes) == len(set(codes)), "two errors share a code"
    assert InsufficientCredits.code == "insufficient_credits"  # derived from the name
    assert ProviderRefused.code == "refused"  # recorded in usage_event.error_class


@pytest.mark.parametrize(
    "error",
    [
        InvalidImage("The file is empty."),
        InvalidRequest("Describe how to remix the ad."),
        LibraryError("Give it a name."),
        PaymentVerificationFailed("We could not verify this payment."),
        ProviderRefused("The image service declined this request."),
        # A refusal from the payment gateway is the gateway's words, not the generic line.
        GatewayRefused("This test order does not exist (the server may have restarted)."),
    ],
    ids=lambda error: type(error).__name__,
)
def test_user_facing_errors_are_shown_in_their_own_words(error: UserFacingError) -> None:
    assert user_message(error) == str(error) != GENERIC_MESSAGE


def test_insufficient_credits_spells_out_the_numbers() -> None:
    assert user_message(InsufficientCredits(needed=3, available=1)) == (
        "You need 3 credits but have 1. Buy more on the Credits page."
    )
    assert user_message(InsufficientCredits(needed=1, available=0)).startswith(
        "You need 1 credit but"
    )


def test_a_declined_checkout_says_nothing_was_charged() -> None:
    message = user_message(CheckoutDeclined("Test mode: the card was declined."))
    assert message == "Payment failed: Test mode: the card was declined. Nothing was charged."


def test_an_unexpected_error_is_logged_with_its_request_and_shown_generically(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="adremix.state.errors"):
        message = user_message(KeyError("order_id"), request_id="client=tab-7 session=sid-3")
    assert message == GENERIC_MESSAGE
    (record,) = caplog.records
    assert "client=tab-7 session=sid-3" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is KeyError


def test_a_user_facing_error_is_not_logged_as_a_failure(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="adremix.state.errors"):
        user_message(InvalidImage("The file is empty."), request_id="r")
    assert caplog.records == []


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (InvalidImage("The file is empty."), "error"),
        (DuplicatePayment("This order was already paid."), "warning"),
        (PaymentPending("Your payment is still being processed by the bank."), "info"),
        (RuntimeError("boom"), "error"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else value,
)
def test_each_error_gets_its_kind_of_toast(error: BaseException, kind: str) -> None:
    assert f'["{kind}"]' in str(toast_for(error).args)
