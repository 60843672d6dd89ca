"""Invoice benchmark: concurrent purchases through the webhook path on PostgreSQL, each
issuing its tax invoice under the per-financial-year counter lock.

    .venv/bin/python bench/invoices.py [--purchases 200] [--clients 32]

A throwaway PostgreSQL server on loopback (like the tests'); Razorpay is the tests' fake
(tests/fakes), driven by the real SDK. Untimed set-up: `purchases` buyers (half in another
State, so both CGST+SGST and IGST invoices are made), an order each through the app's
checkout, each paid at the fake. Timed:
  (a) the app: every `payment.captured` webhook POSTed at once (`clients` threads) to the
      app's /api/razorpay/webhook route (Starlette, in process): signature check, event
      log, payment row, credits, invoice number and document, one transaction each;
  (b) bare psycopg: the same number of transactions doing only what numbering needs
      (`SELECT ... FOR UPDATE` the counter row, `UPDATE` it, `INSERT` a document row), on
      the same thread layout: the floor any gapless numbering pays here.
Then the register is read back: numbers 1..N with no gap and no repeat, one invoice per
payment, `invoices verify` clean; one invoice is rendered to PDF and checked with pdftotext.

Prints both figures and their ratio, and ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import col, select  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from adremix.api import build_api_app  # noqa: E402
from adremix.db import session_scope  # noqa: E402
from adremix.enums import DocumentKind  # noqa: E402
from adremix.models import Payment, TaxDocument, User  # noqa: E402
from adremix.services import billing, payments  # noqa: E402
from adremix.settings import get_settings  # noqa: E402
from tests.app_server import migrate  # noqa: E402
from tests.fakes.razorpay_api import KEY_ID, KEY_SECRET, FakeRazorpay, webhook_body  # noqa: E402
from tests.local_postgres import LocalPostgres  # noqa: E402
from tests.razorpay_steps import signature  # noqa: E402

WEBHOOK_SECRET = "whsec_bench_invoices"
SUPPLIER = {
    "ADREMIX_SELLER_NAME": "AdRemix Technologies Pvt Ltd",
    "ADREMIX_SELLER_GSTIN": "29AAPFU0939F1ZR",
    "ADREMIX_SELLER_ADDRESS": "12 Residency Road\nBengaluru 560025",
    "ADREMIX_SELLER_STATE": "29",
}
WORDS = ("Tax Invoice", "GSTIN", "SAC", "Place of Supply")


def configure(url: str, fake: FakeRazorpay, outbox: str) -> None:
    os.environ.update(
        {
            "ADREMIX_ENV": "dev",
            "DATABASE_URL": url,
            "ADREMIX_OUTBOX_DIR": outbox,
            "ADREMIX_SMTP_HOST": "",
            "RAZORPAY_KEY_ID": KEY_ID,
            "RAZORPAY_KEY_SECRET": KEY_SECRET,
            "RAZORPAY_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "RAZORPAY_BASE_URL": fake.base_url,
            **SUPPLIER,
        }
    )
    get_settings.cache_clear()


def prepare(purchases: int, fake: FakeRazorpay) -> list[tuple[bytes, str]]:
    """Buyers, their orders, their payments at Razorpay: the webhooks Razorpay will send."""
    events = []
    for n in range(purchases):
        with session_scope() as session:
            user = User(email=f"buyer{n}@bench.example", name=f"Buyer {n}")
            session.add(user)
            session.flush()
            user_id = user.id
        assert user_id is not None
        if n % 2:
            billing.save_billing_details(
                user_id=user_id,
                details=billing.BillingDetails(
                    legal_name=f"Buyer {n} LLP",
                    address_line1="4 Linking Road",
                    city="Mumbai",
                    pin_code="400050",
                    state_code="27",
                ),
            )
        checkout = payments.start_purchase(user_id=user_id, package_code="starter")
        paid = fake.checkout_payment(checkout.provider_order_id, status="captured")
        events.append(
            webhook_body("payment.captured", payment=fake.payment(paid["razorpay_payment_id"]))
        )
    return events


def run_app(events: list[tuple[bytes, str]], clients: int) -> tuple[float, list[str]]:
    app = build_api_app(get_settings())
    local = threading.local()

    def post(event: tuple[bytes, str]) -> str:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = TestClient(app)
        body, event_id = event
        response = client.post(
            "/api/razorpay/webhook",
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Razorpay-Signature": signature(body, WEBHOOK_SECRET),
                "x-razorpay-event-id": event_id,
            },
        )
        return response.json().get("status", f"HTTP {response.status_code}")

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        outcomes = list(pool.map(post, events))
    return time.perf_counter() - start, outcomes


def run_bare(url: str, count: int, clients: int) -> float:
    """The numbering floor: lock the counter row, bump it, insert a row; commit."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(
            "CREATE TABLE bare_counter (series text PRIMARY KEY, last_number int NOT NULL);"
            "CREATE TABLE bare_document (id serial PRIMARY KEY, series text, number int, "
            "UNIQUE (series, number));"
            "INSERT INTO bare_counter VALUES ('invoice', 0);"
        )
    local = threading.local()

    def allocate(_: int) -> None:
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = psycopg.connect(dsn)
        with connection.transaction():
            (last,) = connection.execute(
                "SELECT last_number FROM bare_counter WHERE series = 'invoice' FOR UPDATE"
            ).fetchone()
            connection.execute(
                "UPDATE bare_counter SET last_number = %s WHERE series = 'invoice'", (last + 1,)
            )
            connection.execute(
                "INSERT INTO bare_document (series, number) VALUES ('invoice', %s)", (last + 1,)
            )

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(allocate, range(count)))
    return time.perf_counter() - start


def register(purchases: int) -> dict[str, object]:
    with session_scope() as session:
        invoices = session.exec(
            select(TaxDocument)
            .where(TaxDocument.kind == DocumentKind.INVOICE)
            .order_by(col(TaxDocument.financial_year), col(TaxDocument.sequence))
        ).all()
        granted = session.exec(select(Payment).where(Payment.credits_granted > 0)).all()
        by_year: dict[str, list[int]] = {}
        for invoice in invoices:
            by_year.setdefault(invoice.financial_year, []).append(invoice.sequence)
        gaps = sum(max(seqs) - len(set(seqs)) for seqs in by_year.values())
        duplicates = (len(invoices) - len({i.number for i in invoices})) + (
            len(invoices) - len({i.payment_id for i in invoices})
        )
        sample = next(i for i in invoices if i.igst_paise == 0)
        pdf = billing.pdf_for(session, sample)
        return {
            "invoices": len(invoices),
            "granted": len(granted),
            "gaps": gaps,
            "duplicates": duplicates,
            "pdf": pdf,
            "kinds": {
                "CGST+SGST": sum(1 for i in invoices if i.cgst_paise),
                "IGST": sum(1 for i in invoices if i.igst_paise),
            },
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--purchases", type=int, default=200)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    out_dir = ROOT / "test-artifacts"
    out_dir.mkdir(exist_ok=True)
    fake = FakeRazorpay().start()
    outbox = out_dir / "bench-outbox"
    shutil.rmtree(outbox, ignore_errors=True)
    with LocalPostgres() as postgres:
        url = postgres.start()
        migrate(url)
        configure(url, fake, str(outbox))
        print(f"Setting up {args.purchases} purchases (buyers, orders, Razorpay payments)...")
        events = prepare(args.purchases, fake)

        app_seconds, outcomes = run_app(events, args.clients)
        bare_url = postgres.create_database("bare")
        bare_seconds = run_bare(bare_url, args.purchases, args.clients)

        found = register(args.purchases)
        audit = billing.verify_register()
        sample_pdf = out_dir / "bench-invoice-sample.pdf"
        sample_pdf.write_bytes(found["pdf"])  # type: ignore[arg-type]
        text = subprocess.run(
            ["pdftotext", str(sample_pdf), "-"], capture_output=True, check=True, text=True
        ).stdout
        words_ok = all(w in text for w in WORDS) and ("CGST" in text or "IGST" in text)
        billing.wait_for_background_sends()  # e-mails (to the outbox): not part of the timing
        mailed = len(list(outbox.glob("*.eml")))
    print(f"e-mailed (outbox): {mailed} .eml files")
    fake.stop()

    app_rate = args.purchases / app_seconds
    bare_rate = args.purchases / bare_seconds
    granted = sum(1 for o in outcomes if o == "granted")
    print()
    print(f"{args.purchases} purchases ({granted} granted), {args.clients} clients at once:")
    print(f"  app, webhook route to invoice: {app_seconds:6.2f} s {app_rate:7.1f} purchases/s")
    print(f"  bare psycopg, numbering only:  {bare_seconds:6.2f} s {bare_rate:7.1f} allocations/s")
    print(f"  ratio app / bare: {app_rate / bare_rate:.3f}")
    print(
        f"register: {found['invoices']} invoices for {found['granted']} granting payments, "
        f"gaps {found['gaps']}, duplicates {found['duplicates']}, kinds {found['kinds']}, "
        f"verify {'ok' if not audit.problems else audit.problems[:5]}"
    )
    print(
        f"sample PDF: {sample_pdf} ({'has' if words_ok else 'LACKS'} {', '.join(WORDS)}, CGST/IGST)"
    )
    result = {
        "purchases": args.purchases,
        "invoices": found["invoices"],
        "gaps": found["gaps"],
        "duplicates": found["duplicates"],
        "verify_ok": not audit.problems and words_ok and granted == args.purchases,
        "sample_pdf": str(sample_pdf),
        "app_purchases_per_s": round(app_rate, 1),
        "bare_allocations_per_s": round(bare_rate, 1),
        "app_vs_bare": round(app_rate / bare_rate, 3),
    }
    print(json.dumps(result))
    return 0 if result["verify_ok"] and not found["gaps"] and not found["duplicates"] else 1


if __name__ == "__main__":
    sys.exit(main())
