"""GST rules in plain functions: State codes, GSTIN checks, financial years, the tax split.

All money is in paise (integers). Confirm the specifics with a tax adviser; the rules here
follow the CGST Rules (Rule 46 invoices, Rule 53 credit notes) and IGST Act s.12(2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

# GST State and Union Territory codes (the first two digits of every GSTIN).
STATES: dict[str, str] = {
    "01": "Jammu and Kashmir",
    "02": "Himachal Pradesh",
    "03": "Punjab",
    "04": "Chandigarh",
    "05": "Uttarakhand",
    "06": "Haryana",
    "07": "Delhi",
    "08": "Rajasthan",
    "09": "Uttar Pradesh",
    "10": "Bihar",
    "11": "Sikkim",
    "12": "Arunachal Pradesh",
    "13": "Nagaland",
    "14": "Manipur",
    "15": "Mizoram",
    "16": "Tripura",
    "17": "Meghalaya",
    "18": "Assam",
    "19": "West Bengal",
    "20": "Jharkhand",
    "21": "Odisha",
    "22": "Chhattisgarh",
    "23": "Madhya Pradesh",
    "24": "Gujarat",
    "26": "Dadra and Nagar Haveli and Daman and Diu",
    "27": "Maharashtra",
    "29": "Karnataka",
    "30": "Goa",
    "31": "Lakshadweep",
    "32": "Kerala",
    "33": "Tamil Nadu",
    "34": "Puducherry",
    "35": "Andaman and Nicobar Islands",
    "36": "Telangana",
    "37": "Andhra Pradesh",
    "38": "Ladakh",
    "97": "Other Territory",
}
# Codes still found on older GSTINs (Daman and Diu before its merger, Andhra Pradesh
# before the split): valid in a GSTIN, not offered as a State to pick.
LEGACY_STATES = {"25": "Daman and Diu", "28": "Andhra Pradesh (old)"}

IST = timezone(timedelta(hours=5, minutes=30), "IST")

_GSTIN_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# 2-digit State, 10-character PAN (5 letters, 4 digits, 1 letter), entity number, Z, check.
_GSTIN_SHAPE = re.compile(r"^\d{2}[A-Z]{5}\d{4}[A-Z][1-9A-Z]Z[0-9A-Z]$")


def state_name(code: str) -> str:
    return STATES.get(code) or LEGACY_STATES.get(code) or code


def gstin_check_character(first14: str) -> str:
    """The GSTIN's 15th character: a Luhn mod-36 checksum of the first 14.

    Each character's value (0-9, then A-Z as 10-35) is multiplied by 1 and 2 alternately
    from the left; each product adds its quotient and remainder by 36; the check
    character is the one worth (36 - sum mod 36) mod 36.
    """
    total = 0
    for position, char in enumerate(first14):
        product = _GSTIN_ALPHABET.index(char) * (2 if position % 2 else 1)
        total += product // 36 + product % 36
    return _GSTIN_ALPHABET[(36 - total % 36) % 36]


def gstin_problem(value: str) -> str | None:
    """Why `value` is not a valid GSTIN (format, State code, check character), or None."""
    gstin = value.strip().upper()
    if len(gstin) != 15:
        return "A GSTIN has 15 characters."
    if not _GSTIN_SHAPE.match(gstin):
        return (
            "That is not a GSTIN: it reads State code (2 digits), PAN (10 characters), "
            "entity number, Z and a check character."
        )
    if gstin[:2] not in STATES and gstin[:2] not in LEGACY_STATES:
        return f"{gstin[:2]} is not a GST State code."
    if gstin_check_character(gstin[:14]) != gstin[14]:
        return "That GSTIN's check character does not match: please check it for typos."
    return None


def supplier_gstin_problem(gstin: str, state: str) -> str | None:
    """Why the seller's own GSTIN cannot go on invoices (invalid, or registered in a State
    other than ADREMIX_SELLER_STATE, which decides CGST+SGST vs IGST), or None."""
    if not gstin.strip():
        return None
    problem = gstin_problem(gstin)
    if problem:
        return f"ADREMIX_SELLER_GSTIN: {problem}"
    if gstin.strip()[:2] != state:
        return (
            f"ADREMIX_SELLER_GSTIN is registered in State {gstin.strip()[:2]} but "
            f"ADREMIX_SELLER_STATE is {state}: set the State the GSTIN belongs to."
        )
    return None


def ist_date(moment: datetime) -> date:
    """The calendar date in India of a moment (stored times are UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(IST).date()


def financial_year(moment: datetime) -> str:
    """The Indian financial year (1 April to 31 March, in IST) of a moment: "2026-27"."""
    day = ist_date(moment)
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def financial_year_bounds(label: str) -> tuple[datetime, datetime]:
    """The UTC moments a financial year ("2026-27") starts at and ends before."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", label)
    if not match or (int(match.group(1)) + 1) % 100 != int(match.group(2)):
        raise ValueError(f"A financial year reads like 2026-27, not {label!r}.")
    start = int(match.group(1))
    return (
        datetime(start, 4, 1, tzinfo=IST).astimezone(UTC),
        datetime(start + 1, 4, 1, tzinfo=IST).astimezone(UTC),
    )


@dataclass(frozen=True)
class TaxSplit:
    """A tax-inclusive amount split into taxable value and GST, in paise."""

    taxable: int
    cgst: int
    sgst: int
    igst: int

    @property
    def tax(self) -> int:
        return self.cgst + self.sgst + self.igst

    @property
    def total(self) -> int:
        return self.taxable + self.tax


def _round_half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def _split_tax(taxable: int, tax: int, *, intra_state: bool) -> TaxSplit:
    # Intra-State: CGST and SGST are each half; an odd paisa goes to CGST.
    if intra_state:
        return TaxSplit(taxable=taxable, cgst=tax - tax // 2, sgst=tax // 2, igst=0)
    return TaxSplit(taxable=taxable, cgst=0, sgst=0, igst=tax)


def split_inclusive(total_paise: int, *, percent: int, intra_state: bool) -> TaxSplit:
    """Split a GST-inclusive amount the buyer paid.

    Rounding (all in integer paise, so the lines always add up to what was paid):
    - taxable value = total x 100 / (100 + rate), rounded to the nearest paisa (half up);
    - GST = total - taxable value;
    - intra-State: CGST and SGST are each half of the GST; when the GST is an odd number of
      paise, the odd paisa goes to CGST (CGST = ceil(GST / 2), SGST = floor(GST / 2));
    - inter-State: IGST is the whole GST.
    """
    if total_paise < 0:
        raise ValueError("An amount cannot be negative.")
    taxable = _round_half_up(total_paise * 100, 100 + percent)
    return _split_tax(taxable, total_paise - taxable, intra_state=intra_state)


def split_exclusive(taxable_paise: int, tax_paise: int, *, intra_state: bool) -> TaxSplit:
    """A known taxable value and GST (prices set before tax), split the same way."""
    return _split_tax(taxable_paise, tax_paise, intra_state=intra_state)


def proportional_split(part_paise: int, whole: TaxSplit) -> TaxSplit:
    """The share of `whole` that `part_paise` of its total is, split by the same rule.

    Taxable value = part x whole's taxable value / whole's total (nearest paisa, half up),
    GST the rest, halved as on invoices. Credit notes take the difference of this on the
    running total of a payment's refunds: applied to the whole total it gives back `whole`
    exactly, so refunds adding up to the invoice reverse exactly its taxable value and
    each tax line.
    """
    if whole.total <= 0:
        return TaxSplit(0, 0, 0, 0)
    part = min(part_paise, whole.total)
    taxable = _round_half_up(part * whole.taxable, whole.total)
    return _split_tax(taxable, part - taxable, intra_state=not whole.igst and whole.tax > 0)


def difference(later: TaxSplit, earlier: TaxSplit) -> TaxSplit:
    return TaxSplit(
        taxable=later.taxable - earlier.taxable,
        cgst=later.cgst - earlier.cgst,
        sgst=later.sgst - earlier.sgst,
        igst=later.igst - earlier.igst,
    )


_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def _below_thousand(n: int) -> list[str]:
    words: list[str] = []
    if n >= 100:
        words += [_ONES[n // 100], "hundred"]
        n %= 100
    if n >= 20:
        words.append(_TENS[n // 10] + (f"-{_ONES[n % 10]}" if n % 10 else ""))
    elif n or not words:
        words.append(_ONES[n])
    return words


def _indian_words(n: int) -> list[str]:
    """A whole number in words with the Indian groupings (thousand, lakh, crore)."""
    if n < 1000:
        return _below_thousand(n)
    words: list[str] = []
    for size, name in ((10_000_000, "crore"), (100_000, "lakh"), (1000, "thousand")):
        if n >= size:
            count, n = divmod(n, size)
            words += [*_indian_words(count), name]
    if n:
        words += _below_thousand(n)
    return words


def rupees_in_words(paise: int) -> str:
    """'Rupees one thousand nine hundred ninety-nine and fifty paise only'."""
    rupees, rest = divmod(abs(paise), 100)
    text = "Rupees " + " ".join(_indian_words(rupees))
    if rest:
        text += " and " + " ".join(_below_thousand(rest)) + " paise"
    return text + " only"
