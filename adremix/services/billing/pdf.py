"""Tax invoices and credit notes as PDF, drawn with reportlab.

reportlab rather than WeasyPrint: it is pure Python with wheels on PyPI, so `make run`
needs no system libraries (WeasyPrint needs Pango from the OS), and it lays out a
document of this size in a few milliseconds. The fonts are the bundled DejaVu Sans, which
has the rupee sign.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from adremix.enums import DocumentKind
from adremix.models import TaxDocument
from adremix.services.billing.gst import ist_date, rupees_in_words, state_name
from adremix.services.credits import format_inr

FONTS = Path(__file__).resolve().parents[3] / "assets" / "fonts"
INK = colors.HexColor("#1c2024")
MUTED = colors.HexColor("#60646c")
RULE = colors.HexColor("#d9d9e0")
ACCENT = colors.HexColor("#6e56cf")


@lru_cache(maxsize=1)
def _fonts() -> tuple[str, str]:
    pdfmetrics.registerFont(TTFont("AdRemixSans", str(FONTS / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont("AdRemixSans-Bold", str(FONTS / "DejaVuSans-Bold.ttf")))
    # So that <b> in a paragraph picks the bold face.
    pdfmetrics.registerFontFamily(
        "AdRemixSans",
        normal="AdRemixSans",
        bold="AdRemixSans-Bold",
        italic="AdRemixSans",
        boldItalic="AdRemixSans-Bold",
    )
    return "AdRemixSans", "AdRemixSans-Bold"


@dataclass(frozen=True)
class Original:
    """The invoice a credit note reverses, as the note must cite it (Rule 53)."""

    number: str
    issued_at_date: str


def _money(paise: int) -> str:
    return format_inr(paise, always_paise=True)


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = _fonts()
    base = ParagraphStyle("base", fontName=regular, fontSize=9, leading=12, textColor=INK)
    return {
        "base": base,
        "muted": ParagraphStyle("muted", parent=base, textColor=MUTED, fontSize=8, leading=10),
        "title": ParagraphStyle("title", parent=base, fontName=bold, fontSize=18, leading=22),
        "head": ParagraphStyle("head", parent=base, fontName=bold, fontSize=9),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "right_bold": ParagraphStyle("right_bold", parent=base, fontName=bold, alignment=TA_RIGHT),
    }


def _lines(text: str) -> str:
    return "<br/>".join(escape(line) for line in text.splitlines() if line.strip())


def render_pdf(
    document: TaxDocument, *, original: Original | None = None, test_mode: bool = False
) -> bytes:
    """The document as an A4 PDF with every Rule 46 (invoice) or Rule 53 (note) field."""
    s = _styles()
    invoice = document.kind == DocumentKind.INVOICE
    title = "Tax Invoice" if invoice else "Credit Note"
    issued = ist_date(document.issued_at).strftime("%d %b %Y")
    buffer = io.BytesIO()
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{title} {document.number}",
        author=document.supplier_name,
        subject=f"{title} {document.number}",
    )
    supplier = (
        f"<b>{escape(document.supplier_name)}</b><br/>{_lines(document.supplier_address)}"
        f"<br/>GSTIN: {escape(document.supplier_gstin or 'not registered')}"
        f"<br/>State: {escape(state_name(document.supplier_state))} "
        f"(code {escape(document.supplier_state)})"
    )
    numbers = [
        [Paragraph(f"{title} No.", s["muted"]), Paragraph(escape(document.number), s["head"])],
        [Paragraph("Date", s["muted"]), Paragraph(issued, s["base"])],
    ]
    numbers.append(
        [Paragraph("Order", s["muted"]), Paragraph(escape(document.order_receipt), s["base"])]
    )
    header = Table(
        [
            [
                [Paragraph(title, s["title"]), Spacer(1, 3 * mm), Paragraph(supplier, s["base"])],
                Table(numbers, colWidths=[28 * mm, 52 * mm]),
            ]
        ],
        colWidths=[94 * mm, 80 * mm],
    )
    header.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    buyer = (
        f"<b>{escape(document.buyer_name)}</b><br/>"
        + (_lines(document.buyer_address) + "<br/>" if document.buyer_address else "")
        + f"{escape(document.buyer_email)}<br/>"
        + f"GSTIN: {escape(document.buyer_gstin or 'unregistered')}"
    )
    place = f"{state_name(document.place_of_supply)} (code {document.place_of_supply})"
    parties = Table(
        [
            [Paragraph("Billed to", s["muted"]), Paragraph("Place of Supply", s["muted"])],
            [
                Paragraph(buyer, s["base"]),
                Paragraph(escape(place) + "<br/>Reverse charge: No", s["base"]),
            ],
        ],
        colWidths=[110 * mm, 64 * mm],
    )
    parties.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEABOVE", (0, 0), (-1, 0), 0.6, RULE),
                ("TOPPADDING", (0, 0), (-1, 0), 6),
            ]
        )
    )
    quantity = f"{document.credits} credits" if document.credits else "—"
    items = Table(
        [
            [
                Paragraph("Description", s["head"]),
                Paragraph("SAC", s["head"]),
                Paragraph("Quantity", s["head"]),
                Paragraph("Taxable value", s["right_bold"]),
            ],
            [
                Paragraph(escape(document.description), s["base"]),
                Paragraph(escape(document.sac), s["base"]),
                Paragraph(quantity, s["base"]),
                Paragraph(_money(document.taxable_paise), s["right"]),
            ],
        ],
        colWidths=[88 * mm, 22 * mm, 28 * mm, 36 * mm],
    )
    items.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
                ("LINEBELOW", (0, 1), (-1, 1), 0.4, RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    half = document.rate_percent / 2
    rate = f"{half:g}%"
    tax_rows = (
        [[f"IGST @ {document.rate_percent}%", document.igst_paise]]
        if document.igst_paise or not (document.cgst_paise or document.sgst_paise)
        else [[f"CGST @ {rate}", document.cgst_paise], [f"SGST @ {rate}", document.sgst_paise]]
    )
    total_label = "Total" if invoice else "Total credited"
    rows = [
        ["Taxable value", document.taxable_paise],
        *tax_rows,
        [total_label, document.total_paise],
    ]
    last = len(rows) - 1
    totals = Table(
        [
            [
                Paragraph(escape(label), s["right_bold" if index == last else "right"]),
                Paragraph(_money(paise), s["right_bold" if index == last else "right"]),
            ]
            for index, (label, paise) in enumerate(rows)
        ],
        colWidths=[50 * mm, 36 * mm],
        hAlign="RIGHT",
    )
    totals.setStyle(TableStyle([("LINEABOVE", (0, last), (-1, last), 0.8, INK)]))
    words = Paragraph(f"Amount in words: {rupees_in_words(document.total_paise)}", s["base"])
    footer = [
        "This is a computer-generated document and needs no signature.",
        f"Amounts in Indian rupees; GST at {document.rate_percent}% on SAC {document.sac}.",
    ]
    if test_mode:
        footer.append("Test mode: no real payment was made.")
    reference = (
        [
            Spacer(1, 4 * mm),
            Paragraph(
                f"Issued against tax invoice <b>{escape(original.number)}</b> dated "
                f"{original.issued_at_date}",
                s["base"],
            ),
        ]
        if original is not None
        else []
    )
    story = [
        header,
        *reference,
        Spacer(1, 8 * mm),
        parties,
        Spacer(1, 8 * mm),
        items,
        Spacer(1, 3 * mm),
        totals,
        Spacer(1, 4 * mm),
        words,
        Spacer(1, 10 * mm),
        *[Paragraph(escape(line), s["muted"]) for line in footer],
    ]
    pdf.build(story)
    return buffer.getvalue()
