"""Radix dialogs and popovers whose content exists only while they are open.

A closed Radix overlay still renders its content's `Presence` (and, in Radix Themes, a
force-mounted portal), whose layout effects set state as the page hydrates: that made
the hydration's commit synchronous, and React ran every pending effect of the page in
the same long task. Here the root holds the trigger alone until the overlay opens; Radix
still moves focus in, closes on Escape and gives focus back to the trigger on close.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import reflex as rx
from reflex.experimental.client_state import ClientStateVar


def while_open(
    root: Callable[..., rx.Component],
    trigger: rx.Component,
    content: rx.Component,
    *,
    is_open: rx.Var,
    on_open_change: object,
) -> rx.Component:
    """`root(trigger, content)` with `content` rendered only while `is_open`."""
    return root(trigger, rx.cond(is_open, content), open=is_open, on_open_change=on_open_change)


def client_while_open(
    root: Callable[..., rx.Component], trigger: rx.Component, content: rx.Component
) -> rx.Component:
    """`while_open` with the open flag kept in the browser: no round trip to open a menu.

    The flag is React state of the root's own memo component, so it starts closed on
    every page (a menu left open by one of its links is closed when the user comes
    back). The root is a snapshot boundary: Reflex would otherwise memoize the inner
    `cond` apart from the root, each with its own copy of the state."""
    flag = ClientStateVar.create(default=False, global_ref=False)
    component = while_open(root, trigger, content, is_open=flag.value, on_open_change=flag.set)
    component._memoization_mode = dataclasses.replace(component._memoization_mode, recursive=False)
    return component


def client_popover(button: Callable[..., rx.Component], content: rx.Component) -> rx.Component:
    """A popover whose Radix parts exist only from its first opening on.

    Radix's popover trigger is also its popper's anchor, which stores itself in the
    popper's state from a ref callback: a synchronous re-render in the hydration's
    commit even while closed. Until the first press the page has `button()` alone; the
    press mounts the popover open, after which Radix keeps it (focus goes back to its
    trigger on close, Escape closes). `button(**props)` makes the trigger's button.
    """
    opened = ClientStateVar.create(default=False, global_ref=False)
    component = rx.cond(
        opened.value,
        rx.popover.root(rx.popover.trigger(button()), content, default_open=True),
        button(on_click=opened.set_value(True)),
    )
    # One memo component for both branches, so both read the same state.
    component._memoization_mode = dataclasses.replace(component._memoization_mode, recursive=False)
    return component
