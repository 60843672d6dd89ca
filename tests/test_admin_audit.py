"""The audit log is append-only and hash-chained: `python -m adremix audit verify` passes
on an honest log and fails once an entry is edited or removed in the database."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlmodel import select

from adremix.__main__ import main as cli
from adremix.db import engine_for, session_scope
from adremix.models import AuditEntry
from adremix.services import admin
from tests.factories import make_staff, make_user


def some_actions() -> tuple[int, int]:
    boss = make_staff("boss@example.com")
    target = make_user(email="target@example.com")
    for n, amount in enumerate((5, 7, -3)):
        admin.adjust_credits(
            actor_id=boss,
            user_id=target,
            amount=amount,
            reason=f"Reason {n}",
            idempotency_key=f"intent-{n}",
        )
    admin.set_suspension(actor_id=boss, user_id=target, suspended=True, reason="Abuse")
    return boss, target


def test_an_honest_log_verifies(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["audit", "verify"]) == 0  # an empty log holds too
    some_actions()
    assert cli(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert "4 entries, every hash and link holds" in out
    with session_scope() as session:
        entries = session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()  # type: ignore[arg-type]
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert entries[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.entry_hash for a, b in itertools.pairwise(entries))


def edit_as_the_database_owner(url: str, statement: str) -> None:
    """What someone with the database's owner rights could do: drop the guard, edit."""
    with engine_for(url).begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_entry_no_update"))
            connection.execute(text("DROP TRIGGER audit_entry_no_delete"))
        else:
            connection.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
        connection.execute(text(statement))


def tamper_test(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    some_actions()
    assert cli(["audit", "verify"]) == 0
    edit_as_the_database_owner(
        url, "UPDATE audit_entry SET reason = 'Nothing to see' WHERE seq = 2"
    )
    assert cli(["audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert "entry 2 (credit_adjustment on user" in err and "changed after it was written" in err


def test_verify_fails_after_an_entry_is_edited_in_the_database(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tamper_test(database_url, capsys)


@pytest.mark.postgres
def test_verify_fails_after_an_entry_is_edited_in_postgresql(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tamper_test(postgres_url, capsys)


@pytest.mark.parametrize(
    ("statement", "found"),
    [
        ("DELETE FROM audit_entry WHERE seq = 2", "missing"),
        ("DELETE FROM audit_entry WHERE seq = 4", "removed from the end"),
        ("UPDATE audit_entry SET reason = 'Reason 9' WHERE seq = 1", "changed after"),
    ],
    ids=["removed-in-the-middle", "removed-at-the-end", "reason-rewritten"],
)
def test_verify_finds_removed_and_rewritten_entries(
    database_url: str, capsys: pytest.CaptureFixture[str], statement: str, found: str
) -> None:
    some_actions()
    edit_as_the_database_owner(database_url, statement)
    assert cli(["audit", "verify"]) == 1
    assert found in capsys.readouterr().err


def refuses_edits(url: str) -> None:
    some_actions()
    for statement in (
        "UPDATE audit_entry SET reason = 'x' WHERE seq = 1",
        "DELETE FROM audit_entry WHERE seq = 1",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            engine_for(url).begin() as connection,
        ):
            connection.execute(text(statement))
    assert cli(["audit", "verify"]) == 0


def test_the_database_refuses_to_edit_or_delete_entries_on_sqlite(database_url: str) -> None:
    refuses_edits(database_url)


@pytest.mark.postgres
def test_the_database_refuses_to_edit_or_delete_entries_on_postgresql(postgres_url: str) -> None:
    refuses_edits(postgres_url)


def test_the_audit_page_lists_and_filters_entries(database_url: str) -> None:
    boss, target = some_actions()
    everything = admin.audit_log(actor_id=boss, filters=admin.AuditFilters())
    assert [r.seq for r in everything.rows] == [4, 3, 2, 1]  # newest first
    suspensions = admin.audit_log(actor_id=boss, filters=admin.AuditFilters(action="suspend"))
    assert [(r.action, r.reason, r.target_id) for r in suspensions.rows] == [
        ("suspend", "Abuse", str(target))
    ]
    by_actor = admin.audit_log(
        actor_id=boss, filters=admin.AuditFilters.from_query({"actor": "BOSS@example.com"})
    )
    assert len(by_actor.rows) == 4
    about = admin.audit_log(actor_id=boss, filters=admin.AuditFilters(user_id=boss))
    assert about.rows == []
    paged = admin.audit_log(actor_id=boss, filters=admin.AuditFilters(), page_size=3)
    assert paged.has_next and len(paged.rows) == 3
