"""The credit ledger: exact, append-only, idempotent, never below zero."""

from __future__ import annotations

import pytest
from sqlmodel import select

from adremix.__main__ import main as cli
from adremix.db import session_scope
from adremix.models import CreditTransaction, User
from adremix.services import credits as ledger
from tests.factories import make_user


def test_grant_and_spend_keep_balance_and_entries_in_step(database_url: str) -> None:
    user_id = make_user()
    with session_scope() as session:
        granted = ledger.grant(
            session=session, user_id=user_id, amount=10, kind="purchase", idempotency_key="p1"
        )
        spent = ledger.spend(session=session, user_id=user_id, amount=3, idempotency_key="g1")
    assert (granted.balance_after, spent.balance_after) == (10, 7)
    with session_scope() as session:
        assert ledger.get_balance(session=session, user_id=user_id) == 7
        amounts = session.exec(select(CreditTransaction.amount)).all()
        assert sorted(amounts) == [-3, 10]
        assert ledger.find_mismatches(session=session) == []


def test_repeated_idempotency_key_returns_the_first_entry(database_url: str) -> None:
    user_id = make_user()
    with session_scope() as session:
        first = ledger.grant(
            session=session, user_id=user_id, amount=5, kind="purchase", idempotency_key="pay_1"
        )
    with session_scope() as session:
        again = ledger.grant(
            session=session, user_id=user_id, amount=5, kind="purchase", idempotency_key="pay_1"
        )
        assert again.replayed and again.id == first.id
        assert ledger.get_balance(session=session, user_id=user_id) == 5


def test_spend_beyond_balance_raises_and_changes_nothing(database_url: str) -> None:
    user_id = make_user()
    with session_scope() as session:
        ledger.grant(
            session=session, user_id=user_id, amount=2, kind="purchase", idempotency_key="a"
        )
    with pytest.raises(ledger.InsufficientCredits) as raised, session_scope() as session:
        ledger.spend(session=session, user_id=user_id, amount=3, idempotency_key="too-much")
    assert (raised.value.needed, raised.value.available) == (3, 2)
    with session_scope() as session:
        assert ledger.get_balance(session=session, user_id=user_id) == 2
        assert len(session.exec(select(CreditTransaction)).all()) == 1


def test_signup_bonus_is_granted_once(database_url: str) -> None:
    user_id = make_user()
    for _ in range(3):
        with session_scope() as session:
            ledger.grant_signup_bonus(session=session, user_id=user_id, amount=3)
    with session_scope() as session:
        assert ledger.get_balance(session=session, user_id=user_id) == 3


def test_refund_is_a_new_entry_referencing_the_generation(database_url: str) -> None:
    user_id = make_user()
    with session_scope() as session:
        ledger.grant(
            session=session, user_id=user_id, amount=4, kind="purchase", idempotency_key="p"
        )
        ledger.spend(
            session=session, user_id=user_id, amount=2, idempotency_key="gen:9", reference="9"
        )
        entry = ledger.refund(
            session=session, user_id=user_id, amount=1, idempotency_key="refund:9:1", reference="9"
        )
    assert (entry.kind, entry.amount, entry.balance_after, entry.reference) == (
        "generation_refund",
        1,
        3,
        "9",
    )


def test_verify_command_reports_users_out_of_balance(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    user_id = make_user(email="drift@example.com")
    with session_scope() as session:
        ledger.grant(
            session=session, user_id=user_id, amount=5, kind="purchase", idempotency_key="k"
        )
    assert cli(["ledger", "verify"]) == 0

    with session_scope() as session:  # simulate corruption: a balance edited behind the ledger
        user = session.get(User, user_id)
        assert user is not None
        user.credit_balance = 9
        session.add(user)
    assert cli(["ledger", "verify"]) == 1
    assert "drift@example.com" in capsys.readouterr().err


def test_operator_grant_command_is_recorded_with_reason(database_url: str) -> None:
    make_user(email="vip@example.com")
    assert (
        cli(["credits", "grant", "VIP@example.com", "25", "--reason", "Goodwill", "--key", "t1"])
        == 0
    )
    assert (
        cli(["credits", "grant", "vip@example.com", "25", "--reason", "Goodwill", "--key", "t1"])
        == 0
    )
    assert cli(["credits", "grant", "nobody@example.com", "5", "--reason", "x"]) == 1
    with session_scope() as session:
        rows = session.exec(select(CreditTransaction)).all()
    assert [(r.kind, r.amount, r.reason) for r in rows] == [("admin_adjustment", 25, "Goodwill")]
    assert cli(["ledger", "verify"]) == 0
