"""A scrollable table of rows from a list var: the Credits page's payments and ledger."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx


def data_table(
    headers: list[str], rows: rx.Var, row: Callable[[rx.Var], rx.Component], *, id: str
) -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
            rx.table.body(rx.foreach(rows, row)),
            width="100%",
            variant="surface",
            id=id,
        ),
        width="100%",
        overflow_x="auto",
    )
