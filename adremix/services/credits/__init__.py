"""Credits: the ledger (the only code that moves credits), packages and prices, statements.

The ledger functions take the caller's `session`, so a credit movement commits or rolls
back with the change that causes it (a generation, a payment, a sign-up).
"""

from adremix.services.credits.ledger import (
    BalanceMismatch,
    Entry,
    InsufficientCredits,
    UnknownUser,
    adjust_balance,
    find_mismatches,
    get_balance,
    grant,
    grant_signup_bonus,
    refund,
    spend,
    spend_credits,
    take_up_to,
)
from adremix.services.credits.pricing import (
    PackageOffer,
    TaxBreakup,
    find_package,
    format_inr,
    gst_breakup,
    offers,
)
from adremix.services.credits.statement import (
    StatementLine,
    StatementPage,
    ledger_csv,
    statement_page,
)

__all__ = [
    "BalanceMismatch",
    "Entry",
    "InsufficientCredits",
    "PackageOffer",
    "StatementLine",
    "StatementPage",
    "TaxBreakup",
    "UnknownUser",
    "adjust_balance",
    "find_mismatches",
    "find_package",
    "format_inr",
    "get_balance",
    "grant",
    "grant_signup_bonus",
    "gst_breakup",
    "ledger_csv",
    "offers",
    "refund",
    "spend",
    "spend_credits",
    "statement_page",
    "take_up_to",
]
