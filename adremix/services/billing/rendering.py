"""A stored document as the PDF its owner downloads and receives by e-mail."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from adremix.db import session_scope
from adremix.enums import CheckoutMode
from adremix.models import PaymentOrder, TaxDocument
from adremix.services.billing.gst import ist_date
from adremix.services.billing.pdf import Original, render_pdf


def pdf_filename(document: TaxDocument) -> str:
    return document.number.replace("/", "-") + ".pdf"


def pdf_for(session: Session, document: TaxDocument) -> bytes:
    """Render `document` (a credit note cites its invoice's number and date)."""
    original = None
    if document.original_id is not None:
        invoice = session.get(TaxDocument, document.original_id)
        if invoice is not None:
            original = Original(
                number=invoice.number,
                issued_at_date=ist_date(invoice.issued_at).strftime("%d %b %Y"),
            )
    provider = session.exec(
        select(PaymentOrder.provider).where(PaymentOrder.receipt_number == document.order_receipt)
    ).first()
    return render_pdf(document, original=original, test_mode=provider == CheckoutMode.TEST)


@dataclass(frozen=True)
class DocumentFile:
    filename: str
    content: bytes


def document_pdf(*, user_id: int, document_id: int) -> DocumentFile | None:
    """One of the user's own documents as a PDF; None for anyone else's (or none)."""
    with session_scope() as session:
        document = session.get(TaxDocument, document_id)
        if document is None or document.user_id != user_id:
            return None
        return DocumentFile(pdf_filename(document), pdf_for(session, document))
