"""Billing: GST tax invoices and credit notes, their numbering, PDFs and e-mail, the
buyer's billing profile, and the register's audit and GSTR-1 export.

Documents are issued inside the caller's transaction (the one that records a payment or
a refund), so payments and documents commit or roll back together; the payments
package calls `issue_invoice` and `issue_credit_notes`. Nothing here imports payments.
"""

from adremix.services.billing.delivery import (
    DeliveryReport,
    deliver_documents,
    deliver_soon,
    wait_for_background_sends,
)
from adremix.services.billing.documents import (
    Buyer,
    DocumentLine,
    documents_for_user,
    invoice_for_payment,
    issue_credit_notes,
    issue_invoice,
)
from adremix.services.billing.gst import (
    IST,
    STATES,
    TaxSplit,
    financial_year,
    gstin_problem,
    ist_date,
    split_inclusive,
    state_name,
    supplier_gstin_problem,
)
from adremix.services.billing.numbering import format_number, take_number
from adremix.services.billing.profile import (
    BillingDetails,
    InvalidBillingProfile,
    billing_details,
    save_billing_details,
)
from adremix.services.billing.register import (
    GSTR1_COLUMNS,
    REGISTER_ROW,
    GstTotals,
    RegisterAudit,
    audit_register,
    gst_totals,
    gstr1_csv,
    register_amounts,
    verify_register,
)
from adremix.services.billing.rendering import DocumentFile, document_pdf, pdf_for

__all__ = [
    "GSTR1_COLUMNS",
    "IST",
    "REGISTER_ROW",
    "STATES",
    "BillingDetails",
    "Buyer",
    "DeliveryReport",
    "DocumentFile",
    "DocumentLine",
    "GstTotals",
    "InvalidBillingProfile",
    "RegisterAudit",
    "TaxSplit",
    "audit_register",
    "billing_details",
    "deliver_documents",
    "deliver_soon",
    "document_pdf",
    "documents_for_user",
    "financial_year",
    "format_number",
    "gst_totals",
    "gstin_problem",
    "gstr1_csv",
    "invoice_for_payment",
    "issue_credit_notes",
    "issue_invoice",
    "ist_date",
    "pdf_for",
    "register_amounts",
    "save_billing_details",
    "split_inclusive",
    "state_name",
    "supplier_gstin_problem",
    "take_number",
    "verify_register",
    "wait_for_background_sends",
]
