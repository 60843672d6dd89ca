"""The printable receipt: a self-contained HTML page (print or save as PDF)."""

from __future__ import annotations

from html import escape

from adremix.enums import CheckoutMode, OrderStatus
from adremix.services.credits import format_inr
from adremix.services.payments import Receipt
from adremix.urls import CREDITS, document_url

STYLE = """
body{font-family:system-ui,-apple-system,'DejaVu Sans',sans-serif;color:#1c2024;background:#f6f7f9;
margin:0;padding:2rem}
.sheet{max-width:44rem;margin:0 auto;background:#fff;border:1px solid #e0e1e6;border-radius:12px;
padding:2.5rem}
h1{font-size:1.4rem;margin:0}.muted{color:#60646c}.row{display:flex;justify-content:space-between;
padding:.45rem 0;border-bottom:1px solid #f0f0f3}
.total{font-weight:700;font-size:1.1rem;border:none}
.head{display:flex;justify-content:space-between;align-items:flex-start;
margin-bottom:2rem}
.badge{background:#e6f6eb;color:#18794e;border-radius:999px;padding:.2rem .7rem;font-size:.8rem}
.actions{max-width:44rem;margin:1rem auto;display:flex;gap:.5rem;justify-content:flex-end}
button,a.btn{font:inherit;border:1px solid #d0d1d7;background:#fff;border-radius:8px;
padding:.45rem .9rem;cursor:pointer;color:inherit;text-decoration:none}
@media print{body{background:#fff;padding:0}.actions{display:none}.sheet{border:none}}
"""


def _row(label: str, value: str, css: str = "row") -> str:
    return f'<div class="{css}"><span>{escape(label)}</span><span>{escape(value)}</span></div>'


def render_receipt(receipt: Receipt) -> str:
    status = {
        OrderStatus.REFUNDED: "Refunded",
        OrderStatus.PARTIALLY_REFUNDED: "Partly refunded",
    }.get(receipt.status, "Paid")
    seller = escape(receipt.seller_name)
    gstin = (
        f"<div class='muted'>GSTIN {escape(receipt.seller_gstin)}</div>"
        if receipt.seller_gstin
        else ""
    )
    test_note = (
        "<p class='muted'>Test mode: no real money was charged.</p>"
        if receipt.provider == CheckoutMode.TEST
        else ""
    )
    invoice_link = (
        f'<a class="btn" href="{escape(document_url(str(receipt.invoice_id)))}" '
        f'id="invoice-pdf">Tax invoice {escape(receipt.invoice_number)} (PDF)</a>'
        if receipt.invoice_id
        else ""
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Receipt {escape(receipt.receipt_number)} · AdRemix</title><style>{STYLE}</style></head>
<body><div class="actions"><a class="btn" href="{CREDITS}">Back to credits</a>
{invoice_link}<a class="btn" href="?download=1">Download</a>
<button id="print-receipt" type="button">Print</button></div>
<main class="sheet" id="receipt"><div class="head"><div><h1>Receipt</h1>
<div class="muted">{escape(receipt.receipt_number)}</div></div>
<div style="text-align:right"><strong>{seller}</strong>{gstin}
<div><span class="badge">{status}</span></div></div></div>
{_row("Date", receipt.paid_at.strftime("%d %b %Y, %H:%M UTC"))}
{_row("Billed to", f"{receipt.buyer_name} <{receipt.buyer_email}>")}
{_row("Package", f"{receipt.package_name} ({receipt.credits} credits)")}
{_row("Payment id", receipt.payment_id)}
{_row("Taxable value", format_inr(receipt.taxable_paise, always_paise=True))}
{_row(f"GST @ {receipt.gst_percent}%", format_inr(receipt.tax_paise, always_paise=True))}
{_row("Total paid", format_inr(receipt.amount_paise, always_paise=True), "row total")}
{test_note}</main><script src="/receipt_print.js" defer></script></body></html>"""
