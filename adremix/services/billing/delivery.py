"""E-mailing invoices and credit notes: through SMTP when it is configured, otherwise as
`.eml` files in the outbox folder (open them with any mail program).

Sending happens after the transaction that issued a document has committed, never inside
it: a slow or broken mail server must not hold up or undo a payment. A document waits as
`pending` until a sender claims it (one atomic UPDATE, so two workers never send the same
document), then becomes `sent` or `failed`; `python -m adremix invoices send-pending`
retries what failed and what a crash left claimed.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from sqlalchemy import Engine, or_, update
from sqlmodel import col, select

from adremix.db import engine_for, session_scope
from adremix.enums import DeliveryStatus, DocumentKind
from adremix.models import TaxDocument, utcnow
from adremix.services.billing.rendering import pdf_filename, pdf_for
from adremix.settings import Settings, get_settings

log = logging.getLogger(__name__)

SMTP_TIMEOUT_S = 20
# A claim older than this belongs to a sender that died: the document is sent again.
STALE_CLAIM = timedelta(minutes=10)
_sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="billing-mail")


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    failed: int


def _claim(engine: Engine, document_id: int, statuses: Sequence[DeliveryStatus]) -> bool:
    now = utcnow()
    table = TaxDocument.__table__  # type: ignore[attr-defined]
    with engine.begin() as connection:
        claimed = connection.execute(
            update(table)
            .where(
                table.c.id == document_id,
                or_(
                    table.c.delivery_status.in_([str(s) for s in statuses]),
                    (table.c.delivery_status == DeliveryStatus.SENDING)
                    & (table.c.delivery_claimed_at < now - STALE_CLAIM),
                ),
            )
            .values(delivery_status=DeliveryStatus.SENDING, delivery_claimed_at=now)
        )
        return claimed.rowcount == 1


def build_message(document: TaxDocument, pdf: bytes, settings: Settings) -> EmailMessage:
    """The e-mail carrying one document as a PDF attachment."""
    what = "Tax invoice" if document.kind == DocumentKind.INVOICE else "Credit note"
    message = EmailMessage()
    message["Subject"] = f"{what} {document.number} from {document.supplier_name}"
    message["From"] = settings.mail_from
    message["To"] = document.buyer_email
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain="adremix.invalid")
    lines = [
        f"Hello {document.buyer_name},",
        "",
        f"Attached is {what.lower()} {document.number} for your AdRemix purchase "
        f"(order {document.order_receipt}).",
        "",
        "You can download it again at any time from the Credits page.",
        "",
        f"— {document.supplier_name}",
    ]
    message.set_content("\n".join(lines))
    message.add_attachment(
        pdf, maintype="application", subtype="pdf", filename=pdf_filename(document)
    )
    return message


def _send(message: EmailMessage, settings: Settings) -> None:
    if settings.smtp_security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.smtp_host,
            settings.smtp_port,
            timeout=SMTP_TIMEOUT_S,
            context=ssl.create_default_context(),
        )
    else:
        client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_S)
    with client:
        if settings.smtp_security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            client.login(settings.smtp_username, settings.smtp_password)
        client.send_message(message)


def _write_to_outbox(message: EmailMessage, document: TaxDocument, settings: Settings) -> Path:
    outbox = Path(settings.outbox_dir)
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / (document.number.replace("/", "-") + ".eml")
    # Written whole or not at all: a mail program never opens half a file.
    handle, temporary = tempfile.mkstemp(dir=outbox, suffix=".tmp")
    with os.fdopen(handle, "wb") as file:
        file.write(message.as_bytes())
    os.replace(temporary, path)
    return path


def deliver_documents(
    *,
    settings: Settings | None = None,
    retry_failed: bool = False,
    limit: int = 200,
) -> DeliveryReport:
    """E-mail every document waiting to go (and, with `retry_failed`, those that failed)."""
    settings = settings or get_settings()
    engine = engine_for(settings.database_url)
    statuses = [DeliveryStatus.PENDING, *([DeliveryStatus.FAILED] if retry_failed else [])]
    with session_scope(engine) as session:
        waiting = session.exec(
            select(TaxDocument.id)
            .where(col(TaxDocument.delivery_status).in_([*statuses, DeliveryStatus.SENDING]))
            .order_by(col(TaxDocument.id))
            .limit(limit)
        ).all()
    sent = failed = 0
    for document_id in waiting:
        if document_id is None or not _claim(engine, document_id, statuses):
            continue
        with session_scope(engine) as session:
            document = session.get(TaxDocument, document_id)
            assert document is not None
            try:
                message = build_message(document, pdf_for(session, document), settings)
                if settings.smtp_host:
                    _send(message, settings)
                else:
                    _write_to_outbox(message, document, settings)
            except (OSError, smtplib.SMTPException) as exc:
                log.error("Could not e-mail %s to the buyer: %s", document.number, exc)
                document.delivery_status = DeliveryStatus.FAILED
                document.delivery_error = str(exc)[:1000]
                failed += 1
            else:
                document.delivery_status = DeliveryStatus.SENT
                document.delivered_at = utcnow()
                document.delivery_error = None
                sent += 1
            session.add(document)
    return DeliveryReport(sent=sent, failed=failed)


def _deliver_in_background(settings: Settings) -> None:
    try:
        deliver_documents(settings=settings)
    except Exception:
        log.exception("E-mailing new tax documents failed; `invoices send-pending` retries")


def deliver_soon(settings: Settings | None = None) -> None:
    """Send the documents just issued, on a background thread, once the caller's
    transaction has committed (call it after). A crash loses only the attempt."""
    _sender.submit(_deliver_in_background, settings or get_settings())


def wait_for_background_sends(timeout: float = 60.0) -> None:
    """Block until what `deliver_soon` queued so far has been tried (e.g. before shutdown)."""
    _sender.submit(lambda: None).result(timeout=timeout)
