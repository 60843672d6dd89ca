"""The billing profile: who a buyer's tax invoices are made out to."""

from __future__ import annotations

import re
from dataclasses import dataclass

from adremix.db import session_scope
from adremix.models import BillingProfile, utcnow
from adremix.services.billing.gst import STATES, gstin_problem
from adremix.services.errors import UserFacingError

_PIN = re.compile(r"^[1-9]\d{5}$")


class InvalidBillingProfile(UserFacingError):
    """Some fields of a billing profile are not acceptable; `problems` says which."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("Please correct the highlighted fields: " + " ".join(problems.values()))
        self.problems = problems


@dataclass(frozen=True)
class BillingDetails:
    """A billing profile as the Account page shows and edits it."""

    legal_name: str = ""
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    pin_code: str = ""
    state_code: str = ""
    gstin: str = ""


def billing_details(*, user_id: int) -> BillingDetails | None:
    """The user's billing profile, or None before they have saved one."""
    with session_scope() as session:
        profile = session.get(BillingProfile, user_id)
        if profile is None:
            return None
        return BillingDetails(
            legal_name=profile.legal_name,
            address_line1=profile.address_line1,
            address_line2=profile.address_line2,
            city=profile.city,
            pin_code=profile.pin_code,
            state_code=profile.state_code,
            gstin=profile.gstin or "",
        )


def _clean(details: BillingDetails) -> tuple[BillingDetails, dict[str, str]]:
    values = BillingDetails(
        legal_name=" ".join(details.legal_name.split()),
        address_line1=" ".join(details.address_line1.split()),
        address_line2=" ".join(details.address_line2.split()),
        city=" ".join(details.city.split()),
        pin_code=details.pin_code.strip().replace(" ", ""),
        state_code=details.state_code.strip(),
        gstin=details.gstin.strip().upper().replace(" ", ""),
    )
    problems: dict[str, str] = {}
    if not values.legal_name:
        problems["legal_name"] = "Enter the legal name to bill."
    elif len(values.legal_name) > 200:
        problems["legal_name"] = "The legal name is at most 200 characters."
    if not values.address_line1:
        problems["address_line1"] = "Enter the address."
    for field in ("address_line1", "address_line2"):
        if len(getattr(values, field)) > 200:
            problems[field] = "An address line is at most 200 characters."
    if not values.city:
        problems["city"] = "Enter the city."
    elif len(values.city) > 100:
        problems["city"] = "The city is at most 100 characters."
    if not _PIN.match(values.pin_code):
        problems["pin_code"] = "A PIN code is 6 digits and does not start with 0."
    if values.state_code not in STATES:
        problems["state_code"] = "Choose the State."
    if values.gstin:
        problem = gstin_problem(values.gstin)
        if problem:
            problems["gstin"] = problem
        elif values.state_code in STATES and values.gstin[:2] != values.state_code:
            problems["gstin"] = (
                f"This GSTIN is registered in {STATES.get(values.gstin[:2], values.gstin[:2])}; "
                "choose that State or the GSTIN registered in this one."
            )
    return values, problems


def save_billing_details(*, user_id: int, details: BillingDetails) -> BillingDetails:
    """Validate and store the profile; raises InvalidBillingProfile naming each problem.

    Applies to documents issued from now on; those already issued keep what they say.
    """
    values, problems = _clean(details)
    if problems:
        raise InvalidBillingProfile(problems)
    with session_scope() as session:
        profile = session.get(BillingProfile, user_id) or BillingProfile(
            user_id=user_id,
            legal_name="",
            address_line1="",
            city="",
            pin_code="",
            state_code="",
        )
        profile.legal_name = values.legal_name
        profile.address_line1 = values.address_line1
        profile.address_line2 = values.address_line2
        profile.city = values.city
        profile.pin_code = values.pin_code
        profile.state_code = values.state_code
        profile.gstin = values.gstin or None
        profile.updated_at = utcnow()
        session.add(profile)
    return values
