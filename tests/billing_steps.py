"""Shared steps of billing tests: the supplier's settings, buyers' profiles, PDF text."""

from __future__ import annotations

import subprocess

import pytest

from adremix.services import billing
from adremix.settings import Settings
from tests.conftest import configure_app

SUPPLIER_GSTIN = "29AAPFU0939F1ZR"  # Karnataka (29); check character computed, format real
BUYER_GSTIN_KA = "29AABCA1234B1ZD"
BUYER_GSTIN_MH = "27AABCB5678C1ZQ"


def configure_supplier(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    """The app as a GST-registered supplier in Karnataka (plus any other settings)."""
    return configure_app(
        monkeypatch,
        ADREMIX_SELLER_NAME="AdRemix Technologies Pvt Ltd",
        ADREMIX_SELLER_GSTIN=SUPPLIER_GSTIN,
        ADREMIX_SELLER_ADDRESS="12 Residency Road\nBengaluru 560025",
        ADREMIX_SELLER_STATE="29",
        **env,
    )


def save_profile(
    user_id: int, *, state: str = "29", gstin: str = "", name: str = "Acme Ads LLP"
) -> None:
    billing.save_billing_details(
        user_id=user_id,
        details=billing.BillingDetails(
            legal_name=name,
            address_line1="4 Linking Road",
            city="Bengaluru" if state == "29" else "Mumbai",
            pin_code="560001" if state == "29" else "400050",
            state_code=state,
            gstin=gstin,
        ),
    )


def pdf_text(content: bytes) -> str:
    """What a reader of the PDF sees (poppler's pdftotext), with single spaces."""
    assert content.startswith(b"%PDF-")
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()
    return " ".join(text.split())
