"""Prices in paise, GST break-ups, INR formatting, packages from settings, ledger CSV."""

from __future__ import annotations

import csv
import io

import pytest

from adremix.db import session_scope
from adremix.services import credits
from adremix.services.credits import find_package, format_inr, gst_breakup, ledger_csv, offers
from adremix.settings import DEFAULT_PACKAGES, Settings
from tests.factories import make_user


@pytest.mark.parametrize(
    ("paise", "text"),
    [
        (19_900, "₹199"),
        (249_900, "₹2,499"),
        (10_000_000, "₹1,00,000"),
        (1_990, "₹19.90"),
        (123_456_789, "₹12,34,567.89"),
        (-5_000, "-₹50"),
    ],
)
def test_inr_uses_indian_grouping(paise: int, text: str) -> None:
    assert format_inr(paise) == text


def test_gst_inclusive_and_exclusive_break_ups_add_up() -> None:
    inclusive = gst_breakup(79_900, percent=18, inclusive=True)
    assert (inclusive.taxable_paise, inclusive.tax_paise, inclusive.total_paise) == (
        67_712,
        12_188,
        79_900,
    )
    exclusive = gst_breakup(10_000, percent=18, inclusive=False)
    assert (exclusive.taxable_paise, exclusive.tax_paise, exclusive.total_paise) == (
        10_000,
        1_800,
        11_800,
    )


def test_best_value_is_the_cheapest_per_credit() -> None:
    listed = offers(DEFAULT_PACKAGES)
    assert [o.best_value for o in listed] == [False, False, True]
    assert [format_inr(o.per_credit_paise, always_paise=True) for o in listed] == [
        "₹19.90",
        "₹15.98",
        "₹12.50",
    ]


def test_packages_come_from_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "ADREMIX_CREDIT_PACKAGES",
        '[{"code": "trial", "name": "Trial", "credits": 5, "price_paise": 9900}]',
    )
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert [p.code for p in settings.credit_packages] == ["trial"]
    assert find_package(settings.credit_packages, "growth") is None


def test_ledger_csv_lists_every_entry_in_order(database_url: str) -> None:
    user_id = make_user()
    with session_scope() as session:
        credits.grant(
            session=session,
            user_id=user_id,
            amount=10,
            kind="purchase",
            idempotency_key="p",
            reference="AR-1",
        )
        credits.spend(
            session=session, user_id=user_id, amount=2, idempotency_key="g", reference="7"
        )
    rows = list(csv.DictReader(io.StringIO(ledger_csv(user_id=user_id))))
    assert [(r["kind"], r["amount"], r["balance_after"], r["reference"]) for r in rows] == [
        ("purchase", "10", "10", "AR-1"),
        ("generation", "-2", "8", "7"),
    ]
