"""The credit balance, refreshed in every open tab after it changes in one (balance_sync.jsx)."""

from __future__ import annotations

import reflex as rx
from reflex.event import no_args_event_spec


class BalanceSync(rx.Component):
    """Renders nothing; tells the other tabs when `balance` changes, and calls
    `on_balance_changed` when another tab's balance changed or this tab comes into view."""

    library = "$/public" + rx.asset("balance_sync.jsx", shared=True)
    tag = "BalanceSync"

    balance: rx.Var[int]

    on_balance_changed: rx.EventHandler[no_args_event_spec]


balance_sync = BalanceSync.create
