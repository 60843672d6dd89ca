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
            rx.link(
                rx.icon("download", size=14),
                " PDF",
                href=document["url"],
                reload_document=True,
                aria_label="Download "
                + document["kind"].to(str)
                + " "
                + document["number"].to(str),
            )
        ),
    )


def documents_table() -> rx.Component:
    return rx.cond(
        CreditsState.documents.length() > 0,
        rx.vstack(
            rx.heading("Invoices and credit notes", size="5"),
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
