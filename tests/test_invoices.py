"""GST tax invoices and credit notes: issued with the payment or refund they are for,
numbered without gaps per financial year, reversed in the same split, verified, exported."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from sqlalchemy import delete
from sqlmodel import col, select
from starlette.testclient import TestClient

from adremix.__main__ import main
from adremix.db import session_scope
from adremix.enums import DocumentKind
from adremix.models import DocumentCounter, Payment, PaymentOrder, TaxDocument
from adremix.services import billing, payments
from adremix.services.billing import IST
from tests.billing_steps import (
    BUYER_GSTIN_KA,
    SUPPLIER_GSTIN,
    configure_supplier,
    pdf_text,
    save_profile,
)
from tests.conftest import app_client
from tests.factories import buy, confirm, make_user
from tests.fakes.razorpay_api import FakeRazorpay
from tests.razorpay_steps import send_captured_event, send_refund_event


@pytest.fixture
def supplier(razorpay: FakeRazorpay, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    """The app as a registered supplier in Karnataka, Razorpay at the fake; its routes."""
    return app_client(configure_supplier(monkeypatch))


def paid_pack(
    razorpay: FakeRazorpay, client: TestClient, user_id: int, pack: str = "growth"
) -> str:
    """A pack bought and paid; Razorpay's payment.captured webhook confirms it."""
    checkout = buy(user_id, pack)
    paid = razorpay.checkout_payment(checkout.provider_order_id, status="captured")
    assert send_captured_event(client, razorpay, paid["razorpay_payment_id"]) == "granted"
    return paid["razorpay_payment_id"]


def documents(kind: DocumentKind | None = None) -> list[TaxDocument]:
    with session_scope() as session:
        query = select(TaxDocument).order_by(col(TaxDocument.id))
        if kind:
            query = query.where(TaxDocument.kind == kind)
        return list(session.exec(query).all())


def pdf_of(document: TaxDocument) -> str:
    found = billing.document_pdf(user_id=document.user_id, document_id=document.id or 0)
    assert found is not None
    return pdf_text(found.content)


def test_a_paid_pack_gets_a_tax_invoice_with_every_rule_46_field(
    razorpay: FakeRazorpay, supplier: TestClient
) -> None:
    buyer = make_user("ca@acme.example", "Acme")
    save_profile(buyer, state="29", gstin=BUYER_GSTIN_KA)
    paid_pack(razorpay, supplier, buyer)

    [invoice] = documents()
    assert invoice.number == f"AR/{invoice.financial_year[2:]}/000001"
    assert (invoice.taxable_paise, invoice.cgst_paise, invoice.sgst_paise, invoice.igst_paise) == (
        67_712,
        6_094,
        6_094,
        0,
    )
    assert (invoice.total_paise, invoice.place_of_supply, invoice.sac) == (79_900, "29", "998439")
    text = pdf_of(invoice)
    for words in (
        "Tax Invoice",
        invoice.number,
        "AdRemix Technologies Pvt Ltd",
        "12 Residency Road",
        f"GSTIN: {SUPPLIER_GSTIN}",
        "Acme Ads LLP",
        "4 Linking Road",
        "560001",
        f"GSTIN: {BUYER_GSTIN_KA}",
        "Place of Supply",
        "Karnataka (code 29)",
        "SAC",
        "998439",
        "50 credits",
        "Taxable value ₹677.12",
        "CGST @ 9% ₹60.94",
        "SGST @ 9% ₹60.94",
        "Total ₹799.00",
        "Rupees seven hundred ninety-nine only",
    ):
        assert words in text, words
    assert "IGST" not in text


def test_a_buyer_in_another_state_pays_igst(razorpay: FakeRazorpay, supplier: TestClient) -> None:
    buyer = make_user()
    save_profile(buyer, state="27")  # Maharashtra, unregistered
    paid_pack(razorpay, supplier, buyer)

    [invoice] = documents()
    assert (
        invoice.place_of_supply,
        invoice.cgst_paise,
        invoice.sgst_paise,
        invoice.igst_paise,
    ) == (
        "27",
        0,
        0,
        12_188,
    )
    text = pdf_of(invoice)
    assert "IGST @ 18% ₹121.88" in text
    assert "Maharashtra (code 27)" in text and "GSTIN: unregistered" in text
    assert "CGST" not in text


def test_without_an_address_the_place_of_supply_is_the_suppliers(
    razorpay: FakeRazorpay, supplier: TestClient
) -> None:
    paid_pack(razorpay, supplier, make_user())
    [invoice] = documents()
    assert (invoice.place_of_supply, invoice.igst_paise, invoice.cgst_paise) == ("29", 0, 6_094)


def test_every_path_that_confirms_a_payment_makes_one_invoice(
    razorpay: FakeRazorpay, supplier: TestClient
) -> None:
    buyer = make_user()
    checkout = buy(buyer)
    paid = razorpay.checkout_payment(checkout.provider_order_id, status="authorized")
    confirm(buyer, paid)  # the browser's handler: verified, captured, granted
    payment_id = paid["razorpay_payment_id"]
    assert send_captured_event(supplier, razorpay, payment_id) == "already_granted"
    confirm(buyer, paid)  # the page retrying
    assert len(documents()) == 1
    assert billing.verify_register().problems == []


def test_the_financial_year_rollover_starts_a_new_series_at_midnight_ist(
    razorpay: FakeRazorpay, supplier: TestClient
) -> None:
    buyer = make_user()
    first, second = (paid_pack(razorpay, supplier, buyer) for _ in range(2))
    with session_scope() as session:
        # A fresh register: the two payments' invoices are issued at the turn of the year.
        session.execute(delete(TaxDocument))
        session.execute(delete(DocumentCounter))
    last_minute = datetime(2027, 3, 31, 23, 59, tzinfo=IST)
    first_minute = datetime(2027, 4, 1, 0, 0, tzinfo=IST)
    issued = []
    for payment_id, moment in ((first, last_minute), (second, first_minute)):
        with session_scope() as session:
            payment = session.exec(
                select(Payment).where(Payment.provider_payment_id == payment_id)
            ).one()
            order = session.get(PaymentOrder, payment.order_id)
            assert order is not None
            document = billing.issue_invoice(
                session, payment=payment, order=order, description="pack", issued_at=moment
            )
            issued.append((document.number, document.financial_year))
    assert issued == [("AR/26-27/000001", "2026-27"), ("AR/27-28/000001", "2027-28")]
    assert billing.verify_register().problems == []


def test_a_number_taken_while_the_year_turned_belongs_to_the_new_year(
    database_url: str,
) -> None:
    moments = iter(
        [
            datetime(2027, 3, 31, 23, 59, 59, 999_000, tzinfo=IST),  # before the lock
            datetime(2027, 4, 1, 0, 0, 0, 1_000, tzinfo=IST),  # once it was granted
        ]
    )
    with session_scope() as session:
        fy, sequence, issued = billing.take_number(
            session, kind=DocumentKind.INVOICE, clock=lambda: next(moments)
        )
    assert (fy, sequence, issued.month) == ("2027-28", 1, 4)


def test_refunds_get_credit_notes_that_reverse_the_invoice_exactly(
    razorpay: FakeRazorpay, supplier: TestClient
) -> None:
    buyer = make_user()
    save_profile(buyer, state="27")
    payment_id = paid_pack(razorpay, supplier, buyer, "starter")  # ₹199, IGST
    pending = razorpay.dashboard_refund(payment_id, 6_633, status="pending")
    assert send_refund_event(supplier, razorpay, pending) == "refund_pending"
    assert documents(DocumentKind.CREDIT_NOTE) == []  # only processed refunds are noted
    send_refund_event(supplier, razorpay, razorpay.finish_refund(pending["id"]))
    send_refund_event(supplier, razorpay, razorpay.dashboard_refund(payment_id, 6_633))
    send_refund_event(supplier, razorpay, razorpay.dashboard_refund(payment_id))  # the rest

    [invoice] = documents(DocumentKind.INVOICE)
    notes = documents(DocumentKind.CREDIT_NOTE)
    assert [n.number for n in notes] == [
        f"CN/{invoice.financial_year[2:]}/00000{i}" for i in (1, 2, 3)
    ]
    assert [n.total_paise for n in notes] == [6_633, 6_633, 6_634]
    assert all(n.original_id == invoice.id and n.cgst_paise == n.sgst_paise == 0 for n in notes)
    assert sum(n.taxable_paise for n in notes) == invoice.taxable_paise
    assert sum(n.igst_paise for n in notes) == invoice.igst_paise
    text = pdf_of(notes[0])
    assert "Credit Note" in text and notes[0].number in text
    invoice_date = billing.ist_date(invoice.issued_at).strftime("%d %b %Y")
    assert f"Issued against tax invoice {invoice.number} dated {invoice_date}" in text
    assert "IGST @ 18%" in text and "Total credited ₹66.33" in text
    assert billing.verify_register().problems == []
    # A replayed refund webhook issues nothing more.
    send_refund_event(supplier, razorpay, razorpay.refund(pending["id"]))
    assert len(documents(DocumentKind.CREDIT_NOTE)) == 3


def test_verify_fails_on_a_gap_and_on_a_payment_without_invoice(
    razorpay: FakeRazorpay, supplier: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    buyer = make_user()
    for _ in range(3):
        paid_pack(razorpay, supplier, buyer, "starter")
    assert main(["invoices", "verify"]) == 0
    with session_scope() as session:
        session.execute(delete(TaxDocument).where(TaxDocument.sequence == 2))
    assert main(["invoices", "verify"]) == 1
    errors = capsys.readouterr().err
    assert "missing [2]" in errors
    assert "granted credits but has no invoice" in errors


def test_gstr1_export_lists_b2b_invoices_b2c_by_state_and_credit_notes(
    razorpay: FakeRazorpay, supplier: TestClient, tmp_path
) -> None:
    registered, consumer, other_state = (
        make_user("b2b@x.example"),
        make_user("b2c@x.example"),
        make_user("mh@x.example"),
    )
    save_profile(registered, state="29", gstin=BUYER_GSTIN_KA)
    save_profile(other_state, state="27")
    b2b_payment = paid_pack(razorpay, supplier, registered, "growth")
    paid_pack(razorpay, supplier, consumer, "starter")
    paid_pack(razorpay, supplier, consumer, "starter")
    paid_pack(razorpay, supplier, other_state, "starter")
    send_refund_event(supplier, razorpay, razorpay.dashboard_refund(b2b_payment, 10_000))
    fy = documents()[0].financial_year
    out = tmp_path / "gstr1.csv"

    assert main(["invoices", "export", "--fy", fy, "--out", str(out)]) == 0
    totals = billing.gst_totals(fy=fy)
    # 799 + 3 x 199 paid, 100 refunded: IGST only on the Maharashtra buyer's pack.
    assert (totals.invoices, totals.credit_notes, totals.igst) == (4, 1, 3_036)
    assert totals.taxable + totals.cgst + totals.sgst + totals.igst == 79_900 + 3 * 19_900 - 10_000
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert rows and list(rows[0]) == billing.GSTR1_COLUMNS
    by_section: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_section.setdefault(row["Section"], []).append(row)
    [b2b] = by_section["B2B"]
    assert (b2b["GSTIN/UIN of Recipient"], b2b["Invoice Value"], b2b["Taxable Value"]) == (
        BUYER_GSTIN_KA,
        "799.00",
        "677.12",
    )
    assert (b2b["Place Of Supply"], b2b["Central Tax Amount"], b2b["Rate"]) == (
        "29-Karnataka",
        "60.94",
        "18",
    )
    [note] = by_section["CDNR"]
    assert (note["Note Type"], note["Note Value"], note["Invoice Number"]) == (
        "C",
        "100.00",
        b2b["Invoice Number"],
    )
    b2cs = {row["Place Of Supply"]: row for row in by_section["B2CS"]}
    assert b2cs["29-Karnataka"]["Taxable Value"] == "337.28"  # two ₹199 packs: 168.64 each
    assert b2cs["27-Maharashtra"]["Integrated Tax Amount"] == "30.36"
    assert main(["invoices", "export", "--fy", "2026"]) == 2


def test_an_order_paid_twice_gets_one_invoice_and_its_duplicate_no_credit_note(
    razorpay: FakeRazorpay, supplier: TestClient
) -> None:
    buyer = make_user()
    checkout = buy(buyer)
    failed = razorpay.checkout_payment(checkout.provider_order_id, status="failed")
    good = razorpay.checkout_payment(checkout.provider_order_id, status="captured")
    send_captured_event(supplier, razorpay, good["razorpay_payment_id"])
    razorpay.late_authorize(failed["razorpay_payment_id"], captured=True)
    # The duplicate is refunded in full by the app; its refund grants and notes nothing.
    assert (
        send_captured_event(supplier, razorpay, failed["razorpay_payment_id"])
        == "duplicate_payment"
    )
    [refund_id] = razorpay.refund_idempotency_keys().values()
    send_refund_event(supplier, razorpay, razorpay.refund(refund_id))
    assert [d.kind for d in documents()] == [DocumentKind.INVOICE]
    assert billing.verify_register().problems == []


@pytest.mark.postgres
def test_concurrent_purchases_get_consecutive_numbers_and_a_rollback_leaves_no_gap(
    postgres_url: str, razorpay: FakeRazorpay, monkeypatch: pytest.MonkeyPatch
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from tests.conftest import WEBHOOK_SECRET
    from tests.fakes.razorpay_api import webhook_body
    from tests.razorpay_steps import signature

    configure_supplier(monkeypatch, DATABASE_URL=postgres_url)
    buyers = [make_user(f"b{i}@x.example") for i in range(24)]
    events = []
    for buyer in buyers:
        checkout = buy(buyer, "starter")
        paid = razorpay.checkout_payment(checkout.provider_order_id, status="captured")
        events.append(
            webhook_body("payment.captured", payment=razorpay.payment(paid["razorpay_payment_id"]))
        )

    def deliver(event: tuple[bytes, str]) -> str:
        body, event_id = event
        return payments.handle_webhook(
            body=body, signature=signature(body), event_id=event_id, secret=WEBHOOK_SECRET
        )

    with ThreadPoolExecutor(max_workers=12) as pool:
        assert set(pool.map(deliver, events)) == {"granted"}
    numbers = [d.sequence for d in documents()]
    assert sorted(numbers) == list(range(1, 25))

    # A transaction that takes a number and then fails gives the number back.
    with pytest.raises(RuntimeError), session_scope() as session:
        billing.take_number(session, kind=DocumentKind.INVOICE)
        raise RuntimeError("the payment could not be recorded")
    with session_scope() as session:
        _, sequence, _ = billing.take_number(session, kind=DocumentKind.INVOICE)
    assert sequence == 25
