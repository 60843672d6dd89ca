"""Invoices and credit notes are e-mailed: through SMTP (a real aiosmtpd server on
127.0.0.1), or, without SMTP settings, written as .eml files to the outbox."""

from __future__ import annotations

import email
import email.policy
import socket
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword

from adremix.__main__ import main
from adremix.services import billing, payments
from adremix.settings import get_settings
from tests.billing_steps import configure_supplier, pdf_text
from tests.factories import buy, make_user

USER, PASSWORD = "mailer", "s3cret-mailer"


class Inbox:
    """An SMTP server's handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope: Envelope) -> str:  # type: ignore[no-untyped-def]  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)  # type: ignore[arg-type]
        self.messages.append(message)  # type: ignore[arg-type]
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


def _authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:  # type: ignore[no-untyped-def]
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticate,
        auth_require_tls=False,  # loopback only: no certificate to offer
    )
    controller.start()
    yield inbox, port
    controller.stop()


def pay_pack(user_id: int) -> None:
    """A pack bought through the test checkout (the path a dev install takes); the payment
    hands its invoice to the background sender, which is waited for."""
    checkout = buy(user_id)
    payments.pay_test_checkout(
        user_id=user_id, provider_order_id=checkout.provider_order_id, succeed=True
    )
    billing.wait_for_background_sends()


def test_an_invoice_is_emailed_through_smtp_with_its_pdf(
    database_url: str, monkeypatch: pytest.MonkeyPatch, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    configure_supplier(
        monkeypatch,
        ADREMIX_SMTP_HOST="127.0.0.1",
        ADREMIX_SMTP_PORT=str(port),
        ADREMIX_SMTP_SECURITY="none",
        ADREMIX_SMTP_USERNAME=USER,
        ADREMIX_SMTP_PASSWORD=PASSWORD,
        ADREMIX_MAIL_FROM="AdRemix Billing <billing@adremix.example>",
    )
    pay_pack(make_user("buyer@acme.example", "Acme"))  # sent by the payment itself
    assert billing.deliver_documents() == billing.DeliveryReport(sent=0, failed=0)  # once

    [message] = inbox.messages
    assert inbox.recipients == [["buyer@acme.example"]]
    assert message["From"] == "AdRemix Billing <billing@adremix.example>"
    assert message["Subject"].startswith("Tax invoice AR/")
    assert "AdRemix Technologies Pvt Ltd" in message["Subject"]
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename().startswith("AR-") and attachment.get_filename().endswith(
        ".pdf"
    )
    assert "Tax Invoice" in pdf_text(attachment.get_content())
    assert "Credits page" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_an_unreachable_smtp_server_fails_the_delivery_and_send_pending_retries_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    settings = dict(
        ADREMIX_SMTP_HOST="127.0.0.1",
        ADREMIX_SMTP_SECURITY="none",
        ADREMIX_SMTP_USERNAME=USER,
        ADREMIX_SMTP_PASSWORD=PASSWORD,
    )
    configure_supplier(monkeypatch, ADREMIX_SMTP_PORT=str(free_port()), **settings)  # nobody there
    pay_pack(make_user())  # its sending fails
    assert billing.deliver_documents() == billing.DeliveryReport(sent=0, failed=0)
    assert main(["invoices", "send-pending"]) == 1  # a failure waits for this; still down

    configure_supplier(monkeypatch, ADREMIX_SMTP_PORT=str(port), **settings)
    assert main(["invoices", "send-pending"]) == 0
    assert len(inbox.messages) == 1


def test_without_smtp_documents_are_written_to_the_outbox(database_url: str) -> None:
    pay_pack(make_user("buyer@acme.example"))
    [path] = Path(get_settings().outbox_dir).glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["To"] == "buyer@acme.example"
    [attachment] = list(message.iter_attachments())  # type: ignore[attr-defined]
    assert "Tax Invoice" in pdf_text(attachment.get_content())


def test_a_webhook_that_issues_an_invoice_sends_it_by_itself(database_url: str) -> None:
    buyer = make_user()
    checkout = payments.start_subscription(user_id=buyer, plan_code="starter-monthly")
    payments.pay_test_subscription(
        user_id=buyer, subscription_id=checkout.subscription_id, succeed=True
    )
    payments.simulate_renewal(subscription_id=checkout.subscription_id, succeed=True)
    outbox = Path(get_settings().outbox_dir)
    deadline = time.monotonic() + 15
    while len(list(outbox.glob("*.eml"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(list(outbox.glob("*.eml"))) == 2
