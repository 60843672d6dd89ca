"""The register of tax documents: its audit (`invoices verify`) and the GSTR-1 export."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from adremix.db import session_scope
from adremix.enums import DocumentKind, RefundStatus
from adremix.models import Payment, PaymentRefund, TaxDocument
from adremix.services.billing.gst import (
    financial_year,
    financial_year_bounds,
    ist_date,
    state_name,
)
from adremix.services.billing.numbering import MAX_NUMBER_LENGTH

_NUMBER = re.compile(r"^[A-Z0-9]{1,3}/(\d{2}-\d{2})/(\d{6,})$")
# Rounding can leave a line a paisa or two off the exact rate; more is a real error.
TAX_TOLERANCE_PAISE = 2


@dataclass
class RegisterAudit:
    """What `python -m adremix invoices verify` reports; no problems means it is sound."""

    documents: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _check_series(audit: RegisterAudit, series: list[TaxDocument]) -> None:
    kind, fy = series[0].kind, series[0].financial_year
    sequences = [d.sequence for d in series]
    expected = list(range(1, len(series) + 1))
    if sequences != expected:
        missing = sorted(set(range(1, max(sequences) + 1)) - set(sequences))
        repeated = sorted({s for s in sequences if sequences.count(s) > 1})
        audit.problems.append(
            f"{kind} {fy}: numbering is not consecutive from 1"
            + (f"; missing {missing[:20]}" if missing else "")
            + (f"; repeated {repeated[:20]}" if repeated else "")
        )
    previous: TaxDocument | None = None
    for document in series:
        match = _NUMBER.match(document.number)
        if (
            len(document.number) > MAX_NUMBER_LENGTH
            or not match
            or match.group(1) != fy[2:]
            or int(match.group(2)) != document.sequence
        ):
            audit.problems.append(f"{document.number}: not a valid number for {fy}")
        if financial_year(document.issued_at) != fy:
            audit.problems.append(f"{document.number}: dated outside financial year {fy}")
        if previous is not None and ist_date(document.issued_at) < ist_date(previous.issued_at):
            audit.problems.append(
                f"{document.number}: dated before {previous.number}, which it follows"
            )
        previous = document


def _check_amounts(audit: RegisterAudit, document: TaxDocument) -> None:
    tax = document.cgst_paise + document.sgst_paise + document.igst_paise
    if document.taxable_paise + tax != document.total_paise:
        audit.problems.append(
            f"{document.number}: taxable value and tax do not add up to the total"
        )
    if document.igst_paise and (document.cgst_paise or document.sgst_paise):
        audit.problems.append(f"{document.number}: both IGST and CGST/SGST")
    if abs(document.cgst_paise - document.sgst_paise) > 1:
        audit.problems.append(f"{document.number}: CGST and SGST are not equal halves")
    intra = document.place_of_supply == document.supplier_state
    if tax and intra and document.igst_paise:
        audit.problems.append(f"{document.number}: IGST on an intra-State supply")
    if tax and not intra and (document.cgst_paise or document.sgst_paise):
        audit.problems.append(f"{document.number}: CGST/SGST on an inter-State supply")
    if abs(tax * 100 - document.taxable_paise * document.rate_percent) > TAX_TOLERANCE_PAISE * 100:
        audit.problems.append(
            f"{document.number}: tax {tax} paise is not {document.rate_percent}% of "
            f"{document.taxable_paise} paise"
        )


def audit_register(session: Session) -> RegisterAudit:
    """Numbering, dates, amounts, and one document per payment and per refund."""
    audit = RegisterAudit()
    documents = session.exec(
        select(TaxDocument).order_by(
            col(TaxDocument.kind), col(TaxDocument.financial_year), col(TaxDocument.sequence)
        )
    ).all()
    audit.documents = len(documents)
    series: dict[tuple[str, str], list[TaxDocument]] = defaultdict(list)
    for document in documents:
        series[(document.kind, document.financial_year)].append(document)
        _check_amounts(audit, document)
        if not document.supplier_gstin:
            audit.warnings.append(f"{document.number}: issued without a supplier GSTIN")
    for members in series.values():
        _check_series(audit, members)

    invoices = {d.payment_id: d for d in documents if d.kind == DocumentKind.INVOICE}
    invoices_by_id = {d.id: d for d in invoices.values()}
    notes_by_invoice: dict[int, list[TaxDocument]] = defaultdict(list)
    for document in documents:
        if document.kind == DocumentKind.CREDIT_NOTE:
            original = invoices_by_id.get(document.original_id)
            if original is None or original.payment_id != document.payment_id:
                audit.problems.append(
                    f"{document.number}: does not reference its payment's invoice"
                )
                continue
            notes_by_invoice[original.id or 0].append(document)

    for payment in session.exec(select(Payment)).all():
        invoice = invoices.get(payment.id or 0)
        if payment.credits_granted > 0 and invoice is None:
            audit.problems.append(
                f"payment {payment.provider_payment_id}: granted credits but has no invoice"
            )
        if invoice is None:
            continue
        if payment.credits_granted <= 0:
            audit.problems.append(f"{invoice.number}: its payment granted no credits")
        if invoice.total_paise != payment.amount_paise:
            audit.problems.append(
                f"{invoice.number}: total {invoice.total_paise} paise, but the payment was "
                f"{payment.amount_paise}"
            )
        refunds = session.exec(
            select(PaymentRefund).where(
                PaymentRefund.payment_id == payment.id,
                PaymentRefund.status == RefundStatus.PROCESSED,
            )
        ).all()
        notes = notes_by_invoice.get(invoice.id or 0, [])
        noted = {n.refund_id for n in notes}
        refunded = sum(r.amount_paise for r in refunds)
        credited = sum(n.total_paise for n in notes)
        for refund in refunds:
            if refund.id not in noted and credited < invoice.total_paise:
                audit.problems.append(
                    f"refund {refund.provider_refund_id} of {invoice.number} has no credit note"
                )
        if credited != min(refunded, invoice.total_paise):
            audit.problems.append(
                f"{invoice.number}: credit notes total {credited} paise; refunds total {refunded}"
            )
        for line in ("taxable_paise", "cgst_paise", "sgst_paise", "igst_paise"):
            if sum(getattr(n, line) for n in notes) > getattr(invoice, line):
                audit.problems.append(
                    f"{invoice.number}: credit notes reverse more {line} than it had"
                )
    return audit


def verify_register() -> RegisterAudit:
    """The audit over the whole register, in one read-only transaction."""
    with session_scope() as session:
        return audit_register(session)


@dataclass(frozen=True)
class GstTotals:
    """A financial year's tax, invoices less credit notes, in paise."""

    taxable: int
    cgst: int
    sgst: int
    igst: int
    invoices: int
    credit_notes: int


def gst_totals(*, fy: str) -> GstTotals:
    """What the register says was collected in a financial year (e.g. for an admin view)."""
    start, end = financial_year_bounds(fy)
    sums = [0, 0, 0, 0]
    counts = {DocumentKind.INVOICE: 0, DocumentKind.CREDIT_NOTE: 0}
    with session_scope() as session:
        for document in session.exec(
            select(TaxDocument).where(TaxDocument.issued_at >= start, TaxDocument.issued_at < end)
        ):
            sign = 1 if document.kind == DocumentKind.INVOICE else -1
            counts[DocumentKind(document.kind)] += 1
            for index, paise in enumerate(
                (
                    document.taxable_paise,
                    document.cgst_paise,
                    document.sgst_paise,
                    document.igst_paise,
                )
            ):
                sums[index] += sign * paise
    return GstTotals(*sums, counts[DocumentKind.INVOICE], counts[DocumentKind.CREDIT_NOTE])


# The register as the admin console's daily figures read it: one row per document.
REGISTER_ROW = (
    TaxDocument.issued_at,
    TaxDocument.kind,
    TaxDocument.total_paise,
    TaxDocument.taxable_paise,
)


def register_amounts(kind: str, total_paise: int, taxable_paise: int) -> tuple[int, int, int]:
    """What one document adds to a day of the register: (invoiced, credit-noted, GST),
    the GST being the tax on invoices less the tax credit notes reversed."""
    tax = total_paise - taxable_paise
    if kind == DocumentKind.INVOICE:
        return total_paise, 0, tax
    return 0, total_paise, -tax


# --- GSTR-1 -----------------------------------------------------------------------------

GSTR1_COLUMNS = [
    "Section",
    "Return Period",
    "GSTIN/UIN of Recipient",
    "Receiver Name",
    "Invoice Number",
    "Invoice date",
    "Invoice Value",
    "Note Number",
    "Note Date",
    "Note Type",
    "Note Value",
    "Place Of Supply",
    "Reverse Charge",
    "Invoice Type",
    "Type",
    "Rate",
    "Taxable Value",
    "Integrated Tax Amount",
    "Central Tax Amount",
    "State/UT Tax Amount",
    "Cess Amount",
]


def _rupees(paise: int) -> str:
    sign = "-" if paise < 0 else ""
    return f"{sign}{abs(paise) // 100}.{abs(paise) % 100:02d}"


def _date(moment: datetime) -> str:
    return ist_date(moment).strftime("%d-%b-%y")  # the GST offline tool's dd-mmm-yy


def _period(moment: datetime) -> str:
    return ist_date(moment).strftime("%m%Y")


def _place(code: str) -> str:
    return f"{code}-{state_name(code)}"


def gstr1_csv(*, fy: str) -> str:
    """A CSV of the financial year's documents in GSTR-1's sections and column names.

    B2B: one row per invoice to a registered buyer (with GSTIN). CDNR: one row per credit
    note to a registered buyer. B2CS: supplies to unregistered buyers, net of their credit
    notes, summed by return period, place of supply and rate (type OE). Amounts in rupees.
    """
    start, end = financial_year_bounds(fy)
    with session_scope() as session:
        documents = session.exec(
            select(TaxDocument)
            .where(TaxDocument.issued_at >= start, TaxDocument.issued_at < end)
            .order_by(col(TaxDocument.kind).desc(), col(TaxDocument.sequence))
        ).all()
        originals = {
            d.id: d
            for d in session.exec(
                select(TaxDocument).where(
                    col(TaxDocument.id).in_([d.original_id for d in documents if d.original_id])
                )
            ).all()
        }
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=GSTR1_COLUMNS, lineterminator="\n")
    writer.writeheader()
    b2cs: dict[tuple[str, str, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for document in documents:
        sign = 1 if document.kind == DocumentKind.INVOICE else -1
        taxes = {
            "Integrated Tax Amount": _rupees(document.igst_paise),
            "Central Tax Amount": _rupees(document.cgst_paise),
            "State/UT Tax Amount": _rupees(document.sgst_paise),
        }
        common = {
            "Return Period": _period(document.issued_at),
            "Place Of Supply": _place(document.place_of_supply),
            "Reverse Charge": "N",
            "Rate": str(document.rate_percent),
            "Taxable Value": _rupees(document.taxable_paise),
            "Cess Amount": "0.00",
            **taxes,
        }
        if document.buyer_gstin and document.kind == DocumentKind.INVOICE:
            writer.writerow(
                {
                    "Section": "B2B",
                    "GSTIN/UIN of Recipient": document.buyer_gstin,
                    "Receiver Name": document.buyer_name,
                    "Invoice Number": document.number,
                    "Invoice date": _date(document.issued_at),
                    "Invoice Value": _rupees(document.total_paise),
                    "Invoice Type": "Regular B2B",
                    **common,
                }
            )
        elif document.buyer_gstin:
            original = originals.get(document.original_id)
            writer.writerow(
                {
                    "Section": "CDNR",
                    "GSTIN/UIN of Recipient": document.buyer_gstin,
                    "Receiver Name": document.buyer_name,
                    "Invoice Number": original.number if original else "",
                    "Invoice date": _date(original.issued_at) if original else "",
                    "Note Number": document.number,
                    "Note Date": _date(document.issued_at),
                    "Note Type": "C",
                    "Note Value": _rupees(document.total_paise),
                    "Invoice Type": "Regular B2B",
                    **common,
                }
            )
        else:
            key = (_period(document.issued_at), document.place_of_supply, document.rate_percent)
            sums = b2cs[key]
            sums[0] += sign * document.taxable_paise
            sums[1] += sign * document.igst_paise
            sums[2] += sign * document.cgst_paise
            sums[3] += sign * document.sgst_paise
    for (period, place, rate), (taxable, igst, cgst, sgst) in sorted(b2cs.items()):
        writer.writerow(
            {
                "Section": "B2CS",
                "Return Period": period,
                "Type": "OE",
                "Place Of Supply": _place(place),
                "Rate": str(rate),
                "Taxable Value": _rupees(taxable),
                "Integrated Tax Amount": _rupees(igst),
                "Central Tax Amount": _rupees(cgst),
                "State/UT Tax Amount": _rupees(sgst),
                "Cess Amount": "0.00",
            }
        )
    return out.getvalue()
