"""Credits page: the buyer's tax invoices and credit notes, each a PDF download."""

from __future__ import annotations

import reflex as rx

from adremix.components.data_table import data_table
from adremix.state.credits import CreditsState


def document_row(document: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(document["date"]),
        rx.table.cell(rx.text(document["kind"], " ", rx.code(document["number"]))),
        rx.table.cell(rx.text(document["description"], size="2")),
        rx.table.cell(document["amount"]),
        rx.table.cell(
            # Named "Download Tax invoice AR/26-27/000001 as PDF": the visible "PDF" is
            # part of the name (an aria-label over it would hide it), the rest says which.
            rx.link(
                rx.icon("download", size=14),
                rx.el.span(
                    "Download ",
                    document["kind"],
                    " ",
                    document["number"],
                    " as ",
                    class_name="sr-only",
                ),
                "PDF",
                href=document["url"],
                reload_document=True,
                high_contrast=True,
            )
        ),
    )


def documents_table() -> rx.Component:
    return rx.cond(
        CreditsState.documents.length() > 0,
        rx.vstack(
            rx.heading("Invoices and credit notes", as_="h2", size="5"),
            rx.text(
                "GST tax invoices for your payments and credit notes for refunds; each is "
                "also e-mailed to you.",
                size="2",
                color_scheme="gray",
            ),
            data_table(
                ["Date (IST)", "Document", "For", "Amount", ""],
                CreditsState.documents,
                document_row,
                id="documents-table",
            ),
            width="100%",
            spacing="3",
        ),
    )
