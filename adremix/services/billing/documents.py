"""Issuing tax invoices and credit notes, inside the transaction that records the money.

`issue_invoice` runs where a captured payment is recorded as granting credits (checkout
confirmation, webhook, subscription charge, payment link); `issue_credit_notes` where a
payment's refunds are settled. Both are idempotent (one document per payment, one per
refund) and take their numbers under the series' row lock (see numbering.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, func, select

from adremix.db import session_scope
from adremix.enums import DocumentKind, RefundStatus
from adremix.models import (
    BillingProfile,
    Payment,
    PaymentOrder,
    PaymentRefund,
    TaxDocument,
    User,
)
from adremix.services.billing.gst import (
    TaxSplit,
    difference,
    ist_date,
    proportional_split,
    split_exclusive,
    split_inclusive,
    state_name,
)
from adremix.services.billing.numbering import format_number, take_number
from adremix.settings import Settings, get_settings


@dataclass(frozen=True)
class Buyer:
    name: str
    email: str
    address: str
    state: str  # GST State code of the address on record ("" when none)
    gstin: str | None

    def place_of_supply(self, supplier_state: str) -> str:
        """IGST Act s.12(2): a registered buyer's location (their GSTIN's State); else the
        address on record; else, with no address, the supplier's location."""
        if self.gstin:
            return self.gstin[:2]
        return self.state or supplier_state


def format_address(profile: BillingProfile) -> str:
    lines = [profile.address_line1, profile.address_line2, f"{profile.city} - {profile.pin_code}"]
    lines.append(f"{state_name(profile.state_code)} ({profile.state_code})")
    return "\n".join(line for line in lines if line.strip())


def buyer_for(session: Session, user_id: int, *, gstin: str | None = None) -> Buyer:
    """The buyer as their billing profile says now (a quote's GSTIN wins over it)."""
    user = session.get(User, user_id)
    if user is None:
        raise ValueError(f"No user {user_id}.")
    profile = session.get(BillingProfile, user_id)
    if profile is None:
        return Buyer(user.name or user.email, user.email, "", "", gstin)
    return Buyer(
        name=profile.legal_name,
        email=user.email,
        address=format_address(profile),
        state=profile.state_code,
        gstin=gstin or profile.gstin,
    )


def _split_of(document: TaxDocument) -> TaxSplit:
    return TaxSplit(
        document.taxable_paise, document.cgst_paise, document.sgst_paise, document.igst_paise
    )


def invoice_for_payment(session: Session, payment_id: int) -> TaxDocument | None:
    return session.exec(
        select(TaxDocument).where(TaxDocument.source_key == f"payment:{payment_id}")
    ).first()


def issue_invoice(
    session: Session,
    *,
    payment: Payment,
    order: PaymentOrder,
    description: str,
    buyer_gstin: str | None = None,
    settings: Settings | None = None,
    issued_at: datetime | None = None,
) -> TaxDocument:
    """The tax invoice for a captured payment that granted credits (made once)."""
    settings = settings or get_settings()
    assert payment.id is not None
    existing = invoice_for_payment(session, payment.id)
    if existing is not None:
        return existing
    buyer = buyer_for(session, order.user_id, gstin=buyer_gstin)
    place = buyer.place_of_supply(settings.seller_state)
    intra = place == settings.seller_state
    if order.tax_paise and payment.amount_paise == order.amount_paise:
        # The split the order was priced with (and the receipt shows).
        split = split_exclusive(
            order.amount_paise - order.tax_paise, order.tax_paise, intra_state=intra
        )
    else:
        split = split_inclusive(
            payment.amount_paise, percent=settings.gst_percent, intra_state=intra
        )
    fy, sequence, issued = take_number(session, kind=DocumentKind.INVOICE, issued_at=issued_at)
    document = TaxDocument(
        kind=DocumentKind.INVOICE,
        number=format_number(settings.invoice_prefix, fy, sequence),
        financial_year=fy,
        sequence=sequence,
        issued_at=issued,
        source_key=f"payment:{payment.id}",
        user_id=order.user_id,
        payment_id=payment.id,
        order_receipt=order.receipt_number,
        description=description[:200],
        credits=order.credits,
        supplier_name=settings.seller_name,
        supplier_address=settings.seller_address,
        supplier_gstin=settings.seller_gstin,
        supplier_state=settings.seller_state,
        buyer_name=buyer.name[:200],
        buyer_email=buyer.email,
        buyer_address=buyer.address,
        buyer_state=buyer.state or place,
        buyer_gstin=buyer.gstin,
        place_of_supply=place,
        sac=settings.sac_code,
        rate_percent=settings.gst_percent,
        taxable_paise=split.taxable,
        cgst_paise=split.cgst,
        sgst_paise=split.sgst,
        igst_paise=split.igst,
        total_paise=split.total,
    )
    session.add(document)
    session.flush()
    return document


def issue_credit_notes(
    session: Session,
    *,
    payment: Payment,
    settings: Settings | None = None,
    issued_at: datetime | None = None,
) -> list[TaxDocument]:
    """A credit note for each processed refund of an invoiced payment that has none yet.

    Each note reverses its refund's share of the invoice, computed on the running total of
    the payment's refunds (see gst.proportional_split), in the invoice's own split (CGST +
    SGST, or IGST). A refund of a payment that was never invoiced (it granted nothing: a
    duplicate, or an amount under review) gets no note: there was no supply to reverse.
    """
    settings = settings or get_settings()
    assert payment.id is not None
    invoice = invoice_for_payment(session, payment.id)
    if invoice is None:
        return []
    credited = session.exec(
        select(func.coalesce(func.sum(TaxDocument.total_paise), 0)).where(
            TaxDocument.original_id == invoice.id
        )
    ).one()
    noted = select(TaxDocument.refund_id).where(TaxDocument.original_id == invoice.id)
    refunds = session.exec(
        select(PaymentRefund)
        .where(
            PaymentRefund.payment_id == payment.id,
            PaymentRefund.status == RefundStatus.PROCESSED,
            col(PaymentRefund.id).not_in(noted.where(col(TaxDocument.refund_id).is_not(None))),
        )
        .order_by(col(PaymentRefund.id))
    ).all()
    whole = _split_of(invoice)
    issued: list[TaxDocument] = []
    for refund in refunds:
        before = int(credited)
        after = min(before + refund.amount_paise, invoice.total_paise)
        if after <= before:
            continue  # refunds beyond the invoiced amount: nothing left to reverse
        split = difference(proportional_split(after, whole), proportional_split(before, whole))
        fy, sequence, when = take_number(
            session, kind=DocumentKind.CREDIT_NOTE, issued_at=issued_at
        )
        note = TaxDocument(
            kind=DocumentKind.CREDIT_NOTE,
            number=format_number(settings.credit_note_prefix, fy, sequence),
            financial_year=fy,
            sequence=sequence,
            issued_at=when,
            source_key=f"refund:{refund.id}",
            user_id=invoice.user_id,
            payment_id=payment.id,
            refund_id=refund.id,
            original_id=invoice.id,
            order_receipt=invoice.order_receipt,
            description=f"Refund against invoice {invoice.number}"[:200],
            credits=0,
            supplier_name=invoice.supplier_name,
            supplier_address=invoice.supplier_address,
            supplier_gstin=invoice.supplier_gstin,
            supplier_state=invoice.supplier_state,
            buyer_name=invoice.buyer_name,
            buyer_email=invoice.buyer_email,
            buyer_address=invoice.buyer_address,
            buyer_state=invoice.buyer_state,
            buyer_gstin=invoice.buyer_gstin,
            place_of_supply=invoice.place_of_supply,
            sac=invoice.sac,
            rate_percent=invoice.rate_percent,
            taxable_paise=split.taxable,
            cgst_paise=split.cgst,
            sgst_paise=split.sgst,
            igst_paise=split.igst,
            total_paise=split.total,
        )
        session.add(note)
        session.flush()
        credited = after
        issued.append(note)
    return issued


# --- reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentLine:
    """One document as the Credits page lists it."""

    id: int
    kind: DocumentKind
    number: str
    date: date
    total_paise: int
    description: str


def documents_for_user(*, user_id: int, limit: int = 50) -> list[DocumentLine]:
    """The user's invoices and credit notes, newest first."""
    with session_scope() as session:
        rows = session.exec(
            select(TaxDocument)
            .where(TaxDocument.user_id == user_id)
            .order_by(col(TaxDocument.issued_at).desc(), col(TaxDocument.id).desc())
            .limit(limit)
        ).all()
        return [
            DocumentLine(
                id=row.id or 0,
                kind=DocumentKind(row.kind),
                number=row.number,
                date=ist_date(row.issued_at),
                total_paise=row.total_paise,
                description=row.description,
            )
            for row in rows
        ]
