"""The admin audit log: append-only, each entry chained to the one before by its hash.

An entry's hash is the SHA-256 of its fields (as stored) and the previous entry's hash,
so editing any entry changes its hash and breaks the link from the next one; removing
entries leaves a gap in `seq` or a chain that ends before `audit_head` says it does.
Entries are written in the transaction of the action they record (they commit or roll
back together) and queue on the `audit_head` row's lock, so the chain has one order.
Database triggers refuse UPDATE and DELETE on the table; `verify_chain` is what catches
an edit made anyway (by someone with the database's owner rights).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from adremix.db import session_scope
from adremix.models import AuditEntry, AuditHead, utcnow
from adremix.services.admin.access import Staff

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the stored (and hashed) form of before/after."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _moment(value: datetime) -> str:
    # SQLite hands back naive UTC; both databases keep microseconds.
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(entry: AuditEntry) -> str:
    """The SHA-256 of an entry's fields and its `prev_hash`, as stored."""
    fields = [
        entry.seq,
        _moment(entry.created_at),
        entry.actor_id,
        entry.actor,
        entry.actor_role,
        entry.action,
        entry.target_type,
        entry.target_id,
        entry.reason,
        entry.before,
        entry.after,
        entry.idempotency_key,
        entry.prev_hash,
    ]
    return hashlib.sha256(canonical_json(fields).encode()).hexdigest()


def lock_head(session: Session) -> AuditHead:
    """Take the chain's lock for this transaction (FOR UPDATE; SQLite's BEGIN IMMEDIATE
    already holds the database's). Admin actions take it first, before any other row."""
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:  # a database created without the migration's first row
        head = AuditHead(id=1, seq=0, entry_hash=GENESIS)
        session.add(head)
        session.flush()
    return head


def existing_entry(session: Session, idempotency_key: str | None) -> AuditEntry | None:
    if not idempotency_key:
        return None
    return session.exec(
        select(AuditEntry).where(AuditEntry.idempotency_key == idempotency_key)
    ).first()


def append(
    session: Session,
    *,
    actor: Staff,
    action: str,
    target_type: str,
    target_id: str | int,
    reason: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (which must hold `lock_head`'s lock,
    or takes it here)."""
    head = lock_head(session)
    entry = AuditEntry(
        seq=head.seq + 1,
        created_at=utcnow(),
        actor_id=actor.id,
        actor=actor.label[:320],
        actor_role=actor.role,
        action=action,
        target_type=target_type,
        target_id=str(target_id)[:80],
        reason=reason.strip(),
        before=canonical_json(before or {}),
        after=canonical_json(after or {}),
        idempotency_key=idempotency_key,
        prev_hash=head.entry_hash,
        entry_hash="",
    )
    entry.entry_hash = entry_hash(entry)
    head.seq, head.entry_hash = entry.seq, entry.entry_hash
    session.add(entry)
    session.add(head)
    session.flush()
    return entry


# --- verification -------------------------------------------------------------------------

VERIFY_BATCH = 2_000


@dataclass(frozen=True)
class ChainReport:
    """What `python -m adremix audit verify` prints; no problems means the chain holds."""

    entries: int
    head_seq: int
    head_hash: str
    problems: list[str]


def _entries(session: Session) -> Iterator[AuditEntry]:
    last = 0
    while True:
        batch = session.exec(
            select(AuditEntry)
            .where(AuditEntry.seq > last)
            .order_by(AuditEntry.seq)
            .limit(VERIFY_BATCH)  # type: ignore[arg-type]
        ).all()
        if not batch:
            return
        yield from batch
        last = batch[-1].seq
        session.expunge_all()


def verify_chain() -> ChainReport:
    """Walk the chain from the first entry: every hash recomputed from its fields, every
    link to the previous hash, `seq` without gaps, and the head at the last entry."""
    problems: list[str] = []
    with session_scope() as session:
        head = session.get(AuditHead, 1)
        previous_hash, expected_seq, count = GENESIS, 1, 0
        for entry in _entries(session):
            count += 1
            if entry.seq != expected_seq:
                problems.append(f"entries {expected_seq}–{entry.seq - 1} are missing")
            if entry.prev_hash != previous_hash:
                problems.append(
                    f"entry {entry.seq}: does not follow the entry before it "
                    f"(prev_hash {entry.prev_hash[:12]}…, expected {previous_hash[:12]}…)"
                )
            recomputed = entry_hash(entry)
            if recomputed != entry.entry_hash:
                problems.append(
                    f"entry {entry.seq} ({entry.action} on {entry.target_type} "
                    f"{entry.target_id}): its fields were changed after it was written"
                )
            previous_hash, expected_seq = entry.entry_hash, entry.seq + 1
        head_seq = head.seq if head else 0
        head_hash = head.entry_hash if head else GENESIS
        if head_seq != expected_seq - 1 or head_hash != previous_hash:
            problems.append(
                f"the log ends at entry {expected_seq - 1} but its head records entry "
                f"{head_seq}: entries were removed from the end, or the head was edited"
            )
    return ChainReport(entries=count, head_seq=head_seq, head_hash=head_hash, problems=problems)
