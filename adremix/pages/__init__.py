"""One module per route; importing this package registers every page."""

from adremix.pages import account, admin, credits, dashboard, history, login, new_ad, not_found

__all__ = [
    "account",
    "admin",
    "credits",
    "dashboard",
    "history",
    "login",
    "new_ad",
    "not_found",
]
