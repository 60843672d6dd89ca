"""Credit packages, per-credit prices, GST break-up and INR formatting. Pure functions."""

from __future__ import annotations

from dataclasses import dataclass

from adremix.settings import CreditPackage


@dataclass(frozen=True)
class PackageOffer:
    code: str
    name: str
    credits: int
    price_paise: int
    per_credit_paise: int
    best_value: bool


def offers(packages: list[CreditPackage]) -> list[PackageOffer]:
    """Packages with their per-credit price; the cheapest per credit is the best value."""
    if not packages:
        return []
    per_credit = {p.code: round(p.price_paise / p.credits) for p in packages}
    cheapest = min(per_credit.values())
    best = [code for code, value in per_credit.items() if value == cheapest]
    return [
        PackageOffer(
            code=p.code,
            name=p.name,
            credits=p.credits,
            price_paise=p.price_paise,
            per_credit_paise=per_credit[p.code],
            best_value=len(packages) > 1 and p.code == best[0],
        )
        for p in packages
    ]


def find_package(packages: list[CreditPackage], code: str) -> CreditPackage | None:
    return next((p for p in packages if p.code == code), None)


@dataclass(frozen=True)
class TaxBreakup:
    taxable_paise: int
    tax_paise: int
    total_paise: int
    percent: int


def gst_breakup(price_paise: int, *, percent: int, inclusive: bool) -> TaxBreakup:
    """Split (inclusive) or add (exclusive) GST, rounding tax to the nearest paisa."""
    if inclusive:
        taxable = round(price_paise * 100 / (100 + percent))
        return TaxBreakup(taxable, price_paise - taxable, price_paise, percent)
    tax = round(price_paise * percent / 100)
    return TaxBreakup(price_paise, tax, price_paise + tax, percent)


def format_inr(paise: int, *, always_paise: bool = False) -> str:
    """₹ with Indian digit grouping: 249900 -> '₹2,499', 10000000 -> '₹1,00,000'."""
    sign = "-" if paise < 0 else ""
    rupees, rest = divmod(abs(paise), 100)
    digits = str(rupees)
    if len(digits) > 3:
        head, tail = digits[:-3], digits[-3:]
        groups = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        if head:
            groups.insert(0, head)
        digits = ",".join([*groups, tail])
    fraction = f".{rest:02d}" if rest or always_paise else ""
    return f"{sign}₹{digits}{fraction}"
