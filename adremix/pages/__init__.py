"""One module per route; importing this package registers every page."""

from adremix.pages import account, credits, dashboard, history, login, new_ad

__all__ = ["account", "credits", "dashboard", "history", "login", "new_ad"]
