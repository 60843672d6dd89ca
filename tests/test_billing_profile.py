"""The billing profile on the Account page: validated (GSTIN format and check character),
used for every new document, never rewriting documents already issued."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from adremix.db import session_scope
from adremix.models import BillingProfile, TaxDocument
from adremix.services import accounts, billing, payments
from tests.billing_steps import BUYER_GSTIN_KA, BUYER_GSTIN_MH
from tests.factories import buy, make_user


def details(**fields: str) -> billing.BillingDetails:
    values = {
        "legal_name": "Acme  Ads   LLP",
        "address_line1": "4 Linking Road",
        "city": "Mumbai",
        "pin_code": "400 050",
        "state_code": "27",
        "gstin": "",
    }
    return billing.BillingDetails(**{**values, **fields})


def test_a_valid_profile_is_saved_tidied(database_url: str) -> None:
    user = make_user()
    assert billing.billing_details(user_id=user) is None
    saved = billing.save_billing_details(
        user_id=user, details=details(gstin=BUYER_GSTIN_MH.lower())
    )
    assert (saved.legal_name, saved.pin_code, saved.gstin) == (
        "Acme Ads LLP",
        "400050",
        BUYER_GSTIN_MH,
    )
    assert billing.billing_details(user_id=user) == saved


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"legal_name": " "}, "legal_name", "legal name"),
        ({"address_line1": ""}, "address_line1", "address"),
        ({"city": ""}, "city", "city"),
        ({"pin_code": "40005"}, "pin_code", "6 digits"),
        ({"pin_code": "040050"}, "pin_code", "does not start with 0"),
        ({"state_code": "99"}, "state_code", "Choose the State"),
        ({"gstin": "27AABCB5678C1ZX"}, "gstin", "check character"),
        ({"gstin": "27AABCB5678C1Z"}, "gstin", "15 characters"),
        ({"gstin": BUYER_GSTIN_KA}, "gstin", "registered in Karnataka"),
    ],
)
def test_a_wrong_field_is_named_and_nothing_is_saved(
    database_url: str, fields: dict[str, str], field: str, words: str
) -> None:
    user = make_user()
    with pytest.raises(billing.InvalidBillingProfile) as raised:
        billing.save_billing_details(user_id=user, details=details(**fields))
    assert words in raised.value.problems[field]
    assert billing.billing_details(user_id=user) is None


def test_issued_invoices_keep_their_buyer_and_new_ones_use_the_new_profile(
    database_url: str,
) -> None:
    user = make_user()
    billing.save_billing_details(user_id=user, details=details())
    for name in ("Acme Ads LLP", "Acme Media Pvt Ltd"):
        if name != "Acme Ads LLP":
            billing.save_billing_details(user_id=user, details=details(legal_name=name))
        checkout = buy(user)
        payments.pay_test_checkout(
            user_id=user, provider_order_id=checkout.provider_order_id, succeed=True
        )
    with session_scope() as session:
        names = session.exec(select(TaxDocument.buyer_name).order_by(col(TaxDocument.id))).all()
    assert names == ["Acme Ads LLP", "Acme Media Pvt Ltd"]


def test_deleting_the_account_removes_the_profile_and_keeps_the_invoices(
    database_url: str,
) -> None:
    user = make_user("gone@x.example")
    billing.save_billing_details(user_id=user, details=details())
    checkout = buy(user)
    payments.pay_test_checkout(
        user_id=user, provider_order_id=checkout.provider_order_id, succeed=True
    )
    accounts.delete_account(user_id=user, confirm_email="gone@x.example")
    with session_scope() as session:
        assert session.get(BillingProfile, user) is None
        assert len(session.exec(select(TaxDocument)).all()) == 1
