"""CSV exports of the console's tables, with the filters on screen.

Exports are read in batches (each a short transaction of its own) and streamed, so a
table of 100,000 users never sits in memory whole. Each export is an audited action:
the entry names the table and the filters, written before the first row leaves.
Cells that a spreadsheet would run as a formula (=, +, -, @ at the start of text) are
quoted with a leading apostrophe (OWASP's advice on CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import select

from adremix.db import session_scope
from adremix.enums import AuditAction
from adremix.models import CreditTransaction
from adremix.services.admin import audit
from adremix.services.admin.access import Permission, require
from adremix.services.admin.directory import UserFilters, users_for_export
from adremix.services.admin.lists import (
    EXPORT_BATCH,
    AuditFilters,
    FailureFilters,
    PaymentFilters,
    WebhookFilters,
    audit_for_export,
    failures_for_export,
    payments_for_export,
    webhooks_for_export,
)
from adremix.services.admin.metrics import overview_figures, today
from adremix.services.admin.params import parse_date, parse_int
from adremix.services.billing import IST
from adremix.services.errors import UserFacingError

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class UnknownExport(UserFacingError):
    """No such table to export."""


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone(IST).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, int | date):
        return str(value) if not isinstance(value, date) else value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _rupees(paise: int) -> str:
    return f"{paise / 100:.2f}"


def _csv(header: list[str], batches: Iterable[Iterable[list[Any]]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    yield buffer.getvalue()
    for batch in batches:
        buffer.seek(0)
        buffer.truncate()
        for row in batch:
            writer.writerow([cell(value) for value in row])
        yield buffer.getvalue()


def _users(params: Mapping[str, str]) -> Iterator[str]:
    header = [
        "id",
        "email",
        "name",
        "role",
        "balance",
        "paid_inr",
        "joined_ist",
        "last_sign_in_ist",
        "suspended",
        "deleted",
    ]
    return _csv(
        header,
        (
            [
                [
                    r.id,
                    r.email,
                    r.name,
                    r.role,
                    r.balance,
                    _rupees(r.paid_paise),
                    r.joined_at,
                    r.last_seen_at,
                    r.suspended,
                    r.deleted,
                ]
                for r in batch
            ]
            for batch in users_for_export(UserFilters.from_query(params))
        ),
    )


def _payments(params: Mapping[str, str]) -> Iterator[str]:
    header = [
        "receipt",
        "order_status",
        "kind",
        "provider",
        "provider_order_id",
        "created_ist",
        "user_id",
        "email",
        "order_inr",
        "credits",
        "payment_id",
        "payment_status",
        "payment_inr",
        "credits_granted",
        "refunded_inr",
        "credits_clawed",
        "clawback_shortfall",
        "duplicate",
        "error",
    ]

    def lines(batch):  # type: ignore[no-untyped-def]
        for order in batch:
            head = [
                order.receipt_number,
                order.status,
                order.kind,
                order.provider,
                order.provider_order_id,
                order.created_at,
                order.user_id,
                order.email,
                _rupees(order.amount_paise),
                order.credits,
            ]
            if not order.payments:
                yield [*head, "", "", "", "", "", "", "", "", ""]
            for p in order.payments:
                yield [
                    *head,
                    p.provider_payment_id,
                    p.status,
                    _rupees(p.amount_paise),
                    p.credits_granted,
                    _rupees(p.refunded_paise),
                    p.credits_clawed,
                    p.clawback_shortfall,
                    p.duplicate,
                    p.error,
                ]

    return _csv(
        header, (lines(batch) for batch in payments_for_export(PaymentFilters.from_query(params)))
    )


def _webhooks(params: Mapping[str, str]) -> Iterator[str]:
    header = [
        "id",
        "event_id",
        "event_type",
        "received_ist",
        "signature_ok",
        "processed_ist",
        "outcome",
        "error",
    ]
    return _csv(
        header,
        (
            [
                [
                    r.id,
                    r.event_id,
                    r.event_type,
                    r.received_at,
                    r.signature_ok,
                    r.processed_at,
                    r.outcome,
                    r.error,
                ]
                for r in batch
            ]
            for batch in webhooks_for_export(WebhookFilters.from_query(params))
        ),
    )


def _failures(params: Mapping[str, str]) -> Iterator[str]:
    header = [
        "generation_id",
        "created_ist",
        "status",
        "provider",
        "model",
        "images",
        "credits_refunded",
        "error",
        "user_id",
        "email",
    ]
    return _csv(
        header,
        (
            [
                [
                    r.generation_id,
                    r.created_at,
                    r.status,
                    r.provider,
                    r.model,
                    r.variations,
                    r.credits_refunded,
                    r.error,
                    r.user_id,
                    r.email,
                ]
                for r in batch
            ]
            for batch in failures_for_export(FailureFilters.from_query(params))
        ),
    )


def _audit(params: Mapping[str, str]) -> Iterator[str]:
    header = [
        "seq",
        "time_ist",
        "actor",
        "actor_role",
        "action",
        "target_type",
        "target_id",
        "reason",
        "before",
        "after",
        "entry_hash",
    ]
    return _csv(
        header,
        (
            [
                [
                    r.seq,
                    r.created_at,
                    r.actor,
                    r.actor_role,
                    r.action,
                    r.target_type,
                    r.target_id,
                    r.reason,
                    r.before,
                    r.after,
                    r.entry_hash,
                ]
                for r in batch
            ]
            for batch in audit_for_export(AuditFilters.from_query(params))
        ),
    )


def overview_range(params: Mapping[str, str]) -> tuple[date, date]:
    """The Overview's date range from its URL (default: the last 30 days)."""
    end = parse_date(params.get("to")) or today()
    start = parse_date(params.get("from")) or end - timedelta(days=29)
    return (start, end) if start <= end else (end, start)


def _overview(params: Mapping[str, str]) -> Iterator[str]:
    start, end = overview_range(params)
    with session_scope() as session:
        figures = overview_figures(session, start, end)
    header = [
        "day",
        "signups",
        "gross_inr",
        "refunds_inr",
        "net_inr",
        "gst_inr",
        "credits_sold",
        "credits_consumed",
        "generations",
        "succeeded",
        "failed",
    ]
    return _csv(
        header,
        [
            [
                [
                    d.day,
                    d.signups,
                    _rupees(d.gross_paise),
                    _rupees(d.refunds_paise),
                    _rupees(d.gross_paise - d.refunds_paise),
                    _rupees(d.gst_paise),
                    d.credits_sold,
                    d.credits_consumed,
                    d.generations,
                    d.succeeded,
                    d.failed,
                ]
                for d in figures.days
            ]
        ],
    )


def _ledger_batches(user_id: int) -> Iterator[list[list[Any]]]:
    last_id = 0
    while True:
        with session_scope() as session:
            rows = session.exec(
                select(CreditTransaction)
                .where(CreditTransaction.user_id == user_id, CreditTransaction.id > last_id)  # type: ignore[operator]
                .order_by(CreditTransaction.id)  # type: ignore[arg-type]
                .limit(EXPORT_BATCH)
            ).all()
        if not rows:
            return
        yield [
            [r.id, r.created_at, r.kind, r.amount, r.balance_after, r.reference, r.reason]
            for r in rows
        ]
        last_id = rows[-1].id or 0


def _ledger(params: Mapping[str, str]) -> Iterator[str]:
    user_id = parse_int(params.get("user"))
    if user_id is None:
        raise UnknownExport("Which user's ledger? (the export needs ?user=ID)")
    header = ["entry_id", "time_ist", "kind", "amount", "balance_after", "reference", "reason"]
    return _csv(header, _ledger_batches(user_id))


EXPORTS: dict[str, Callable[[Mapping[str, str]], Iterator[str]]] = {
    "users": _users,
    "payments": _payments,
    "webhooks": _webhooks,
    "failures": _failures,
    "audit": _audit,
    "overview": _overview,
    "ledger": _ledger,
}


@dataclass(frozen=True)
class Export:
    filename: str
    chunks: Iterator[str]


def export_csv(*, actor_id: int, table: str, params: Mapping[str, str]) -> Export:
    """A table as CSV (streamed), after recording the export in the audit log."""
    make = EXPORTS.get(table)
    if make is None:
        raise UnknownExport("There is no such table to export.")
    filters = {key: value[:200] for key, value in params.items() if key not in ("csrf_token",)}
    with session_scope() as session:
        require(session, actor_id, Permission.VIEW)
    chunks = make(filters)  # checks the parameters before the export is logged
    with session_scope() as session:
        audit.lock_head(session)
        actor = require(session, actor_id, Permission.VIEW)
        audit.append(
            session,
            actor=actor,
            action=AuditAction.EXPORT,
            target_type="export",
            target_id=table,
            reason=f"CSV export of {table}",
            after={"filters": filters},
        )
    stamp = today().isoformat()
    return Export(filename=f"adremix-{table}-{stamp}.csv", chunks=chunks)
