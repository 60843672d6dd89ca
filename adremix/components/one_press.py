"""One press, one action: the button behind Generate and Buy (see one_press_button.jsx)."""

from __future__ import annotations

import reflex as rx
from reflex.event import no_args_event_spec


class OnePressButton(rx.Component):
    """A Radix button locked in the browser from the press until the server acknowledges it.

    `ack` is a counter the state increments once it has accepted or refused a press; the
    press's own idempotency key (an argument of `on_press`) makes a retry after a lost
    acknowledgement harmless.
    """

    library = "$/public" + rx.asset("one_press_button.jsx", shared=True)
    tag = "OnePressButton"

    ack: rx.Var[int]
    busy: rx.Var[bool]
    busy_label: rx.Var[str]
    min_busy_ms: rx.Var[int]
    max_busy_ms: rx.Var[int]
    disabled: rx.Var[bool]
    size: rx.Var[str]
    variant: rx.Var[str]

    on_press: rx.EventHandler[no_args_event_spec]


one_press_button = OnePressButton.create
