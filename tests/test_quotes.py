"""Enterprise quotes: `quote create` makes a Razorpay Payment Link; paying it grants the
credits once (webhook or callback, whichever comes first) with a B2B invoice; expired or
cancelled links change nothing."""

from __future__ import annotations

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from adremix.__main__ import main
from adremix.db import session_scope
from adremix.enums import OrderStatus, QuoteStatus
from adremix.models import PaymentOrder, Quote, TaxDocument
from adremix.services import billing
from tests.billing_steps import BUYER_GSTIN_MH, configure_supplier, pdf_text, save_profile
from tests.conftest import app_client
from tests.factories import balance, make_user
from tests.fakes.razorpay_api import FakeRazorpay, webhook_body
from tests.razorpay_steps import post_webhook, send_captured_event


@pytest.fixture
def client(razorpay: FakeRazorpay, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    return app_client(configure_supplier(monkeypatch, ADREMIX_PUBLIC_URL="https://adremix.example"))


def create(email: str, *extra: str) -> int:
    return main(
        ["quote", "create", "--email", email, "--credits", "5000", "--amount-inr", "250000", *extra]
    )


def the_quote() -> Quote:
    with session_scope() as session:
        return session.exec(select(Quote)).one()


def link_paid(razorpay: FakeRazorpay, link_id: str) -> tuple[bytes, str, dict[str, str]]:
    params, link, order, payment = razorpay.pay_link(link_id)
    body, event_id = webhook_body(
        "payment_link.paid", payment_link=link, order=order, payment=payment
    )
    return body, event_id, params


def test_quote_create_makes_a_payment_link_with_reference_expiry_and_callback(
    razorpay: FakeRazorpay, client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    make_user("cfo@bigco.example", "Big Co")
    assert create("CFO@bigco.example", "--gstin", BUYER_GSTIN_MH) == 0
    out = capsys.readouterr().out
    quote = the_quote()
    [link] = razorpay.payment_links.values()
    assert quote.short_url and quote.short_url in out
    assert (link["amount"], link["currency"], link["reference_id"]) == (
        25_000_000,
        "INR",
        quote.reference_id,
    )
    assert link["accept_partial"] is False and link["status"] == "created"
    assert link["callback_url"] == "https://adremix.example/api/razorpay/payment-link/callback"
    assert link["callback_method"] == "get"
    assert link["customer"]["email"] == "cfo@bigco.example"
    assert link["expire_by"] > link["created_at"] + 29 * 86_400
    assert quote.gstin == BUYER_GSTIN_MH


def test_bad_quotes_are_refused_and_cost_nothing(
    razorpay: FakeRazorpay, client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    assert create("nobody@x.example") == 1
    assert "sign in once" in capsys.readouterr().err
    make_user("cfo@bigco.example")
    assert create("cfo@bigco.example", "--gstin", "27AABCB5678C1ZX") == 1
    assert "check character" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(
            [
                "quote",
                "create",
                "--email",
                "cfo@bigco.example",
                "--credits",
                "5",
                "--amount-inr",
                "10.001",
            ]
        )
    razorpay.fail_next(400, code="BAD_REQUEST_ERROR", description="The api key provided is invalid")
    assert create("cfo@bigco.example") == 1
    assert "invalid" in capsys.readouterr().err
    quote = the_quote()
    assert quote.status == QuoteStatus.CANCELLED
    assert razorpay.payment_links == {}


def test_a_paid_link_grants_once_with_a_b2b_invoice_whichever_path_comes_first(
    razorpay: FakeRazorpay, client: TestClient
) -> None:
    buyer = make_user("cfo@bigco.example", "Big Co")
    save_profile(buyer, state="29")  # the quote's GSTIN (Maharashtra) is the place of supply
    create("cfo@bigco.example", "--gstin", BUYER_GSTIN_MH)
    body, event_id, params = link_paid(razorpay, the_quote().provider_link_id or "")

    # The buyer is back first: the callback's signature is checked, the payment fetched.
    response = client.get("/api/razorpay/payment-link/callback", params=params)
    assert response.status_code == 303 and response.headers["location"] == "/credits/?quote=paid"
    assert balance(buyer) == 5000
    # Then Razorpay's webhooks: nothing more.
    assert post_webhook(client, body, event_id)["status"] == "already_granted"
    assert post_webhook(client, body, event_id)["status"] == "duplicate"
    assert send_captured_event(client, razorpay, params["razorpay_payment_id"]) == "already_granted"
    assert balance(buyer) == 5000

    with session_scope() as session:
        [invoice] = session.exec(select(TaxDocument)).all()
        order = session.exec(select(PaymentOrder)).one()
    assert (invoice.buyer_gstin, invoice.place_of_supply, invoice.igst_paise) == (
        BUYER_GSTIN_MH,
        "27",
        3_813_559,
    )
    assert (invoice.total_paise, order.status, the_quote().status) == (
        25_000_000,
        OrderStatus.PAID,
        QuoteStatus.PAID,
    )
    found = billing.document_pdf(user_id=buyer, document_id=invoice.id or 0)
    assert found is not None
    text = pdf_text(found.content)
    assert "5000 credits" in text and BUYER_GSTIN_MH in text and "IGST @ 18%" in text
    assert billing.verify_register().problems == []


def test_the_webhook_alone_grants_and_a_forged_callback_grants_nothing(
    razorpay: FakeRazorpay, client: TestClient
) -> None:
    buyer = make_user("cfo@bigco.example")
    create("cfo@bigco.example")
    body, event_id, params = link_paid(razorpay, the_quote().provider_link_id or "")
    forged = {**params, "razorpay_signature": "0" * 64}
    response = client.get("/api/razorpay/payment-link/callback", params=forged)
    assert response.headers["location"] == "/credits/?quote=unverified"
    assert balance(buyer) == 0
    assert post_webhook(client, body, event_id)["status"] == "granted"
    assert balance(buyer) == 5000


def test_expired_and_cancelled_links_change_nothing(
    razorpay: FakeRazorpay, client: TestClient
) -> None:
    buyer = make_user("cfo@bigco.example")
    create("cfo@bigco.example")
    link = razorpay.expire_link(the_quote().provider_link_id or "")
    body, event_id = webhook_body("payment_link.expired", payment_link=link)
    assert post_webhook(client, body, event_id)["status"] == "quote_closed"
    assert the_quote().status == QuoteStatus.EXPIRED
    body, event_id = webhook_body(
        "payment_link.cancelled", payment_link={**link, "status": "cancelled"}
    )
    assert post_webhook(client, body, event_id)["status"] == "ignored"
    assert balance(buyer) == 0
    with session_scope() as session:
        assert session.exec(select(TaxDocument)).all() == []
        assert session.exec(select(PaymentOrder)).one().status == OrderStatus.FAILED
    body, event_id = webhook_body("payment_link.paid", payment_link={"id": "plink_Unknown0000000"})
    assert post_webhook(client, body, event_id)["status"] == "unknown_payment_link"


def test_test_mode_quotes_are_paid_by_simulation(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    buyer = make_user("cfo@bigco.example")
    assert create("cfo@bigco.example") == 0
    assert "quote simulate-payment" in capsys.readouterr().out
    reference = the_quote().reference_id
    assert main(["quote", "simulate-payment", reference]) == 0
    assert "payment_link.paid -> granted" in capsys.readouterr().out
    assert balance(buyer) == 5000
    assert main(["quote", "simulate-payment", reference]) == 1  # paid already
