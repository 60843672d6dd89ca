"""GST rules: GSTIN checks, the tax split and its rounding, financial years, numbers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adremix.services.billing import (
    IST,
    TaxSplit,
    financial_year,
    format_number,
    gstin_problem,
    split_inclusive,
)
from adremix.services.billing.gst import (
    difference,
    gstin_check_character,
    proportional_split,
    rupees_in_words,
)

# Published, real GSTINs (their check characters are right).
VALID = ["27AAPFU0939F1ZV", "27AAACR5055K1Z7", "24AAACC1206D1ZM"]


@pytest.mark.parametrize("gstin", VALID)
def test_real_gstins_pass(gstin: str) -> None:
    assert gstin_problem(gstin) is None
    assert gstin_problem(gstin.lower()) is None  # typed in lower case is fine


@pytest.mark.parametrize(
    ("gstin", "problem"),
    [
        ("27AAPFU0939F1Z", "15 characters"),
        ("27AAPFU0939F1ZVX", "15 characters"),
        ("2AAAPFU0939F1ZV", "not a GSTIN"),  # State code must be two digits
        ("27AAPF00939F1ZV", "not a GSTIN"),  # PAN: five letters first
        ("27AAPFU0939F1XV", "not a GSTIN"),  # the 14th character is always Z
        ("27AAPFU0939F0ZV", "not a GSTIN"),  # entity number 1-9 or A-Z
        ("99AAPFU0939F1ZV", "not a GST State code"),
        ("27AAPFU0939F1ZW", "check character"),  # one typo in the check character
        ("27AAPFU0939E1ZV", "check character"),  # one typo in the PAN
    ],
)
def test_bad_gstins_say_why(gstin: str, problem: str) -> None:
    assert problem in (gstin_problem(gstin) or "")


@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=14, max_size=14))
def test_exactly_one_check_character_fits_any_fourteen(first14: str) -> None:
    check = gstin_check_character(first14)
    fitting = [
        c for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" if gstin_check_character(first14) == c
    ]
    assert fitting == [check]


def test_intra_state_splits_cgst_and_sgst_and_the_odd_paisa_goes_to_cgst() -> None:
    # ₹799 inclusive of 18%: taxable 677.12, GST 121.88 = 60.94 + 60.94.
    assert split_inclusive(79_900, percent=18, intra_state=True) == TaxSplit(
        67_712, 6_094, 6_094, 0
    )
    # ₹100: taxable 84.75 (84.7457... rounds down), GST 15.25: 7.63 CGST + 7.62 SGST.
    odd = split_inclusive(10_000, percent=18, intra_state=True)
    assert (odd.taxable, odd.cgst, odd.sgst) == (8_475, 763, 762)
    assert odd.total == 10_000


def test_inter_state_is_all_igst() -> None:
    assert split_inclusive(79_900, percent=18, intra_state=False) == TaxSplit(67_712, 0, 0, 12_188)


@given(st.integers(min_value=0, max_value=10**9), st.booleans())
def test_the_lines_always_add_up_to_what_was_paid(total: int, intra: bool) -> None:
    split = split_inclusive(total, percent=18, intra_state=intra)
    assert split.total == total
    assert abs(split.tax * 100 - split.taxable * 18) <= 100  # within a paisa of 18%
    assert 0 <= split.cgst - split.sgst <= 1


@given(
    st.integers(min_value=100, max_value=10**7),
    st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=6),
    st.booleans(),
)
def test_credit_notes_on_running_totals_reverse_the_invoice_exactly(
    total: int, weights: list[int], intra: bool
) -> None:
    invoice = split_inclusive(total, percent=18, intra_state=intra)
    # Refunds that add up to the whole amount, in the given proportions.
    cuts = [total * sum(weights[: i + 1]) // sum(weights) for i in range(len(weights))]
    before = TaxSplit(0, 0, 0, 0)
    notes = []
    for cumulative in cuts:
        after = proportional_split(cumulative, invoice)
        notes.append(difference(after, before))
        before = after
    assert all(min(n.taxable, n.cgst, n.sgst, n.igst) >= 0 for n in notes)
    assert (
        TaxSplit(
            sum(n.taxable for n in notes),
            sum(n.cgst for n in notes),
            sum(n.sgst for n in notes),
            sum(n.igst for n in notes),
        )
        == invoice
    )
    assert all((n.igst == 0) == intra for n in notes if n.tax)


def test_the_financial_year_turns_at_midnight_on_1_april_in_india() -> None:
    last_minute = datetime(2027, 3, 31, 23, 59, tzinfo=IST)
    first_minute = datetime(2027, 4, 1, 0, 0, tzinfo=IST)
    assert financial_year(last_minute) == "2026-27"
    assert financial_year(first_minute) == "2027-28"
    # 1 April 00:00 IST is still 31 March in UTC: the year follows India's clock.
    assert first_minute.astimezone(UTC).day == 31
    assert financial_year(datetime(2027, 3, 31, 18, 30, tzinfo=UTC)) == "2027-28"


def test_numbers_fit_rule_46() -> None:
    number = format_number("AR", "2026-27", 1)
    assert number == "AR/26-27/000001"
    assert len(format_number("ABC", "2026-27", 999_999)) <= 16
    with pytest.raises(OverflowError):
        format_number("ABC", "2026-27", 10_000_000)


def test_amounts_in_words_use_lakh_and_crore() -> None:
    assert rupees_in_words(79_900) == "Rupees seven hundred ninety-nine only"
    assert rupees_in_words(1_234_567_850) == (
        "Rupees one crore twenty-three lakh forty-five thousand six hundred seventy-eight "
        "and fifty paise only"
    )
