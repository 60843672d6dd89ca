"""One module per route; importing this package registers every page."""

from adremix.pages import (
    account,
    admin,
    brand,
    credits,
    dashboard,
    history,
    login,
    new_ad,
    not_found,
)

__all__ = [
    "account",
    "admin",
    "brand",
    "credits",
    "dashboard",
    "history",
    "login",
    "new_ad",
    "not_found",
]
